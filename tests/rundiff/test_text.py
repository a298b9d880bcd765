from __future__ import annotations

from agentreplay.rundiff.text import plain, text_diff


def test_one_line_texts_are_compared_word_by_word() -> None:
    pieces = text_diff("the cat sat.", "the dog sat!")
    assert pieces == [
        ("=", "the "),
        ("-", "cat"),
        ("+", "dog"),
        ("=", " sat"),
        ("-", "."),
        ("+", "!"),
    ]
    assert plain(pieces) == "the [-cat-]{+dog+} sat[-.-]{+!+}"


def test_texts_of_several_lines_are_compared_line_by_line() -> None:
    pieces = text_diff("a\nb\nc\n", "a\nB\nc\n")
    assert pieces == [("=", "a\n"), ("-", "b\n"), ("+", "B\n"), ("=", "c\n")]


def test_plain_cuts_long_unchanged_stretches() -> None:
    text = plain(text_diff("x " * 100 + "end", "x " * 100 + "stop"), context=10)
    assert text.startswith("…") and text.endswith("[-end-]{+stop+}")
    assert len(text) < 40
