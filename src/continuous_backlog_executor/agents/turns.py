"""The scripted turns a stand-in model server plays: replies (text, tool calls, token usage) and
errors (a status in the API's error shape, or an exact body), checked when they are loaded so a
bad script fails at once with the file and turn it names. See ``stand_in`` for the format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .base import AgentError
from .chat import TokenUsage

Api = Literal["anthropic", "openai"]
REPLY_KEYS = frozenset({"delay", "text", "tool_calls", "usage"})
ERROR_KEYS = frozenset({"body", "delay", "headers", "message", "status"})
REQUIRED = object()  # the default of a key a turn must have


class TurnError(AgentError):
    """A scripted turn (or a turns file) is malformed."""


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call a reply makes; the server gives it an id."""

    name: str
    arguments: str  # JSON text, exactly as the model "wrote" it


@dataclass(frozen=True, slots=True)
class ReplyTurn:
    """The model answers: text and tool calls."""

    text: str = ""
    tool_calls: tuple[ScriptedCall, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class ErrorTurn:
    """An HTTP error in the API's shape or, with ``body``, exactly that body."""

    status: int = 500
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0


Turn = ReplyTurn | ErrorTurn
TurnSpec = Turn | Mapping[str, object]
# A turn decided when the request arrives, from its decoded JSON body.
TurnSource = TurnSpec | Callable[[Mapping[str, Any]], TurnSpec]


def parse_turn(spec: TurnSpec, api: Api, where: str) -> Turn:
    """A checked turn from its mapping form (see the module docstring); ``where`` names it in
    errors."""
    if isinstance(spec, (ReplyTurn, ErrorTurn)):
        return spec
    if not isinstance(spec, Mapping):
        raise TurnError(f"{where}: a turn is a mapping, not {type(spec).__name__}")
    is_error = "status" in spec
    unknown = set(spec) - (ERROR_KEYS if is_error else REPLY_KEYS)
    if unknown:
        raise TurnError(
            f"{where}: unknown keys {sorted(map(str, unknown))}; a reply takes "
            f"{sorted(REPLY_KEYS)}, an error {sorted(ERROR_KEYS)}"
        )
    delay = _get(spec, "delay", (int, float), 0, where)
    return (
        _error_turn(spec, float(delay), where)
        if is_error
        else _reply_turn(spec, api, float(delay), where)
    )


def _reply_turn(spec: Mapping[str, object], api: Api, delay: float, where: str) -> ReplyTurn:
    calls = _get(spec, "tool_calls", list, [], where)
    usage = _get(spec, "usage", Mapping, {}, where)
    return ReplyTurn(
        text=_get(spec, "text", str, "", where),
        tool_calls=tuple(
            _call(call, api, f"{where}, tool call {number}") for number, call in enumerate(calls, 1)
        ),
        usage=TokenUsage(
            input_tokens=_get(usage, "input_tokens", int, 0, f"{where}, usage"),
            output_tokens=_get(usage, "output_tokens", int, 0, f"{where}, usage"),
        ),
        delay=delay,
    )


def _call(spec: object, api: Api, where: str) -> ScriptedCall:
    if not isinstance(spec, Mapping):
        raise TurnError(f"{where}: a tool call is a mapping with name and arguments")
    arguments = _get(spec, "arguments", (str, Mapping), {}, where)
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    if api == "anthropic" and not _is_object(text):
        raise TurnError(f"{where}: Anthropic sends a tool's input as a JSON object, not {text!r}")
    return ScriptedCall(name=_get(spec, "name", str, REQUIRED, where), arguments=text)


def _error_turn(spec: Mapping[str, object], delay: float, where: str) -> ErrorTurn:
    headers = _get(spec, "headers", Mapping, {}, where)
    body = _get(spec, "body", (str, Mapping, list), None, where)
    return ErrorTurn(
        status=_get(spec, "status", int, REQUIRED, where),
        message=_get(spec, "message", str, "", where),
        headers={str(name): str(value) for name, value in headers.items()},
        body=body if body is None or isinstance(body, str) else json.dumps(body),
        delay=delay,
    )


def _get(
    spec: Mapping[str, object], key: str, kind: type | tuple[type, ...], default: Any, where: str
) -> Any:
    """``spec[key]`` checked to be a ``kind``; ``default`` when absent, unless ``REQUIRED``."""
    if key not in spec:
        if default is REQUIRED:
            raise TurnError(f"{where}: {key} is required")
        return default
    value = spec[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TurnError(f"{where}: {key} has the wrong type ({type(value).__name__})")
    return value


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def load_turns(path: Path, api: Api) -> list[Turn]:
    """The checked turns in a YAML or JSON file."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TurnError(f"cannot read the turns file {path}: {error.strerror}") from error
    except YAMLError as error:
        raise TurnError(f"{path} is not valid YAML or JSON: {error}") from error
    if not isinstance(data, list):
        raise TurnError(f"{path}: expected a list of turns, found {type(data).__name__}")
    return [parse_turn(spec, api, f"{path}: turn {number}") for number, spec in enumerate(data, 1)]
