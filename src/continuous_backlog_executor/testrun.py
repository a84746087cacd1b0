"""Running a project's tests and reading what they did from the JUnit XML report they write.

Used by discovery (failing tests become items) and by the micro-cycle's gates (red, green,
refactor). The command is pytest, or anything that passes pytest's options on; the runner
appends the options that write the report (and pytest's cache) into a scratch folder outside
the repository and fix the rootdir there, so the tree is left as it was. Anything short of a
trustworthy report raises ``TestRunError`` saying why.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from . import process
from .errors import BacklogError, ProcessError
from .sources.junit import Report, ReportError, read_report

ENV_PREFIX = "BACKLOG_"  # our own settings; the project's tests must not see them
PYTEST_CONFIGS = ("pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini")
TEST_FILES = ("test_*.py", "*_test.py", "conftest.py")
PRUNED = frozenset({"node_modules", "site-packages", "__pycache__", "venv", "build", "dist"})
OTHER_COMMAND = "fix the test command, or set sources.tests.command to one that works"
EXIT_CAUSES = {
    2: ("was interrupted (pytest exit code 2)", OTHER_COMMAND),
    3: ("hit an internal error (pytest exit code 3)", OTHER_COMMAND),
    4: (
        "was given an unknown option or a missing path (pytest exit code 4)",
        "check sources.tests.command and pytest's addopts",
    ),
    5: (
        "collected no tests (pytest exit code 5)",
        "check pytest's testpaths and python_files, or set sources.tests.command",
    ),
}


class TestRunError(BacklogError):
    """The test command could not start, or ended without a trustworthy report."""

    __test__ = False  # not a test class, whatever pytest's naming rules say


@dataclass(frozen=True)
class TestRunner:
    """Runs the test command in ``repo``, writing reports into ``scratch``."""

    __test__ = False

    command: tuple[str, ...]
    repo: Path
    scratch: Path
    timeout: float
    env: Mapping[str, str] | None = None  # default: ours minus BACKLOG_* variables
    timeout_key: str = "sources.tests.timeout"  # the setting a timeout message points at

    def report(self, name: str, nodes: Sequence[str] = (), *, lenient: bool = False) -> Report:
        """Run the tests (only ``nodes``, if given) and read the report they write.

        With ``lenient``, files that could not be collected are returned in the report
        (``uncollected``) instead of raising: the red gate tells an import of code not yet
        written from a syntax error itself.
        """
        return checked(self.result(name, nodes), self._xml(name), self, lenient=lenient)

    def result(self, name: str, nodes: Sequence[str] = ()) -> process.Result:
        """Run the tests and return the process's result (the report is at ``_xml(name)``)."""
        argv = [*self.command, *self._options(self._xml(name)), *nodes]
        env = dict(self.env) if self.env is not None else environment()
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ folders left in the repository
        try:
            return process.run(argv, cwd=self.repo, env=env, timeout=self.timeout)
        except ProcessError as error:
            raise TestRunError(
                f"cannot start the test command {shlex.join(self.command)}: {error}; "
                "install it, or set sources.tests.command to a command that runs the tests"
            ) from error

    def _xml(self, name: str) -> Path:
        return self.scratch / f"{name}.xml"

    def _options(self, xml: Path) -> list[str]:
        # xunit1 is the JUnit flavour that names each test's file and line; a fixed rootdir
        # makes node ids relative to the repository, which is where a rerun resolves them.
        return [
            f"--junitxml={xml}",
            "-o",
            "junit_family=xunit1",
            "-o",
            f"cache_dir={self.scratch / 'pytest-cache'}",
            f"--rootdir={self.repo}",
        ]


def environment() -> dict[str, str]:
    """Our environment minus our own ``BACKLOG_*`` settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}


def checked(result: process.Result, xml: Path, runner: TestRunner, *, lenient: bool) -> Report:
    """The run's report, or the error that says why there is no trustworthy one."""
    if result.timed_out:
        raise _broken(
            result,
            f"did not finish within {runner.timeout:g} seconds",
            f"raise {runner.timeout_key}",
        )
    try:
        report: Report | ReportError = read_report(xml, runner.repo)
    except ReportError as error:
        report = error
    if isinstance(report, Report) and report.uncollected and not lenient:
        files = ", ".join(report.uncollected)
        raise _broken(result, f"could not collect {files}", "fix the errors shown below")
    if result.returncode in EXIT_CAUSES and not (lenient and result.returncode == 2):
        raise _broken(result, *EXIT_CAUSES[result.returncode])
    if result.returncode not in (0, 1, 2):
        raise _broken(result, f"exited with {result.returncode}", OTHER_COMMAND)
    if isinstance(report, ReportError):
        raise _broken(result, f"left no usable report ({report})", OTHER_COMMAND) from report
    if result.returncode == 1 and not report.failing and not report.uncollected:
        raise _broken(result, "exited with 1 but its report has no failing test", OTHER_COMMAND)
    return report


def _broken(result: process.Result, cause: str, advice: str) -> TestRunError:
    return TestRunError(f"the test command {cause}; {advice}.\n{result.describe()}")


def detected_command(repo: Path) -> tuple[str, ...] | None:
    """pytest under this interpreter, if ``repo`` looks like a Python project with tests."""
    if _configures_pytest(repo) or _has_test_files(repo):
        return (sys.executable, "-m", "pytest")
    return None


def _configures_pytest(repo: Path) -> bool:
    for name in PYTEST_CONFIGS:
        try:
            content = (repo / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if name == "pytest.ini" or "pytest" in content:
            return True
    return False


def _has_test_files(repo: Path) -> bool:
    for _folder, folders, files in os.walk(repo):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in PRUNED]
        if any(fnmatch(file, pattern) for file in files for pattern in TEST_FILES):
            return True
    return False
