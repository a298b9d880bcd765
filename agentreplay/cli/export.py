"""``agentreplay export FILE --format jsonl|otlp``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from contextlib import nullcontext
from typing import IO, Any

from agentreplay.capture.listing import local_copy
from agentreplay.errors import CassetteWarning
from agentreplay.steps import open_cassette

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a cassette as JSON lines or OTLP JSON spans",
        description="jsonl: one JSON object per event. otlp: an OTLP/JSON trace "
        "(ExportTraceServiceRequest) following OpenTelemetry's GenAI conventions.",
    )
    parser.add_argument("file", help="the cassette to export")
    parser.add_argument(
        "--format",
        choices=["jsonl", "otlp"],
        default="jsonl",
        help="jsonl (the default) or otlp",
    )
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target: Any = (
        open(args.output, "w", encoding="utf-8")  # noqa: SIM115 - entered just below
        if args.output
        else nullcontext(sys.stdout)
    )
    with warnings.catch_warnings(record=True) as caught, target as out:
        warnings.simplefilter("always", CassetteWarning)
        with open_cassette(local_copy(args.file)) as cassette:
            _write(cassette, args.format, out)
    for warning in caught:
        print(f"agentreplay: warning: {warning.message}", file=sys.stderr)
    return 0


def _write(cassette: Any, form: str, out: IO[str]) -> None:
    from agentreplay.export import jsonl_lines, otlp_json  # loaded when run, not at startup

    if form == "jsonl":
        for line in jsonl_lines(cassette):
            out.write(line + "\n")
    else:
        json.dump(otlp_json(cassette), out, ensure_ascii=False)
        out.write("\n")
