"""The arguments of the model agent's tools: each tool's JSON schema, and the checking of what a
model sends against it. A call's arguments arrive as raw JSON text the model wrote; anything
wrong with them becomes a ``ToolInputError`` whose message tells the model what to send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from .chat import ToolSpec


class ToolInputError(Exception):
    """A call the model can correct: its message is the error result's text."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # JSON schema type: "string", "integer" or "array" (of strings)
    description: str
    required: bool = False

    def schema(self) -> dict[str, object]:
        items = {"items": {"type": "string"}} if self.kind == "array" else {}
        return {"type": self.kind, "description": self.description, **items}


@dataclass(frozen=True, slots=True)
class Arguments:
    """A call's arguments, checked against its tool's parameters."""

    texts: Mapping[str, str]
    numbers: Mapping[str, int]
    lists: Mapping[str, tuple[str, ...]]

    def text(self, name: str, default: str = "") -> str:
        return self.texts.get(name, default)


@dataclass(frozen=True, slots=True)
class Signature:
    """A tool's name, description and parameters: its spec, its usage line, and the checking
    of a call's raw JSON arguments against them."""

    name: str
    description: str
    params: tuple[Param, ...]

    @property
    def spec(self) -> ToolSpec:
        parameters = {
            "type": "object",
            "properties": {param.name: param.schema() for param in self.params},
            "required": [param.name for param in self.params if param.required],
            "additionalProperties": False,
        }
        return ToolSpec(self.name, self.description, parameters)

    @property
    def usage(self) -> str:
        if not self.params:
            return f"{self.name} takes no arguments"
        described = (
            f"{p.name} ({p.kind}{'' if p.kind != 'array' else ' of strings'}, "
            f"{'required' if p.required else 'optional'})"
            for p in self.params
        )
        return f"{self.name} expects a JSON object with {', '.join(described)}"

    def parse(self, raw: str) -> Arguments:
        """``raw`` as checked arguments; ``ToolInputError`` naming the problem and the usage."""
        try:
            # Some APIs send an empty string for a call without arguments.
            decoded = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError) as error:
            raise ToolInputError(
                f"the arguments are not valid JSON ({error}); {self.usage}"
            ) from None
        if not isinstance(decoded, dict):
            raise ToolInputError(
                f"the arguments must be a JSON object, not {_kind(decoded)}; {self.usage}"
            )
        unknown = sorted(set(decoded) - {param.name for param in self.params})
        if unknown:
            raise ToolInputError(f"unknown argument {unknown[0]!r}; {self.usage}")
        texts: dict[str, str] = {}
        numbers: dict[str, int] = {}
        lists: dict[str, tuple[str, ...]] = {}
        for param in self.params:
            value = decoded.get(param.name)
            if value is None:  # models often send null for an optional argument they skip
                if param.required:
                    raise ToolInputError(f"missing argument {param.name!r}; {self.usage}")
            elif param.kind == "string" and isinstance(value, str):
                texts[param.name] = self._unicode(param.name, value)
            elif param.kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
                numbers[param.name] = value
            elif param.kind == "array" and _strings(value):
                lists[param.name] = tuple(self._unicode(param.name, item) for item in value)
            else:
                raise ToolInputError(
                    f"argument {param.name!r} must be {_WANTED[param.kind]}, "
                    f"not {_kind(value)}; {self.usage}"
                )
        return Arguments(texts, numbers, lists)

    def _unicode(self, name: str, value: str) -> str:
        # JSON may carry lone surrogates, which no file name, file or argument can hold.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ToolInputError(
                f"argument {name!r} is not valid Unicode text; {self.usage}"
            ) from None
        return value


_WANTED = {"string": "a string", "integer": "an integer", "array": "an array of strings"}


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")
