"""``backlog run`` end to end: a real project in a temporary git repository, the scripted
stand-in agent run as a real subprocess, and the engine's gates deciding every step."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import Outcome, git

RunCli = Callable[..., Outcome]

RED = {
    "write": {
        "path": "tests/test_add.py",
        "content": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    }
}
GREEN = {"replace": {"path": "calc/__init__.py", "old": "a - b", "new": "a + b"}}


def script(path: Path, phases: Mapping[str, object]) -> Path:
    """A scripted-agent script for CALC-1."""
    target = path / "script.yml"
    with target.open("w", encoding="utf-8") as stream:
        YAML().dump({"CALC-1": phases}, stream)
    return target


def run(run_cli: RunCli, script_file: Path, *extra: str) -> Outcome:
    return run_cli(
        "run",
        "--no-discover",
        "--format",
        "json",
        "--set",
        "agent.type=scripted",
        "--set",
        f"agent.script={script_file}",
        "--set",
        "execution.max_tries=1",
        "--set",
        "agent.timeout=20",
        *extra,
    )


def user_files(repo: Path) -> dict[str, bytes]:
    """The user's checkout, minus the files the engine itself keeps (DOCS/)."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] not in (".git", "DOCS")
    }


def item(repo: Path) -> dict[str, object]:
    data = YAML(typ="safe").load((repo / "DOCS" / "backlog.yml").read_text())
    return next(i for i in data["items"] if i["id"] == "CALC-1")


def processed(outcome: Outcome) -> dict[str, object]:
    assert outcome.code == 0, outcome.err
    rows = json.loads(outcome.out)["processed"]
    assert len(rows) == 1
    return dict(rows[0])


def test_an_item_goes_to_a_pull_request_and_the_checkout_is_untouched(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    before = user_files(project)
    index = git(project, "diff", "--cached")
    head = git(project, "rev-parse", "HEAD")
    agent = script(tmp_path, {"red": [[RED]], "green": [[GREEN]]})

    row = processed(run(run_cli, agent))

    assert (row["outcome"], row["status"]) == ("success", "PR")
    assert row["pr_url"] == "local://pr/1"
    assert user_files(project) == before
    assert (git(project, "diff", "--cached"), git(project, "rev-parse", "HEAD")) == (index, head)
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    assert branch.startswith("backlog/CALC-1-")
    log = git(project, "log", "--format=%s", f"main..{branch}").splitlines()
    assert log == [
        "fix: add returns the difference instead of the sum",
        "test: add returns the difference instead of the sum",
    ]
    assert git(project, "show", f"{branch}:calc/__init__.py").endswith("return a + b\n")
    stored = item(project)
    assert stored["status"] == "PR"
    assert stored["pr_url"] == "local://pr/1"
    receipt_path = next((project / ".git" / "backlog-executor" / "receipts").rglob("*.json"))
    receipt = json.loads(receipt_path.read_text())
    assert receipt["red_tests"] == ["tests.test_add::test_add"]
    assert receipt["outcome"] == "success"
    names = [step["name"] for step in receipt["steps"]]
    assert names[:3] == ["base tests", "red", "green"]
    assert "security" in names
    assert "ci" in names


@pytest.mark.parametrize(
    ("phases", "outcome", "reason"),
    [
        pytest.param({}, "no change", "red: no change: the agent changed no file", id="no-change"),
        pytest.param(
            {
                "red": [
                    [
                        {
                            "write": {
                                "path": "tests/test_add.py",
                                "content": "def test_add():\n    assert True\n",
                            }
                        }
                    ]
                ]
            },
            "gate failed",
            "gate failed at red: the new tests pass on the unchanged code",
            id="test-passes-on-unchanged-code",
        ),
        pytest.param(
            {"red": [[RED, {"syntax_error": "tests/test_add.py"}]]},
            "gate failed",
            "gate failed at red: the new tests do not load (SyntaxError)",
            id="syntax-error",
        ),
        pytest.param(
            {"red": [[RED, {"write": {"path": "calc/extra.py", "content": "x = 1\n"}}]]},
            "gate failed",
            "gate failed at red: the red phase may change tests only; it changed calc/extra.py",
            id="red-changes-code",
        ),
        pytest.param(
            {
                "red": [[RED]],
                "green": [
                    [
                        GREEN,
                        {"replace": {"path": "tests/test_add.py", "old": "== 5", "new": "== -1"}},
                    ]
                ],
            },
            "gate failed",
            "gate failed at green: tests may not change after the red phase: tests/test_add.py",
            id="green-edits-a-test",
        ),
        pytest.param(
            {"red": [[RED]], "green": [[{"delete": "tests/test_add.py"}]]},
            "gate failed",
            "gate failed at green: tests may not change after the red phase: tests/test_add.py",
            id="green-deletes-a-test",
        ),
        pytest.param(
            {
                "red": [[RED]],
                "green": [
                    [
                        {
                            "append": {
                                "path": "pyproject.toml",
                                "content": 'addopts = "--deselect tests/test_add.py::test_add"\n',
                            }
                        }
                    ]
                ],
            },
            "gate failed",
            "gate failed at green: the red tests did not run: tests.test_add::test_add",
            id="green-deselects-the-test",
        ),
        pytest.param(
            {"red": [[RED]], "green": [[{"print": "All tests pass. Task complete!"}]]},
            "no change",
            "green: no change: the agent changed no file",
            id="fake-success-message",
        ),
    ],
)
def test_a_misbehaving_agent_never_reaches_a_pull_request(
    project: Path,
    tmp_path: Path,
    run_cli: RunCli,
    phases: dict[str, list[list[dict[str, object]]]],
    outcome: str,
    reason: str,
) -> None:
    before = user_files(project)

    row = processed(run(run_cli, script(tmp_path, phases)))

    assert (row["outcome"], row["status"]) == (outcome, "BLOCKED")
    assert str(row["reason"]).startswith(reason)
    assert item(project)["blocked_reason"] == row["reason"]
    assert user_files(project) == before
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_a_new_item_whose_micro_cycle_changes_nothing_is_blocked_not_left_doing(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # Slices are written NEW with their criteria, so they go straight to DOING; a "no change"
    # stop must still leave them somewhere the next run can see, not in DOING.
    backlog = project / "DOCS" / "backlog.yml"
    backlog.write_text(backlog.read_text().replace("status: READY", "status: NEW"))
    git(project, "commit", "-q", "-am", "CALC-1 is new")

    row = processed(run(run_cli, script(tmp_path, {})))

    assert (row["outcome"], row["status"]) == ("no change", "BLOCKED")
    assert item(project)["status"] == "BLOCKED"


def test_an_agent_that_commits_on_its_own_is_judged_like_any_other(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    agent = script(
        tmp_path, {"red": [[RED, {"commit": "wip"}]], "green": [[GREEN, {"commit": "done!"}]]}
    )

    row = processed(run(run_cli, agent))

    assert (row["outcome"], row["status"]) == ("success", "PR")
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    subjects = git(project, "log", "--format=%s", f"main..{branch}").splitlines()
    assert subjects == [
        "fix: add returns the difference instead of the sum",
        "test: add returns the difference instead of the sum",
    ]


def test_writing_outside_the_worktree_through_a_symlink_is_caught(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    phases = {
        "red": [
            [
                {"symlink": {"path": "tests/elsewhere", "target": str(outside)}},
                {
                    "write": {
                        "path": "tests/elsewhere/test_x.py",
                        "content": "def test_x():\n    assert False\n",
                    }
                },
            ]
        ]
    }

    row = processed(run(run_cli, script(tmp_path, phases)))

    assert (row["outcome"], row["status"]) == ("gate failed", "BLOCKED")
    assert "wrote outside its worktree through symlinks: tests/elsewhere" in str(row["reason"])


def test_a_hanging_agent_and_its_child_are_stopped(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    phases = {"red": [[{"spawn_sleeper": 60}, {"sleep": 60}]]}

    row = processed(run(run_cli, script(tmp_path, phases), "--set", "agent.timeout=1"))

    assert (row["outcome"], row["status"]) == ("timed out", "BLOCKED")
    transcript = next((project / ".git" / "backlog-executor" / "attempts").rglob("red-1.*.txt"))
    pid = int(transcript.read_text().split("spawned sleeper ", 1)[1].split()[0])
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().split(") ", 1)[1].startswith("Z")


def test_a_secret_leaked_into_the_diff_fails_the_security_gate(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_API_TOKEN", "tok-8f2b9c4d1e7a")
    phases = {
        "red": [[RED]],
        "green": [[GREEN, {"write_env": {"path": "calc/settings.py", "var": "DEMO_API_TOKEN"}}]],
    }

    row = processed(
        run(run_cli, script(tmp_path, phases), "--set", "execution.env_allow=DEMO_API_TOKEN")
    )

    assert (row["outcome"], row["status"]) == ("gate failed", "BLOCKED")
    assert str(row["reason"]).startswith("gate failed at security: ")
    assert "DEMO_API_TOKEN" in str(row["reason"])
    receipts = (project / ".git" / "backlog-executor" / "receipts").rglob("*.json")
    assert all("tok-8f2b9c4d1e7a" not in p.read_text() for p in receipts)


def test_without_an_agent_the_run_says_how_to_configure_one(project: Path, run_cli: RunCli) -> None:
    outcome = run_cli("run", "--no-discover")

    assert outcome.code == 1
    assert "no agent configured: set agent.type" in outcome.err


def test_a_security_failure_sends_the_item_back_to_green_with_the_evidence(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_API_TOKEN", "tok-8f2b9c4d1e7a")
    leak = {"write_env": {"path": "calc/settings.py", "var": "DEMO_API_TOKEN"}}
    phases = {"red": [[RED]], "green": [[GREEN, leak], [GREEN]]}

    row = processed(
        run(
            run_cli,
            script(tmp_path, phases),
            "--set",
            "execution.env_allow=DEMO_API_TOKEN",
            "--set",
            "execution.max_tries=2",
        )
    )

    assert (row["outcome"], row["status"]) == ("success", "PR")
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    history = git(project, "log", "-p", f"main..{branch}")
    assert "tok-8f2b9c4d1e7a" not in history
    assert "calc/settings.py" not in history
    attempts = project / ".git" / "backlog-executor" / "attempts"
    second = next(attempts.rglob("green-2.prompt.md")).read_text()
    assert "gate security failed" in second
    assert "DEMO_API_TOKEN" in second
    assert "tok-8f2b9c4d1e7a" not in second


def test_a_failing_check_command_is_a_failed_green_try(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    check = tmp_path / "check.py"
    check.write_text(
        "import pathlib, sys\n"
        "text = pathlib.Path('calc/__init__.py').read_text()\n"
        "sys.exit('lint: use a docstring' if '\"\"\"' not in text else 0)\n"
    )
    documented = {
        "write": {
            "path": "calc/__init__.py",
            "content": 'def add(a, b):\n    """The sum."""\n    return a + b\n',
        }
    }
    phases = {"red": [[RED]], "green": [[GREEN], [documented]]}
    command = shlex.join([sys.executable, str(check)])

    row = processed(
        run(
            run_cli,
            script(tmp_path, phases),
            "--set",
            f"execution.check_command={command}",
            "--set",
            "execution.max_tries=2",
        )
    )

    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    receipt = json.loads(
        next((project / ".git/backlog-executor/receipts").rglob("*.json")).read_text()
    )
    ci_steps = [(s["passed"], s["try_number"]) for s in receipt["steps"] if s["name"] == "ci"]
    assert ci_steps == [(False, 1), (True, 2)]
    prompt = next((project / ".git/backlog-executor/attempts").rglob("green-2.prompt.md"))
    assert "lint: use a docstring" in prompt.read_text()


def test_writing_into_the_users_checkout_is_caught(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    target = project / "calc" / "__init__.py"
    sneak = {"write": {"path": str(target), "content": "def add(a, b):\n    return a + b\n"}}
    phases = {"red": [[RED]], "green": [[GREEN, sneak]]}

    row = processed(run(run_cli, script(tmp_path, phases)))

    assert (row["outcome"], row["status"]) == ("gate failed", "BLOCKED")
    assert row["reason"] == (
        "gate failed at isolation: wrote outside its worktree: "
        "changed the user's checkout (calc/__init__.py)"
    )


def test_writing_beside_the_worktree_is_caught(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    phases = {"red": [[RED, {"write": {"path": "../planted.txt", "content": "x"}}]]}

    row = processed(run(run_cli, script(tmp_path, phases)))

    assert (row["outcome"], row["status"]) == ("gate failed", "BLOCKED")
    assert row["reason"] == (
        "gate failed at isolation: wrote outside its worktree: changed files beside the worktree"
    )


def test_code_that_skips_the_red_test_does_not_pass_green(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    skipping = {
        "write": {
            "path": "calc/__init__.py",
            "content": "import pytest\n\n\ndef add(a, b):\n    pytest.skip('later')\n",
        }
    }

    row = processed(run(run_cli, script(tmp_path, {"red": [[RED]], "green": [[skipping]]})))

    assert (row["outcome"], row["status"]) == ("gate failed", "BLOCKED")
    assert str(row["reason"]).startswith("gate failed at green: ")
    assert "skipped" in str(row["reason"])


def test_max_cycle_time_bounds_one_item(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    phases = {"red": [[RED]], "green": [[{"sleep": 30}]]}

    row = processed(run(run_cli, script(tmp_path, phases), "--set", "execution.max_cycle_time=3"))

    assert (row["outcome"], row["status"]) == ("timed out", "BLOCKED")
    assert row["reason"] == "max_cycle_time of 3s used up"


def test_a_new_attempt_is_told_how_the_earlier_one_ended(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    passing = {"write": {"path": "tests/test_add.py", "content": "def test_add():\n    pass\n"}}
    agent = script(tmp_path, {"red": [[passing]]})
    processed(run(run_cli, agent))
    assert run_cli("unblock", "CALC-1").code == 0

    processed(run(run_cli, agent))

    attempts = project / ".git" / "backlog-executor" / "attempts" / "CALC-1"
    assert "earlier attempt" not in (attempts / "1" / "red-1.prompt.md").read_text()
    prompt = (attempts / "2" / "red-1.prompt.md").read_text()
    assert "An earlier attempt at this item (in a previous run) did not reach a pull request" in (
        prompt
    )
    assert "the new tests pass on the unchanged code" in prompt


def test_agents_and_tests_get_a_scrubbed_environment(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "canary-5e8d2c1b9a7f")
    monkeypatch.setenv("SOME_SERVICE_URL", "https://internal.example")
    checked = (
        "import os\n\nfrom calc import add\n\n\ndef test_add():\n"
        "    assert 'DEPLOY_TOKEN' not in os.environ\n"
        "    assert 'SOME_SERVICE_URL' not in os.environ\n"
        "    assert 'PATH' in os.environ\n"
        "    assert add(2, 3) == 5\n"
    )
    red = {"write": {"path": "tests/test_add.py", "content": checked}}
    seen = {"write_env": {"path": "calc/seen.txt", "var": "DEPLOY_TOKEN"}}
    phases = {"red": [[red]], "green": [[GREEN, seen]]}

    outcome = run(run_cli, script(tmp_path, phases))
    row = processed(outcome)

    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    assert "canary-5e8d2c1b9a7f" not in git(project, "log", "-p", branch)
    state = project / ".git" / "backlog-executor"
    kept = [p.read_text(errors="replace") for p in state.rglob("*") if p.is_file()]
    assert not any("canary-5e8d2c1b9a7f" in text for text in kept)
    assert "canary-5e8d2c1b9a7f" not in outcome.out + outcome.err
