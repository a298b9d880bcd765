"""The decoders on real provider traffic: vcrpy cassettes recorded by another project
against the real APIs (see real_traffic/README.md), imported with import-vcr.

Every expected value below was read off the recorded bodies, not off the decoders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import agentreplay
from agentreplay.import_vcr import import_vcr
from agentreplay.llm import LLMCall

TRAFFIC = Path(__file__).parent / "real_traffic"
Calls = dict[str, list[LLMCall]]


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Calls:
    """The model calls of every cassette, by file stem; each must be an LLM step."""
    found: Calls = {}
    folder = tmp_path_factory.mktemp("imported")
    for source in sorted(TRAFFIC.glob("*.yaml")):
        target = folder / f"{source.stem}.cassette"
        import_vcr(source, target)
        with agentreplay.open(target) as cassette:
            steps = list(cassette.steps())
        assert all(step.kind == "llm" and step.llm is not None for step in steps), source.name
        found[source.stem] = [step.llm for step in steps if step.llm is not None]
    return found


def _calls_made(call: LLMCall) -> list[tuple[str, str, object]]:
    return [(c.id, c.name, c.parsed) for c in call.tool_calls]


def _tokens(call: LLMCall) -> tuple[int | None, int | None, int | None]:
    return call.input_tokens, call.output_tokens, call.cached_tokens


def test_openai_chat_completions(calls: Calls) -> None:
    first, second = calls["openai_chat_tool_calls"]
    assert (first.provider, first.api, first.model, first.stream) == (
        "openai",
        "chat.completions",
        "gpt-4o",
        False,
    )
    assert first.response_model == "gpt-4o-2024-08-06"
    assert first.messages == [
        {"content": "What is the largest city in the user country?", "role": "user"}
    ]
    assert [t["name"] for t in first.tools] == ["get_user_country", "final_result"]
    assert first.params == {"n": 1, "tool_choice": "required"}
    assert _calls_made(first) == [("call_iXFttys57ap0o16JSlC8yhYo", "get_user_country", {})]
    assert (first.finish_reason, _tokens(first)) == ("tool_calls", (68, 12, 0))
    assert second.messages[1]["tool_calls"][0]["id"] == "call_iXFttys57ap0o16JSlC8yhYo"
    assert second.messages[2] == {
        "content": "Mexico",
        "role": "tool",
        "tool_call_id": "call_iXFttys57ap0o16JSlC8yhYo",
    }
    assert _calls_made(second) == [
        (
            "call_gmD2oUZUzSoCkmNmp3JPUF7R",
            "final_result",
            {"city": "Mexico City", "country": "Mexico"},
        )
    ]
    assert _tokens(second) == (89, 36, 0)


def test_openai_chat_completions_streamed(calls: Calls) -> None:
    first, second = calls["openai_chat_stream"]
    assert (first.model, first.response_model, first.stream) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        True,
    )
    assert _calls_made(first) == [
        ("call_ZR5UUuTt3pf61kjwAJIYdVMj", "get_capital", {"country": "UK"})
    ]
    assert (first.output_text, first.finish_reason, _tokens(first)) == (
        "",
        "tool_calls",
        (53, 15, 0),
    )
    assert second.output_text == "The capital of the UK is London."
    assert (second.finish_reason, _tokens(second)) == ("stop", (78, 9, 0))


def test_openai_responses(calls: Calls) -> None:
    first, second = calls["openai_responses_tool_call"]
    assert (first.provider, first.api, first.model, first.stream) == (
        "openai",
        "responses",
        "gpt-4o",
        False,
    )
    assert first.messages == [{"content": "What is the capital of PotatoLand?", "role": "user"}]
    assert _calls_made(first) == [
        ("call_YfwRsW8sUxDKipwyhWTzOXCA", "get_capital", {"country": "PotatoLand"})
    ]
    assert (first.finish_reason, _tokens(first)) == ("completed", (40, 18, 0))
    assert second.messages[1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_YfwRsW8sUxDKipwyhWTzOXCA",
                    "type": "function",
                    "function": {"name": "get_capital", "arguments": '{"country":"PotatoLand"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_YfwRsW8sUxDKipwyhWTzOXCA", "content": "Potato City"},
    ]
    assert second.output_text == "The capital of PotatoLand is Potato City."
    assert _tokens(second) == (67, 11, 0)


def test_openai_responses_streamed(calls: Calls) -> None:
    first, second = calls["openai_responses_stream"]
    assert (first.api, first.stream, first.response_model) == (
        "responses",
        True,
        "gpt-4o-2024-08-06",
    )
    assert _calls_made(first) == [
        ("call_kL0PCQV7M2WMoVX8V8OtYSAL", "get_capital", {"country": "France"})
    ]
    assert _tokens(first) == (255, 16, 0)
    assert second.output_text == "The capital of France is Paris."
    assert (second.finish_reason, _tokens(second)) == ("completed", (278, 9, 0))


def test_anthropic_messages(calls: Calls) -> None:
    first, second = calls["anthropic_tool_use_thinking"]
    assert (first.provider, first.api, first.model, first.stream) == (
        "anthropic",
        "messages",
        "claude-sonnet-4-0",
        False,
    )
    assert first.response_model == "claude-sonnet-4-20250514"
    assert first.thinking.startswith('The user is asking about the largest city in "the user')
    assert first.output_text.startswith("I'll help you find the largest city in your country.")
    assert _calls_made(first) == [("toolu_01YGzqpRE16Vricda3Aqcejo", "get_user_country", {})]
    assert first.params["thinking"] == {"budget_tokens": 3000, "type": "enabled"}
    assert (first.finish_reason, _tokens(first)) == ("tool_use", (398, 155, 0))
    answer = second.messages[2]["content"][0]
    assert (answer["type"], answer["content"]) == ("tool_result", "Mexico")
    assert second.output_text.startswith("Based on the information that you're from Mexico")
    assert (second.finish_reason, _tokens(second)) == ("end_turn", (566, 126, 0))


def test_anthropic_messages_streamed(calls: Calls) -> None:
    [call] = calls["anthropic_thinking_stream"]
    assert (call.model, call.response_model, call.stream) == (
        "claude-sonnet-4-0",
        "claude-sonnet-4-20250514",
        True,
    )
    assert call.thinking.startswith("This is a straightforward question about pedestrian safety.")
    assert call.output_text.startswith("Here are the basic steps for safely crossing the street:")
    assert (call.finish_reason, _tokens(call)) == ("end_turn", (43, 282, 0))


def test_gemini_generate_content(calls: Calls) -> None:
    first, second = calls["gemini_tool_calls"]
    assert (first.provider, first.api, first.model, first.stream) == (
        "google",
        "generateContent",
        "gemini-2.0-flash",
        False,
    )
    assert first.messages == [
        {"role": "user", "content": "What is the largest city in the user country?"}
    ]
    assert [t["name"] for t in first.tools] == ["get_user_country", "final_result"]
    assert first.params["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"
    assert _calls_made(first) == [("", "get_user_country", {})]
    assert (first.finish_reason, _tokens(first)) == ("STOP", (33, 5, None))
    call_id = "pyd_ai_3fa5644dae1d4aad997ae39c70006fbd"
    assert second.messages[1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_user_country", "arguments": "{}"},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call_id,
            "name": "get_user_country",
            "content": json.dumps({"return_value": "Mexico"}),
        },
    ]
    assert _calls_made(second) == [
        ("", "final_result", {"city": "Mexico City", "country": "Mexico"})
    ]
    assert _tokens(second) == (47, 8, None)


def test_gemini_generate_content_streamed(calls: Calls) -> None:
    first, second, third = calls["gemini_tool_calls_stream"]
    assert (first.model, first.stream) == ("gemini-2.0-flash", True)
    assert first.messages[0] == {"role": "system", "content": "You are a helpful chatbot."}
    assert _calls_made(first) == [("", "get_capital", {"country": "France"})]
    assert _calls_made(second) == [("", "get_temperature", {"city": "Paris"})]
    assert (third.output_text, third.finish_reason) == (
        "The temperature in Paris is 30°C.\n",
        "STOP",
    )
    assert [_tokens(c) for c in (first, second, third)] == [
        (52, 5, None),
        (64, 5, None),
        (79, 12, None),
    ]


def test_bedrock_converse(calls: Calls) -> None:
    first, second, third = calls["bedrock_tool_calls"]
    assert (first.provider, first.api, first.model, first.stream) == (
        "bedrock",
        "converse",
        "us.amazon.nova-micro-v1:0",
        False,
    )
    assert first.messages == [
        {"role": "system", "content": "You are a helpful chatbot."},
        {"role": "user", "content": "What was the temperature in London 1st January 2022?"},
    ]
    assert [t["name"] for t in first.tools] == ["temperature", "final_result"]
    assert first.params == {"toolChoice": {"any": {}}}
    use = "tooluse_Mj06ft-ITJik1Otgpkc1uA"
    assert _calls_made(first) == [(use, "temperature", {"city": "London", "date": "2022-01-01"})]
    assert (first.finish_reason, _tokens(first)) == ("tool_use", (571, 22, None))
    assert second.messages[3] == {"role": "tool", "tool_call_id": use, "content": "30°C"}
    assert second.output_text.startswith("\n<thinking> The tool has provided the temperature")
    assert _calls_made(third)[0][1:] == (
        "final_result",
        {"city": "London", "date": "2022-01-01", "temperature": "30°C"},
    )
    assert _tokens(third) == (821, 31, None)


def test_bedrock_converse_streamed(calls: Calls) -> None:
    first, second = calls["bedrock_tool_calls_stream"]
    assert (first.model, first.stream, first.params) == (
        "us.amazon.nova-micro-v1:0",
        True,
        {"topP": 0.5},
    )
    assert first.output_text.startswith("<thinking> To find the temperature of the capital")
    assert _calls_made(first) == [
        ("tooluse_lAG_zP8QRHmSYOwZzzaCqA", "get_temperature", {"city": "Paris"})
    ]
    assert (first.finish_reason, _tokens(first)) == ("tool_use", (471, 91, None))
    assert second.output_text == "The current temperature in Paris, the capital of France, is 30°C."
    assert (second.finish_reason, _tokens(second)) == ("end_turn", (577, 18, None))


def test_bedrock_stream_that_fails_with_an_exception_message(calls: Calls) -> None:
    [call] = calls["bedrock_stream_error"]
    assert (call.model, call.stream, call.output_text) == ("us.does-not-exist-model-v1:0", True, "")
    assert call.error == "The provided model identifier is invalid."


def test_bedrock_prompt_cache_reads_and_writes_count_as_input(calls: Calls) -> None:
    written, read = calls["bedrock_prompt_cache"]
    # inputTokens 2 + cacheWriteInputTokens 1322, then inputTokens 2 + cacheReadInputTokens 1322.
    assert _tokens(written) == (1324, 5, 0)
    assert _tokens(read) == (1324, 5, 1322)
    # Cache points are markers, not tools or content.
    assert [t["name"] for t in read.tools] == ["catalog_lookup", "diagnostics"]
    assert isinstance(read.messages[0]["content"], str)
