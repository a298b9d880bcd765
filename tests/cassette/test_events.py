"""The registry of event kinds: declared once, read by every layer."""

from __future__ import annotations

import dataclasses

import pytest

from agentreplay.cassette.codec import KIND_CODES
from agentreplay.cassette.events import KINDS, ErrorInfo, Event, StepRole, fast_dataclass


def test_the_codec_schema_is_the_dataclass_fields_of_every_kind() -> None:
    for cls, kind in KINDS.items():
        own = [f.name for f in dataclasses.fields(cls) if f.name not in ("task", "seq", "at")]
        assert [name for name, _ in kind.fields] == own
        assert KIND_CODES[cls] == kind.code
    assert len({kind.code for kind in KINDS.values()}) == len(KINDS)


def test_every_step_link_names_a_field_of_its_kind() -> None:
    for cls, kind in KINDS.items():
        names = {f.name for f in dataclasses.fields(cls)}
        if kind.step_role in (StepRole.CONTINUES, StepRole.CLOSES):
            assert kind.link in names, cls
        if kind.step_role is StepRole.OPENS:
            assert kind.opens and not kind.link, cls


def test_a_fast_dataclass_refuses_defaults_it_would_ignore() -> None:
    with pytest.raises(TypeError, match="cannot give defaults"):

        @fast_dataclass
        class WithDefault(Event):
            name: str = "x"


def test_a_fast_dataclass_refuses_a_post_init_it_would_skip() -> None:
    with pytest.raises(TypeError, match="__post_init__"):

        @fast_dataclass
        class WithPostInit(Event):
            name: str

            def __post_init__(self) -> None:
                pass


def test_an_exception_group_says_what_each_of_its_sub_exceptions_says() -> None:
    inner = ExceptionGroup("inner", [KeyError("k"), OSError()])
    group = ExceptionGroup("outer", [ValueError("a"), inner])
    error = ErrorInfo.from_exception(group)
    assert error.message == (
        "outer (2 sub-exceptions): [ValueError: a; "
        "ExceptionGroup: inner (2 sub-exceptions): [KeyError: 'k'; OSError]]"
    )
    assert error.type == "ExceptionGroup" and error.args is None


def test_a_wide_exception_group_names_its_first_fifteen_sub_exceptions() -> None:
    group = ExceptionGroup("many", [ValueError(n) for n in range(20)])
    message = ErrorInfo.from_exception(group).message
    assert message.startswith("many (20 sub-exceptions): [ValueError: 0; ValueError: 1; ")
    assert message.endswith("; ValueError: 14; and 5 more]")
