"""``backlog run`` end to end on what needs a human or goes beyond one pull request: a public
interface change held for approval and resumed where it stopped, an item sliced into children
that are run on their own, and auto-merge of low-risk items."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from test_run import GREEN, RED, item, processed, run, script, user_files

from conftest import Outcome, git

RunCli = Callable[..., Outcome]
RENAMED = {
    "write": {
        "path": "calc/__init__.py",
        "content": "def add(x, y):\n    return x + y\n",
    }
}


def receipts(repo: Path, item_id: str = "CALC-1") -> list[dict[str, object]]:
    folder = repo / ".git" / "backlog-executor" / "receipts" / item_id
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def steps(receipt: dict[str, object]) -> list[str]:
    return [str(s["name"]) for s in receipt["steps"]]  # type: ignore[attr-defined]


def test_a_public_interface_change_waits_for_approval_then_continues_where_it_stopped(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    agent = script(tmp_path, {"red": [[RED]], "green": [[RENAMED]]})
    before = user_files(project)

    held = processed(run(run_cli, agent))

    assert (held["outcome"], held["status"]) == ("needs human", "BLOCKED")
    assert held["reason"] == (
        "needs approval: public interface change: "
        "calc/__init__.py: add(a, b) -> add(x, y) (changed)"
    )
    assert run_cli("prs", "--format", "json").out.strip() == "[]"
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    work = git(project, "rev-parse", branch)

    approved = run_cli("approve", "CALC-1", "--note", "the rename is intended")
    assert approved.code == 0, approved.err
    assert item(project)["status"] == "READY"
    resumed = processed(run(run_cli, agent))

    assert (resumed["outcome"], resumed["status"]) == ("success", "PR")
    assert git(project, "rev-parse", branch) == work  # the same commits, not redone
    first, second = receipts(project)
    assert "green" in steps(first)
    assert steps(second) == ["escalation", "pull request"]
    prompts = sorted(p.name for p in (project / ".git/backlog-executor").rglob("*.prompt.md"))
    assert [p for p in prompts if p.startswith("green")] == ["green-1.prompt.md"]
    assert user_files(project) == before


def test_a_large_item_is_sliced_and_its_slices_are_done_on_their_own(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    backlog = project / "DOCS" / "backlog.yml"
    data = YAML(typ="safe").load(backlog.read_text())
    data["items"][0]["effort"] = 6
    with backlog.open("w") as stream:
        YAML().dump(data, stream)
    git(project, "commit", "-qam", "effort 6")
    children = [
        {"title": "add sums two numbers", "effort": 2, "acceptance_criteria": ["add(2, 3) is 5"]},
        {"title": "add has a docstring", "effort": 1, "acceptance_criteria": ["it is documented"]},
    ]
    documented = {
        "replace": {"path": "calc/__init__.py", "old": ":\n", "new": ':\n    """Sum."""\n'}
    }
    doc_test = {
        "write": {
            "path": "tests/test_doc.py",
            "content": "from calc import add\n\n\ndef test_doc():\n    assert add.__doc__\n",
        }
    }
    agent = tmp_path / "script.yml"
    with agent.open("w") as stream:
        YAML().dump(
            {
                "CALC-1": {"slice": [[{"answer": children}]]},
                "CALC-1.1": {"red": [[RED]], "green": [[GREEN]]},
                "CALC-1.2": {"red": [[doc_test]], "green": [[documented]]},
            },
            stream,
        )

    outcome = run(run_cli, agent, "--set", "execution.auto_merge=true")

    assert outcome.code == 0, outcome.err
    rows = {row["id"]: row for row in json.loads(outcome.out)["processed"]}
    assert rows["CALC-1"]["reason"] == "split into 2 slices: CALC-1.1, CALC-1.2"
    assert rows["CALC-1.1"]["status"] == rows["CALC-1.2"]["status"] == "DONE"
    stored = {i["id"]: i for i in YAML(typ="safe").load(backlog.read_text())["items"]}
    assert stored["CALC-1.1"]["links"] == ["parent:CALC-1"]
    assert stored["CALC-1"]["status"] == "DONE"
    merged = git(project, "show", "main:calc/__init__.py")
    assert merged == 'def add(a, b):\n    """Sum."""\n    return a + b\n'


@pytest.mark.parametrize("auto_merge", [False, True])
def test_auto_merge_is_off_by_default_and_merges_a_low_risk_item_when_on(
    project: Path, tmp_path: Path, run_cli: RunCli, auto_merge: bool
) -> None:
    agent = script(tmp_path, {"red": [[RED]], "green": [[GREEN]]})
    extra = ("--set", "execution.auto_merge=true") if auto_merge else ()

    row = processed(run(run_cli, agent, *extra))

    code = git(project, "show", "main:calc/__init__.py")
    prs = json.loads(run_cli("prs", "--format", "json").out)
    if auto_merge:
        assert row["status"] == "DONE"
        assert code.endswith("return a + b\n")
        assert [pr["state"] for pr in prs] == ["merged"]
        assert (project / "calc" / "__init__.py").read_text() == code  # the checkout follows
    else:
        assert row["status"] == "PR"
        assert code.endswith("return a - b\n")
        assert [pr["state"] for pr in prs] == ["open"]


def test_an_approved_risky_item_is_not_auto_merged(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    agent = script(tmp_path, {"red": [[RED]], "green": [[RENAMED]]})
    run(run_cli, agent, "--set", "execution.auto_merge=true")
    run_cli("approve", "CALC-1")

    row = processed(run(run_cli, agent, "--set", "execution.auto_merge=true"))

    assert row["status"] == "PR"
    assert str(row["reason"]).endswith("not auto-merged: it needed approval")
    assert git(project, "show", "main:calc/__init__.py").endswith("return a - b\n")
