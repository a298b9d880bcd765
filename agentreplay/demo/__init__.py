"""Demo support: a local fake model server for ``agentreplay demo`` and the tests."""
