"""Declaring settings: a setting's converter, default and meaning, and the converters.

Kept apart from ``config`` so plugins (discovery sources, later agents and forges) can declare
their options without importing the configuration loader.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class BadValueError(ValueError):
    """A value that does not fit its setting; the message says what would."""


def text(value: object) -> str:
    """Text."""
    if not isinstance(value, str):
        raise BadValueError(f"must be text, not {value!r}")
    return value


def optional_text(value: object) -> str | None:
    """Text, or nothing."""
    return None if value is None else text(value)


def flag(value: object) -> bool:
    """true/false (also yes/no, on/off, 1/0 as text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    ):
        return value.lower() in ("true", "1", "yes", "on")
    raise BadValueError(f"must be true or false, not {value!r}")


def number(
    low: float, high: float | None = None, *, whole: bool = False
) -> Callable[[object], Any]:
    """A converter for a finite number in ``[low, high]`` (a whole one when ``whole``)."""

    def convert(value: object) -> float | int:
        if isinstance(value, str):
            try:
                value = int(value) if whole else float(value)
            except ValueError:
                raise BadValueError(f"must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadValueError(f"must be a number, not {value!r}")
        if not math.isfinite(value):
            raise BadValueError(f"must be a finite number, not {value!r}")
        if whole and value != int(value):
            raise BadValueError(f"must be a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise BadValueError(f"must be {bounds}, not {value!r}")
        return int(value) if whole else float(value)

    return convert


def optional(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    """``convert``, or nothing for an empty value."""
    return lambda value: None if value is None or value == "" else convert(value)


def text_list(value: object) -> tuple[str, ...]:
    """A list of text (comma-separated when given as one text)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadValueError(f"must be a list of text, not {value!r}")
    return tuple(value)


def command(value: object) -> tuple[str, ...]:
    """A command line: a list of arguments, or one text split the way a shell would."""
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as error:
            raise BadValueError(f"is not a command line ({error})") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadValueError(f"must be a list of arguments, not {value!r}")
    return tuple(value)


def json_object(value: object) -> dict[str, Any]:
    """A mapping: a JSON object in the configuration file, or its JSON text (``--set``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise BadValueError(f"is not a JSON object ({error})") from None
    if not isinstance(value, dict):
        raise BadValueError(f"must be a JSON object, not {value!r}")
    return value


def choice(*options: str) -> Callable[[object], str]:
    """One of ``options``."""

    def convert(value: object) -> str:
        chosen = text(value).lower()
        if chosen not in options:
            raise BadValueError(f"must be one of {', '.join(options)}, not {value!r}")
        return chosen

    return convert


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration key: how to read it, its default, and what it means."""

    convert: Callable[[object], Any]
    default: Any
    help: str
