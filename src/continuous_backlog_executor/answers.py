"""Reading an agent's structured answers (acceptance criteria, slices) from its answer file.

The file is YAML written by the agent, so it is untrusted: it is read with the safe loader,
size-limited, and every value is checked before anything reaches the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .errors import BacklogError, InvalidValueError
from .model import check_scale

MAX_BYTES = 64_000
MAX_TEXT = 500
MAX_ENTRIES = 10


class AnswerError(BacklogError):
    """The agent's answer file is missing or does not hold what the phase asked for."""


@dataclass(frozen=True)
class Slice:
    """One child item proposed by the slice phase."""

    title: str
    description: str
    effort: int | None
    acceptance_criteria: tuple[str, ...]


def _load(path: Path) -> object:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise AnswerError(f"the answer file {path} is over {MAX_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswerError(f"no answer: the agent wrote no {path.name}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise AnswerError(f"the answer file {path} cannot be read ({error})") from None
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise AnswerError(f"the answer file {path} is not valid YAML: {error}") from None


def _text(value: object, what: str) -> str:
    if not isinstance(value, (str, int, float)) or not str(value).strip():
        raise AnswerError(f"{what} must be non-empty text, not {value!r}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise AnswerError(f"{what} is longer than {MAX_TEXT} characters")
    return text


def _entries(data: object, what: str) -> list[object]:
    if not isinstance(data, list) or not data:
        raise AnswerError(f"the answer must be a non-empty YAML list of {what}")
    if len(data) > MAX_ENTRIES:
        raise AnswerError(f"the answer lists {len(data)} {what}; at most {MAX_ENTRIES}")
    return data


def criteria(path: Path) -> list[str]:
    """The acceptance criteria in the answer file at ``path``."""
    entries = _entries(_load(path), "criteria")
    return [_text(entry, f"criterion {n}") for n, entry in enumerate(entries, start=1)]


def slices(path: Path) -> list[Slice]:
    """The child items in the answer file at ``path`` (at least two)."""
    entries = _entries(_load(path), "slices")
    if len(entries) < 2:
        raise AnswerError("a slice answer must split the item into at least two items")
    return [_slice(entry, n) for n, entry in enumerate(entries, start=1)]


def _slice(entry: object, number: int) -> Slice:
    if not isinstance(entry, dict):
        raise AnswerError(f"slice {number} must be a mapping with a title")
    effort = entry.get("effort")
    try:
        checked = None if effort is None else check_scale("effort", effort)
    except InvalidValueError as error:
        raise AnswerError(f"slice {number}: {error}") from None
    found = entry.get("acceptance_criteria") or []
    if not isinstance(found, list):
        raise AnswerError(f"slice {number}: acceptance_criteria must be a list")
    return Slice(
        title=_text(entry.get("title"), f"slice {number} title"),
        description=str(entry.get("description") or "")[: MAX_TEXT * 4],
        effort=checked,
        acceptance_criteria=tuple(
            _text(c, f"slice {number} criterion {n}") for n, c in enumerate(found, start=1)
        ),
    )
