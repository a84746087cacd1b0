"""pip-audit's JSON report (``pip-audit -f json``), read into typed records.

The format, as pip-audit 2.x writes it::

    {"dependencies": [
        {"name": "jinja2", "version": "2.10",
         "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"],
                    "aliases": ["CVE-2019-10906"], "description": "..."}]},
        {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI ..."}],
     "fixes": []}

``aliases`` and ``description`` are left out with ``--aliases off`` and ``--desc off``;
pip-audit 1.x printed the bare ``dependencies`` list. There is no severity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .base import SourceError

HINT = "make one with `pip-audit -f json -o FILE`"
_NOT_NAME = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class Advisory:
    """One vulnerability record pip-audit reported for a package."""

    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Dependency:
    """One package in a report: audited (``version`` set) or skipped (``skip_reason`` set)."""

    name: str
    version: str | None
    advisories: tuple[Advisory, ...] = ()
    skip_reason: str | None = None


class _MalformedError(Exception):
    """A report that does not follow pip-audit's schema; the message says where."""


def normalised(name: str) -> str:
    """``name`` as Python packaging compares names (PEP 503): ``Foo_Bar`` is ``foo-bar``."""
    return _NOT_NAME.sub("-", name).lower()


def parse(text: str, where: str, *, advice: str = "") -> tuple[Dependency, ...]:
    """The dependencies in the report ``text``; a ``SourceError`` names it by ``where`` and
    ends with ``advice``."""
    try:
        data: object = json.loads(text)
        return tuple(_dependency(e, f"dependencies[{i}]") for i, e in enumerate(_entries(data)))
    except (json.JSONDecodeError, _MalformedError) as error:
        raise SourceError(f"{where} is not a pip-audit JSON report: {error}{advice}") from error


def _entries(data: object) -> list[object]:
    if isinstance(data, dict) and isinstance(data.get("dependencies"), list):
        return list(data["dependencies"])
    if isinstance(data, list):  # pip-audit 1.x
        return list(data)
    raise _MalformedError('expected an object with a "dependencies" list')


def _dependency(entry: object, where: str) -> Dependency:
    fields = _mapping(entry, where)
    name = _text(fields, "name", where)
    if "skip_reason" in fields:
        return Dependency(name, None, skip_reason=_text(fields, "skip_reason", where))
    vulns = fields.get("vulns")
    if not isinstance(vulns, list):
        raise _MalformedError(f'{where}: "vulns" must be a list')
    advisories = (_advisory(v, f"{where}.vulns[{i}]") for i, v in enumerate(vulns))
    return Dependency(name, _text(fields, "version", where), tuple(advisories))


def _advisory(entry: object, where: str) -> Advisory:
    fields = _mapping(entry, where)
    description = fields.get("description", "")
    if not isinstance(description, str):
        raise _MalformedError(f'{where}: "description" must be text')
    return Advisory(
        id=_text(fields, "id", where),
        aliases=_texts(fields, "aliases", where),
        fix_versions=_texts(fields, "fix_versions", where),
        description=description,
    )


def _mapping(entry: object, where: str) -> Mapping[str, object]:
    if not isinstance(entry, dict):
        raise _MalformedError(f"{where} must be an object")
    return entry


def _text(fields: Mapping[str, object], key: str, where: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str) or not value:
        raise _MalformedError(f'{where}: "{key}" must be non-empty text')
    return value


def _texts(fields: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = fields.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _MalformedError(f'{where}: "{key}" must be a list of text')
    return tuple(value)
