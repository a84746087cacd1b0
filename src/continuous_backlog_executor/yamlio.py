"""YAML set up once for the backlog file: a fast loader/dumper and a comment-keeping one.

The fast pair (``typ="safe"``, libyaml underneath when available) reads and writes items that
carry no human formatting. The round-trip pair keeps comments, key order, quoting and unknown
keys when an item a human has touched must be rewritten. Both speak YAML 1.2.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter, SafeRepresenter

from .codec import DateText, Timestamp

WIDTH = 4096  # long titles stay on one line instead of being folded


class _SafeRepresenter(SafeRepresenter):
    """Subclassed so our representers never leak into other users of ruamel.yaml."""


class _RoundTripRepresenter(RoundTripRepresenter):
    """Subclassed so our representers never leak into other users of ruamel.yaml."""


def _represent_text(representer: Any, data: str) -> Any:
    # Multi-line text reads best as a literal block; the emitter falls back when it cannot.
    style = "|" if "\n" in data.rstrip("\n") else None
    return representer.represent_scalar("tag:yaml.org,2002:str", str(data), style=style)


def _represent_timestamp(representer: Any, data: str) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:timestamp", str(data))


for _cls in (_SafeRepresenter, _RoundTripRepresenter):
    _cls.add_representer(str, _represent_text)
    _cls.add_representer(Timestamp, _represent_timestamp)
    _cls.add_representer(DateText, _represent_timestamp)


@dataclass(frozen=True, slots=True)
class Indent:
    """Block indentation of a document: ``sequence``/``offset`` as ruamel.yaml names them."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0

    @property
    def is_default(self) -> bool:
        """True for the layout the fast dumper writes (sequences not indented under keys)."""
        return self == Indent()


def _fast() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _SafeRepresenter
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.allow_unicode = True
    yaml.width = WIDTH
    return yaml


def _round_trip(indent: Indent) -> YAML:
    yaml = YAML()
    yaml.Representer = _RoundTripRepresenter
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.allow_unicode = True
    yaml.width = WIDTH
    yaml.preserve_quotes = True
    return yaml


_FAST = _fast()
_ROUND_TRIP: dict[Indent, YAML] = {}


def _rt(indent: Indent) -> YAML:
    if indent not in _ROUND_TRIP:
        _ROUND_TRIP[indent] = _round_trip(indent)
    return _ROUND_TRIP[indent]


def load_fast(text: str) -> Any:
    """Parse ``text`` into plain Python values (raises ``YAMLError``)."""
    return _FAST.load(text)


def load_round_trip(text: str) -> Any:
    """Parse ``text`` keeping comments and positions (raises ``YAMLError``)."""
    return _rt(Indent()).load(text)


def dump_fast(data: Any) -> str:
    """Write plain values as block YAML in the default layout."""
    stream = io.StringIO()
    _FAST.dump(data, stream)
    return stream.getvalue()


def dump_round_trip(data: Any, indent: Indent) -> str:
    """Write round-trip values, keeping their comments, in the given layout."""
    stream = io.StringIO()
    _rt(indent).dump(data, stream)
    return stream.getvalue()


def error_line(error: YAMLError, first_line: int = 1) -> int | None:
    """The 1-based line a parse error points at, shifted to where the parsed text started."""
    if isinstance(error, MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return int(mark.line) + first_line
    return None


def error_text(error: YAMLError) -> str:
    """The parser's own explanation, without its position lines (we print our own)."""
    if isinstance(error, MarkedYAMLError):
        parts = [error.context, error.problem]
        return "; ".join(str(p) for p in parts if p) or "invalid YAML"
    return str(error).splitlines()[0] if str(error) else "invalid YAML"


def key_line(node: Any, key: str, first_line: int = 1) -> int | None:
    """The 1-based line of ``key`` in a round-trip mapping, or of ``node`` itself."""
    if isinstance(node, CommentedMap):
        if key in node:
            return int(node.lc.key(key)[0]) + first_line
        return int(node.lc.line) + first_line
    return None


def item_line(sequence: Any, index: int, first_line: int = 1) -> int | None:
    """The 1-based line where entry ``index`` of a round-trip sequence starts."""
    if isinstance(sequence, CommentedSeq) and index < len(sequence):
        return int(sequence.lc.item(index)[0]) + first_line
    return None


def apply_changes(
    target: CommentedMap,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    order: Sequence[str],
    *,
    fill: Sequence[str] = (),
) -> None:
    """Change in ``target`` only the keys whose value differs between ``old`` and ``new``.

    Keys untouched by the change keep their formatting and comments, and values a human left
    out stay out unless named in ``fill``; a new key goes where ``order`` puts it among the
    keys already there; unknown keys are never touched.
    """
    for key in [k for k in old if k not in new and k in target]:
        del target[key]
    for key, value in new.items():
        if key in old and old[key] == value and (key in target or key not in fill):
            continue
        current = target.get(key)
        if isinstance(current, CommentedMap) and isinstance(value, Mapping):
            apply_changes(current, old.get(key) or {}, value, list(value))
        elif key in target:
            target[key] = value
        else:
            target.insert(_position(target, key, order), key, value)


def _position(target: CommentedMap, key: str, order: Sequence[str]) -> int:
    if key not in order:
        return len(target)
    rank = order.index(key)
    before = [i for i, existing in enumerate(target) if existing in order[:rank]]
    return before[-1] + 1 if before else 0
