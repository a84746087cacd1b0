"""Tests for the ``bandit`` source: the real bandit over real files in real git repositories."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from conftest import git
from continuous_backlog_executor.model import TaskType
from continuous_backlog_executor.sources.bandit import SOURCE, batches, python_files
from continuous_backlog_executor.sources.base import (
    DiscoveryContext,
    DiscoverySource,
    Finding,
    Scan,
    SourceError,
)
from continuous_backlog_executor.store import StateStore

BANDIT = Path(sys.executable).parent / "bandit"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BANDIT.is_file(), reason="bandit is not installed beside Python"),
]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
VULNERABLE = """\
import subprocess

import yaml

PASSWORD = "hunter2-but-longer"


def run(command):
    return subprocess.call(command, shell=True)


def load(text):
    return yaml.load(text)
"""
SHELL = "subprocess.call(command, shell=True)"
TWINS = f"""\
import subprocess  # nosec


def twice(command):
    {SHELL}
    {SHELL}
"""

Summary = tuple[str | None, str | None, int | None, str | None]


class Recorder:
    """An observer that remembers the progress it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None, str]] = []

    def progress(self, source: str, done: int, total: int | None, what: str) -> None:
        """Remember one report."""
        self.calls.append((source, done, total, what))


def context(repo: Path, observer: Recorder | None = None, **options: object) -> DiscoveryContext:
    """What discovery hands the source, with ``options`` as its settings."""
    state = StateStore(repo / ".git" / "backlog-state")
    return DiscoveryContext(repo, options, state, NOW, observer or Recorder())


def summary(finding: Finding) -> Summary:
    """Rule, place and severity: what most tests compare."""
    origin = finding.origin
    return (origin.rule, origin.path, origin.line, origin.severity)


def track(repo: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path: content) into ``repo`` and add them to git's index."""
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "add", "--force", *files)


ALL_FOUR: list[Summary] = [
    ("B404:blacklist", "app/vuln.py", 1, "low"),
    ("B105:hardcoded_password_string", "app/vuln.py", 5, "low"),
    ("B602:subprocess_popen_with_shell_equals_true", "app/vuln.py", 9, "high"),
    ("B506:yaml_load", "app/vuln.py", 13, "medium"),
]


def test_the_source_meets_the_contract() -> None:
    source: DiscoverySource = SOURCE

    assert (source.name, sorted(source.options)) == (
        "bandit",
        ["args", "confidence", "executable", "severity", "tests", "timeout"],
    )


def test_reports_issues_in_tracked_python_files_only(repo: Path) -> None:
    vendored = {f"{folder}/lib/bad.py": VULNERABLE for folder in ("venv", "node_modules", "dist")}
    track(repo, {"app/vuln.py": VULNERABLE, ".venv/x.py": VULNERABLE, **vendored})
    track(repo, {"pkg/vendor/bad.py": VULNERABLE, "tools/third_party/bad.py": VULNERABLE})
    track(repo, {"app/build/bad.py": VULNERABLE, ".gitignore": "ignored.py\n"})
    track(repo, {"app/quiet.py": f"import subprocess  # nosec\n{SHELL}  # nosec\n"})
    (repo / "ignored.py").write_text(VULNERABLE)
    (repo / "untracked.py").write_text(VULNERABLE)
    observer = Recorder()

    scan = SOURCE.discover(context(repo, observer))

    assert (scan.source, scan.warnings, scan.skipped) == ("bandit", (), None)
    assert [summary(finding) for finding in scan.findings] == ALL_FOUR
    assert {(f.task_type, f.origin.kind, f.origin.tag) for f in scan.findings} == {
        (TaskType.SECURITY, "bandit", "BANDIT")
    }
    assert observer.calls == [("bandit", 0, 2, "2 files")]


def test_a_finding_says_what_bandit_said(repo: Path) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})

    shell = SOURCE.discover(context(repo)).findings[2]

    assert shell.title == "Bandit B602: subprocess call with shell=True identified, security issue."
    assert shell.description == (
        "subprocess call with shell=True identified, security issue.\n"
        "\n"
        "Bandit B602 (subprocess_popen_with_shell_equals_true) at app/vuln.py:9: "
        "severity high, confidence high.\n"
        "\n"
        "```python\n"
        "8 def run(command):\n"
        "9     return subprocess.call(command, shell=True)\n"
        "10 \n"
        "```"
    )
    plugin = "b602_subprocess_popen_with_shell_equals_true.html"
    assert shell.links == (
        f"https://bandit.readthedocs.io/en/{version('bandit')}/plugins/{plugin}",
        "https://cwe.mitre.org/data/definitions/78.html",
    )


@pytest.mark.parametrize(
    ("options", "rules"),
    [
        ({"severity": "medium"}, ["B602", "B506"]),
        ({"severity": "high"}, ["B602"]),
        ({"confidence": "high"}, ["B404", "B602", "B506"]),
        ({"args": ("--skip", "B404,B105")}, ["B602", "B506"]),
    ],
)
def test_options_narrow_what_is_reported(
    repo: Path, options: dict[str, Any], rules: list[str]
) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})

    findings = SOURCE.discover(context(repo, **options)).findings

    assert [str(finding.origin.rule).split(":")[0] for finding in findings] == rules


def test_identical_lines_are_two_findings_that_survive_moving(repo: Path) -> None:
    track(repo, {"twins.py": TWINS})
    before = SOURCE.discover(context(repo)).findings
    track(repo, {"twins.py": '"""Moved down and re-indented."""\n' + TWINS.replace("    ", "\t")})

    after = SOURCE.discover(context(repo)).findings

    assert [summary(finding)[1:] for finding in before] == [
        ("twins.py", 5, "high"),
        ("twins.py", 6, "high"),
    ]
    assert [finding.origin.line for finding in after] == [6, 7]
    assert before[0].fingerprint != before[1].fingerprint
    assert [finding.fingerprint for finding in after] == [f.fingerprint for f in before]


def test_a_changed_line_is_a_new_finding(repo: Path) -> None:
    track(repo, {"twins.py": TWINS})
    before = SOURCE.discover(context(repo)).findings
    track(repo, {"twins.py": TWINS.replace("(command,", "(command + ' -v',", 1)})

    after = SOURCE.discover(context(repo)).findings

    assert after[0].fingerprint not in {finding.fingerprint for finding in before}
    assert after[1].fingerprint == before[0].fingerprint  # now the first of its kind


def test_a_file_bandit_cannot_parse_is_a_warning(repo: Path) -> None:
    track(repo, {"app/broken.py": "def broken(:\n", "app/vuln.py": VULNERABLE})

    scan = SOURCE.discover(context(repo))

    assert scan.warnings == (
        "bandit could not scan app/broken.py: syntax error while parsing AST from file",
    )
    assert [summary(finding) for finding in scan.findings] == ALL_FOUR


def test_a_missing_program_skips_the_scan_with_the_install_hint(repo: Path) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})
    missing = repo / "nowhere" / "bandit"

    scan = SOURCE.discover(context(repo, executable=str(missing)))

    assert scan == Scan(
        "bandit",
        skipped=f"bandit is not installed at {missing}; install it with `pip install bandit`",
    )


def test_a_program_missing_from_path_skips_the_scan(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    scan = SOURCE.discover(context(repo, executable="bandit"))

    assert scan.skipped == (
        "bandit is not installed ('bandit' is not on PATH); install it with `pip install bandit`"
    )


def test_a_named_program_is_used(repo: Path) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})

    scan = SOURCE.discover(context(repo, executable=str(BANDIT)))

    assert [summary(finding) for finding in scan.findings] == ALL_FOUR


def test_bad_arguments_are_an_error_that_shows_bandits_complaint(repo: Path) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})

    with pytest.raises(SourceError) as caught:
        SOURCE.discover(context(repo, args=("--no-such-option",)))

    message = str(caught.value)
    assert message.startswith(
        f"bandit did not write a JSON report; check sources.bandit.args.\n$ {BANDIT} --format json"
    )
    assert "unrecognized arguments: --no-such-option" in message


def test_a_run_over_its_time_limit_is_skipped(repo: Path) -> None:
    track(repo, {"app/vuln.py": VULNERABLE})

    scan = SOURCE.discover(context(repo, timeout=0.05))

    assert scan == Scan(
        "bandit",
        skipped="bandit did not finish within 0.05 seconds and was stopped; "
        "raise sources.bandit.timeout",
    )


def test_a_repository_without_python_files_has_no_findings(repo: Path) -> None:
    observer = Recorder()

    scan = SOURCE.discover(context(repo, observer))

    assert (scan.findings, scan.warnings, scan.skipped, observer.calls) == ((), (), None, [])


def test_outside_a_git_repository_the_scan_is_skipped(tmp_path: Path) -> None:
    scan = SOURCE.discover(context(tmp_path))

    assert scan == Scan("bandit", skipped=f"{tmp_path} is not a git repository")


def test_many_files_are_split_into_batches_that_fit_a_command_line() -> None:
    names = ["a.py", "bb.py", "c.py", "a-very-long-name.py"]

    assert list(batches(names, budget=11)) == [["a.py", "bb.py"], ["c.py"], ["a-very-long-name.py"]]
    assert list(batches(names)) == [names]
    assert list(batches([])) == []


@pytest.mark.slow
def test_test_files_are_left_out_unless_asked_for(repo: Path) -> None:
    (repo / "tests").mkdir()
    (repo / "tests" / "test_app.py").write_text("def test_x():\n    assert 1 + 1 == 2\n")
    (repo / "app_test.py").write_text("assert True\n")
    (repo / "app.py").write_text("import subprocess\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "code and tests")

    default = python_files(repo, tests=False)
    asked = python_files(repo, tests=True)

    assert default == ["app.py"]
    assert asked == ["app.py", "app_test.py", "tests/test_app.py"]
