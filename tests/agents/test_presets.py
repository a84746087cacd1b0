"""Tests for the coding-CLI presets, run against small fake CLIs on PATH that check the flags they
were given, edit the worktree and print output shaped like the real tool's."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from agent_support import MakeRequest

from continuous_backlog_executor.agents.base import (
    AgentError,
    AgentRun,
    Budget,
    Ending,
    Phase,
    Usage,
)
from continuous_backlog_executor.agents.presets import BUILDERS, Options, PresetAgent

PRESETS = ("aider", "claude", "codex", "opencode")

# The fake CLI: it refuses (exit 2, saying why) a missing required flag, a forbidden one, an open
# stdin, a PWD that is not its folder, a variable that should have been removed, or a named file
# argument that does not exist; otherwise it edits the worktree, prints the canned report, and
# may then hang for a while.
FAKE = """
import json, os, sys, time

spec = json.load(open(os.environ["FAKE_SPEC"], encoding="utf-8"))
args = sys.argv[1:]


def given(run):
    return any(args[i : i + len(run)] == run for i in range(len(args)))


def value(flag):
    return args[args.index(flag) + 1] if flag in args[:-1] else ""


problems = ["missing " + " ".join(run) for run in spec["required"] if not given(run)]
problems += ["forbidden " + flag for flag in spec["forbidden"] if flag in args]
problems += ["no file after " + flag for flag in spec["files"] if not os.path.isfile(value(flag))]
problems += [name + " is set" for name in spec["unset"] if name in os.environ]
if sys.stdin.read():
    problems.append("stdin is open")
if os.environ.get("PWD") != os.getcwd():
    problems.append("PWD is not the working folder")
with open(spec["record"], "w", encoding="utf-8") as record:
    json.dump({"args": args, "cwd": os.getcwd()}, record)
if problems:
    print("fake: " + "; ".join(problems), file=sys.stderr)
    sys.exit(2)
with open("edited.txt", "a", encoding="utf-8") as edit:
    edit.write("changed by the fake\\n")
sys.stdout.write(spec["output"])
sys.stdout.flush()
time.sleep(spec["sleep"])
sys.exit(spec["exit"])
"""


def _lines(*events: object) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


CLAUDE_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "duration_ms": 5120,
    "duration_api_ms": 4800,
    "num_turns": 4,
    "result": "Added the failing test.",
    "session_id": "9f1c",
    "total_cost_usd": 0.0421,
    "usage": {
        "input_tokens": 12,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 9000,
        "output_tokens": 800,
        "service_tier": "standard",
    },
}
CODEX_EVENTS = (
    {"type": "thread.started", "thread_id": "0199a"},
    {"type": "turn.started"},
    {
        "type": "item.completed",
        "item": {
            "id": "item_0",
            "type": "file_change",
            "changes": [{"path": "edited.txt", "kind": "add"}],
            "status": "completed",
        },
    },
    {
        "type": "turn.completed",
        "usage": {"input_tokens": 1500, "cached_input_tokens": 1000, "output_tokens": 90},
    },
)


def _step_finish(reason: str, cost: float, tokens: tuple[int, int, int, int]) -> dict[str, object]:
    read, written, cache_read, cache_write = tokens
    part = {
        "type": "step-finish",
        "reason": reason,
        "cost": cost,
        "tokens": {
            "input": read,
            "output": written,
            "reasoning": 5,
            "cache": {"read": cache_read, "write": cache_write},
        },
    }
    return {"type": "step_finish", "timestamp": 1767036061, "sessionID": "ses_1", "part": part}


OPENCODE_EVENTS = (
    {"type": "step_start", "sessionID": "ses_1", "part": {"type": "step-start"}},
    {"type": "tool_use", "sessionID": "ses_1", "part": {"type": "tool", "tool": "edit"}},
    _step_finish("tool-calls", 0.01, (100, 40, 1000, 200)),
    {"type": "text", "sessionID": "ses_1", "part": {"type": "text", "text": "Done."}},
    _step_finish("stop", 0.002, (50, 10, 1300, 0)),
)
AIDER_OUTPUT = (
    "Aider v0.86.1\nMain model: sonnet with diff edit format\n\nApplied edit to edited.txt\n"
    "Tokens: 2.3k sent, 150 received. Cost: $0.0079 message, $0.0079 session.\n"
    "Tokens: 12k sent, 1.2k cache write, 3.4k cache hit, 300 received.\n"
    "Cost: $0.02 message, $0.03 session.\n"
)
REPORTS = {
    # stderr-style noise before the JSON: only JSON object lines count
    "claude": "warning: a newer version is available\n" + json.dumps(CLAUDE_RESULT) + "\n",
    "codex": "Reading prompt from argument\n" + _lines(*CODEX_EVENTS),
    "opencode": _lines(*OPENCODE_EVENTS),
    "aider": AIDER_OUTPUT,
}
USED = {
    "claude": Usage(12_012, 800, 0.0421, 4),
    "codex": Usage(1500, 90, None, 1),  # codex's input count already holds the cached part
    "opencode": Usage(2650, 50, 0.012, 2),
    "aider": Usage(14_300, 450, 0.03, 2),
}


def _required(name: str, request_prompt: str, prompt_file: Path, workdir: Path) -> list[list[str]]:
    return {
        "aider": [
            ["--message-file", str(prompt_file)],
            *([flag] for flag in ("--yes-always", "--no-auto-commits", "--no-dirty-commits")),
            *([flag] for flag in ("--no-gitignore", "--no-pretty", "--no-stream")),
            *([flag] for flag in ("--no-analytics", "--no-check-update", "--no-detect-urls")),
        ],
        "claude": [
            ["-p", request_prompt],
            ["--output-format", "json"],
            ["--permission-mode", "acceptEdits"],
        ],
        "codex": [
            ["exec", "--json"],
            ["--sandbox", "workspace-write"],
            ["--cd", str(workdir)],
            ["--", request_prompt],
        ],
        "opencode": [
            ["run"],
            ["--format", "json"],
            ["--dir", str(workdir)],
            ["--", request_prompt],
        ],
    }[name]


FORBIDDEN = {
    "aider": ["--auto-commits", "--dirty-commits", "--analytics-disable", "--message"],
    "claude": ["--dangerously-skip-permissions", "--max-turns", "--max-budget-usd"],
    "codex": ["--dangerously-bypass-approvals-and-sandbox", "--yolo", "--full-auto"],
    "opencode": ["--auto", "--dangerously-skip-permissions"],
}


@pytest.fixture
def path_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of fake CLIs, first on PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in PRESETS:
        fake = folder / name
        fake.write_text(f"#!{sys.executable}\n{FAKE}")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


class Harness:
    """Runs one preset against the fake with a spec, and reads what the fake recorded."""

    def __init__(self, make_request: MakeRequest, tmp_path: Path) -> None:
        self.make_request = make_request
        self.tmp_path = tmp_path
        self.spec = tmp_path / "spec.json"
        self.record = tmp_path / "record.json"

    def run(
        self,
        name: str,
        *,
        output: str = "",
        required: Sequence[Sequence[str]] = (),
        forbidden: Sequence[str] = (),
        files: Sequence[str] = (),
        unset: Sequence[str] = (),
        exit_code: int = 0,
        sleep: float = 0.0,
        settings: dict[str, object] | None = None,
        **changes: object,
    ) -> AgentRun:
        spec = {
            "required": [list(run) for run in required],
            "forbidden": list(forbidden),
            "files": list(files),
            "unset": list(unset),
            "output": output,
            "exit": exit_code,
            "sleep": sleep,
            "record": str(self.record),
        }
        self.spec.write_text(json.dumps(spec))
        env = {**self.make_request().env, "PATH": os.environ["PATH"], "FAKE_SPEC": str(self.spec)}
        env |= {"CLAUDECODE": "1", "PWD": str(self.tmp_path)}  # as if started from elsewhere
        request = self.make_request(env=env, **changes)
        return self.agent(name, settings or {}).run(request)

    def agent(self, name: str, settings: dict[str, object]) -> PresetAgent:
        agent = BUILDERS[name]({"type": name, **settings}, self.tmp_path)
        assert isinstance(agent, PresetAgent)
        return agent

    def args(self) -> list[str]:
        recorded: list[str] = json.loads(self.record.read_text())["args"]
        return recorded


@pytest.fixture
def harness(make_request: MakeRequest, tmp_path: Path, path_bin: Path) -> Harness:
    return Harness(make_request, tmp_path)


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_runs_its_cli_unattended_and_records_what_it_reports(
    harness: Harness, make_request: MakeRequest, name: str
) -> None:
    request = make_request()
    required = _required(name, request.prompt, request.prompt_file, request.workdir)

    run = harness.run(
        name,
        output=REPORTS[name],
        required=required,
        forbidden=FORBIDDEN[name],
        files=["--message-file"] if name == "aider" else [],
        unset=["CLAUDECODE"] if name == "claude" else [],
    )

    assert (run.ending, run.exit_code, run.reason) == (Ending.EXITED, 0, ""), run.output_tail
    assert run.usage == USED[name]
    assert (request.workdir / "edited.txt").read_text() == "changed by the fake\n"
    assert json.loads(harness.record.read_text())["cwd"] == str(request.workdir)
    assert (run.agent, run.command[0], run.transcript) == (name, name, request.transcript)
    # The receipt names the prompt's file rather than repeating the prompt.
    assert request.prompt not in run.command
    marker = f"<the prompt in {request.prompt_file}>"
    assert (marker in run.command) is (name != "aider")


@pytest.mark.parametrize("name", ["claude", "codex", "opencode"])
def test_the_prompt_is_one_argument_where_the_tool_reads_it(harness: Harness, name: str) -> None:
    prompt = "- starts like an option\nand has {placeholders} and two lines\n"
    harness.run(name, output=REPORTS[name], prompt=prompt)

    args = harness.args()
    if name == "claude":
        assert args[:2] == ["-p", " " + prompt]  # a leading space keeps it from being an option
    else:
        assert args[-2:] == ["--", prompt]


def test_aider_keeps_its_history_files_beside_the_transcript(
    harness: Harness, make_request: MakeRequest
) -> None:
    logs = make_request().transcript.parent

    harness.run("aider", output=AIDER_OUTPUT)

    args = harness.args()
    assert args[args.index("--input-history-file") + 1] == str(logs / "transcript.aider-input.txt")
    assert args[args.index("--chat-history-file") + 1] == str(logs / "transcript.aider-chat.md")


@pytest.mark.parametrize(
    ("settings", "budget", "required", "forbidden"),
    [
        (
            {"max_turns": 10, "model": "sonnet"},
            Budget(turns=4, cost_usd=0.25),
            [["--max-turns", "4"], ["--max-budget-usd", "0.250000"], ["--model", "sonnet"]],
            [],
        ),
        ({"max_turns": 3}, Budget(turns=8), [["--max-turns", "3"]], ["--max-budget-usd"]),
        ({}, Budget(cost_usd=1.5), [["--max-budget-usd", "1.500000"]], ["--max-turns"]),
    ],
)
def test_claude_gets_the_smaller_turn_cap_and_the_remaining_cost(
    harness: Harness,
    settings: dict[str, object],
    budget: Budget,
    required: list[list[str]],
    forbidden: list[str],
) -> None:
    run = harness.run(
        "claude",
        output=REPORTS["claude"],
        required=required,
        forbidden=forbidden,
        settings=settings,
        budget=budget,
    )

    assert run.exit_code == 0, run.output_tail


@pytest.mark.parametrize(
    ("name", "settings", "required"),
    [
        ("aider", {"model": "sonnet"}, [["--model", "sonnet"]]),
        ("claude", {}, [["--add-dir", "ANSWERS"]]),
        ("codex", {"model": "gpt-5-codex"}, [["--model", "gpt-5-codex"], ["--add-dir", "ANSWERS"]]),
        (
            "opencode",
            {"model": "anthropic/claude-sonnet-4-5"},
            [["--model", "anthropic/claude-sonnet-4-5"]],
        ),
    ],
)
def test_the_model_and_the_answer_folder_are_passed_on(
    harness: Harness,
    make_request: MakeRequest,
    name: str,
    settings: dict[str, object],
    required: list[list[str]],
) -> None:
    answers = make_request().workdir.parent / "answers"
    filled = [[str(answers) if arg == "ANSWERS" else arg for arg in run] for run in required]

    run = harness.run(
        name,
        output=REPORTS[name],
        required=filled,
        settings={**settings, "extra_args": ["--extra", "1"]},
        answer_file=answers / "criteria.yml",
        phase=Phase.CRITERIA,
    )

    assert run.exit_code == 0, run.output_tail
    args = harness.args()
    assert args[args.index("--extra") :][:2] == ["--extra", "1"]


@pytest.mark.parametrize("name", ["claude", "codex"])
def test_phases_that_do_not_answer_get_no_folder_outside_the_worktree(
    harness: Harness, make_request: MakeRequest, name: str
) -> None:
    answer = make_request().workdir.parent / "red-1.answer.yml"

    run = harness.run(
        name, output=REPORTS[name], forbidden=["--add-dir"], answer_file=answer, phase=Phase.RED
    )

    assert run.exit_code == 0, run.output_tail


@pytest.mark.parametrize(
    ("result", "ending", "reason"),
    [
        ({"subtype": "error_max_turns", "is_error": True}, Ending.MAX_TURNS, "turn cap"),
        ({"subtype": "error_max_budget_usd"}, Ending.OVER_BUDGET, "cost: claude reached"),
        (
            {"is_error": True, "api_error_status": 401, "result": "Invalid API key"},
            Ending.API_ERROR,
            "Invalid API key",
        ),
        (
            {"is_error": True, "api_error_status": 429, "result": "busy"},
            Ending.RATE_LIMITED,
            "busy",
        ),
        (
            {"subtype": "error_during_execution", "is_error": True, "errors": ["tool", "failed"]},
            Ending.EXITED,
            "tool; failed",
        ),
    ],
)
def test_claude_says_how_its_run_ended(
    harness: Harness, result: dict[str, object], ending: Ending, reason: str
) -> None:
    output = json.dumps({**CLAUDE_RESULT, **result}) + "\n"

    run = harness.run("claude", output=output, exit_code=1)

    assert (run.ending, run.exit_code) == (ending, 1)
    assert reason in run.reason
    assert run.usage == USED["claude"]  # what it spent before stopping still counts


def test_claude_counts_every_model_it_used(harness: Harness) -> None:
    models = {
        "claude-sonnet-4-5": {
            "inputTokens": 10,
            "outputTokens": 700,
            "cacheReadInputTokens": 9000,
            "cacheCreationInputTokens": 3000,
            "costUSD": 0.04,
        },
        "claude-haiku-4-5": {"inputTokens": 500, "outputTokens": 100, "costUSD": 0.0021},
    }
    output = json.dumps({**CLAUDE_RESULT, "modelUsage": models}) + "\n"

    run = harness.run("claude", output=output)

    assert run.usage == Usage(12_510, 800, 0.0421, 4)


def test_codex_usage_is_the_last_running_total_and_failures_give_the_reason(
    harness: Harness,
) -> None:
    later = {
        "type": "turn.completed",
        "usage": {"input_tokens": 4000, "cached_input_tokens": 3000, "output_tokens": 200},
    }
    failed = {"type": "turn.failed", "error": {"message": "stream disconnected"}}

    run = harness.run("codex", output=_lines(*CODEX_EVENTS, later, failed), exit_code=1)

    assert run.usage == Usage(4000, 200, None, 3)
    assert (run.ending, run.reason) == (Ending.EXITED, "stream disconnected")


@pytest.mark.parametrize(
    ("error", "ending", "reason"),
    [
        (
            {"name": "ProviderAuthError", "data": {"providerID": "x", "message": "no API key"}},
            Ending.API_ERROR,
            "no API key",
        ),
        (
            {"name": "APIError", "data": {"message": "slow down", "statusCode": 429}},
            Ending.RATE_LIMITED,
            "slow down",
        ),
        ({"name": "UnknownError", "data": {"message": "boom"}}, Ending.EXITED, "boom"),
        ({"name": "MessageAbortedError"}, Ending.EXITED, "MessageAbortedError"),
    ],
)
def test_opencode_errors_give_the_reason_and_where_clear_the_ending(
    harness: Harness, error: dict[str, object], ending: Ending, reason: str
) -> None:
    output = _lines(*OPENCODE_EVENTS, {"type": "error", "sessionID": "ses_1", "error": error})

    run = harness.run("opencode", output=output, exit_code=1)

    assert (run.ending, run.reason) == (ending, reason)
    assert run.usage == USED["opencode"]


JUNK = (
    "not json at all\n{broken json\n[1, 2]\n"
    '{"type": "result", "usage": "lots", "total_cost_usd": "cheap", "num_turns": true}\n'
    '{"type": "turn.completed", "usage": [1]}\n'
    '{"type": "step_finish", "part": {"tokens": {"input": -5, "cache": 3}, "cost": NaN}}\n'
    '{"type": "step_finish", "part": "none"}\n'
    "Tokens: many sent, 1..2k received.\n"
)


@pytest.mark.parametrize("name", PRESETS)
def test_output_that_cannot_be_read_leaves_usage_unknown(harness: Harness, name: str) -> None:
    run = harness.run(name, output=JUNK)

    assert (run.ending, run.exit_code, run.reason) == (Ending.EXITED, 0, "")
    assert run.usage.input_tokens == run.usage.output_tokens == 0
    assert run.usage.cost_usd is None


@pytest.mark.parametrize(
    ("name", "install"),
    [
        ("aider", "python -m pip install aider-install && aider-install"),
        ("claude", "curl -fsSL https://claude.ai/install.sh | bash"),
        ("codex", "npm install -g @openai/codex"),
        ("opencode", "npm install -g opencode-ai"),
    ],
)
def test_a_missing_program_says_how_to_install_it(
    harness: Harness,
    make_request: MakeRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    install: str,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    agent = harness.agent(name, {})

    with pytest.raises(AgentError, match=f"'{name}' is not on PATH") as raised:
        agent.check()
    run = agent.run(make_request(env={"PATH": str(tmp_path / "empty")}))

    assert install in str(raised.value)
    assert (run.ending, run.exit_code) == (Ending.CRASHED, None)
    assert f"cannot run '{name}'" in run.reason
    assert install in run.reason
    assert install in make_request().transcript.read_text()


def test_check_accepts_an_installed_program(harness: Harness) -> None:
    for name in PRESETS:
        harness.agent(name, {}).check()


def test_a_timed_out_run_keeps_the_usage_it_reported(harness: Harness) -> None:
    run = harness.run("opencode", output=_lines(*OPENCODE_EVENTS[:3]), sleep=30, timeout=0.5)

    assert run.ending is Ending.TIMED_OUT
    assert run.duration < 10
    assert run.usage == Usage(1300, 40, 0.01, 1)


def test_no_budget_left_means_the_cli_is_not_started(harness: Harness) -> None:
    run = harness.run("claude", output=REPORTS["claude"], budget=Budget(cost_usd=0.0))

    assert (run.ending, run.exit_code) == (Ending.OVER_BUDGET, None)
    assert run.reason.startswith("no budget left: $0.0000 of $0.0000")
    assert not harness.record.exists()


def test_a_configured_command_replaces_the_program(
    harness: Harness, path_bin: Path, tmp_path: Path
) -> None:
    assert harness.agent("codex", {"command": "bin/codex"}).options.program == (
        str(tmp_path / "bin/codex"),
    )

    run = harness.run(
        "codex",
        output=REPORTS["codex"],
        required=[["exec", "--json"]],
        settings={"command": [sys.executable, str(path_bin / "codex")]},
    )

    assert run.exit_code == 0, run.output_tail
    assert run.command[:3] == (sys.executable, str(path_bin / "codex"), "exec")
    assert harness.args()[0] == "exec"


@pytest.mark.parametrize(
    ("name", "settings", "problem"),
    [
        ("claude", {"model": 7}, r"agent\.model for agent\.type claude must be a model name"),
        ("opencode", {"model": "gpt-5"}, r"must be written provider/model, not 'gpt-5'"),
        ("claude", {"max_turns": 0}, r"agent\.max_turns .* must be a whole number >= 1"),
        ("claude", {"max_turns": True}, r"must be a whole number"),
        ("aider", {"extra_args": "--verbose"}, r"agent\.extra_args .* must be a list of text"),
        ("aider", {"command": ["aider", 3]}, r"agent\.command for agent\.type aider must be"),
    ],
)
def test_bad_settings_say_what_to_fix(
    tmp_path: Path, name: str, settings: dict[str, object], problem: str
) -> None:
    with pytest.raises(AgentError, match=problem):
        BUILDERS[name]({"type": name, **settings}, tmp_path)


@pytest.mark.parametrize("name", PRESETS)
def test_the_configurations_defaults_build_every_preset(tmp_path: Path, name: str) -> None:
    # `backlog run` passes every agent.* setting, defaults included, to every agent type.
    defaults: dict[str, object] = {
        "type": name, "command": [], "script": None, "timeout": 900.0, "model": None,
        "base_url": None, "api_key_env": None, "temperature": None, "max_tokens": 4096,
        "request_timeout": 120.0, "max_turns": 40, "extra_args": [],
    }  # fmt: skip

    agent = BUILDERS[name](defaults, tmp_path)

    assert isinstance(agent, PresetAgent)
    assert agent.options == Options((name,), None, 40 if name == "claude" else None, ())


def test_the_presets_are_registered_in_order() -> None:
    assert tuple(BUILDERS) == PRESETS
