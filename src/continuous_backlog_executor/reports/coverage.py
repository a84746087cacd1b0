"""Line coverage of a project at one commit, for the status report's ``coverage_delta``.

The project's pytest command runs under coverage.py in a throwaway detached worktree of the
commit (never in the user's checkout), with the environment the gates give the tests. Figures
are cached per commit in the state folder, so a commit's tests run once per test command.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import git, process, secret_scan
from ..errors import GitError
from ..execution import ExecutionSettings
from ..files import atomic_write
from ..sources.base import SourceError
from ..sources.junit import Outcome as JunitOutcome
from ..sources.junit import read_report
from ..store import StateStore
from ..testrun import EXIT_CAUSES, TestRunError, TestRunner
from .coverage_config import project_exclusions, rcfile

_OWNER = re.compile(r"^[0-9a-f]{12}-(\d+)-")  # <sha>-<pid>-<random>: who made the worktree
METHOD = 3  # bump when the way of measuring changes, so cached figures are measured again
REPORT_TIMEOUT = 120.0  # seconds for ``coverage json``, which only reads the data file
PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
PYTESTS = ("pytest", "py.test")


@dataclass(frozen=True)
class Coverage:
    """The line coverage of the project at commit ``sha``, or why it could not be measured."""

    sha: str
    percent: float | None  # None when not measured; then ``reason`` says why
    covered: int = 0
    statements: int = 0
    reason: str | None = None
    tests: int | None = None  # test cases the run reported (JUnit), for the pass review
    failing: int | None = None  # of which failed or errored

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Coverage | None:
        """A measured ``Coverage`` from ``as_dict`` output, or ``None`` if ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        sha, percent = data.get("sha"), data.get("percent")
        covered, statements = data.get("covered"), data.get("statements")
        if not (isinstance(sha, str) and isinstance(percent, int | float)):
            return None
        if not (isinstance(covered, int) and isinstance(statements, int)):
            return None
        tests, failing = data.get("tests"), data.get("failing")
        return cls(
            sha,
            float(percent),
            covered,
            statements,
            tests=tests if isinstance(tests, int) else None,
            failing=failing if isinstance(failing, int) else None,
        )


def delta(base: Coverage, after: Coverage) -> float | None:
    """Percentage points gained from ``base`` to ``after`` (2 decimals); None if either is."""
    if base.percent is None or after.percent is None:
        return None
    return round(after.percent - base.percent, 2)


def measure(
    repo: Path, sha: str, *, state: StateStore, settings: ExecutionSettings, timeout: float
) -> Coverage:
    """The line coverage of ``repo``'s files at commit ``sha`` when its tests run under
    coverage.py (failing tests included: it is the coverage of what ran), within ``timeout``
    seconds. A commit measured before with the same test command is not run again."""
    commit = git.resolve_commit(repo, sha)
    if commit is None:
        return Coverage(sha, None, reason=f"{sha!r} names no commit in {repo}")
    command = settings.test_command
    if not command:
        return Coverage(commit, None, reason="no test command; set execution.test_command")
    split = pytest_parts(command)
    if split is None:
        return Coverage(
            commit,
            None,
            reason=f"the test command {shlex.join(command)} is not a pytest run; "
            "coverage is measured only around pytest",
        )
    cache = state.folder("coverage") / f"{commit}.json"
    key = {"method": METHOD, "command": list(command)}
    cached = _cached(cache, key)
    if cached is not None:
        return cached
    env = secret_scan.safe_environment(os.environ, allow=settings.env_allow)
    try:
        with _detached(repo, commit, state) as tree:
            measured = _run(commit, tree, *split, env=env, timeout=timeout)
    except GitError as error:
        reason = f"cannot check out {commit[:12]} in a worktree: {str(error).splitlines()[0]}"
        return Coverage(commit, None, reason=reason)
    if measured.percent is not None:  # a failure may be mended (a longer time limit): no cache
        atomic_write(cache, json.dumps({"key": key, "coverage": measured.as_dict()}) + "\n")
    return measured


def pytest_parts(command: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The interpreter (with its options) that runs pytest in ``command``, and pytest's own
    arguments; ``None`` when ``command`` is not ``pytest ...`` or ``python -m pytest ...``.

    A bare ``pytest`` is run by this interpreter (which has coverage.py), the way the tests
    source's default command runs pytest; a ``pytest`` given by path, by the ``python`` beside it
    (its virtualenv's).
    """
    program = Path(command[0])
    if program.name in PYTESTS:
        beside = program.parent / "python"
        python = str(beside) if "/" in command[0] and beside.exists() else sys.executable
        return (python,), command[1:]
    if PYTHON.fullmatch(program.name) and "-m" in command:
        at = command.index("-m")
        options = command[1:at]
        if command[at + 1 : at + 2] == ("pytest",) and all(o.startswith("-") for o in options):
            return command[:at], command[at + 2 :]
    return None


def _run(
    commit: str,
    tree: Path,
    python: tuple[str, ...],
    args: tuple[str, ...],
    *,
    env: dict[str, str],
    timeout: float,
) -> Coverage:
    with tempfile.TemporaryDirectory(prefix="backlog-coverage-") as folder:
        scratch = Path(folder)
        # Our configuration, with what the project's leaves out (see coverage_config).
        settings = rcfile(project_exclusions(tree))
        (scratch / "coveragerc").write_text(settings, encoding="utf-8")
        data = scratch / "coverage.data"
        options = (f"--rcfile={scratch / 'coveragerc'}", f"--data-file={data}")
        # ``--source=.`` (the worktree) measures the project's files only, and counts those
        # no test imported as uncovered: new untested code lowers the figure as it should.
        argv = (*python, "-m", "coverage", "run", *options, "--source=.", "-m", "pytest", *args)
        runner = TestRunner(
            argv, tree, scratch, timeout, env=env, timeout_key="reports.coverage_timeout"
        )
        try:
            ran = runner.result("coverage")
        except TestRunError as error:
            return Coverage(commit, None, reason=str(error))
        problem = _problem(ran, python[0], data, timeout)
        if problem is not None:
            return Coverage(commit, None, reason=problem)
        out = scratch / "coverage.json"
        report = (*python, "-m", "coverage", "json", *options, "-o", str(out), "-q")
        made = process.run(report, cwd=tree, env=env, timeout=REPORT_TIMEOUT)
        return _counted(_totals(commit, out, made), scratch / "coverage.xml", tree)


def _counted(measured: Coverage, xml: Path, tree: Path) -> Coverage:
    """``measured`` with the number of tests the run reported; unknown without a report."""
    if measured.percent is None:
        return measured
    try:
        cases = read_report(xml, tree).cases
    except SourceError:
        return measured
    bad = (JunitOutcome.FAILURE, JunitOutcome.ERROR)
    failing = sum(1 for case in cases if case.outcome in bad)
    return replace(measured, tests=len(cases), failing=failing)


def _problem(ran: process.Result, python: str, data: Path, timeout: float) -> str | None:
    """Why the run measured nothing trustworthy, or ``None``. Failing tests (exit code 1) are
    fine; a run that never got to the tests (exit codes 2 to 5) is not."""
    if ran.timed_out:
        return (
            f"the tests did not finish within {timeout:g} seconds under coverage.py; "
            "raise reports.coverage_timeout"
        )
    if "No module named coverage" in ran.stderr and not data.exists():
        return f"coverage.py is not installed for {python}; install it there (pip install coverage)"
    if ran.returncode in EXIT_CAUSES:
        return f"the test command {EXIT_CAUSES[ran.returncode][0]}: {_last_line(ran)}"
    if ran.returncode not in (0, 1):
        return f"the test command exited with {ran.returncode}: {_last_line(ran)}"
    if not data.exists():
        return f"the test run left no coverage data: {_last_line(ran)}"
    return None


def _totals(commit: str, out: Path, made: process.Result) -> Coverage:
    # coverage.py's JSON report; our rcfile turns branches off, so its percent is of lines.
    try:
        totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
        covered, statements = int(totals["covered_lines"]), int(totals["num_statements"])
        percent = float(totals["percent_covered"])
    except (OSError, ValueError, KeyError):
        reason = f"coverage.py reported nothing for the project's files: {_last_line(made)}"
        return Coverage(commit, None, reason=reason)
    if statements == 0:
        return Coverage(commit, None, reason="coverage.py found no statements in the project")
    return Coverage(commit, percent, covered, statements)


def _last_line(result: process.Result) -> str:
    lines = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
    return lines[-1].strip()


def _cached(path: Path, key: dict[str, object]) -> Coverage | None:
    # A damaged, foreign or outdated cache file is measured again, never trusted.
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    return Coverage.from_dict(saved.get("coverage"))


@contextlib.contextmanager
def _detached(repo: Path, commit: str, state: StateStore) -> Iterator[Path]:
    """A detached worktree of ``commit`` in the state folder, removed afterwards even when the
    body raises or times out; its own folder, so measurements at the same time never meet."""
    parent = state.folder("coverage", "worktrees").resolve()
    _sweep(repo, parent)
    path = Path(tempfile.mkdtemp(prefix=f"{commit[:12]}-{os.getpid()}-", dir=parent))
    try:
        git.git("worktree", "add", "--detach", "--quiet", str(path), commit, cwd=repo)
        yield path
    finally:
        _remove(repo, path)


def _remove(repo: Path, path: Path) -> None:
    remove = ("worktree", "remove", "--force", "--force", str(path))
    removed = git.git(*remove, cwd=repo, check=False).ok
    shutil.rmtree(path, ignore_errors=True)
    if not removed:  # git cannot remove a broken folder, but it can forget a missing one
        git.git(*remove, cwd=repo, check=False)


def _sweep(repo: Path, parent: Path) -> None:
    """Remove the worktrees of measurements whose process is gone (killed mid-run): their
    names carry the measuring process's id."""
    for path in parent.iterdir():
        match = _OWNER.match(path.name)
        if match is None or _alive(int(match.group(1))):
            continue
        _remove(repo, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
