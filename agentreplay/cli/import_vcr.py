"""``agentreplay import-vcr FILE [-o OUT]``: a vcrpy or pytest-recording cassette, converted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-vcr",
        help="convert a vcrpy / pytest-recording cassette into an agentreplay cassette",
        description="Reads the cassette with vcrpy's own loader and writes its HTTP "
        "exchanges as a cassette that show, diff and replay understand. It holds HTTP "
        "only: replaying it lets the clock and random numbers run live, as vcrpy did.",
    )
    parser.add_argument("file", help="the vcrpy cassette (YAML or JSON, optionally gzipped)")
    parser.add_argument(
        "-o",
        "--output",
        help="cassette to write (default: FILE with its extension replaced by .cassette)",
    )
    parser.add_argument(
        "--serializer",
        choices=["yaml", "json"],
        help="how FILE is written (default: from its name, else from its first character)",
    )
    parser.set_defaults(run=run)


def _default_output(source: Path) -> Path:
    name = source.name.removesuffix(".gz")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return source.with_name(stem + ".cassette")


def run(args: argparse.Namespace) -> int:
    source = Path(args.file)
    target = Path(args.output) if args.output else _default_output(source)
    from agentreplay.import_vcr import import_vcr  # loads the session layer: only when run

    done = import_vcr(source, target, serializer=args.serializer)
    exchanges = f"{done.interactions} HTTP exchange{'s' if done.interactions != 1 else ''}"
    print(f"imported {exchanges} from {source} into {target}")
    print(
        "it holds HTTP only: a replay hands back these exchanges and lets the clock and "
        "random numbers run live"
    )
    return 0
