from __future__ import annotations

from agentreplay.cli import main

raise SystemExit(main())
