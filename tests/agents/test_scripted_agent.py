"""Tests for the scripted agent, run as a real program through the command agent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from agent_support import MakeRequest, gone
from ruamel.yaml import YAML

from continuous_backlog_executor.agents import scripted
from continuous_backlog_executor.agents.base import AgentError, AgentRun, Ending, Phase
from continuous_backlog_executor.agents.script import (
    ACTIONS,
    MODULE,
    ScriptedAgent,
    ScriptError,
    load,
)


def write_script(folder: Path, text: str) -> Path:
    """Write ``text`` as the script ``folder/script.yml``."""
    script = folder / "script.yml"
    script.write_text(text)
    return script


def run_script(make_request: MakeRequest, text: str, **changes: object) -> AgentRun:
    """Run the scripted agent on ``text`` for the request ``changes`` describe."""
    request = make_request(**changes)
    return ScriptedAgent(write_script(request.workdir.parent, text)).run(request)


def test_file_actions(make_request: MakeRequest) -> None:
    request = make_request()
    folder = request.workdir.parent
    (folder / "files").mkdir()
    (folder / "files" / "x.py").write_text("X = 1\n")
    (request.workdir / "old.txt").write_text("old\n")
    (request.workdir / "old_dir" / "inner").mkdir(parents=True)
    (request.workdir / "src").mkdir()
    (request.workdir / "src" / "y.py").write_text("def y():\n    return 1\n")
    script = write_script(
        folder,
        """
INV-3:
  red:
    - - write: {path: tests/test_x.py, content: "def test_x(): ...\\n"}
      - write: {path: src/x.py, from: files/x.py}
      - append: {path: src/x.py, content: "Y = 2\\n"}
      - replace: {path: src/x.py, old: "X = 1", new: "X = 3"}
      - mkdir: build/out
      - symlink: {path: link, target: ../outside}
      - delete: old.txt
      - delete: old_dir
      - syntax_error: src/y.py
      - print: all done
""",
    )

    run = ScriptedAgent(script).run(request)

    assert (run.agent, run.ending, run.exit_code, run.output_tail) == (
        "scripted",
        Ending.EXITED,
        0,
        "all done",
    )
    work = request.workdir
    assert (work / "tests" / "test_x.py").read_text() == "def test_x(): ...\n"
    assert (work / "src" / "x.py").read_text() == "X = 3\nY = 2\n"
    assert (work / "build" / "out").is_dir()
    assert (work / "link").readlink() == Path("../outside")
    assert not (work / "old.txt").exists()
    assert not (work / "old_dir").exists()
    assert (work / "src" / "y.py").read_text().endswith("\ndef broken(:\n")


def test_writing_through_a_symlink_leaves_the_workdir(make_request: MakeRequest) -> None:
    outside = make_request().workdir.parent / "outside"
    outside.mkdir()
    script = """
"*":
  green:
    - - symlink: {path: escape, target: ../outside}
      - write: {path: escape/planted.txt, content: "hi"}
      - write: {path: ../also.txt, content: "there"}
"""

    run = run_script(make_request, script, phase=Phase.GREEN)

    assert run.exit_code == 0
    assert (outside / "planted.txt").read_text() == "hi"
    assert (outside.parent / "also.txt").read_text() == "there"


def test_write_env_copies_what_the_agent_can_see(
    make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t")
    env = {**make_request().env, "GIVEN": "visible"}
    script = """
INV-3:
  red:
    - - write_env: {path: given.txt, var: GIVEN}
      - write_env: {path: secret.txt, var: SECRET_TOKEN}
"""

    run = run_script(make_request, script, env=env)

    work = make_request().workdir
    assert run.exit_code == 0
    assert (work / "given.txt").read_text() == "visible"
    assert (work / "secret.txt").read_text() == ""


def test_answer_writes_yaml_to_the_answer_file(make_request: MakeRequest) -> None:
    answer = make_request().workdir.parent / "answer.yml"
    script = """
INV-3:
  criteria:
    - - answer: {criteria: [it adds, it rounds], done: true}
"""

    run = run_script(make_request, script, phase=Phase.CRITERIA, answer_file=answer)

    assert run.exit_code == 0
    assert YAML(typ="safe").load(answer.read_text()) == {
        "criteria": ["it adds", "it rounds"],
        "done": True,
    }


def test_commit_commits_everything_in_the_workdir(make_request: MakeRequest) -> None:
    work = make_request().workdir
    for command in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "initial"]):
        subprocess.run(["git", *command], cwd=work, check=True)
    script = """
INV-3:
  refactor:
    - - write: {path: a.txt, content: "a"}
      - commit: "Tidy up"
"""

    run = run_script(make_request, script, phase=Phase.REFACTOR)

    log = subprocess.run(
        ["git", "log", "-1", "--format=%s", "--name-only"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.exit_code == 0
    assert log.stdout.split() == ["Tidy", "up", "a.txt"]


def test_exit_stops_at_once_with_its_code(make_request: MakeRequest) -> None:
    script = """
INV-3:
  red:
    - - print: before
      - exit: 3
      - print: after
"""

    run = run_script(make_request, script)

    assert (run.ending, run.exit_code, run.output_tail) == (Ending.EXITED, 3, "before")


def test_sleep_and_spawn_sleeper_are_stopped_by_the_time_limit(make_request: MakeRequest) -> None:
    script = """
INV-3:
  red:
    - - spawn_sleeper: 60
      - sleep: 60
"""

    run = run_script(make_request, script, timeout=2.0)

    assert run.ending is Ending.TIMED_OUT
    found = re.search(r"spawned sleeper (\d+)", run.output_tail)
    assert found
    assert gone(int(found[1]))


@pytest.mark.parametrize(("try_number", "expected"), [(1, "one"), (2, "two"), (5, "two")])
def test_each_try_has_its_actions_and_the_last_repeats(
    make_request: MakeRequest, try_number: int, expected: str
) -> None:
    script = """
INV-3:
  red:
    - - print: one
    - - print: two
"""

    run = run_script(make_request, script, try_number=try_number)

    assert run.output_tail == expected


@pytest.mark.parametrize(
    ("item_id", "phase", "expected"),
    [
        ("INV-3", Phase.RED, "own"),
        ("INV-9", Phase.RED, "any"),
        ("INV-3", Phase.DOCS, ""),  # its own entry has no docs phase: "*" is not consulted
        ("INV-9", Phase.GREEN, ""),
    ],
)
def test_an_item_uses_its_own_entry_else_the_star(
    make_request: MakeRequest, item_id: str, phase: Phase, expected: str
) -> None:
    script = """
INV-3:
  red: [[print: own]]
"*":
  red: [[print: any]]
  docs: [[print: any]]
"""

    run = run_script(make_request, script, item_id=item_id, phase=phase)

    assert (run.exit_code, run.output_tail) == (0, expected)


def test_an_item_not_in_the_script_does_nothing(make_request: MakeRequest) -> None:
    request = make_request(item_id="INV-99")

    script = "INV-3:\n  red: [[write: {path: a.txt, content: a}]]\n"

    run = run_script(make_request, script, item_id="INV-99")

    assert (run.ending, run.exit_code) == (Ending.EXITED, 0)
    assert request.transcript.read_text() == ""  # not even a warning from the interpreter
    assert list(request.workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("INV-3: [", "the agent script is not valid YAML"),
        ("- a list", "must map item ids to phases"),
        ("INV-3:\n  gren: []\n", r"item 'INV-3': unknown phase 'gren'; valid phases: criteria"),
        ("INV-3:\n  red: [[dance: now]]\n", r"item 'INV-3', phase red, try 1, action 1 \(dance\)"),
        (
            "INV-3:\n  red: [[print: a], [print: b, write: {path: a}]]\n",
            r"item 'INV-3', phase red, try 2, action 2 \(write\): needs exactly one of",
        ),
        (
            "INV-3:\n  red: [[replace: {path: a, old: b}]]\n",
            r"phase red, try 1, action 1 \(replace\): missing new",
        ),
        ("INV-3:\n  red: [[sleep: soon]]\n", r"\(sleep\): needs a number of seconds"),
        ("INV-3:\n  red: [[exit: 300]]\n", r"\(exit\): needs an exit code from 0 to 255"),
        ("INV-3:\n  red: [[delete: ]]\n", r"\(delete\): needs text"),
        (
            "INV-3:\n  red: [[write: {path: a, from: files/none.py}]]\n",
            r"\(write\): cannot read .*files/none.py",
        ),
        (
            "INV-3:\n  red: [[replace: {path: a.txt, old: absent, new: b}]]\n",
            r"action 1 \(replace\): \[Errno 2\] No such file",
        ),
    ],
)
def test_a_bad_script_exits_2_naming_where(
    make_request: MakeRequest, text: str, problem: str
) -> None:
    run = run_script(make_request, text)

    assert (run.ending, run.exit_code) == (Ending.EXITED, 2)
    assert str(make_request().workdir.parent / "script.yml") in run.output_tail
    assert re.search(problem, run.output_tail), run.output_tail


def test_replace_fails_when_the_old_text_is_absent(make_request: MakeRequest) -> None:
    (make_request().workdir / "a.txt").write_text("present\n")
    script = "INV-3:\n  red: [[replace: {path: a.txt, old: absent, new: b}]]\n"

    run = run_script(make_request, script)

    assert run.exit_code == 2
    assert "item 'INV-3', phase red, try 1, action 1 (replace): 'absent' is not in" in (
        run.output_tail
    )


def test_a_missing_script_exits_2(make_request: MakeRequest) -> None:
    request = make_request()
    missing = request.workdir.parent / "missing.yml"

    run = ScriptedAgent(missing).run(request)

    assert run.exit_code == 2
    assert f"{missing}: cannot read the agent script" in run.output_tail


def test_without_the_phase_variables_it_says_how_to_run_it(tmp_path: Path) -> None:
    script = write_script(tmp_path, "{}\n")

    done = subprocess.run(
        [sys.executable, "-m", MODULE, "--script", str(script)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr == (
        f"{script}: BACKLOG_ITEM_ID is not set; "
        "run this program through the command agent, which sets it\n"
    )


def test_check_requires_an_existing_well_formed_script(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    with pytest.raises(AgentError, match=r"missing.yml does not exist; set agent.script"):
        ScriptedAgent(missing).check()
    with pytest.raises(ScriptError, match="unknown action"):
        ScriptedAgent(write_script(tmp_path, "INV-3:\n  red: [[dance: now]]\n")).check()
    ScriptedAgent(write_script(tmp_path, "INV-3:\n  red: [[print: hi]]\n")).check()


def test_the_script_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    agent = ScriptedAgent(Path("script.yml"))

    assert agent.command == (
        sys.executable,
        "-m",
        "continuous_backlog_executor.agents.scripted",
        "--script",
        str(tmp_path / "script.yml"),
    )


def test_every_action_can_be_performed() -> None:
    assert sorted(scripted.PERFORM) == list(ACTIONS)


def test_an_empty_script_has_no_steps(tmp_path: Path) -> None:
    assert load(write_script(tmp_path, "")).steps("INV-3", Phase.RED, 1) == ()
