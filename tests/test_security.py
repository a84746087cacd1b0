"""Tests for ``security``: the gate's deltas between two real commits, with the real bandit,
the real pip-audit offline, and a stand-in pip-audit that answers from a fixed advisory list."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor.security import (
    BANDIT_HINT,
    Delta,
    bandit_delta,
    dependency_delta,
    is_dependency_file,
    secrets_delta,
)

BANDIT = Path(sys.executable).parent / "bandit"
PIP_AUDIT = Path(sys.executable).parent / "pip-audit"
needs_bandit = pytest.mark.skipif(not BANDIT.is_file(), reason="bandit is not installed")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, so connecting fails fast
APP = """\
import subprocess


def run(command):
    return subprocess.call(command, shell=True)
"""
# Advisories the stand-in pip-audit knows, by "name==version".
ADVISORIES = {
    "jinja2==2.10": {"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": []},
    "urllib3==1.24.1": {"id": "PYSEC-2019-132", "fix_versions": ["1.24.2"], "aliases": []},
}
STAND_IN = """\
import json, sys
known = json.loads(sys.argv[1])
path = sys.argv[sys.argv.index("-r") + 1]
lines = [line.strip() for line in open(path) if line.strip()]
report = [
    {"name": line.split("==")[0], "version": line.split("==")[1],
     "vulns": [known[line]] if line in known else []}
    for line in lines
]
print(json.dumps({"dependencies": report, "fixes": []}))
sys.exit(1 if any(entry["vulns"] for entry in report) else 0)
"""


def commit(repo: Path, files: dict[str, str]) -> str:
    """Write ``files`` in ``repo``, commit them, and return the commit."""
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return git(repo, "rev-parse", "HEAD").strip()


def stand_in_pip_audit(folder: Path) -> Path:
    """A pip-audit that audits pinned requirements against ``ADVISORIES`` without a network."""
    program = folder / "stand-in-pip-audit"
    script = folder / "stand_in.py"
    script.write_text(STAND_IN)
    known = json.dumps(json.dumps(ADVISORIES))
    program.write_text(f'#!/bin/sh\nexec {sys.executable} {script} {known} "$@"\n')
    program.chmod(0o755)
    return program


@pytest.mark.slow
@needs_bandit
def test_an_old_bandit_issue_moved_down_is_not_new(repo: Path) -> None:
    base = commit(repo, {"src/app.py": APP, "src/other.py": "X = 1\n"})
    moved = APP.replace("import subprocess\n", "import subprocess\n\nLIMIT = 3\nNAME = 'x'\n")
    head = commit(repo, {"src/app.py": moved})

    delta = bandit_delta(repo, base, head, ["src/app.py"])

    assert delta == Delta(True, "bandit found no new issue in 1 file", {"new": [], "warnings": []})


@pytest.mark.slow
@needs_bandit
def test_a_new_shell_call_fails_the_bandit_delta(repo: Path) -> None:
    base = commit(repo, {"src/app.py": APP})
    added = "\n\ndef other(x):\n    return subprocess.call(x, shell=True)\n"
    head = commit(repo, {"src/app.py": "# moved\n" + APP + added, "notes.txt": "n\n"})

    delta = bandit_delta(repo, base, head, ["src/app.py", "notes.txt"])

    assert not delta.passed
    assert delta.skipped is None
    assert delta.reason == "bandit found 1 new issue: B602 at src/app.py:10"
    assert delta.details == {
        "new": [
            {
                "test_id": "B602",
                "path": "src/app.py",
                "line": 10,
                "severity": "high",
                "text": "subprocess call with shell=True identified, security issue.",
            }
        ],
        "warnings": [],
    }


@pytest.mark.slow
@needs_bandit
def test_test_files_are_left_out_unless_asked_for(repo: Path) -> None:
    base = commit(repo, {"README.txt": "a\n"})
    head = commit(repo, {"tests/test_app.py": "def test_it():\n    assert 1\n"})

    left_out = bandit_delta(repo, base, head, ["tests/test_app.py"])
    scanned = bandit_delta(repo, base, head, ["tests/test_app.py"], tests=True)

    assert left_out == Delta(True, "no changed Python files to scan")
    assert scanned.reason == "bandit found 1 new issue: B101 at tests/test_app.py:2"


@pytest.mark.slow
@needs_bandit
def test_a_file_new_at_head_is_compared_with_nothing(repo: Path) -> None:
    base = commit(repo, {"README.txt": "a\n"})
    head = commit(repo, {"tool.py": "import pickle\n"})

    delta = bandit_delta(repo, base, head, ["tool.py"])

    assert delta.reason == "bandit found 1 new issue: B403 at tool.py:1"


@pytest.mark.slow
@needs_bandit
def test_a_second_copy_of_an_old_issue_is_new(repo: Path) -> None:
    base = commit(repo, {"app.py": APP})
    head = commit(repo, {"app.py": APP + APP.replace("def run", "def again")})

    delta = bandit_delta(repo, base, head, ["app.py"])

    new = delta.details["new"]
    assert isinstance(new, list)
    assert [issue["line"] for issue in new] == [6, 10]
    assert delta.reason == "bandit found 2 new issues: B404 at app.py:6, B602 at app.py:10"


@pytest.mark.slow
@needs_bandit
def test_bandit_out_of_time_is_skipped(repo: Path) -> None:
    base = commit(repo, {"app.py": "X = 1\n"})
    head = commit(repo, {"app.py": APP})

    delta = bandit_delta(repo, base, head, ["app.py"], timeout=0.001)

    assert delta.skipped == "bandit did not finish within 0.001 seconds and was stopped"


def test_a_bandit_that_writes_no_report_is_skipped_showing_its_output(
    repo: Path, tmp_path: Path
) -> None:
    program = tmp_path / "broken-bandit"
    program.write_text("#!/bin/sh\necho 'unrecognized arguments' >&2\nexit 2\n")
    program.chmod(0o755)
    base = commit(repo, {"app.py": "X = 1\n"})
    head = commit(repo, {"app.py": APP})

    delta = bandit_delta(repo, base, head, ["app.py"], executable=str(program))

    assert delta.passed
    assert delta.skipped is not None
    assert delta.skipped.startswith(f"bandit wrote no JSON report:\n$ {program} --format json")
    assert delta.skipped.endswith("stderr:\nunrecognized arguments")


def test_without_bandit_the_delta_is_skipped_with_how_to_install_it(repo: Path) -> None:
    base = commit(repo, {"app.py": "X = 1\n"})
    head = commit(repo, {"app.py": APP})

    delta = bandit_delta(repo, base, head, ["app.py"], executable="missing/bandit")

    why = f"bandit is not installed at missing/bandit; {BANDIT_HINT}"
    assert delta == Delta(True, f"not checked: {why}", skipped=why)
    assert BANDIT_HINT == "install it with `pip install bandit`"


def test_no_python_file_changed_needs_no_bandit(repo: Path) -> None:
    base = commit(repo, {"notes.txt": "a\n"})
    head = commit(repo, {"notes.txt": "b\n"})

    delta = bandit_delta(repo, base, head, ["notes.txt"], executable="missing/bandit")

    assert delta == Delta(True, "no changed Python files to scan")


def test_secrets_in_added_lines_fail_naming_kinds_never_values(repo: Path) -> None:
    token = "ghp-not-a-real-token-0123"
    base = commit(repo, {"app.py": "X = 1\n"})
    commit(
        repo, {"app.py": f'X = 1\nAWS = "AKIAIOSFODNN7EXAMPLE"\nURL = "https://u:{token}@host"\n'}
    )
    diff = git(repo, "diff", base, "HEAD")

    delta = secrets_delta(diff, {"GITHUB_TOKEN": token})

    assert not delta.passed
    assert delta.reason == (
        "3 possible secrets in added lines: app.py:2: AWS Access Key, "
        "app.py:3: Basic Auth Credentials, app.py:3: environment variable GITHUB_TOKEN"
    )
    assert token not in json.dumps(delta.to_json())
    assert secrets_delta(git(repo, "diff", "HEAD", base), {"GITHUB_TOKEN": token}) == Delta(
        True, "no secrets in the added lines"
    )


def test_no_dependency_file_changed_passes_without_pip_audit(repo: Path) -> None:
    base = commit(repo, {"requirements.txt": "jinja2==2.10\n", "app.py": "X = 1\n"})
    head = commit(repo, {"app.py": "X = 2\n"})

    delta = dependency_delta(repo, base, head, executable="missing/pip-audit")

    assert delta == Delta(True, "no dependency files changed")


def test_without_pip_audit_a_dependency_change_is_skipped(repo: Path) -> None:
    base = commit(repo, {"requirements.txt": "six==1.16.0\n"})
    head = commit(repo, {"requirements.txt": "six==1.16.0\njinja2==2.10\n"})

    delta = dependency_delta(repo, base, head, executable="missing/pip-audit")

    why = "pip-audit is not installed at missing/pip-audit; install it with `pip install pip-audit`"
    assert delta == Delta(True, f"not checked: {why}", skipped=why)


@pytest.mark.slow
@pytest.mark.skipif(not PIP_AUDIT.is_file(), reason="pip-audit is not installed beside Python")
def test_offline_the_real_pip_audit_is_skipped_with_the_reason(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = commit(repo, {"requirements.txt": "six==1.16.0\n"})
    head = commit(repo, {"requirements.txt": "six==1.16.0\njinja2==2.10\n"})
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "PIP_INDEX_URL"):
        monkeypatch.setenv(name, UNREACHABLE)
        monkeypatch.setenv(name.lower(), UNREACHABLE)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    delta = dependency_delta(repo, base, head, timeout=60)

    why = (
        "pip-audit could not reach the vulnerability service: "
        "ProxyError connecting to pypi.org ([Errno 111] Connection refused)"
    )
    assert delta == Delta(True, f"not checked: {why}", skipped=why)


def test_only_vulnerabilities_new_at_head_fail(repo: Path, tmp_path: Path) -> None:
    program = stand_in_pip_audit(tmp_path)
    base = commit(repo, {"requirements.txt": "jinja2==2.10\nsix==1.16.0\n"})
    head = commit(repo, {"requirements.txt": "jinja2==2.10\nsix==1.16.0\nurllib3==1.24.1\n"})

    delta = dependency_delta(repo, base, head, executable=str(program))

    assert delta == Delta(
        False,
        "pip-audit found 1 new known vulnerability in requirements.txt: "
        "urllib3 1.24.1 (PYSEC-2019-132)",
        {
            "changed": ["requirements.txt"],
            "audited": ["requirements.txt"],
            "not_audited": [],
            "new": [
                {
                    "package": "urllib3",
                    "version": "1.24.1",
                    "id": "PYSEC-2019-132",
                    "aliases": [],
                    "fix_versions": ["1.24.2"],
                }
            ],
        },
    )
    fixed = commit(repo, {"requirements.txt": "jinja2==2.10\nsix==1.16.0\nurllib3==1.24.2\n"})
    assert dependency_delta(repo, head, fixed, executable=str(program)).reason == (
        "pip-audit found no new known vulnerability in requirements.txt"
    )


def test_a_dependency_change_pip_audit_cannot_read_is_skipped(repo: Path, tmp_path: Path) -> None:
    program = stand_in_pip_audit(tmp_path)
    base = commit(repo, {"setup.cfg": "[metadata]\nname = a\n"})
    head = commit(repo, {"setup.cfg": "[options]\ninstall_requires = jinja2==2.10\n"})

    delta = dependency_delta(repo, base, head, executable=str(program))

    assert delta.skipped == (
        "pip-audit reads requirements*.txt or pyproject.toml at the root, and head has neither; "
        "changed: setup.cfg"
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements/base.txt", True),
        ("sub/pyproject.toml", True),
        ("poetry.lock", True),
        ("Pipfile", True),
        ("src/requirements.py", False),
        ("docs/notes.txt", False),
    ],
)
def test_dependency_files_are_known_by_name(path: str, expected: bool) -> None:
    assert is_dependency_file(path) is expected
