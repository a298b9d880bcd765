"""Saying how a check went: the summary sentence, JSON, JUnit XML and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from typing import Any

from agentreplay.check.runner import Result, Verdict
from agentreplay.humanize import plural

__all__ = ["junit_xml", "markdown", "sentence", "to_json"]


def sentence(results: list[Result]) -> str:
    """What the change does to the corpus, in one sentence: the recorded failures it
    fixes (those marked ``fixed`` that no longer fail), and the successful runs that
    no longer run as recorded; and the failures not marked that now end otherwise."""
    # Skipped and unreadable cassettes are runs the check knows nothing of.
    known = [r for r in results if r.verdict not in (Verdict.SKIPPED, Verdict.UNREADABLE)]
    failures = [r for r in known if r.recorded_failure]
    passes = [r for r in known if not r.recorded_failure]
    fixed = sum(r.verdict is Verdict.FIXED for r in failures)
    changed = sum(not r.as_expected for r in passes)
    text = (
        f"this change fixes {fixed} of {len(failures)} captured failures and changes "
        f"{changed} of {len(passes)} successful runs"
    )
    others = sum(r.expect == "reproduce" and not r.as_expected for r in failures)
    if others:
        text += f"; {others} captured failures not marked fixed no longer fail as recorded"
    unreadable = sum(r.verdict is Verdict.UNREADABLE for r in results)
    if unreadable:
        text += f"; {plural(unreadable, 'cassette')} could not be read"
    return text


def totals(results: list[Result]) -> str:
    counts = Counter(r.verdict for r in results)
    parts = [f"{counts[v]} {v.value}" for v in Verdict if counts[v]]
    chaos = sum(bool(r.chaos) for r in results)
    if chaos:
        parts.append(f"{chaos} broken by chaos")
    unstable = sum(bool(r.unstable) for r in results)
    if unstable:
        parts.append(f"{unstable} unstable")
    return ", ".join(parts) or "no cassettes"


def _plain(result: Result) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "verdict": result.verdict.value,
        "as_expected": result.as_expected,
        "expect": result.expect,
        "recorded_failure": result.recorded_failure,
        "detail": result.detail,
        "message": result.message,
        "seconds": round(result.seconds, 3),
        "chaos": [{"seed": seed, "detail": detail} for seed, detail in result.chaos],
        "unstable": result.unstable or None,
    }


def to_json(results: list[Result]) -> str:
    return json.dumps(
        {
            "summary": sentence(results),
            "totals": totals(results),
            "results": [_plain(r) for r in results],
        },
        indent=2,
    )


def junit_xml(results: list[Result]) -> bytes:
    """One test case per cassette: a failure for a verdict not expected, skipped for
    cassettes agentreplay cannot start."""
    suite = ElementTree.Element(
        "testsuite",
        name="agentreplay check",
        tests=str(len(results)),
        failures=str(sum(not r.as_expected and r.verdict is not Verdict.ERROR for r in results)),
        errors=str(sum(r.verdict in (Verdict.ERROR, Verdict.UNREADABLE) for r in results)),
        skipped=str(sum(r.verdict is Verdict.SKIPPED for r in results)),
    )
    for result in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=str(result.path.parent).replace("/", "."),
            name=result.path.name,
            time=f"{result.seconds:.3f}",
        )
        if result.verdict is Verdict.SKIPPED:
            ElementTree.SubElement(case, "skipped", message=result.detail)
        elif result.verdict in (Verdict.ERROR, Verdict.UNREADABLE):
            node = ElementTree.SubElement(case, "error", message=result.detail)
            node.text = result.message
        elif not result.as_expected:
            node = ElementTree.SubElement(
                case, "failure", message=f"{result.verdict.value}: {result.detail}"
            )
            chaos = "".join(f"\nchaos seed {seed}: {detail}" for seed, detail in result.chaos)
            unstable = f"\nunstable: {result.unstable}" if result.unstable else ""
            node.text = result.message + chaos + unstable
    return bytes(ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True))


def markdown(results: list[Result], root: Path | None = None) -> str:
    """A summary for CI pages (``$GITHUB_STEP_SUMMARY``)."""
    lines = [
        "### agentreplay check",
        "",
        f"{sentence(results).capitalize()}. ({totals(results)})",
        "",
        "| cassette | verdict | detail |",
        "|---|---|---|",
    ]
    for result in results:
        if result.as_expected and result.verdict is not Verdict.FIXED:
            continue
        name = result.path.relative_to(root) if root else result.path
        detail = result.detail
        if result.chaos:
            detail += "; chaos seeds " + ", ".join(str(seed) for seed, _ in result.chaos)
        if result.unstable:
            detail += f"; unstable: {result.unstable}"
        detail = detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {result.verdict.value} | {detail} |")
    return "\n".join(lines) + "\n"
