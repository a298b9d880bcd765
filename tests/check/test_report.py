"""How a check reports: the summary sentence, totals, JSON, JUnit XML and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from agentreplay.check import Result, Verdict
from agentreplay.check.report import junit_xml, markdown, sentence, to_json, totals


def _corpus() -> list[Result]:
    return [
        Result(Path("runs/a.cassette"), Verdict.REPRODUCED),
        Result(Path("runs/b.cassette"), Verdict.DIVERGED, "diverged at step 3: x | y"),
        Result(Path("runs/c.cassette"), Verdict.FIXED, expect="fixed", recorded_failure=True),
        Result(
            Path("runs/d.cassette"), Verdict.STILL_FAILING, expect="fixed", recorded_failure=True
        ),
        Result(Path("runs/e.cassette"), Verdict.OUTCOME_CHANGED, recorded_failure=True),
        Result(Path("runs/f.cassette"), Verdict.ERROR, "no such module: agent", "Traceback"),
        Result(Path("runs/g.cassette"), Verdict.SKIPPED, "nothing to start"),
        Result(Path("runs/h.cassette"), Verdict.REPRODUCED, chaos=[(7, "raised RuntimeError")]),
        Result(Path("runs/i.cassette"), Verdict.REPRODUCED, unstable="differs at step 2"),
    ]


def test_the_sentence_counts_marked_fixes_changed_successes_and_other_failures() -> None:
    assert sentence(_corpus()) == (
        "this change fixes 1 of 3 captured failures and changes 4 of 5 successful runs; "
        "1 captured failures not marked fixed no longer fail as recorded"
    )
    assert totals(_corpus()) == (
        "3 reproduced, 1 diverged, 1 outcome changed, 1 fixed, 1 still failing, 1 error, "
        "1 skipped, 1 broken by chaos, 1 unstable"
    )


def test_junit_has_one_case_per_cassette_with_failures_errors_and_skips() -> None:
    suite = ElementTree.fromstring(junit_xml(_corpus()))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("9", "5", "1")
    assert suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert [child.tag for child in cases["a.cassette"]] == []
    assert cases["b.cassette"][0].tag == "failure"
    assert cases["b.cassette"][0].get("message") == "diverged: diverged at step 3: x | y"
    assert cases["f.cassette"][0].tag == "error" and cases["f.cassette"][0].text == "Traceback"
    assert cases["g.cassette"][0].tag == "skipped"
    assert "chaos seed 7: raised RuntimeError" in (cases["h.cassette"][0].text or "")
    assert "unstable: differs at step 2" in (cases["i.cassette"][0].text or "")
    assert cases["c.cassette"].get("classname") == "runs"


def test_markdown_lists_what_is_not_as_expected_and_the_fixed_ones() -> None:
    text = markdown(_corpus())
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [
        f"runs/{name}.cassette" for name in ("b", "c", "d", "e", "f", "h", "i")
    ]
    assert "diverged at step 3: x \\| y" in text  # a table cell cannot hold a bare |
    assert "chaos seeds 7" in text and "unstable: differs at step 2" in text


def test_json_keeps_every_field_of_every_result() -> None:
    plain = json.loads(to_json(_corpus()))
    assert plain["summary"] == sentence(_corpus()) and len(plain["results"]) == 9
    h = plain["results"][7]
    assert h["chaos"] == [{"seed": 7, "detail": "raised RuntimeError"}]
    assert h["as_expected"] is False and h["unstable"] is None


def test_unreadable_cassettes_are_no_runs_the_change_changed() -> None:
    corpus = [
        Result(Path("runs/a.cassette"), Verdict.REPRODUCED),
        Result(Path("runs/b.cassette"), Verdict.UNREADABLE, "damaged at byte 40"),
        Result(Path("runs/c.cassette"), Verdict.UNREADABLE, "not a cassette"),
    ]
    assert sentence(corpus) == (
        "this change fixes 0 of 0 captured failures and changes 0 of 1 successful runs; "
        "2 cassettes could not be read"
    )
