"""``backlog run`` with a model API as the agent: the engine's own tool loop against the stand-in
model servers (real HTTP over loopback, both wire formats), with the same gates as for any agent,
budgets that fail closed, and secrets that never leave the engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from test_run import item, processed, user_files

from conftest import Outcome, git
from continuous_backlog_executor.agents.stand_in import StandInServer

RunCli = Callable[..., Outcome]
CANARY = "canary-7d1e0b9f4c2a"
KEY = "sk-test-0a9b8c7d6e5f"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def call(name: str, **arguments: object) -> dict[str, object]:
    return {"name": name, "arguments": arguments}


def turn(*calls: dict[str, object], text: str = "", tokens: int = 100) -> dict[str, object]:
    return {
        "text": text,
        "tool_calls": list(calls),
        "usage": {"input_tokens": tokens, "output_tokens": tokens // 4},
    }


RED = [
    turn(call("read_file", path="calc/__init__.py")),
    turn(call("write_file", path="tests/test_add.py", content=TEST), call("finish", summary="t")),
]
GREEN = [
    turn(call("run_tests")),
    turn(
        call("replace_in_file", path="calc/__init__.py", old="a - b", new="a + b"),
        call("finish", summary="fixed"),
    ),
]
REFACTOR = [turn(call("finish", summary="nothing to tidy"))]


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A canary secret and the API keys in the engine's environment."""
    monkeypatch.setenv("DEPLOY_TOKEN", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)


def run_with(run_cli: RunCli, server: StandInServer, *extra: str) -> Outcome:
    return run_cli(
        "run",
        "--no-discover",
        "--format",
        "json",
        "--set",
        f"agent.type={server.api}",
        "--set",
        f"agent.base_url={server.base_url}",
        "--set",
        "agent.model=stand-in-1",
        "--set",
        "execution.max_tries=1",
        *extra,
    )


def everything_written(repo: Path) -> str:
    """Every file the engine wrote or keeps: state, backlog, reports, branches' diffs."""
    texts = []
    for path in sorted((repo / ".git" / "backlog-executor").rglob("*")) + sorted(
        (repo / "DOCS").rglob("*")
    ):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    texts.append(git(repo, "log", "-p", "--all"))
    return "\n".join(texts)


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_model_drives_an_item_through_red_and_green_with_tool_calls(
    project: Path, run_cli: RunCli, secrets: None, api: str
) -> None:
    before = user_files(project)
    with StandInServer(api, [*RED, *GREEN, *REFACTOR]) as server:  # type: ignore[arg-type]
        prices = ("--set", "agent.price_input=2", "--set", "agent.price_output=8")
        result = run_with(run_cli, server, *prices, "--set", "log_level=DEBUG")
        requests = list(server.requests)
    row = processed(result)

    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    assert row["usage"] == {
        "input_tokens": 500,
        "output_tokens": 125,
        "cost_usd": pytest.approx((500 * 2 + 125 * 8) / 1e6),
        "turns": 5,
    }
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    assert git(project, "show", f"{branch}:calc/__init__.py").endswith("return a + b\n")
    assert user_files(project) == before
    # The key went to the API, and nowhere else; the canary went nowhere at all.
    sent = [r.headers.get("authorization") or r.headers.get("x-api-key") for r in requests]
    assert all(KEY in str(value) for value in sent)
    bodies = json.dumps([r.json for r in requests])
    assert CANARY not in bodies
    assert KEY not in bodies
    kept = everything_written(project) + result.out + result.err
    assert CANARY not in kept
    assert KEY not in kept
    # The model saw the tool results: the read file and the failing test run.
    assert "return a - b" in bodies
    receipt = json.loads(
        next((project / ".git/backlog-executor/receipts").rglob("*.json")).read_text()
    )
    green = [s for s in receipt["steps"] if s["name"] == "green"]
    assert green[0]["ending"] == "finished"
    assert green[0]["usage"]["turns"] == 2


def test_a_model_escaping_the_worktree_is_told_no_and_nothing_leaves(
    project: Path, run_cli: RunCli, secrets: None, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    escape = [
        turn(call("write_file", path="../../outside.txt", content="x")),
        turn(call("write_file", path=str(outside), content="x")),
        turn(call("read_file", path="/etc/passwd")),
        *RED,
    ]
    with StandInServer("openai", [*escape, *GREEN, *REFACTOR]) as server:
        row = processed(run_with(run_cli, server))
        results = [
            m for r in server.requests for m in r.json["messages"] if m.get("role") == "tool"
        ]

    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    assert not outside.exists()
    refusals = [m["content"] for m in results[:3]]
    assert all("refused" in text for text in refusals), refusals


@pytest.mark.parametrize(
    ("turns", "extra", "outcome", "status", "reason"),
    [
        pytest.param(
            [{"status": 401, "message": "invalid key"}],
            (),
            "api error",
            "READY",
            "not attempted further: the model API refused: ",
            id="401-stops-the-run",
        ),
        pytest.param(
            [{"status": 429, "headers": {"Retry-After": "0"}}, *RED, *GREEN, *REFACTOR],
            (),
            "success",
            "PR",
            "pull request",
            id="429-then-success",
        ),
        pytest.param(
            [turn(call("read_file", path="README.md"))] * 5,
            ("--set", "agent.max_turns=3"),
            "max turns",
            "BLOCKED",
            "the agent used all its turns in red",
            id="turn-cap",
        ),
        pytest.param(
            [turn(call("read_file", path="README.md"), tokens=4000)] * 5,
            ("--set", "budget.item_tokens=6000"),
            "over budget",
            "BLOCKED",
            "budget exhausted: ",
            id="token-budget",
        ),
        pytest.param(
            [{"text": "Should I use floats or ints?"}] * 2,
            (),
            "asked a question",
            "BLOCKED",
            "the agent asked a question: Should I use floats or ints?",
            id="asks-a-question",
        ),
        pytest.param(
            [
                turn({"name": "write_file", "arguments": "{not json"}),
                *RED,
                *GREEN,
                *REFACTOR,
            ],
            (),
            "success",
            "PR",
            "pull request",
            id="malformed-arguments-are-answered",
        ),
    ],
)
def test_how_a_model_run_ends_is_classified(
    project: Path,
    run_cli: RunCli,
    secrets: None,
    turns: list[Mapping[str, object]],
    extra: tuple[str, ...],
    outcome: str,
    status: str,
    reason: str,
) -> None:
    with StandInServer("openai", turns) as server:
        result = run_with(run_cli, server, *extra)

    rows = json.loads(result.out)["processed"]
    assert len(rows) == 1, result.err
    row = rows[0]
    assert (row["outcome"], row["status"]) == (outcome, status), row["reason"]
    assert str(row["reason"]).startswith(reason) or reason in str(row["reason"]), row["reason"]
    assert item(project)["status"] == status
    assert KEY not in result.out + result.err


def test_a_budget_hit_keeps_the_work_so_far(project: Path, run_cli: RunCli, secrets: None) -> None:
    turns = [
        turn(call("write_file", path="tests/test_add.py", content=TEST), tokens=4000),
        turn(call("read_file", path="README.md"), tokens=4000),
    ]
    with StandInServer("openai", turns) as server:
        row = processed(run_with(run_cli, server, "--set", "budget.item_tokens=9000"))

    assert (row["outcome"], row["status"]) == ("over budget", "BLOCKED")
    kept = git(project, "for-each-ref", "--format=%(refname)", "refs/backlog/partial/")
    assert kept.strip() == "refs/backlog/partial/CALC-1/1"
    assert git(project, "show", "refs/backlog/partial/CALC-1/1:tests/test_add.py") == TEST


def test_a_run_budget_stops_taking_items(project: Path, run_cli: RunCli, secrets: None) -> None:
    with StandInServer("openai", [*RED, *GREEN, *REFACTOR]) as server:
        result = run_with(run_cli, server, "--set", "budget.run_tokens=100")

    summary = json.loads(result.out)
    assert [row["outcome"] for row in summary["processed"]] == ["over budget"]
    assert summary["stopped"].startswith("the run's budget is spent: ")
