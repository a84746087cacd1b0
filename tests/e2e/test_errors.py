"""End-to-end tests of failures: bad files, settings and usage leave everything untouched."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support import backlog_path, snapshot

from conftest import Outcome

RunCli = Callable[..., Outcome]

STATUSES = "NEW, REFINED, READY, DOING, PR, MERGED, DONE, BLOCKED"
TYPES = "Feature, Bug, Refactor, Security, Doc, Test, Performance"
LEVELS = "DEBUG, INFO, WARNING, ERROR, CRITICAL"


def entries(*items: str) -> bytes:
    """A backlog file holding ``items`` (each the text of one entry)."""
    return ("version: 1\nitems:\n" + "".join(items)).encode()


GOOD = "- id: BL-1\n  title: Fix the parser\n"

# (file content, the error after "error: <path>"): every message names line, item and key.
BAD_FILES = [
    pytest.param(
        entries("- id: BL-1\n  title: ok\n   status: NEW\n", "- id: BL-2\n  title: x\n"),
        ":5: is not valid YAML (mapping values are not allowed here); fix the syntax and run again",
        id="yaml-syntax",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: ok\n  labels: [a, b\n", "- id: BL-2\n  title: x\n"),
        ":6: is not valid YAML (while parsing a flow sequence; expected ',' or ']', but got "
        "':'); fix the syntax and run again",
        id="yaml-unclosed-list",
    ),
    pytest.param(
        entries(GOOD, "- id: BL-2\n  title: ok\n  status: WAITING\n"),
        f":7: item 'BL-2': status: 'WAITING' is not a status; use one of {STATUSES}",
        id="unknown-status",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: ok\n  impact: 20\n"),
        ":5: item 'BL-1': impact: 20 is outside the scale; use 1 to 13",
        id="impact-20",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: ok\n  effort: 0\n"),
        ":5: item 'BL-1': effort: 0 is outside the scale; use 1 to 13",
        id="effort-0",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: ok\n  impact: high\n"),
        ":5: item 'BL-1': impact: 'high' is not a whole number; use 1 to 13",
        id="impact-text",
    ),
    pytest.param(
        entries(GOOD, "- id: BL-2\n  title: other\n", "- id: BL-1\n  title: again\n"),
        ":7: item 'BL-1': id is also used by the item at line 3; give each item its own id",
        id="duplicate-ids",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: 42\n"),
        ":4: item 'BL-1': title: must be text, not a number (42) (put it in quotes)",
        id="title-number",
    ),
    pytest.param(
        entries(GOOD, "- id: BL-2\n  title: ok\n  task_type: Epic\n"),
        f":7: item 'BL-2': task_type: 'Epic' is not a task type; use one of {TYPES}",
        id="unknown-type",
    ),
    pytest.param(
        entries("- id: BL-1\n  title: ok\n  created_at: yesterday\n"),
        ":5: item 'BL-1': created_at: 'yesterday' is not a date and time; "
        "write e.g. 2026-01-31T09:00:00Z",
        id="bad-time",
    ),
    pytest.param(
        entries(GOOD, "- id: BL-2\n  title: caf\xe9 au lait\n").replace(b"\xc3\xa9", b"\xe9"),
        ":6: is not UTF-8 text; save it as UTF-8 and run again",
        id="not-utf-8",
    ),
    pytest.param(
        b"version: 2\nitems: []\n",
        ":1: version: 2 is not a backlog format this tool reads (it reads version 1); "
        "upgrade the tool or fix the value",
        id="future-version",
    ),
    pytest.param(
        b"version: 1\nitems: 5\n",
        ":2: items: must be a list of items",
        id="items-not-a-list",
    ),
    pytest.param(
        b"items:\n  - id: BL-1\n    title: ok\n\n  - id: BL-2\n    title: x\n    impact: 20\n",
        ":7: item 'BL-2': impact: 20 is outside the scale; use 1 to 13",
        id="indented-layout",
    ),
    pytest.param(
        b'[\n  {"id": "BL-1", "title": "ok"},\n  {"id": "BL-2", "title": "x", "impact": 20}\n]\n',
        ":3: item 'BL-2': impact: 20 is outside the scale; use 1 to 13",
        id="original-json",
    ),
]

COMMANDS = [
    pytest.param(("list",), id="list"),
    pytest.param(("add", "--title", "New work"), id="add"),
    pytest.param(("block", "BL-1", "--reason", "waiting"), id="block"),
    pytest.param(("status",), id="status"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_backlog_file_is_refused_and_left_untouched(
    repo: Path, run_cli: RunCli, command: Sequence[str], content: bytes, message: str
) -> None:
    path = backlog_path(repo)
    path.parent.mkdir()
    path.write_bytes(content)
    before = snapshot(repo)

    result = run_cli(*command)

    assert result == Outcome(1, "", f"error: {path}{message}\n")
    assert path.read_bytes() == content
    assert snapshot(repo) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_a_backlog_path_that_is_a_folder_is_refused(
    repo: Path, run_cli: RunCli, command: Sequence[str]
) -> None:
    path = backlog_path(repo)
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = snapshot(repo)

    result = run_cli(*command)

    assert result == Outcome(
        1, "", f"error: paths.backlog: {path} is a folder; point it at a file\n"
    )
    assert snapshot(repo) == before


def test_a_key_that_looks_like_a_typo_is_warned_about_and_kept(repo: Path, run_cli: RunCli) -> None:
    path = backlog_path(repo)
    path.parent.mkdir()
    path.write_bytes(entries("- id: BL-1\n  title: Fix the parser\n  impcat: 5\n"))
    warning = (
        f"WARNING: {path}:5: item 'BL-1': unknown key 'impcat' is kept as is; "
        "did you mean 'impact'?\n"
    )

    listed = run_cli("list", "--format", "json")
    quiet = run_cli("list", "--format", "json", "--log-level", "ERROR")
    blocked = run_cli("block", "BL-1", "--reason", "waiting")

    assert (listed.code, listed.err) == (0, warning)
    assert (quiet.code, quiet.err) == (0, "")
    assert blocked == Outcome(0, "blocked BL-1: waiting\n", warning)
    stored = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["items"][0]
    assert (stored["impcat"], stored["status"]) == (5, "BLOCKED")
    assert [key for key in stored if not key.endswith("_at")] == [
        "id",
        "title",
        "status",
        "blocked_reason",
        "impcat",
    ]


# --- configuration ---------------------------------------------------------------------------

BAD_CONFIGS = [
    pytest.param(
        '{\n  "scoring": {\n    "aging_cpa": 3\n  }\n}\n',
        ":3: unknown setting 'scoring.aging_cpa'; did you mean 'scoring.aging_cap'?",
        id="unknown-key",
    ),
    pytest.param(
        '{\n  "github": {"username": "me"},\n  "aging_cap": 2\n}\n',
        ":3: unknown setting 'aging_cap'; did you mean 'scoring.aging_cap'?",
        id="key-in-the-wrong-section",
    ),
    pytest.param(
        '{\n  "scoring": {\n    "aging_cap": 3,\n  }\n}\n',
        ":4:3: not valid JSON (Expecting property name enclosed in double quotes); fix the syntax",
        id="invalid-json",
    ),
    pytest.param(
        '{"scoring": {"aging_cap": 0.5}}\n',
        ": scoring.aging_cap must be at least 1, not 0.5",
        id="value-out-of-range",
    ),
    pytest.param(
        '{"analyzer": {"scanForTodos": "sometimes"}}\n',
        ": analyzer.scanForTodos must be true or false, not 'sometimes'",
        id="value-wrong-type",
    ),
    pytest.param(
        '{"scoring": 3}\n', ":1: scoring must be a section (a JSON object)", id="not-a-section"
    ),
    pytest.param("[1, 2]\n", ": must hold a JSON object of settings", id="not-an-object"),
]


@pytest.mark.parametrize("how", ["--config", "BACKLOG_CONFIG", ".backlog.json"])
@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_a_bad_configuration_file_stops_the_command(
    repo: Path,
    tmp_path: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    text: str,
    message: str,
) -> None:
    config = repo / ".backlog.json" if how == ".backlog.json" else tmp_path / "config.json"
    config.write_text(text, encoding="utf-8")
    args = ["--config", str(config)] if how == "--config" else []
    if how == "BACKLOG_CONFIG":
        monkeypatch.setenv("BACKLOG_CONFIG", str(config))
    before = snapshot(repo)

    result = run_cli(*args, "add", "--title", "New work")

    assert result == Outcome(1, "", f"error: {config}{message}\n")
    assert snapshot(repo) == before


def test_a_missing_configuration_file_is_an_error(
    repo: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    missing = tmp_path / "nowhere.json"

    result = run_cli("list", "--config", str(missing))

    assert result == Outcome(
        1, "", f"error: {missing}: configuration file not found; check --config\n"
    )
    assert snapshot(repo) == {"README.md": b"# demo\n"}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(
            ("--set", "scoring.aging_cap=abc"),
            {},
            "command line: scoring.aging_cap must be a number, not 'abc'",
            id="set-not-a-number",
        ),
        pytest.param(
            ("--set", "scoring.aging_cap=0.5"),
            {},
            "command line: scoring.aging_cap must be at least 1, not 0.5",
            id="set-out-of-range",
        ),
        pytest.param(
            ("--set", "scoring.agingcap=3"),
            {},
            "command line: unknown setting 'scoring.agingcap'; did you mean 'scoring.aging_cap'?",
            id="set-unknown-key",
        ),
        pytest.param(
            ("--set", "execution.max_cycles=1.5"),
            {},
            "command line: execution.max_cycles must be a number, not '1.5'",
            id="set-not-whole",
        ),
        pytest.param(
            ("--set", "log_level=LOUD"),
            {},
            f"command line: log_level must be one of {LEVELS}, not 'LOUD'",
            id="set-log-level",
        ),
        pytest.param(
            (),
            {"BACKLOG_SCORING__AGING_CAP": "x"},
            "environment BACKLOG_SCORING__AGING_CAP: scoring.aging_cap must be a number, not 'x'",
            id="env-bad-value",
        ),
        pytest.param(
            (),
            {"BACKLOG_SCORING__AGING_CAPS": "3"},
            "environment BACKLOG_SCORING__AGING_CAPS: unknown setting 'scoring.aging_caps'; "
            "did you mean 'scoring.aging_cap'?",
            id="env-unknown-key",
        ),
        pytest.param(
            (),
            {"BACKLOG_LOG_LEVEL": "LOUD"},
            f"environment BACKLOG_LOG_LEVEL: log_level must be one of {LEVELS}, not 'LOUD'",
            id="env-log-level",
        ),
    ],
)
def test_a_bad_setting_stops_the_command(
    repo: Path,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    args: Sequence[str],
    env: Mapping[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    result = run_cli(*args, "add", "--title", "New work")

    assert result == Outcome(1, "", f"error: {message}\n")
    assert snapshot(repo) == {"README.md": b"# demo\n"}


def test_a_bad_log_level_environment_variable_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    # A real process, so that a crash log (if any) lands in this test's folder, not in /tmp.
    env = {**os.environ, "LOG_LEVEL": "LOUD", "TMPDIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "continuous_backlog_executor", "list"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: environment LOG_LEVEL: log_level must be one of {LEVELS}, not 'LOUD'\n"
    )


# --- usage errors: exit code 2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "last_line"),
    [
        pytest.param(
            (), "backlog: error: the following arguments are required: COMMAND", id="none"
        ),
        pytest.param(
            ("frobnicate",),
            "backlog: error: argument COMMAND: invalid choice: 'frobnicate' (choose from 'add', "
            "'approve', 'block', 'demo', 'discover', 'explain', 'list', 'merge', 'plan', 'prs', "
            "'report', 'review', 'run', 'show', 'status', 'tune', 'unblock')",
            id="unknown-command",
        ),
        pytest.param(
            ("add",),
            "backlog add: error: the following arguments are required: --title",
            id="add-without-title",
        ),
        pytest.param(
            ("add", "--title", "x", "--impact", "20"),
            "backlog add: error: argument --impact: 20 is outside the scale; use 1 to 13",
            id="add-impact-20",
        ),
        pytest.param(
            ("add", "--title", "x", "--effort", "0"),
            "backlog add: error: argument --effort: 0 is outside the scale; use 1 to 13",
            id="add-effort-0",
        ),
        pytest.param(
            ("add", "--title", "x", "--risk-reduction", "high"),
            "backlog add: error: argument --risk-reduction: 'high' is not a whole number from 1 "
            "to 13",
            id="add-not-a-number",
        ),
        pytest.param(
            ("add", "--title", "x", "--due", "2026-13-01"),
            "backlog add: error: argument --due: '2026-13-01' is not a date like 2026-01-31",
            id="add-bad-date",
        ),
        pytest.param(
            ("add", "--title", "x", "--type", "Epic"),
            f"backlog add: error: argument --type: 'Epic' is not a task type; use one of {TYPES}",
            id="add-unknown-type",
        ),
        pytest.param(
            ("add", "--title", "x", "--status", "DONE"),
            "backlog add: error: argument --status: invalid choice: 'DONE' (choose from 'NEW', "
            "'REFINED', 'READY')",
            id="add-status-not-allowed",
        ),
        pytest.param(
            ("list", "--limit", "0"),
            "backlog list: error: argument --limit: '0' is not a whole number of at least 1",
            id="list-limit-0",
        ),
        pytest.param(
            ("list", "--status", "WAITING"),
            f"backlog list: error: argument --status: 'WAITING' is not a status; use one of "
            f"{STATUSES}",
            id="list-unknown-status",
        ),
        pytest.param(
            ("list", "--format", "xml"),
            "backlog list: error: argument --format: invalid choice: 'xml' (choose from 'table', "
            "'json')",
            id="list-unknown-format",
        ),
        pytest.param(
            ("plan", "--max-cycles", "-1"),
            "backlog plan: error: argument --max-cycles: '-1' is not a whole number of at least 1",
            id="plan-negative-cycles",
        ),
        pytest.param(
            ("block", "BL-1"),
            "backlog block: error: the following arguments are required: --reason",
            id="block-without-reason",
        ),
        pytest.param(
            ("show",),
            "backlog show: error: the following arguments are required: ID",
            id="show-without-id",
        ),
        pytest.param(
            ("--log-level", "LOUD", "list"),
            "backlog: error: argument --log-level: invalid choice: 'LOUD' (choose from 'DEBUG', "
            "'INFO', 'WARNING', 'ERROR', 'CRITICAL')",
            id="unknown-log-level",
        ),
        pytest.param(
            ("--set", "scoring.aging_cap", "list"),
            "backlog: error: argument --set: 'scoring.aging_cap' is not KEY=VALUE "
            "(e.g. scoring.aging_cap=3)",
            id="set-without-value",
        ),
        pytest.param(
            ("list", "--everything"),
            "backlog: error: unrecognized arguments: --everything",
            id="unknown-option",
        ),
    ],
)
def test_bad_usage_exits_2_with_the_usage_and_writes_nothing(
    repo: Path, run_cli: RunCli, args: Sequence[str], last_line: str
) -> None:
    result = run_cli(*args)

    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("usage: backlog ")
    assert result.err.splitlines()[-1] == last_line
    assert snapshot(repo) == {"README.md": b"# demo\n"}


# --- bugs: exit code 3 and a crash log -------------------------------------------------------


@pytest.mark.slow
def test_a_bug_exits_3_and_leaves_a_crash_log(repo: Path, run_cli: RunCli) -> None:
    # The state folder's `locks` entry is a file, so taking the backlog lock fails in a way no
    # BacklogError describes: that is the tool's fault, reported as a bug with a crash log.
    assert run_cli("list").code == 0  # creates the state folder
    state = repo / ".git" / "backlog-executor"
    (state / "locks").write_text("in the way\n", encoding="utf-8")
    script = Path(sys.executable).parent / "backlog"
    command = str(script) if script.exists() else shutil.which("backlog")
    assert command is not None
    before = snapshot(repo)

    started = datetime.now(UTC).replace(microsecond=0)
    result = subprocess.run(
        [command, "add", "--title", "New work"],
        cwd=repo,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    finished = datetime.now(UTC).replace(microsecond=0)

    [log] = (state / "crashes").glob("backlog-crash-*.log")
    stamp = log.name.removeprefix("backlog-crash-").removesuffix(".log")
    moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert started <= moment <= finished
    problem = f"FileExistsError: [Errno 17] File exists: '{state / 'locks'}'"
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == (
        f"bug: {problem}\n"
        f"This is a fault in backlog, not in your input. A crash log is at {log}; "
        "please include it when you report the problem.\n"
    )
    text = log.read_text(encoding="utf-8").splitlines()
    assert text[:5] == [
        f"backlog {version('continuous-backlog-executor')} crashed at {stamp}",
        f"python {platform.python_version()} on {platform.platform()}",
        f"command: {command} add --title New work",
        "",
        "Traceback (most recent call last):",
    ]
    assert text[-1] == problem
    assert snapshot(repo) == before
