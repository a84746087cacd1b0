"""Reading JUnit XML test reports safely: every test case, its outcome, file, line and failure.

Made for the reports pytest writes (either JUnit flavour), and tolerant of other producers'.
A DOCTYPE is refused before anything in it is read, so no entity is ever declared, expanded or
fetched; a report over ``MAX_REPORT_BYTES`` is refused unread.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .base import SourceError

MAX_REPORT_BYTES = 64 * 1024 * 1024  # far beyond any real report; refuses runaway files
COLLECTION_FAILURE = "collection failure"  # pytest's message for a file it could not import


class ReportError(SourceError):
    """A JUnit report is missing, too big, malformed or not a JUnit report; names the file."""


class Outcome(StrEnum):
    """How one test case ended, as its JUnit element says."""

    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Case:
    """One test case of a JUnit report."""

    key: str  # classname::name, the identity JUnit gives a test whatever its line
    node: str | None  # the pytest node id, when the report lets us rebuild it
    path: str | None
    line: int | None
    outcome: Outcome
    message: str = ""  # of the failure, error or skip: a skip's is its reason
    text: str = ""
    exception: str | None = None  # a skip's is pytest's kind of skip: pytest.skip or pytest.xfail

    @property
    def failed(self) -> bool:
        """True for a failure or an error."""
        return self.outcome in (Outcome.FAILURE, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class Report:
    """What a JUnit report says: every test case, and the files that could not be collected."""

    cases: tuple[Case, ...]
    uncollected: tuple[str, ...]
    collection_errors: tuple[Case, ...] = ()  # one per file in ``uncollected``, with its error

    @property
    def failing(self) -> tuple[Case, ...]:
        """The failed and erroring cases, one per test."""
        first: dict[str, Case] = {}
        for case in self.cases:
            if case.failed:
                first.setdefault(case.key, case)
        return tuple(first.values())

    @property
    def skipped(self) -> tuple[Case, ...]:
        """The skipped cases (xfails too), one per test, leaving out any test that also failed."""
        failed = {case.key for case in self.cases if case.failed}
        first: dict[str, Case] = {}
        for case in self.cases:
            if case.outcome is Outcome.SKIPPED and case.key not in failed:
                first.setdefault(case.key, case)
        return tuple(first.values())


class _NoDoctype(ET.TreeBuilder):
    """A tree builder that refuses a DOCTYPE before any entity in it is declared or expanded."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeRefusedError(name)


class _DoctypeRefusedError(Exception):
    pass


def read_report(path: Path, repo: Path) -> Report:
    """The JUnit report at ``path``; test files are looked up relative to ``repo``."""
    root = _parse(path)
    if root.tag not in ("testsuites", "testsuite"):
        raise ReportError(
            f"{path}: not a JUnit report: the root element is <{root.tag}>, "
            "not <testsuites> or <testsuite>"
        )
    cases = [_case(element, repo) for element in root.iter("testcase")]
    broken = tuple(case for case in cases if _uncollected(case))
    return Report(
        tuple(case for case in cases if not _uncollected(case)),
        tuple(case.path or case.key for case in broken),
        broken,
    )


def _uncollected(case: Case) -> bool:
    return case.failed and case.message == COLLECTION_FAILURE


def _parse(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise ReportError(f"{path}: {size} bytes is too big for a JUnit report")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReportError(f"{path}: the JUnit report does not exist") from None
    except OSError as error:
        raise ReportError(f"{path}: cannot read the JUnit report: {error.strerror}") from error
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314 -- DOCTYPEs are refused, so no entity
    try:
        parser.feed(data)
        return parser.close()
    except _DoctypeRefusedError:
        raise ReportError(
            f"{path}: refused: the report declares a DOCTYPE, which a JUnit report never needs"
        ) from None
    except ET.ParseError as error:
        raise ReportError(f"{path}: not well-formed XML: {error}") from error


def _case(element: ET.Element, repo: Path) -> Case:
    classname, name = element.get("classname", ""), element.get("name", "")
    path, node = _locate(repo, classname, name, element.get("file"))
    line = _line(element.get("line")) if path and path == element.get("file") else None
    key = f"{classname}::{name}" if classname else name
    outcome = _outcome(element)
    tags = ("skipped",) if outcome is Outcome.SKIPPED else ("failure", "error")
    detail = next((e for e in element if e.tag in tags), None)
    if detail is None:
        return Case(key, node, path, line, outcome)
    message, text = detail.get("message", ""), detail.text or ""
    if outcome is Outcome.SKIPPED:
        # pytest writes <skipped type="pytest.skip" message="the reason">, pytest.xfail for an
        # expected failure; a skip's type is never guessed from its reason.
        return Case(key, node, path, line, outcome, message, text, detail.get("type"))
    exception = detail.get("type") or _exception(message, text)
    return Case(key, node, path, line, outcome, message, text, exception)


def _outcome(element: ET.Element) -> Outcome:
    tags = {child.tag for child in element}
    for outcome in (Outcome.FAILURE, Outcome.ERROR, Outcome.SKIPPED):
        if outcome.value in tags:
            return outcome
    return Outcome.PASSED


def _locate(
    repo: Path, classname: str, name: str, file: str | None
) -> tuple[str | None, str | None]:
    """The test's file and pytest node id, from the report's ``file`` or else its classname."""
    if file:
        # pytest's classname is the node id's module path, dotted, then any classes.
        module = re.sub(r"\.py$", "", file).replace("/", ".")
        if classname == module or classname.startswith(f"{module}."):
            classes = [part for part in classname[len(module) :].split(".") if part]
            return file, "::".join([file, *classes, name])
    found = _module_file(repo, classname)
    if found is None:
        return file or None, None
    return found[0], "::".join([found[0], *found[1], name])


def _module_file(repo: Path, classname: str) -> tuple[str, list[str]] | None:
    """The longest dotted prefix of ``classname`` that is a .py file in ``repo``, and the rest."""
    if not re.fullmatch(r"\w+(\.\w+)*", classname):
        return None  # also keeps a hostile report from naming paths outside the repository
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (repo / candidate).is_file():
            return candidate, parts[end:]
    return None


def _line(value: str | None) -> int | None:
    # pytest writes the line counting from 0; items count from 1.
    return int(value) + 1 if value is not None and value.isdigit() else None


_CRASH_LINE = re.compile(r":\d+: (?P<type>(?:\w+\.)*[A-Za-z_]\w*)$")
_MESSAGE = re.compile(r'^(?:failed on \w+ with ")?(?P<type>(?:\w+\.)*[A-Z]\w*)(?::|"?$)')


def _exception(message: str, text: str) -> str | None:
    """The exception's type: from pytest's last traceback line (``file:line: Type``), or the
    message's ``Type: ...``."""
    lines = text.rstrip().splitlines()
    match = _CRASH_LINE.search(lines[-1]) if lines else None
    match = match or _MESSAGE.match(message)
    return match["type"] if match else None
