"""``backlog run`` across a portfolio (``github.reposToScan``) against the GitHub stand-in: an
issue of another repository is worked on in a clone of it kept in the state store, and its pull
request opened there, while the manager repository's checkout is left alone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import Outcome, git
from continuous_backlog_executor.github.stand_in import GitHubStandIn

RunCli = Callable[..., Outcome]
TOKEN = "ghp_portfolio0123456789abcdef"
RED = {
    "write": {
        "path": "tests/test_add.py",
        "content": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    }
}
FIX = {"write": {"path": "calc/__init__.py", "content": "def add(a, b):\n    return a + b\n"}}


@pytest.fixture
def manager(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain repository managing the portfolio: the current directory (after ``project``,
    the calc project acme/calc holds, made it the current directory)."""
    root = tmp_path / "manager"
    root.mkdir()
    git(root, "init", "-q", "--initial-branch=main")
    (root / "README.md").write_text("# manager\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "remote", "add", "origin", "https://github.com/acme/manager.git")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def github(
    project: Path, manager: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GitHubStandIn]:
    """acme/manager and acme/calc (holding the calc project) on the stand-in, and a token."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with GitHubStandIn() as stand_in:
        stand_in.add_repo("acme", "manager", collaborators={"alice": "write"})
        stand_in.add_repo("acme", "calc", collaborators={"alice": "write"})
        stand_in.require_token(TOKEN)
        git(manager, "push", "-q", stand_in.git_url("acme", "manager"), "HEAD:refs/heads/main")
        git(project, "push", "-q", stand_in.git_url("acme", "calc"), "HEAD:refs/heads/main")
        yield stand_in


def options(github: GitHubStandIn) -> list[str]:
    folder = Path(github.git_url("acme", "calc")).parent.parent
    settings = {
        "github.apiUrl": github.api_url,
        "github.reposToScan": "acme/calc",
        "github.cloneUrl": f"{folder}/{{repo}}.git",
        "github.pushUrl": github.git_url("acme", "manager"),
    }
    return [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]


def items(manager: Path) -> list[dict[str, object]]:
    data = YAML(typ="safe").load((manager / "DOCS" / "backlog.yml").read_text())
    return [dict(item) for item in data["items"]]


def test_an_issue_of_another_repository_is_worked_on_in_its_clone(
    manager: Path, run_cli: RunCli, github: GitHubStandIn, tmp_path: Path
) -> None:
    github.add_issue(
        "acme",
        "calc",
        "add returns the difference",
        body="- [ ] add(2, 3) is 5",
        labels=["bug"],
        user="alice",
    )
    found = run_cli("discover", "--source", "github_issues", *options(github))
    assert found.code == 0, found.err
    [item] = items(manager)
    script = tmp_path / "script.yml"
    with script.open("w") as stream:
        YAML().dump({str(item["id"]): {"red": [[RED]], "green": [[FIX]]}}, stream)
    before = git(manager, "status", "--porcelain")

    outcome = run_cli(
        "run", "--no-discover", "--format", "json", *options(github),
        "--set", "agent.type=scripted", "--set", f"agent.script={script}",
        "--set", "execution.forge=github", "--set", "github.draft=false",
        "--set", "execution.max_tries=1",
    )  # fmt: skip

    assert outcome.code == 0, outcome.err
    assert TOKEN not in outcome.out + outcome.err
    [row] = json.loads(outcome.out)["processed"]
    assert (row["outcome"], row["status"]) == ("success", "PR"), row["reason"]
    clone = manager / ".git" / "backlog-executor" / "repos" / "acme" / "calc"
    assert (clone / "calc" / "__init__.py").exists()
    calc = github.repo("acme", "calc")
    [pull] = [github.pull_json(calc, t) for t in calc.threads.values() if t.pull is not None]
    assert "Fixes acme/calc#1" in str(pull["body"])
    assert items(manager)[0]["status"] == "PR"
    assert items(manager)[0]["pr_url"] == pull["html_url"]
    assert not github.repo("acme", "manager").threads
    assert git(manager, "status", "--porcelain") == before
    assert git(manager, "branch", "--list", "backlog/*") == ""
    branch = git(clone, "branch", "--list", "backlog/*", "--format=%(refname:short)").strip()
    assert git(Path(github.git_url("acme", "calc")), "rev-parse", branch) == git(
        clone, "rev-parse", branch
    )

    # The next run follows the pull request on acme/calc: merged there, DONE here.
    github.merge_pull("acme", "calc", int(str(pull["number"])))
    again = run_cli("run", "--no-discover", "--format", "json", *options(github),
                    "--set", "agent.type=scripted", "--set", f"agent.script={script}",
                    "--set", "execution.forge=github")  # fmt: skip
    assert again.code == 0, again.err
    assert [f["status"] for f in json.loads(again.out)["followed"]] == ["DONE"]
    assert items(manager)[0]["status"] == "DONE"


def test_a_repository_that_cannot_be_cloned_blocks_only_its_items(
    manager: Path, run_cli: RunCli, github: GitHubStandIn, tmp_path: Path
) -> None:
    github.add_issue(
        "acme", "calc", "add returns the difference", body="- [ ] add(2, 3) is 5",
        labels=["bug"], user="alice",
    )  # fmt: skip
    assert run_cli("discover", "--source", "github_issues", *options(github)).code == 0
    broken = [*options(github), "--set", f"github.cloneUrl={tmp_path}/missing/{{repo}}.git"]
    script = tmp_path / "none.yml"
    script.write_text("{}\n")

    outcome = run_cli(
        "run", "--no-discover", "--format", "json", *broken,
        "--set", "agent.type=scripted", "--set", f"agent.script={script}",
    )  # fmt: skip

    assert outcome.code == 0, outcome.err
    [row] = json.loads(outcome.out)["processed"]
    assert row["status"] == "BLOCKED"
    assert "acme/calc" in str(row["reason"])
    assert items(manager)[0]["status"] == "BLOCKED"
