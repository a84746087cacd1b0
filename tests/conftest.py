"""Shared fixtures: real git repositories in temporary folders, an isolated home, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from continuous_backlog_executor import cli
from continuous_backlog_executor.agents.base import AgentRequest, Phase

REAL_HOME = Path("~").expanduser().resolve()
_GUARD = {"active": False}


def _no_home_writes(event: str, args: tuple[object, ...]) -> None:
    # Tests must never write to the real home directory; the tool's state goes elsewhere.
    if not _GUARD["active"] or event != "open" or len(args) < 2:
        return
    path, mode = args[0], args[1]
    if not isinstance(path, (str, bytes, os.PathLike)) or not isinstance(mode, str):
        return
    if any(flag in mode for flag in "wax+"):
        target = Path(os.fsdecode(path)).resolve()
        if target == REAL_HOME or REAL_HOME in target.parents:
            raise PermissionError(f"test tried to write into the real home directory: {target}")


sys.addaudithook(_no_home_writes)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh HOME with a git identity, no BACKLOG_* settings, and home writes refused."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    # Output into a pipe is plain text unless the environment forces a terminal.
    forced = ("LOG_LEVEL", "USER", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    for name in list(os.environ):
        if name.startswith("BACKLOG_") or name in forced:
            monkeypatch.delenv(name, raising=False)
    # Measuring coverage runs a project's tests again for every report, and drawing the HTML
    # page's charts takes a second; the tests of the reports turn both back on, the others
    # need not pay for them on every run.
    monkeypatch.setenv("BACKLOG_REPORTS__COVERAGE", "false")
    monkeypatch.setenv("BACKLOG_REPORTS__HTML", "false")
    _GUARD["active"] = True
    try:
        yield home
    finally:
        _GUARD["active"] = False


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new git repository with one commit, which is also the current directory."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root


CALC_BACKLOG = """\
version: 1
items:
  - id: CALC-1
    title: add returns the difference instead of the sum
    task_type: Bug
    status: READY
    impact: 8
    effort: 2
    acceptance_criteria:
      - add(2, 3) is 5
"""
CALC_PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'


@pytest.fixture
def project(repo: Path) -> Path:
    """A small Python project with one bug (``add`` subtracts), its backlog item CALC-1, and a
    passing test: the end-to-end tests of ``backlog run`` work on it."""
    (repo / "calc").mkdir()
    (repo / "calc" / "__init__.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_callable():\n    assert callable(add)\n"
    )
    (repo / "pyproject.toml").write_text(CALC_PYPROJECT)
    (repo / "DOCS").mkdir()
    (repo / "DOCS" / "backlog.yml").write_text(CALC_BACKLOG)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "calc")
    return repo


@dataclass
class Outcome:
    """What one CLI invocation did."""

    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``backlog`` in-process with the given arguments and capture what it printed."""

    def invoke(*args: str) -> Outcome:
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def make_request(tmp_path: Path) -> Callable[..., AgentRequest]:
    """Build a request in ``tmp_path/work`` with a small environment; keywords override fields."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    prompt_file = tmp_path / "prompt.md"
    prompt_file.write_text("Do the thing.\n")
    base = AgentRequest(
        item_id="INV-3",
        phase=Phase.RED,
        workdir=workdir,
        prompt="Do the thing.\n",
        prompt_file=prompt_file,
        transcript=tmp_path / "logs" / "transcript.log",
        timeout=20.0,
        env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "GIT_CONFIG_NOSYSTEM": "1"},
    )

    def build(**changes: object) -> AgentRequest:
        return replace(base, **changes)  # type: ignore[arg-type]

    return build
