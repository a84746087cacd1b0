"""Measuring a project's line coverage at a commit: real repositories, real pytest runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor.execution import ExecutionSettings
from continuous_backlog_executor.reports.coverage import Coverage, delta, measure, pytest_parts
from continuous_backlog_executor.store import StateStore

pytestmark = pytest.mark.slow

PYTEST = (sys.executable, "-m", "pytest")
PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'
# Four statements; a test of a positive number runs all but ``return -1``.
SIGN = "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n"
POSITIVE = "from calc import sign\n\n\ndef test_positive():\n    assert sign(2) == 1\n"
NEGATIVE = "\n\ndef test_negative():\n    assert sign(-2) == -1\n"
# Counts the test sessions of the project into the file $COVERAGE_MARKER names.
MARKER_CONFTEST = (
    "import os\n\n\ndef pytest_sessionstart(session):\n"
    "    with open(os.environ['COVERAGE_MARKER'], 'a') as marker:\n"
    "        marker.write('ran\\n')\n"
)


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    """Write ``files`` into ``repo``, commit them, and return the new commit."""
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def calc(repo: Path, tests: str = POSITIVE, **more: str) -> str:
    """The small calc project with ``tests`` as its test module; its commit."""
    files = {"pyproject.toml": PYPROJECT, "calc/__init__.py": SIGN, "tests/test_calc.py": tests}
    return commit(repo, {**files, **more}, "calc")


def run(repo: Path, sha: str, command: tuple[str, ...] = PYTEST, **options: object) -> Coverage:
    settings = ExecutionSettings(test_command=command, **options)  # type: ignore[arg-type]
    return measure(repo, sha, state=StateStore.locate(repo), settings=settings, timeout=120)


def worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain")
    return [line for line in listed.splitlines() if line.startswith("worktree ")]


def test_measures_each_commit_and_the_delta_between_them(repo: Path) -> None:
    base = calc(repo)
    after = commit(repo, {"tests/test_calc.py": POSITIVE + NEGATIVE}, "test negatives")

    before_ = run(repo, base)
    after_ = run(repo, after)

    # The project's files under coverage: calc (3 of 4) and the test module (3 of 3, then 5).
    assert (before_.sha, before_.covered, before_.statements, before_.reason) == (base, 6, 7, None)
    assert before_.percent == pytest.approx(600 / 7)
    assert after_ == Coverage(after, 100.0, 9, 9, None, tests=2, failing=0)
    assert delta(before_, after_) == 14.29
    assert git(repo, "status", "--porcelain", "--ignored") == ""
    assert not list(repo.glob(".coverage*"))
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]
    assert not list((repo / ".git/backlog-executor/coverage/worktrees").iterdir())


def test_a_commit_is_measured_once_per_test_command(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = calc(repo, **{"tests/conftest.py": MARKER_CONFTEST})
    marker = tmp_path / "sessions.txt"
    monkeypatch.setenv("COVERAGE_MARKER", str(marker))
    allow = {"env_allow": ("COVERAGE_MARKER",)}

    first = run(repo, sha, **allow)
    again = run(repo, "HEAD", **allow)

    assert first.percent is not None
    assert again == first
    assert marker.read_text() == "ran\n"
    assert (repo / f".git/backlog-executor/coverage/{sha}.json").is_file()
    changed = run(repo, sha, (*PYTEST, "-q"), **allow)
    assert changed.percent == first.percent
    assert marker.read_text() == "ran\nran\n"


def test_failing_tests_are_measured_all_the_same(repo: Path) -> None:
    failing = POSITIVE + "\n\ndef test_wrong():\n    assert sign(-2) == 1\n"
    sha = calc(repo, failing)

    measured = run(repo, sha)

    # calc is fully run, and so are the test module's five statements (the last one fails).
    assert measured == Coverage(sha, 100.0, 9, 9, None, tests=2, failing=1)


def test_what_the_projects_coverage_configuration_leaves_out_stays_out(repo: Path) -> None:
    # A generated module no test runs, and a line marked as never run: left out by the
    # project's own configuration, they leave calc's figure as without them.
    generated = "def made():\n    return 1\n"
    marked = SIGN.replace("return -1", "return -1  # unreachable")
    rc = "[run]\nomit = calc/generated.py\nbranch = True\n[report]\nexclude_also = unreachable\n"
    sha = calc(
        repo, **{"calc/__init__.py": marked, "calc/generated.py": generated, ".coveragerc": rc}
    )

    measured = run(repo, sha)

    # calc without its excluded line (3 of 3) and the test module (3 of 3); lines, not branches.
    assert measured == Coverage(sha, 100.0, 6, 6, None, tests=1, failing=0)


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ((), "no test command; set execution.test_command"),
        (("make", "test"), "the test command make test is not a pytest run"),
        (("python", "-m", "unittest"), "the test command python -m unittest is not a pytest run"),
    ],
)
def test_commands_that_are_not_pytest_are_not_measured(
    repo: Path, command: tuple[str, ...], reason: str
) -> None:
    sha = calc(repo)

    measured = run(repo, sha, command)

    assert measured.percent is None
    assert measured.reason is not None
    assert measured.reason.startswith(reason)
    assert delta(measured, Coverage(sha, 50.0, 1, 2)) is None


def test_a_run_that_collects_no_tests_is_not_measured(repo: Path) -> None:
    sha = calc(repo, "")

    measured = run(repo, sha)

    assert measured.percent is None
    assert measured.reason is not None
    assert measured.reason.startswith("the test command collected no tests (pytest exit code 5)")


def test_an_interpreter_without_coverage_py_is_named(repo: Path) -> None:
    sha = calc(repo)

    # -S: no site-packages, so this interpreter cannot import coverage.py (nor pytest).
    measured = run(repo, sha, (sys.executable, "-S", "-m", "pytest"))

    assert measured.percent is None
    assert measured.reason == (
        f"coverage.py is not installed for {sys.executable}; "
        "install it there (pip install coverage)"
    )


def test_a_run_out_of_time_is_not_measured_and_leaves_nothing_behind(repo: Path) -> None:
    slow = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"
    sha = calc(repo, slow)
    settings = ExecutionSettings(test_command=PYTEST)

    measured = measure(repo, sha, state=StateStore.locate(repo), settings=settings, timeout=1)

    assert measured.percent is None
    assert measured.reason == (
        "the tests did not finish within 1 seconds under coverage.py; "
        "raise reports.coverage_timeout"
    )
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]
    assert not (repo / f".git/backlog-executor/coverage/{sha}.json").exists()
    assert git(repo, "status", "--porcelain", "--ignored") == ""


def test_a_worktree_left_by_a_killed_measurement_is_removed_by_the_next(repo: Path) -> None:
    sha = calc(repo)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs: its measurement was killed
    parent = StateStore.locate(repo).folder("coverage", "worktrees")
    stale = parent / f"{sha[:12]}-{gone.pid}-abcd1234"
    git(repo, "worktree", "add", "--detach", "--quiet", str(stale), sha)
    assert len(worktrees(repo)) == 2

    assert run(repo, sha).percent is not None

    assert not stale.exists()
    assert len(worktrees(repo)) == 1
    assert list(parent.iterdir()) == []


def test_an_unknown_commit_is_not_measured(repo: Path) -> None:
    measured = run(repo, "no-such-branch")

    assert measured == Coverage("no-such-branch", None, reason=measured.reason)
    assert measured.reason is not None
    assert "names no commit" in measured.reason


@pytest.mark.parametrize(
    ("command", "parts"),
    [
        (("pytest", "-x", "tests"), ((sys.executable,), ("-x", "tests"))),
        (("python3", "-m", "pytest", "-q"), (("python3",), ("-q",))),
        (("/opt/python3.12", "-I", "-m", "pytest"), (("/opt/python3.12", "-I"), ())),
        (("python", "-W", "error", "-m", "pytest"), None),
        (("python", "-m", "pytest_other"), None),
        (("tox", "-e", "py311"), None),
    ],
)
def test_pytest_commands_are_split_into_interpreter_and_arguments(
    command: tuple[str, ...], parts: tuple[tuple[str, ...], tuple[str, ...]] | None
) -> None:
    assert pytest_parts(command) == parts


def test_a_pytest_given_by_path_runs_under_the_python_beside_it(tmp_path: Path) -> None:
    bin_ = tmp_path / "venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").touch()

    assert pytest_parts((str(bin_ / "pytest"), "-q")) == ((str(bin_ / "python"),), ("-q",))
