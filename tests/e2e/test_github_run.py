"""``backlog run`` with the GitHub forge against the GitHub stand-in: the item's branch is pushed
to the stand-in's bare remote and a pull request opened with the evidence receipt as its body;
later runs follow it: requested changes or a failing check send the item back to work with the
feedback (the same pull request is updated), merged makes it DONE, closed makes it BLOCKED."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import Outcome, git
from continuous_backlog_executor.github.stand_in import GitHubStandIn

RunCli = Callable[..., Outcome]
TOKEN = "ghp_run0123456789abcdef"
RED = {
    "write": {
        "path": "tests/test_add.py",
        "content": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    }
}
# Appending a right definition fixes add, and changes the file again in every later round.
FIX = {"append": {"path": "calc/__init__.py", "content": "\n\ndef add(a, b):\n    return a + b\n"}}


@pytest.fixture
def github(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubStandIn]:
    """acme/widgets on the stand-in, as the project's origin, with main pushed and a token;
    CALC-1 came from its issue #7."""
    backlog = project / "DOCS" / "backlog.yml"
    data = YAML(typ="safe").load(backlog.read_text())
    data["items"][0]["source"] = {
        "kind": "github_issues",
        "url": "https://github.com/acme/widgets/issues/7",
    }
    with backlog.open("w") as stream:
        YAML().dump(data, stream)
    git(project, "remote", "add", "origin", "https://github.com/acme/widgets.git")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with GitHubStandIn() as stand_in:
        stand_in.add_repo("acme", "widgets", collaborators={"alice": "write"})
        stand_in.require_token(TOKEN)
        git(project, "push", "-q", stand_in.git_url("acme", "widgets"), "HEAD:refs/heads/main")
        yield stand_in


def run(run_cli: RunCli, github: GitHubStandIn, tmp_path: Path) -> dict[str, object]:
    script = tmp_path / "script.yml"
    with script.open("w") as stream:
        YAML().dump({"CALC-1": {"red": [[RED]], "green": [[FIX]]}}, stream)
    outcome = run_cli(
        "run", "--no-discover", "--format", "json",
        "--set", "agent.type=scripted", "--set", f"agent.script={script}",
        "--set", "execution.forge=github", "--set", f"github.apiUrl={github.api_url}",
        "--set", f"github.pushUrl={github.git_url('acme', 'widgets')}",
        "--set", "github.draft=false", "--set", "execution.max_tries=1",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    assert TOKEN not in outcome.out + outcome.err
    return dict(json.loads(outcome.out))


def only_row(report: dict[str, object]) -> dict[str, object]:
    rows = report["processed"]
    assert isinstance(rows, list)
    assert len(rows) == 1
    return dict(rows[0])


def item(project: Path) -> dict[str, object]:
    data = YAML(typ="safe").load((project / "DOCS" / "backlog.yml").read_text())
    return dict(data["items"][0])


def pulls(github: GitHubStandIn) -> list[dict[str, object]]:
    repo = github.repo("acme", "widgets")
    return [github.pull_json(repo, t) for t in repo.threads.values() if t.pull is not None]


def test_review_changes_requested_then_merged(
    project: Path, run_cli: RunCli, github: GitHubStandIn, tmp_path: Path
) -> None:
    first = run(run_cli, github, tmp_path)

    row = only_row(first)
    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    [pull] = pulls(github)
    assert "Backlog item **CALC-1**" in str(pull["body"])
    assert "Fixes acme/widgets#7" in str(pull["body"])
    assert item(project)["pr_url"] == pull["html_url"]
    remote = github.git_url("acme", "widgets")
    branch = git(project, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    assert git(Path(remote), "rev-parse", branch) == git(project, "rev-parse", branch)

    github.add_review(
        "acme", "widgets", int(str(pull["number"])), "CHANGES_REQUESTED",
        body="Please keep the old helper's name too", user="alice",
    )  # fmt: skip
    second = run(run_cli, github, tmp_path)

    assert [f["status"] for f in second["followed"]] == ["READY"]  # type: ignore[attr-defined]
    row = only_row(second)
    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    assert len(pulls(github)) == 1  # the same pull request, updated
    assert git(Path(remote), "rev-parse", branch) == git(project, "rev-parse", branch)
    prompts = (project / ".git/backlog-executor/attempts/CALC-1/2").glob("green-*.prompt.md")
    assert any("Please keep the old helper's name too" in p.read_text() for p in prompts)
    assert git(project, "log", "-1", "--format=%s", branch).startswith("fix: address review")

    github.merge_pull("acme", "widgets", int(str(pull["number"])))
    third = run(run_cli, github, tmp_path)

    assert [f["status"] for f in third["followed"]] == ["DONE"]  # type: ignore[attr-defined]
    assert item(project)["status"] == "DONE"


def test_a_failing_check_sends_the_item_back_and_a_closed_pull_request_blocks_it(
    project: Path, run_cli: RunCli, github: GitHubStandIn, tmp_path: Path
) -> None:
    run(run_cli, github, tmp_path)
    [pull] = pulls(github)
    head = str(pull["head"]["sha"])  # type: ignore[index]
    github.add_check_run(
        "acme", "widgets", head, "lint", conclusion="failure", summary="E501 line too long"
    )

    again = run(run_cli, github, tmp_path)

    assert [f["status"] for f in again["followed"]] == ["READY"]  # type: ignore[attr-defined]
    assert "check lint failure" in again["followed"][0]["reason"]  # type: ignore[index]

    github.close_pull("acme", "widgets", int(str(pull["number"])))
    last = run(run_cli, github, tmp_path)

    assert [f["status"] for f in last["followed"]] == ["BLOCKED"]  # type: ignore[attr-defined]
    assert "closed without merging" in str(item(project)["blocked_reason"])
