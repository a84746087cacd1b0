"""The security gate's checks of an item's change: what bandit, detect-secrets and pip-audit
find at the item's head commit that they did not find at its base commit.

Each check returns a ``Delta``. One that could not run (its tool missing, no network, out of
time) is skipped: ``skipped`` says why, ``reason`` says it was not checked, and ``passed`` is
True, since nothing was found; whether an unchecked change may go on is the caller's policy.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from . import git
from .interface import read_files
from .process import Result, find_program, missing_program, run
from .secret_scan import leaked_values, scan_added_lines
from .sources.bandit import TEST_FILE, Issue, _Lines, _read, batches
from .sources.base import SourceError
from .sources.deps import Target, interpret, targets
from .sources.pip_audit_report import Dependency, normalised

BANDIT_HINT = "install it with `pip install bandit`"
PIP_AUDIT_HINT = "install it with `pip install pip-audit`"
SHOWN = 5  # findings named in a reason; the details list them all
# Files that declare Python dependencies, by name, wherever they are.
DEPENDENCY_FILES = (
    "requirements*.txt",
    "requirements*.in",
    "constraints*.txt",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "pdm.lock",
    "uv.lock",
)


@dataclass(frozen=True, slots=True)
class Delta:
    """One check's verdict on a change, with JSON-ready facts behind it."""

    passed: bool
    reason: str
    details: dict[str, object] = field(default_factory=dict)
    skipped: str | None = None  # why the check could not run

    def to_json(self) -> dict[str, object]:
        """The verdict as JSON-ready data."""
        return {
            "passed": self.passed,
            "reason": self.reason,
            "details": self.details,
            "skipped": self.skipped,
        }


def _skipped(why: str) -> Delta:
    return Delta(True, f"not checked: {why}", skipped=why)


class _NotRunError(Exception):
    """A tool could not finish; the message says why."""


def _shown(items: Sequence[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _materialise(repo: Path, commit: str, paths: Sequence[str], folder: Path) -> list[str]:
    """Write the versions at ``commit`` of those ``paths`` it has into ``folder``."""
    found = read_files(repo, commit, paths)
    for name, content in found.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return sorted(found)


def _tool_env() -> dict[str, str]:
    # The tools keep the user's proxy settings; their JSON is read as UTF-8 whatever the locale.
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


@dataclass(frozen=True, slots=True)
class _Budget:
    """The time one check's tool may take over all of its runs."""

    tool: str
    seconds: float
    deadline: float

    @classmethod
    def start(cls, tool: str, seconds: float) -> _Budget:
        return cls(tool, seconds, time.monotonic() + seconds)

    def run(self, argv: Sequence[str], cwd: Path) -> Result:
        """Run ``argv`` in ``cwd`` within what is left; ``_NotRunError`` when time runs out."""
        left = self.deadline - time.monotonic()
        result = run(argv, cwd=cwd, env=_tool_env(), timeout=left) if left > 0 else None
        if result is None or result.timed_out:
            raise _NotRunError(
                f"{self.tool} did not finish within {self.seconds:g} seconds and was stopped"
            )
        return result


# bandit ----------------------------------------------------------------------------------------

BanditKey = tuple[str, str, str]  # test id, path, the offending line's stripped text


def bandit_delta(
    repo: Path,
    base: str,
    head: str,
    files: Sequence[str],
    *,
    executable: str | None = None,
    timeout: float = 600.0,
    tests: bool = False,
) -> Delta:
    """Fail on bandit issues in ``files`` (the changed ones) at ``head`` that were not at
    ``base``. Issues are compared by test id, path and line text, never line number, so code
    that only moved is not new. ``executable`` is the bandit to run (see ``find_program``).
    Test files are left out unless ``tests``: bandit flags the asserts they are made of.
    """
    python = sorted(
        {name for name in files if name.endswith(".py") and (tests or not TEST_FILE.search(name))}
    )
    if not python:
        return Delta(True, "no changed Python files to scan")
    program = find_program("bandit", executable, base=repo)
    if program is None:
        return _skipped(missing_program("bandit", executable, BANDIT_HINT))
    bandit = _Bandit(program, repo, python, _Budget.start("bandit", timeout))
    with tempfile.TemporaryDirectory(prefix="backlog-bandit-") as folder:
        try:
            after, warnings = bandit.of(head, Path(folder, "head"))
            # Without an issue at head nothing can be new: the base need not be scanned.
            before = bandit.of(base, Path(folder, "base"))[0] if after else []
        except _NotRunError as error:
            return _skipped(str(error))
    new = _new_issues(before, after)
    details: dict[str, object] = {"new": [_issue_json(i) for i in new], "warnings": warnings}
    if not new:
        return Delta(True, f"bandit found no new issue in {_plural(len(python), 'file')}", details)
    named = [f"{i.test_id} at {i.path}:{i.line}" for i in new]
    return Delta(False, f"bandit found {_plural(len(new), 'new issue')}: {_shown(named)}", details)


@dataclass(frozen=True, slots=True)
class _Bandit:
    """bandit runs over the versions of some files at commits of one repository."""

    program: Path
    repo: Path
    files: Sequence[str]
    budget: _Budget

    def of(self, commit: str, folder: Path) -> tuple[list[tuple[BanditKey, Issue]], list[str]]:
        """The issues, each with its key and in file order, and bandit's warnings at ``commit``."""
        present = _materialise(self.repo, commit, self.files, folder)
        issues: list[Issue] = []
        warnings: list[str] = []
        for batch in batches(present):
            argv = [str(self.program), "--format", "json", "--quiet", "--", *batch]
            result = self.budget.run(argv, folder)
            try:
                found, problems = _read(result)
            except SourceError as error:
                raise _NotRunError(f"bandit wrote no JSON report:\n{result.describe()}") from error
            issues.extend(found)
            warnings.extend(f"{problem} (at {commit})" for problem in problems)
        lines = _Lines(folder)
        keyed = [((i.test_id, i.path, lines.text(i.path, i.line) or i.text), i) for i in issues]
        keyed.sort(key=lambda pair: (pair[1].path, pair[1].line, pair[1].test_id))
        return keyed, warnings


def _new_issues(
    before: Sequence[tuple[BanditKey, Issue]], after: Sequence[tuple[BanditKey, Issue]]
) -> list[Issue]:
    """The issues of ``after`` beyond those of ``before``, counting identical lines apart."""
    old = Counter(key for key, _ in before)
    new: list[Issue] = []
    for key, issue in after:
        if old[key] > 0:
            old[key] -= 1
        else:
            new.append(issue)
    return new


def _issue_json(issue: Issue) -> dict[str, object]:
    return {
        "test_id": issue.test_id,
        "path": issue.path,
        "line": issue.line,
        "severity": issue.severity,
        "text": issue.text,
    }


# secrets ---------------------------------------------------------------------------------------


def secrets_delta(diff_text: str, secrets: Mapping[str, str]) -> Delta:
    """Fail on anything that looks like a secret, or is one of ``secrets``' values, in the
    lines ``diff_text`` adds; the details name kinds and places, never values."""
    hits = [*scan_added_lines(diff_text), *leaked_values(diff_text, secrets)]
    if not hits:
        return Delta(True, "no secrets in the added lines")
    reason = f"{_plural(len(hits), 'possible secret')} in added lines: "
    return Delta(
        False, reason + _shown([str(hit) for hit in hits]), {"hits": [h.to_json() for h in hits]}
    )


# dependencies ----------------------------------------------------------------------------------

Vulnerability = tuple[str, str, str]  # normalised package name, version, advisory id


def is_dependency_file(path: str) -> bool:
    """True for a file that declares Python dependencies (see ``DEPENDENCY_FILES``)."""
    posix = PurePosixPath(path)
    in_folder = "requirements" in posix.parts[:-1] and posix.suffix in {".txt", ".in"}
    return in_folder or any(fnmatchcase(posix.name, pattern) for pattern in DEPENDENCY_FILES)


def dependency_delta(
    repo: Path,
    base: str,
    head: str,
    *,
    executable: str | None = None,
    cache: Path | None = None,
    timeout: float = 300.0,
) -> Delta:
    """Fail on known vulnerabilities that pip-audit finds at ``head`` and not at ``base``, when
    a dependency file changed. pip-audit reads the root's ``requirements*.txt``, else its
    ``pyproject.toml`` (as the ``deps`` source does); ``cache`` is its HTTP cache (default: a
    throw-away folder, never the user's pip cache). Base is audited only when head has findings.
    """
    changed = [name for name in _changed(repo, base, head) if is_dependency_file(name)]
    if not changed:
        return Delta(True, "no dependency files changed")
    program = find_program("pip-audit", executable, base=repo)
    if program is None:
        return _skipped(missing_program("pip-audit", executable, PIP_AUDIT_HINT))
    with tempfile.TemporaryDirectory(prefix="backlog-deps-") as folder:
        audit = _Audit(program, repo, _Budget.start("pip-audit", timeout), cache or Path(folder))
        try:
            after = audit.of(head, Path(folder, "head"))
            before = audit.of(base, Path(folder, "base")) if after.found else _Audited()
        except _NotRunError as error:
            return _skipped(str(error))
    return _verdict(changed, before, after)


def _changed(repo: Path, base: str, head: str) -> list[str]:
    output = git.git("diff", "--name-only", "-z", "--no-renames", base, head, "--", cwd=repo)
    return [name for name in output.stdout.split("\0") if name]


@dataclass(frozen=True, slots=True)
class _Audited:
    """What pip-audit reported for one commit."""

    labels: tuple[str, ...] = ()  # the files (or project) audited
    found: Mapping[Vulnerability, Dependency] = field(default_factory=dict)
    total: int = 0  # dependencies reported
    unaudited: tuple[str, ...] = ()  # "name: why" for each dependency pip-audit skipped


@dataclass(frozen=True, slots=True)
class _Audit:
    """pip-audit runs over the dependency files of commits of one repository."""

    program: Path
    repo: Path
    budget: _Budget
    cache: Path

    def of(self, commit: str, folder: Path) -> _Audited:
        """Audit the dependency files at ``commit``, written into ``folder``."""
        listed = git.git("ls-tree", "-r", "-z", "--name-only", commit, cwd=self.repo).stdout
        _materialise(
            self.repo, commit, [n for n in listed.split("\0") if is_dependency_file(n)], folder
        )
        try:
            chosen = targets(folder, ())
        except (SourceError, ValueError) as error:  # ValueError: a file that is not UTF-8
            raise _NotRunError(f"cannot read the dependency files at {commit}: {error}") from error
        dependencies = [d for target in chosen for d in self._audit(target, folder, commit)]
        return _Audited(
            labels=tuple(target.label for target in chosen),
            found={key: d for d in dependencies for key in _keys(d)},
            total=len(dependencies),
            unaudited=tuple(f"{d.name}: {d.skip_reason}" for d in dependencies if d.skip_reason),
        )

    def _audit(self, target: Target, folder: Path, commit: str) -> tuple[Dependency, ...]:
        argv = [str(self.program), "-f", "json", "--progress-spinner", "off"]
        argv += ["--cache-dir", str(self.cache), *target.selector]
        result = self.budget.run(argv, folder)
        try:
            outcome = interpret(result, target)
        except SourceError as error:
            raise _NotRunError(f"at {commit}: {error}") from error
        if isinstance(outcome, str):
            raise _NotRunError(outcome)
        return outcome


def _keys(dependency: Dependency) -> Iterator[Vulnerability]:
    for advisory in dependency.advisories:
        yield normalised(dependency.name), dependency.version or "", advisory.id


def _verdict(changed: Sequence[str], before: _Audited, after: _Audited) -> Delta:
    details: dict[str, object] = {"changed": list(changed), "audited": list(after.labels)}
    if not after.labels:
        return _skipped(
            f"pip-audit reads requirements*.txt or pyproject.toml at the root, and head has "
            f"neither; changed: {_shown(list(changed))}"
        )
    if after.total and len(after.unaudited) == after.total:
        return _skipped(f"pip-audit could audit none of the dependencies ({after.unaudited[0]})")
    details["not_audited"] = list(after.unaudited)
    new = sorted(set(after.found) - set(before.found))
    details["new"] = [_vulnerability_json(key, after.found[key]) for key in new]
    audited = ", ".join(after.labels)
    if not new:
        return Delta(True, f"pip-audit found no new known vulnerability in {audited}", details)
    named = [f"{after.found[k].name} {k[1]} ({k[2]})" for k in new]
    count = (
        "1 new known vulnerability" if len(new) == 1 else f"{len(new)} new known vulnerabilities"
    )
    return Delta(False, f"pip-audit found {count} in {audited}: {_shown(named)}", details)


def _vulnerability_json(key: Vulnerability, dependency: Dependency) -> dict[str, object]:
    advisory = next(a for a in dependency.advisories if a.id == key[2])
    return {
        "package": dependency.name,
        "version": key[1],
        "id": advisory.id,
        "aliases": list(advisory.aliases),
        "fix_versions": list(advisory.fix_versions),
    }
