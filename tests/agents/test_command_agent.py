"""Tests for the command agent: arguments, environment, input, time limit, output and endings,
with real child processes."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_support import MakeRequest, gone

from continuous_backlog_executor.agents.base import AgentError, AgentRun, Ending, Phase
from continuous_backlog_executor.agents.command import CommandAgent, fill

PYTHON = sys.executable
# Starts a sleeping grandchild in the agent's process group and records its pid.
SPAWN = (
    "import subprocess, sys; "
    "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "open('child.pid', 'w').write(str(c.pid)); "
)


def python_agent(code: str, *args: str) -> CommandAgent:
    """An agent that runs ``code`` with this interpreter."""
    return CommandAgent([PYTHON, "-c", code, *args])


def test_placeholders_are_filled_and_other_braces_kept(make_request: MakeRequest) -> None:
    answer = make_request().workdir.parent / "answer.yml"
    request = make_request(phase=Phase.CRITERIA, answer_file=answer)
    arguments = ["{prompt_file}", "{workdir}", "{phase}", "{item_id}", "{answer_file}"]
    literal = ["{x}", "{", "}{", "{{phase}}", "--id={item_id}:{phase}", "{ phase }"]
    code = "import json, sys; json.dump(sys.argv[1:], open('args.json', 'w'))"

    run = python_agent(code, *arguments, *literal).run(request)

    expected = [str(request.prompt_file), str(request.workdir), "criteria", "INV-3", str(answer)]
    expected += ["{x}", "{", "}{", "{criteria}", "--id=INV-3:criteria", "{ phase }"]
    assert json.loads((request.workdir / "args.json").read_text()) == expected
    assert run.command == (PYTHON, "-c", code, *expected)


def test_no_answer_file_fills_an_empty_argument(make_request: MakeRequest) -> None:
    assert fill(["a{answer_file}b", "{answer_file}"], make_request()) == ("ab", "")


def test_a_filled_value_is_not_filled_again(make_request: MakeRequest) -> None:
    request = make_request(item_id="{phase}")

    assert fill(["{item_id}-{phase}"], request) == ("{phase}-red",)


def test_the_environment_is_the_requests_plus_the_phase(
    make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t")
    request = make_request(try_number=2, env={**make_request().env, "GIVEN": "yes"})
    code = "import json, os; json.dump(dict(os.environ), open('env.json', 'w'))"

    python_agent(code).run(request)

    env = json.loads((request.workdir / "env.json").read_text())
    assert env["GIVEN"] == "yes"
    assert "SECRET_TOKEN" not in env
    assert "BACKLOG_ANSWER_FILE" not in env
    assert {key: value for key, value in env.items() if key.startswith("BACKLOG_")} == {
        "BACKLOG_PHASE": "red",
        "BACKLOG_ITEM_ID": "INV-3",
        "BACKLOG_PROMPT_FILE": str(request.prompt_file),
        "BACKLOG_WORKDIR": str(request.workdir),
        "BACKLOG_TRY": "2",
    }


def test_the_answer_file_is_in_the_environment_when_set(make_request: MakeRequest) -> None:
    answer = make_request().workdir.parent / "answer.yml"
    request = make_request(phase=Phase.SLICE, answer_file=answer)

    python_agent("import os; print(os.environ['BACKLOG_ANSWER_FILE'])").run(request)

    assert request.transcript.read_text() == f"{answer}\n"


def test_it_runs_in_the_workdir(make_request: MakeRequest) -> None:
    request = make_request()

    python_agent("import os; print(os.getcwd())").run(request)

    assert Path(request.transcript.read_text().strip()) == request.workdir


def test_stdin_is_closed(make_request: MakeRequest) -> None:
    request = make_request(timeout=10.0)

    code = (
        "import os, sys; print('read', repr(sys.stdin.read()), "
        "os.path.samestat(os.fstat(0), os.stat(os.devnull)))"
    )

    run = python_agent(code).run(request)

    assert (run.ending, run.exit_code, run.output_tail) == (Ending.EXITED, 0, "read '' True")
    assert run.duration < 5


def test_the_exit_code_is_recorded_not_judged(make_request: MakeRequest) -> None:
    request = make_request()
    code = "import sys; print('out'); print('err', file=sys.stderr, flush=True); sys.exit(3)"

    run = python_agent(code).run(request)

    assert (run.agent, run.ending, run.exit_code) == ("command", Ending.EXITED, 3)
    assert sorted(run.output_tail.splitlines()) == ["err", "out"]
    assert run.transcript == request.transcript


def test_the_output_tail_is_the_last_forty_lines_of_this_run(make_request: MakeRequest) -> None:
    request = make_request()
    request.transcript.parent.mkdir()
    request.transcript.write_text("an earlier run\n")

    run = python_agent("for n in range(100): print('line', n)").run(request)

    assert run.output_tail.splitlines() == [f"line {n}" for n in range(60, 100)]
    assert request.transcript.read_text().startswith("an earlier run\nline 0\n")


def test_a_signal_is_a_crash(make_request: MakeRequest) -> None:
    run = python_agent("import os, signal; os.kill(os.getpid(), signal.SIGKILL)").run(
        make_request()
    )

    assert (run.ending, run.exit_code) == (Ending.CRASHED, -9)


def test_the_time_limit_stops_the_agent_and_its_children(make_request: MakeRequest) -> None:
    request = make_request(timeout=1.0)
    code = SPAWN + "print('working', flush=True); import time; time.sleep(60)"

    run = python_agent(code).run(request)

    assert run.ending is Ending.TIMED_OUT
    assert run.duration < 10
    assert gone(int((request.workdir / "child.pid").read_text()))
    assert run.output_tail.splitlines()[0] == "working"


def test_children_left_behind_are_stopped_when_the_agent_ends(make_request: MakeRequest) -> None:
    request = make_request()

    run = python_agent(SPAWN).run(request)

    assert (run.ending, run.exit_code) == (Ending.EXITED, 0)
    assert gone(int((request.workdir / "child.pid").read_text()))


def test_output_reaches_the_transcript_while_the_agent_runs(make_request: MakeRequest) -> None:
    request = make_request(timeout=15.0)
    go = request.workdir / "go"
    code = (
        "import pathlib, time; print('halfway', flush=True)\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.02)\nprint('done')"
    )
    runs: list[AgentRun] = []
    worker = threading.Thread(target=lambda: runs.append(python_agent(code).run(request)))
    worker.start()
    try:
        seen = _wait_for(lambda: "halfway" in _text(request.transcript))
        still_running = not runs
    finally:
        go.touch()
        worker.join()

    assert seen
    assert still_running
    assert runs[0].output_tail == "halfway\ndone"


def test_a_missing_program_is_a_crash_with_the_reason(make_request: MakeRequest) -> None:
    request = make_request()

    run = CommandAgent(["no-such-agent-program"]).run(request)

    assert (run.ending, run.exit_code) == (Ending.CRASHED, None)
    assert "cannot run 'no-such-agent-program'" in run.output_tail
    assert "cannot run 'no-such-agent-program'" in request.transcript.read_text()


def test_check_accepts_a_program_that_exists() -> None:
    CommandAgent([PYTHON, "-c", "pass"]).check()


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ([], "has no command"),
        (["no-such-agent-program", "{prompt_file}"], "'no-such-agent-program' not found"),
        (["/no/such/agent"], "'/no/such/agent' not found"),
    ],
)
def test_check_says_what_is_missing_and_how_to_fix_it(command: list[str], problem: str) -> None:
    with pytest.raises(AgentError, match=problem) as raised:
        CommandAgent(command, name="mine").check()

    assert "agent 'mine'" in str(raised.value)
    assert "set agent.command in the configuration" in str(raised.value)


def test_an_empty_command_is_a_crash_not_an_exception(make_request: MakeRequest) -> None:
    run = CommandAgent([]).run(make_request())

    assert (run.ending, run.exit_code, run.command) == (Ending.CRASHED, None, ())
    assert "has no command" in run.output_tail


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _wait_for(condition: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
