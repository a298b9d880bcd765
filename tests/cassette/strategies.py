"""Hypothesis strategies for cassette events."""

from __future__ import annotations

from hypothesis import strategies as st

from agentreplay.cassette import (
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)

tasks = st.from_regex(r"0(\.[0-9]{1,2}){0,3}", fullmatch=True)
seqs = st.integers(min_value=0, max_value=2**40)
ats = st.integers(min_value=0, max_value=2**62)
texts = st.text(max_size=40)
headers = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=5).map(tuple)
# Bodies: short ones stay inline, long ones go through the blob table.
bodies = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=600, max_size=3000),
    st.lists(
        st.sampled_from([b'{"role":"user","content":"hello there"},', b"\n", b"x" * 300]),
        min_size=3,
        max_size=30,
    ).map(b"".join),
)
errors = st.builds(
    ErrorInfo, texts, texts, texts, st.none() | st.lists(st.integers(0, 9) | texts, max_size=3)
)
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | texts
    | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_common = (tasks, seqs, ats)

events = st.one_of(
    st.builds(HttpRequest, *_common, texts, texts, headers, bodies, texts),
    st.builds(HttpResponse, *_common, seqs, st.integers(0, 999), headers, texts, texts),
    st.builds(HttpChunk, *_common, seqs, bodies),
    st.builds(HttpEnd, *_common, seqs, st.booleans()),
    st.builds(HttpError, *_common, seqs, errors),
    st.builds(
        ClockRead,
        *_common,
        st.sampled_from(["wall", "monotonic", "perf_counter"]),
        st.integers(0, 2**63) | st.floats(allow_nan=False),
    ),
    st.builds(EntropyDraw, *_common, st.sampled_from(["urandom", "seed"]), bodies),
    st.builds(
        ToolCall,
        *_common,
        texts,
        st.lists(plain, max_size=3),
        st.dictionaries(st.text(max_size=8), plain, max_size=3),
    ),
    st.builds(ToolResult, *_common, seqs, plain, st.none() | errors),
    st.builds(StepStart, *_common, texts),
    st.builds(StepEnd, *_common, seqs, st.none() | errors),
    st.builds(RunOutcome, *_common, plain, texts, st.none() | errors),
)
