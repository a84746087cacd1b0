"""The ``bandit`` source: runs bandit, Python's security linter, over the tracked Python files.

Only files ``git ls-files '*.py'`` lists are scanned, so ``.gitignore`` holds, and vendored or
virtual-environment folders (``.venv``, ``venv``, ``node_modules``, ``vendor``, ``third_party``,
``build``, ``dist``) are left out wherever they sit. Bandit itself honours ``# nosec``.

Severity: bandit's ``issue_severity`` in lower case (``UNDEFINED`` counts as low). Fingerprint:
a hash of the test id, the path and the text of the offending line with its surrounding
whitespace stripped, never its number, so an item survives the code moving or being
re-indented; a counter tells identical lines in one file apart (in line order).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .. import git
from ..model import Source, TaskType
from ..process import Result, find_program, missing_program, run
from ..settings import BadValueError, Setting, flag, number, optional_text, text, text_list
from .base import DiscoveryContext, Finding, Scan, SourceError

NAME = "bandit"
TAG = "BANDIT"
INSTALL_HINT = "install it with `pip install bandit`"
LEVELS = ("low", "medium", "high")
EXCLUDED_FOLDERS = frozenset(
    {".venv", "venv", "node_modules", "vendor", "third_party", "build", "dist"}
)
# Characters of file names per bandit run: far below the smallest argv limit of common systems.
ARGV_BUDGET = 100_000
TITLE_LENGTH = 100
_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def _level(value: object) -> str:
    """One of low, medium or high."""
    word = text(value).strip().lower()
    if word not in LEVELS:
        raise BadValueError(f"must be one of {', '.join(LEVELS)}, not {value!r}")
    return word


OPTIONS: Mapping[str, Setting] = {
    "args": Setting(text_list, (), 'Extra arguments for bandit, e.g. ["--skip", "B101"].'),
    "confidence": Setting(_level, "low", "Lowest confidence reported: low, medium or high."),
    "executable": Setting(
        optional_text,
        None,
        "The bandit to run: a path (relative to the repository) or a name on PATH "
        "(default: the one beside this Python, else the first on PATH).",
    ),
    "severity": Setting(_level, "low", "Lowest severity reported: low, medium or high."),
    "timeout": Setting(number(1), 600.0, "Seconds bandit may take in all before it is stopped."),
    "tests": Setting(
        flag,
        False,
        "Also scan test files (where bandit mostly flags the asserts tests are made of).",
    ),
}
# Test files: bandit's B101 (assert used) would flag every test, which is noise, not work.
TEST_FILE = re.compile(r"(?:^|/)(?:tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$)")


@dataclass(frozen=True, slots=True)
class Issue:
    """One issue from bandit's JSON report."""

    test_id: str
    test_name: str
    severity: str  # low, medium or high
    confidence: str  # as bandit wrote it: LOW, MEDIUM or HIGH
    path: str  # relative to the repository
    line: int
    text: str
    code: str  # bandit's excerpt, lines prefixed with their numbers
    links: tuple[str, ...]  # bandit's documentation of the test, then the CWE


Report = tuple[list[Issue], list[str]]  # issues, and warnings about files bandit could not read


class BanditSource:
    """Runs bandit; see the module docstring for what it scans and how findings are named."""

    name = NAME
    description = "Security issues bandit finds in the tracked Python files."
    options: Mapping[str, Setting] = OPTIONS

    def discover(self, context: DiscoveryContext) -> Scan:
        """Run bandit over the tracked Python files and report every issue."""
        started = time.monotonic()
        configured = _option(context, "executable")
        program = find_program("bandit", configured, base=context.repo)
        if program is None:
            return Scan(NAME, skipped=missing_program("bandit", configured, INSTALL_HINT))
        if git.toplevel(context.repo) is None:
            return Scan(NAME, skipped=f"{context.repo} is not a git repository")
        issues: list[Issue] = []
        warnings: list[str] = []
        for report in _reports(program, context, started):
            if report is None:
                return Scan(NAME, skipped=_TIMED_OUT.format(seconds=_option(context, "timeout")))
            issues.extend(report[0])
            warnings.extend(report[1])
        findings = tuple(_findings(issues, context.repo))
        return Scan(NAME, findings, tuple(warnings), seconds=time.monotonic() - started)


_TIMED_OUT = (
    "bandit did not finish within {seconds:g} seconds and was stopped; raise sources.bandit.timeout"
)


def _option(context: DiscoveryContext, name: str) -> Any:
    """The setting ``name`` of this source, or its default when discovery passed none."""
    return context.options.get(name, OPTIONS[name].default)


def python_files(repo: Path, *, tests: bool = True) -> list[str]:
    """Tracked Python files outside vendored and virtual-environment folders (and outside the
    tests, unless ``tests``)."""
    listed = git.git("ls-files", "-z", "--", "*.py", cwd=repo).stdout.split("\0")
    return [
        name
        for name in listed
        if name
        and not EXCLUDED_FOLDERS.intersection(PurePosixPath(name).parts[:-1])
        and (tests or not TEST_FILE.search(name))
        and (repo / name).is_file()
    ]


def batches(names: Sequence[str], budget: int = ARGV_BUDGET) -> Iterator[list[str]]:
    """``names`` in order, in runs whose lengths add up to at most ``budget`` (at least one)."""
    batch: list[str] = []
    size = 0
    for name in names:
        if batch and size + len(name) + 1 > budget:
            yield batch
            batch, size = [], 0
        batch.append(name)
        size += len(name) + 1
    if batch:
        yield batch


def _reports(program: Path, context: DiscoveryContext, started: float) -> Iterator[Report | None]:
    """One report per batch of files; None, and no more, when time runs out."""
    timeout = float(_option(context, "timeout"))
    files = python_files(context.repo, tests=bool(_option(context, "tests")))
    done = 0
    for batch in batches(files):
        context.observer.progress(NAME, done, len(files), f"{len(batch)} files")
        remaining = started + timeout - time.monotonic()
        result = _run(program, context, batch, remaining) if remaining > 0 else None
        if result is None or result.timed_out:
            yield None
            return
        yield _read(result)
        done += len(batch)


def _run(program: Path, context: DiscoveryContext, files: Sequence[str], timeout: float) -> Result:
    argv = [
        str(program),
        "--format",
        "json",
        "--quiet",
        "--severity-level",
        str(_option(context, "severity")),
        "--confidence-level",
        str(_option(context, "confidence")),
        *_option(context, "args"),
        "--",  # file names that start with "-" stay file names
        *files,
    ]
    # The report is read as UTF-8 whatever the user's locale.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return run(argv, cwd=context.repo, env=env, timeout=timeout)


def _read(result: Result) -> Report:
    """The issues and file errors in bandit's JSON report."""
    try:
        report: object = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("results"), list):
        raise SourceError(
            "bandit did not write a JSON report; check sources.bandit.args.\n" + result.describe()
        )
    issues = [_issue(raw) for raw in report["results"]]
    errors = report.get("errors")
    warnings = [
        f"bandit could not scan {_clean(str(error.get('filename')))}: {error.get('reason')}"
        for error in (errors if isinstance(errors, list) else [])
        if isinstance(error, dict)
    ]
    return issues, warnings


def _issue(raw: object) -> Issue:
    entry: Mapping[str, object] = raw if isinstance(raw, dict) else {}
    test_id, path, line = entry.get("test_id"), entry.get("filename"), entry.get("line_number")
    if not isinstance(test_id, str) or not isinstance(path, str) or not isinstance(line, int):
        raise SourceError(f"bandit reported an issue without test id, file or line: {raw!r}")
    cwe = entry.get("issue_cwe")
    links = (entry.get("more_info"), cwe.get("link") if isinstance(cwe, dict) else None)
    return Issue(
        test_id=test_id,
        test_name=str(entry.get("test_name", "")),
        severity=_SEVERITY.get(str(entry.get("issue_severity")).upper(), "low"),
        confidence=str(entry.get("issue_confidence", "UNDEFINED")),
        path=_clean(path),
        line=line,
        text=str(entry.get("issue_text", "")).strip(),
        code=str(entry.get("code", "")),
        links=tuple(link for link in links if isinstance(link, str) and link),
    )


def _clean(path: str) -> str:
    """Bandit's file name as the repository names it (bandit adds a leading ``./``)."""
    return posixpath.normpath(path)


def _findings(issues: Sequence[Issue], repo: Path) -> Iterator[Finding]:
    """A finding per issue, in file and line order."""
    lines = _Lines(repo)
    seen: Counter[tuple[str, str, str]] = Counter()
    for issue in sorted(issues, key=lambda i: (i.path, i.line, i.test_id)):
        key = (issue.test_id, issue.path, lines.text(issue.path, issue.line) or issue.text)
        yield _finding(issue, _fingerprint(key, seen[key]))
        seen[key] += 1


class _Lines:
    """The stripped text of source lines, each file read once."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.files: dict[str, list[str]] = {}

    def text(self, path: str, line: int) -> str | None:
        if path not in self.files:
            try:
                content = (self.repo / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                content = ""
            self.files[path] = content.splitlines()
        found = self.files[path]
        if not 0 < line <= len(found):
            return None
        return found[line - 1].strip() or None


def _fingerprint(key: tuple[str, str, str], occurrence: int) -> str:
    parts = [*key, str(occurrence)] if occurrence else list(key)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _finding(issue: Issue, fingerprint: str) -> Finding:
    title = f"Bandit {issue.test_id}: {issue.text}"
    return Finding(
        fingerprint=fingerprint,
        title=title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 3].rstrip() + "...",
        description=_description(issue),
        task_type=TaskType.SECURITY,
        origin=Source(
            kind=NAME,
            path=issue.path,
            line=issue.line,
            tag=TAG,
            rule=f"{issue.test_id}:{issue.test_name}",
            severity=issue.severity,
        ),
        links=issue.links,
    )


def _description(issue: Issue) -> str:
    lines = [
        issue.text,
        "",
        f"Bandit {issue.test_id} ({issue.test_name}) at {issue.path}:{issue.line}: "
        f"severity {issue.severity}, confidence {issue.confidence.lower()}.",
    ]
    if issue.code.strip():
        lines += ["", "```python", issue.code.rstrip("\n"), "```"]
    return "\n".join(lines)


SOURCE = BanditSource()
