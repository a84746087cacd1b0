"""A stand-in model server for tests and demos: on 127.0.0.1 it speaks the OpenAI chat
completions or the Anthropic messages wire format, plays scripted turns in order and records
every request it receives.

    python -m continuous_backlog_executor.agents.stand_in --api openai --turns turns.yml [--port N]

prints its base URL on the first line and serves until interrupted. A turns file is a YAML or
JSON list; each turn is a reply or an error, and any turn may wait ``delay`` seconds first::

    - text: Let me look.                 # a reply: text, tool calls, token usage
      tool_calls:
        - {name: read_file, arguments: {path: README.md}}   # a mapping, or JSON text
      usage: {input_tokens: 120, output_tokens: 30}
    - status: 429                        # an error in the API's own shape
      headers: {Retry-After: "1"}
      message: slow down
    - status: 200                        # ... or exactly this body (a malformed answer)
      body: not json

Once the turns are played, every request gets a 500 error saying so.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..loopback import Answer, LoopbackServer, decode_json
from .turns import (
    Api,
    ErrorTurn,
    ReplyTurn,
    Turn,
    TurnError,
    TurnSource,
    load_turns,
    parse_turn,
)

APIS: tuple[Api, ...] = ("anthropic", "openai")
PATHS: dict[Api, str] = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions"}
# The error ``type`` both APIs put in an error body, by status.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case; a test server, so the key is kept
    json: Any  # the decoded body; None when it was not JSON


class StandInServer(LoopbackServer):
    """Serves ``turns`` in order in ``api``'s wire format; a context manager that starts and
    stops it in a background thread."""

    def __init__(self, api: Api, turns: Sequence[TurnSource], *, port: int = 0) -> None:
        if api not in APIS:
            raise TurnError(f"unknown api {api!r}; valid ones: {', '.join(APIS)}")
        super().__init__(port=port)
        self.api = api
        self.requests: list[ReceivedRequest] = []
        self._turns = [
            turn if callable(turn) else parse_turn(turn, api, f"turn {number}")
            for number, turn in enumerate(turns, 1)
        ]
        self._played = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """The base URL its API's client takes: with ``/v1`` for OpenAI, without for Anthropic."""
        return f"{self.root_url}/v1" if self.api == "openai" else self.root_url

    def answer(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        """The answer to one request: the next turn, in this API's wire format."""
        body = decode_json(raw)
        with self._lock:
            self.requests.append(ReceivedRequest(method, path, dict(headers), body))
            if method != "POST" or path.split("?", maxsplit=1)[0] != PATHS[self.api]:
                message = f"no such endpoint: {method} {path}; the stand-in serves POST"
                return self._error(ErrorTurn(404, f"{message} {PATHS[self.api]}"))
            if not isinstance(body, dict):
                return self._error(ErrorTurn(400, "the request body is not a JSON object"))
            self._played += 1
            number = self._played
        if number > len(self._turns):
            played = len(self._turns)
            return self._error(ErrorTurn(500, f"stand-in has no more turns ({played} played)"))
        try:
            turn = self._resolve(self._turns[number - 1], body, number)
        except Exception as error:  # a test's callback failed: its client is told why
            return self._error(ErrorTurn(500, f"stand-in turn {number} failed: {error!r}"))
        time.sleep(turn.delay)
        if isinstance(turn, ErrorTurn):
            return self._error(turn)
        model = str(body.get("model", ""))
        return Answer(200, json.dumps(self._render(turn, model)).encode())

    def _resolve(self, source: TurnSource, body: Mapping[str, Any], number: int) -> Turn:
        spec = source(body) if callable(source) else source
        return parse_turn(spec, self.api, f"turn {number}")

    def _render(self, turn: ReplyTurn, model: str) -> dict[str, object]:
        serial = next(self._ids)
        if self.api == "openai":
            return _openai_reply(turn, model, serial)
        return _anthropic_reply(turn, model, serial)

    def _error(self, turn: ErrorTurn) -> Answer:
        if turn.body is not None:
            return Answer(turn.status, turn.body.encode(), turn.headers)
        message = turn.message or f"stand-in error {turn.status}"
        detail = {"type": ERROR_TYPES.get(turn.status, "api_error"), "message": message}
        shape = (
            {"type": "error", "error": detail}
            if self.api == "anthropic"
            else {"error": {**detail, "param": None, "code": None}}
        )
        return Answer(turn.status, json.dumps(shape).encode(), turn.headers)


def _openai_reply(turn: ReplyTurn, model: str, serial: int) -> dict[str, object]:
    message: dict[str, object] = {"role": "assistant", "content": turn.text or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{serial}_{index}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for index, call in enumerate(turn.tool_calls)
        ]
    usage = turn.usage
    return {
        "id": f"chatcmpl-{serial}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if turn.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }


def _anthropic_reply(turn: ReplyTurn, model: str, serial: int) -> dict[str, object]:
    content: list[dict[str, object]] = [{"type": "text", "text": turn.text}] if turn.text else []
    content += [
        {
            "type": "tool_use",
            "id": f"toolu_{serial}_{index}",
            "name": call.name,
            "input": json.loads(call.arguments),
        }
        for index, call in enumerate(turn.tool_calls)
    ]
    return {
        "id": f"msg_{serial}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if turn.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": turn.usage.input_tokens,
            "output_tokens": turn.usage.output_tokens,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a turns file until interrupted; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m continuous_backlog_executor.agents.stand_in",
        description="A stand-in model server playing scripted turns, for tests and demos.",
    )
    parser.add_argument("--api", choices=APIS, required=True, help="the wire format to speak")
    parser.add_argument("--turns", type=Path, required=True, help="a YAML or JSON list of turns")
    parser.add_argument("--port", type=int, default=0, help="the port (default: any free one)")
    options = parser.parse_args(argv)
    api = cast(Api, options.api)
    try:
        server = StandInServer(api, load_turns(options.turns, api), port=options.port).start()
    except (TurnError, OSError) as error:  # OSError: the port is taken
        print(f"stand-in: {error}", file=sys.stderr)
        return 2
    # Ctrl-C is how a demo server stops.
    with contextlib.closing(server), contextlib.suppress(KeyboardInterrupt):
        print(server.base_url, flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
