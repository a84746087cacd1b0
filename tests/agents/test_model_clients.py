"""Tests for the model API clients (OpenAI chat completions, Anthropic messages), their shared
HTTP layer and the stand-in server, over real loopback HTTP: wire shapes both ways, retries,
refusals, malformed answers, and the API key kept out of every error."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from continuous_backlog_executor.agents.anthropic_api import UNPARSED, AnthropicClient
from continuous_backlog_executor.agents.chat import (
    ApiError,
    ChatClient,
    ChatSettings,
    Message,
    RateLimitedError,
    Role,
    TokenUsage,
    ToolCall,
    ToolSpec,
    UnavailableError,
)
from continuous_backlog_executor.agents.http import MAX_WAIT, retry_after
from continuous_backlog_executor.agents.openai_api import ERROR_PREFIX, OpenAIClient
from continuous_backlog_executor.agents.stand_in import StandInServer
from continuous_backlog_executor.agents.turns import Api, ErrorTurn, TurnError, TurnSource

KEY = "sk-test-0123456789abcdef"
HINT = "$TEST_API_KEY"
APIS: tuple[Api, ...] = ("anthropic", "openai")
MODULE = "continuous_backlog_executor.agents.stand_in"
STOP = {"anthropic": "end_turn", "openai": "stop"}
TOOL_STOP = {"anthropic": "tool_use", "openai": "tool_calls"}
READ = ToolSpec(
    "read_file",
    "Read a file of the worktree.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


class Harness:
    """A stand-in server and a client pointed at it, with the sleeps the client asked for."""

    def __init__(self, api: Api, server: StandInServer) -> None:
        self.api = api
        self.server = server
        self.sleeps: list[float] = []

    def client(self, **overrides: Any) -> ChatClient:
        values: dict[str, Any] = {
            "model": "test-model",
            "api_key": KEY,
            "max_retries": 2,
            "backoff": 0.5,
            "request_timeout": 5.0,
        }
        if "base_url" not in overrides:
            values["base_url"] = self.server.base_url
        settings = ChatSettings(**(values | overrides))
        kind = OpenAIClient if self.api == "openai" else AnthropicClient
        return kind(settings, key_hint=HINT, sleep=self.sleeps.append)

    def send(self, messages: Sequence[Message] = (), **overrides: Any) -> Any:
        return self.client(**overrides).send("Be brief.", messages or [HELLO], [READ])

    def bodies(self) -> list[Any]:
        return [request.json for request in self.server.requests]


HELLO = Message(Role.USER, "hello")
Serve = Callable[[Api, Sequence[TurnSource]], Harness]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[StandInServer] = []

    def start(api: Api, turns: Sequence[TurnSource]) -> Harness:
        servers.append(StandInServer(api, turns).start())
        return Harness(api, servers[-1])

    yield start
    for server in servers:
        server.close()


def error_chain_text(error: BaseException) -> str:
    """Every message in an exception and the ones it was raised from or during."""
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        texts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def assert_no_key(error: BaseException) -> None:
    assert KEY not in error_chain_text(error)


# Replies and what was sent


@pytest.mark.parametrize("api", APIS)
def test_a_plain_text_reply_and_its_usage(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"text": "hi there", "usage": {"input_tokens": 12, "output_tokens": 3}}])

    reply = harness.send(temperature=0.2, max_tokens=300)

    assert (reply.text, reply.tool_calls) == ("hi there", ())
    assert reply.usage == TokenUsage(12, 3)
    assert reply.stop_reason == STOP[api]
    assert reply.raw["model"] == "test-model"
    sent = harness.server.requests[0]
    assert sent.json["model"] == "test-model"
    assert (sent.json["max_tokens"], sent.json["temperature"]) == (300, 0.2)


def test_openai_request_shape(serve: Serve) -> None:
    harness = serve("openai", [{"text": "ok"}])

    harness.send()

    sent = harness.server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert "temperature" not in sent.json
    assert sent.json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
    ]
    assert sent.json["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": READ.description,
                "parameters": READ.parameters,
            },
        }
    ]


def test_anthropic_request_shape(serve: Serve) -> None:
    harness = serve("anthropic", [{"text": "ok"}])

    harness.send([Message(Role.SYSTEM, "Stay in the worktree."), HELLO])

    sent = harness.server.requests[0]
    assert sent.path == "/v1/messages"
    assert (sent.headers["x-api-key"], sent.headers["anthropic-version"]) == (KEY, "2023-06-01")
    assert "authorization" not in sent.headers
    assert sent.json["system"] == "Be brief.\n\nStay in the worktree."
    assert sent.json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello"}]}
    ]
    assert sent.json["tools"] == [
        {"name": "read_file", "description": READ.description, "input_schema": READ.parameters}
    ]


@pytest.mark.parametrize("api", APIS)
def test_no_key_sends_no_auth_header(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"text": "ok"}])

    harness.send(api_key=None)

    headers = harness.server.requests[0].headers
    assert "authorization" not in headers
    assert "x-api-key" not in headers


@pytest.mark.parametrize("api", APIS)
def test_a_reply_with_tool_calls(serve: Serve, api: Api) -> None:
    calls = [
        {"name": "read_file", "arguments": {"path": "README.md"}},
        {"name": "read_file", "arguments": '{"path": "setup.py"}'},
    ]
    harness = serve(api, [{"text": "Let me look.", "tool_calls": calls}])

    reply = harness.send()

    assert reply.text == "Let me look."
    assert [call.name for call in reply.tool_calls] == ["read_file", "read_file"]
    assert [json.loads(call.arguments) for call in reply.tool_calls] == [
        {"path": "README.md"},
        {"path": "setup.py"},
    ]
    assert len({call.id for call in reply.tool_calls}) == 2
    assert reply.stop_reason == TOOL_STOP[api]


def test_openai_round_trip_sends_calls_and_results_back(serve: Serve) -> None:
    harness = serve(
        "openai", [{"tool_calls": [{"name": "read_file", "arguments": "{"}]}, {"text": "done"}]
    )
    first = harness.send()
    call = first.tool_calls[0]
    conversation = [
        HELLO,
        Message(Role.ASSISTANT, first.text, tool_calls=first.tool_calls),
        Message(Role.TOOL, "arguments are not JSON", tool_call_id=call.id, is_error=True),
    ]

    assert harness.send(conversation).text == "done"

    assert harness.bodies()[1]["messages"][1:] == [
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "read_file", "arguments": "{"},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": f"{ERROR_PREFIX}arguments are not JSON",
        },
    ]


def test_anthropic_round_trip_merges_tool_results_into_one_user_turn(serve: Serve) -> None:
    calls = [
        {"name": "read_file", "arguments": {"path": "a.py"}},
        {"name": "read_file", "arguments": {"path": "b.py"}},
    ]

    def echo(request: Mapping[str, Any]) -> Mapping[str, object]:
        results = request["messages"][-1]["content"]
        return {"text": " / ".join(block.get("content", "-") for block in results)}

    harness = serve("anthropic", [{"text": "Reading.", "tool_calls": calls}, echo])
    first = harness.send()
    one, two = first.tool_calls
    conversation = [
        HELLO,
        Message(Role.ASSISTANT, first.text, tool_calls=first.tool_calls),
        Message(Role.TOOL, "print('a')", tool_call_id=one.id),
        Message(Role.TOOL, "no such file", tool_call_id=two.id, is_error=True),
    ]

    assert harness.send(conversation).text == "print('a') / no such file"

    assert harness.bodies()[1]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": one.id, "name": "read_file", "input": {"path": "a.py"}},
                {"type": "tool_use", "id": two.id, "name": "read_file", "input": {"path": "b.py"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": one.id, "content": "print('a')"},
                {
                    "type": "tool_result",
                    "tool_use_id": two.id,
                    "content": "no such file",
                    "is_error": True,
                },
            ],
        },
    ]


def test_anthropic_sends_malformed_arguments_back_wrapped(serve: Serve) -> None:
    harness = serve("anthropic", [{"text": "ok"}])
    call = ToolCall("toolu_1", "read_file", '{"path": ')

    harness.send([HELLO, Message(Role.ASSISTANT, tool_calls=(call,))])

    tool_use = harness.bodies()[0]["messages"][1]["content"][0]
    assert tool_use["input"] == {UNPARSED: '{"path": '}


def test_base_urls_keep_a_query_and_accept_a_v1_suffix(serve: Serve) -> None:
    openai = serve("openai", [{"text": "ok"}])
    openai.send(base_url=f"{openai.server.base_url}/?api-version=2025-01-01")
    anthropic = serve("anthropic", [{"text": "ok"}])
    anthropic.send(base_url=f"{anthropic.server.base_url}/v1")

    assert openai.server.requests[0].path == "/v1/chat/completions?api-version=2025-01-01"
    assert anthropic.server.requests[0].path == "/v1/messages"


# Retries


@pytest.mark.parametrize("api", APIS)
def test_429_waits_as_retry_after_asks_then_succeeds(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 429, "headers": {"Retry-After": "7"}}, {"text": "ok"}])

    assert harness.send().text == "ok"
    assert harness.sleeps == [7.0]


@pytest.mark.parametrize("api", APIS)
def test_retry_after_is_capped(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 429, "headers": {"Retry-After": "3600"}}, {"text": "ok"}])

    harness.send()

    assert harness.sleeps == [MAX_WAIT]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    in_20s = retry_after(formatdate(time.time() + 20, usegmt=True))

    assert retry_after("1.5") == 1.5
    assert in_20s is not None
    assert 17 <= in_20s <= 20
    assert retry_after(formatdate(time.time() - 60, usegmt=True)) == 0
    assert retry_after("soon") is None
    assert retry_after(None) is None


@pytest.mark.parametrize("api", APIS)
def test_server_errors_are_retried_with_doubling_backoff(serve: Serve, api: Api) -> None:
    harness = serve(
        api, [{"status": 500}, {"status": 529 if api == "anthropic" else 503}, {"text": "ok"}]
    )

    assert harness.send().text == "ok"
    assert harness.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("api", APIS)
def test_still_rate_limited_after_the_retries(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 429, "message": "slow down"}] * 3)

    with pytest.raises(RateLimitedError, match="slow down") as caught:
        harness.send()

    assert caught.value.status == 429
    assert "after 3 attempts" in str(caught.value)
    assert harness.sleeps == [0.5, 1.0]
    assert_no_key(caught.value)


@pytest.mark.parametrize("api", APIS)
def test_still_failing_after_the_retries(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 502}] * 2)

    with pytest.raises(UnavailableError, match="HTTP 502") as caught:
        harness.send(max_retries=1)

    assert caught.value.status == 502
    assert len(harness.server.requests) == 2
    assert_no_key(caught.value)


def test_no_more_turns_is_a_clear_server_error(serve: Serve) -> None:
    harness = serve("openai", [])

    with pytest.raises(UnavailableError, match=r"stand-in has no more turns \(0 played\)"):
        harness.send(max_retries=0)


@pytest.mark.parametrize("api", APIS)
def test_out_of_quota_is_not_retried(serve: Serve, api: Api) -> None:
    body = {"error": {"message": "You exceeded your quota", "type": "insufficient_quota"}}
    harness = serve(api, [{"status": 429, "body": body}])

    with pytest.raises(ApiError, match="quota is used up") as caught:
        harness.send()

    assert not isinstance(caught.value, RateLimitedError)
    assert harness.sleeps == []


@pytest.mark.parametrize("api", APIS)
def test_connection_refused_is_retried_then_unavailable(api: Api) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    harness = Harness(api, StandInServer(api, []))
    base_url = f"http://127.0.0.1:{port}"

    with pytest.raises(UnavailableError, match="cannot reach") as caught:
        harness.send(base_url=base_url)

    assert caught.value.status is None
    assert "check agent.base_url" in str(caught.value)
    assert harness.sleeps == [0.5, 1.0]
    assert_no_key(caught.value)


@pytest.mark.parametrize("api", APIS)
def test_a_time_out_is_retried(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"delay": 0.5, "text": "late"}, {"text": "on time"}])

    assert harness.send(request_timeout=0.1).text == "on time"
    assert harness.sleeps == [0.5]


# Refusals and malformed answers


@pytest.mark.parametrize("api", APIS)
def test_401_names_the_key_variable_and_never_the_key(serve: Serve, api: Api) -> None:
    echoed = f"Incorrect API key provided: {KEY}"
    harness = serve(api, [{"status": 401, "message": echoed}])

    with pytest.raises(ApiError, match=r"the API key in \$TEST_API_KEY was refused") as caught:
        harness.send()

    assert caught.value.status == 401
    assert "[API key]" in str(caught.value)
    assert harness.sleeps == []
    assert_no_key(caught.value)


@pytest.mark.parametrize("api", APIS)
def test_401_without_a_key_says_to_set_one(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 401}])

    with pytest.raises(ApiError, match=r"none was sent .*; set \$TEST_API_KEY"):
        harness.send(api_key=None)


@pytest.mark.parametrize("api", APIS)
def test_403_names_the_model(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 403}])

    with pytest.raises(ApiError, match=r"may not use model 'test-model'") as caught:
        harness.send()

    assert_no_key(caught.value)


@pytest.mark.parametrize("api", APIS)
def test_404_names_model_and_url(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"text": "never played"}])
    wrong = f"{harness.server.base_url}/nowhere"

    with pytest.raises(ApiError) as caught:
        harness.send(base_url=wrong)

    message = str(caught.value)
    assert caught.value.status == 404
    assert "model 'test-model'" in message
    assert f"{wrong}/" in message
    assert "check agent.model and agent.base_url" in message


@pytest.mark.parametrize("api", APIS)
def test_400_quotes_the_api_message_cut_short(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"status": 400, "message": "max_tokens: too large " + "x" * 5000}])

    with pytest.raises(ApiError, match="max_tokens: too large") as caught:
        harness.send()

    assert caught.value.status == 400
    assert "(cut)" in str(caught.value)
    assert len(str(caught.value)) < 700


@pytest.mark.parametrize(
    ("api", "body", "problem"),
    [
        ("openai", "not json", "something other than JSON"),
        ("openai", "[]", "the answer is a list"),
        ("openai", "{}", "choices is null, not a list"),
        ("openai", '{"choices": []}', "choices is empty"),
        ("openai", '{"choices": [{"message": {"content": 5}}]}', "message.content is a number"),
        (
            "openai",
            '{"choices": [{"message": {"tool_calls": [{"function": {"name": 1}}]}}]}',
            r"tool_calls\[0\].function.name is a number",
        ),
        ("openai", '{"choices": [{"message": {}}], "usage": []}', "usage is a list"),
        ("anthropic", "", "an empty body"),
        ("anthropic", '{"content": "hi"}', "content is text, not a list"),
        (
            "anthropic",
            '{"content": [{"type": "tool_use", "id": "t", "name": "n", "input": "{}"}]}',
            r"content\[0\].input is text, not an object",
        ),
        (
            "anthropic",
            '{"content": [], "usage": {"input_tokens": "many"}}',
            "usage.input_tokens is text",
        ),
    ],
)
def test_a_malformed_answer_is_an_api_error(
    serve: Serve, api: Api, body: str, problem: str
) -> None:
    harness = serve(api, [ErrorTurn(200, body=body)])

    with pytest.raises(ApiError, match=problem) as caught:
        harness.send()

    assert not isinstance(caught.value, UnavailableError)


@pytest.mark.parametrize("api", APIS)
def test_a_key_with_a_line_break_is_refused_before_sending(serve: Serve, api: Api) -> None:
    harness = serve(api, [{"text": "never played"}])

    with pytest.raises(ApiError, match=r"key in \$TEST_API_KEY contains spaces") as caught:
        harness.send(api_key=f"{KEY}\n")

    assert harness.server.requests == []
    assert_no_key(caught.value)


def test_a_base_url_without_a_scheme_is_an_api_error() -> None:
    harness = Harness("openai", StandInServer("openai", []))

    with pytest.raises(ApiError, match="not an http:// or https:// URL"):
        harness.send(base_url="localhost:11434/v1")


# The stand-in itself


def test_a_callable_turn_that_fails_reaches_the_client(serve: Serve) -> None:
    def broken(request: Mapping[str, Any]) -> Mapping[str, object]:
        raise KeyError("tools")

    harness = serve("openai", [broken])

    with pytest.raises(UnavailableError, match="stand-in turn 1 failed: KeyError"):
        harness.send(max_retries=0)


@pytest.mark.parametrize(
    ("api", "turn", "problem"),
    [
        ("openai", {"txt": "typo"}, r"unknown keys \['txt'\]"),
        ("openai", {"status": "429"}, "status has the wrong type"),
        ("openai", {"tool_calls": [{"arguments": {}}]}, "tool call 1: name is required"),
        ("anthropic", {"tool_calls": [{"name": "x", "arguments": "["}]}, "JSON object"),
    ],
)
def test_malformed_turns_are_refused_up_front(
    api: Api, turn: Mapping[str, object], problem: str
) -> None:
    with pytest.raises(TurnError, match=problem):
        StandInServer(api, [turn])


def test_the_command_line_serves_a_turns_file(tmp_path: Path) -> None:
    turns = tmp_path / "turns.yml"
    turns.write_text("- text: from a file\n  usage: {input_tokens: 5, output_tokens: 2}\n")
    command = [sys.executable, "-m", MODULE, "--api", "openai", "--turns", str(turns)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            settings = ChatSettings("m", base_url, None, max_retries=0, request_timeout=5)
            reply = OpenAIClient(settings).send("", [HELLO], [])
        finally:
            process.terminate()
    assert base_url.startswith("http://127.0.0.1:")
    assert base_url.endswith("/v1")
    assert (reply.text, reply.usage) == ("from a file", TokenUsage(5, 2))


def test_the_command_line_reports_a_bad_turns_file(tmp_path: Path) -> None:
    turns = tmp_path / "turns.yml"
    turns.write_text("text: not a list\n")
    command = [sys.executable, "-m", MODULE, "--api", "anthropic", "--turns", str(turns)]

    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"stand-in: {turns}: expected a list of turns, found dict\n"
