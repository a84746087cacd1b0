"""Tests for the local forge on real git repositories, with and without a checkout of the base."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor.forges import FORGE_TYPES, make_forge
from continuous_backlog_executor.forges.base import ForgeError, PullRequest, PullState
from continuous_backlog_executor.forges.local import LocalForge
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
Tree = dict[str, bytes]


def forge(repo: Path) -> LocalForge:
    """The local forge of ``repo``, with its state beside the repository and a fixed clock."""
    return LocalForge(repo, StateStore(repo.parent / "state"), clock=lambda: NOW)


def commit_on(repo: Path, branch: str, files: dict[str, str], *, start: str = "main") -> str:
    """Commit ``files`` on ``branch`` (made from ``start`` if new) and return to the checkout."""
    back = git(repo, "branch", "--show-current").strip()
    exists = git(repo, "branch", "--list", branch).strip()
    git(repo, "checkout", "-q", *([branch] if exists else ["-b", branch, start]))
    for name, text in files.items():
        (repo / name).write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"change {', '.join(files)}")
    git(repo, "checkout", "-q", back)
    return tip(repo, branch)


def tip(repo: Path, branch: str) -> str:
    """The commit ``branch`` points at."""
    return git(repo, "rev-parse", f"refs/heads/{branch}").strip()


def snapshot(root: Path) -> Tree:
    """Every file of the work tree with its bytes, outside ``.git``."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def open_pr(repo: Path, item_id: str = "BL-1", branch: str = "backlog/BL-1") -> PullRequest:
    """Open a pull request for ``branch`` into main."""
    return forge(repo).open(
        item_id=item_id, branch=branch, base="main", title=f"Fix {item_id}", body="Done."
    )


@pytest.fixture
def elsewhere(repo: Path) -> Path:
    """``repo`` with its checkout on another branch, so main is checked out nowhere."""
    git(repo, "checkout", "-q", "-b", "elsewhere")
    return repo


# --- opening and finding ---------------------------------------------------------------------


def test_open_gives_the_first_pull_request_number_1(repo: Path) -> None:
    head = commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})

    pr = open_pr(repo)

    assert pr == PullRequest(
        1, "BL-1", "backlog/BL-1", "main", "Fix BL-1", "Done.", "local://pr/1",
        PullState.OPEN, head, NOW,
    )  # fmt: skip
    record = json.loads((repo.parent / "state" / "prs" / "1.json").read_text())
    assert record["state"] == "open"
    assert record["created_at"] == "2026-01-31T12:00:00Z"
    assert forge(repo).find("1") == pr


def test_opening_the_same_branch_again_updates_its_open_pull_request(repo: Path) -> None:
    commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    open_pr(repo)
    head = commit_on(repo, "backlog/BL-1", {"feature.txt": "newer\n"})

    pr = forge(repo).open(
        item_id="BL-1", branch="backlog/BL-1", base="main", title="Better", body="More."
    )

    assert (pr.number, pr.title, pr.body, pr.head) == (1, "Better", "More.", head)
    assert forge(repo).list() == [pr]


def test_two_items_get_numbers_1_and_2_and_are_listed_by_number(repo: Path) -> None:
    commit_on(repo, "backlog/BL-1", {"one.txt": "1\n"})
    commit_on(repo, "backlog/BL-2", {"two.txt": "2\n"})

    first, second = open_pr(repo, "BL-1", "backlog/BL-1"), open_pr(repo, "BL-2", "backlog/BL-2")

    assert (first.number, second.number) == (1, 2)
    assert [pr.item_id for pr in forge(repo).list()] == ["BL-1", "BL-2"]


def test_concurrent_opens_never_take_the_same_number(repo: Path) -> None:
    branches = [f"backlog/BL-{n}" for n in range(1, 9)]
    for branch in branches:
        commit_on(repo, branch, {f"{branch.replace('/', '-')}.txt": "x\n"})

    with ThreadPoolExecutor(max_workers=len(branches)) as pool:
        opened = list(pool.map(lambda branch: open_pr(repo, branch[8:], branch), branches))

    assert sorted(pr.number for pr in opened) == list(range(1, 9))


def test_find_takes_a_number_or_an_item_id_and_prefers_the_latest(repo: Path) -> None:
    commit_on(repo, "backlog/BL-1", {"one.txt": "1\n"})
    first = open_pr(repo)
    forge(repo).merge("1")
    commit_on(repo, "backlog/BL-1", {"one.txt": "again\n"})
    second = open_pr(repo)

    assert second.number == 2
    assert forge(repo).find("#1") == forge(repo).find("1") != first  # merged since
    assert forge(repo).find("bl-1") == second
    assert forge(repo).find("BL-9") is None
    assert forge(repo).find("7") is None


def test_open_refuses_a_branch_that_does_not_exist(repo: Path) -> None:
    with pytest.raises(ForgeError, match=r"the pull request's branch, 'backlog/BL-1', does not"):
        open_pr(repo)


def test_a_damaged_record_is_reported_with_its_path(repo: Path) -> None:
    folder = repo.parent / "state" / "prs"
    folder.mkdir(parents=True)
    (folder / "3.json").write_text('{"number": "three"}')

    with pytest.raises(ForgeError, match=r"3\.json: not a readable pull request record"):
        forge(repo).list()


def test_make_forge_knows_the_local_forge_and_lists_valid_names(repo: Path) -> None:
    state = StateStore(repo.parent / "state")

    assert isinstance(make_forge("local", repo=repo, state=state), LocalForge)
    assert FORGE_TYPES == ("github", "local")
    with pytest.raises(ForgeError, match=r"unknown forge 'gitlab'; use one of: github, local"):
        make_forge("gitlab", repo=repo, state=state)


# --- merging ---------------------------------------------------------------------------------


def test_merge_with_base_checked_out_nowhere_touches_no_work_tree(elsewhere: Path) -> None:
    repo = elsewhere
    head = commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    old_main = tip(repo, "main")
    open_pr(repo)
    (repo / "README.md").write_text("# edited, not committed\n")
    before = snapshot(repo)

    pr = forge(repo).merge("BL-1")

    assert snapshot(repo) == before
    assert git(repo, "branch", "--show-current") == "elsewhere\n"
    assert pr.merge_commit == tip(repo, "main")
    assert (pr.state, pr.merged_at, pr.head) == (PullState.MERGED, NOW, head)
    assert git(repo, "rev-parse", "main^1", "main^2").split() == [old_main, head]
    assert git(repo, "log", "-1", "--format=%B", "main") == (
        "Merge pull request #1 from backlog/BL-1\n\nFix BL-1\n\n"
    )
    assert git(repo, "show", "main:feature.txt") == "new\n"
    assert forge(repo).find("1") == pr


def test_merge_into_the_checked_out_base_updates_its_files(repo: Path) -> None:
    head = commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    old_main = tip(repo, "main")
    open_pr(repo)
    (repo / "README.md").write_text("# edited, not committed\n")  # not touched by the merge

    pr = forge(repo).merge("1")

    assert (repo / "feature.txt").read_text() == "new\n"
    assert (repo / "README.md").read_text() == "# edited, not committed\n"
    assert pr.merge_commit == tip(repo, "main") == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "rev-parse", "HEAD^1", "HEAD^2").split() == [old_main, head]
    subject = git(repo, "log", "-1", "--format=%s", "HEAD")
    assert subject == "Merge pull request #1 from backlog/BL-1\n"
    assert git(repo, "status", "--porcelain") == " M README.md\n"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("modified", "README.md"),
        ("staged", "README.md"),
        ("untracked", "added.txt"),
        ("staged elsewhere", "other.txt"),
    ],
)
def test_uncommitted_work_in_the_way_refuses_the_merge_and_changes_nothing(
    repo: Path, change: str, named: str
) -> None:
    commit_on(repo, "backlog/BL-1", {"README.md": "# merged\n", "added.txt": "new\n"})
    old_main = tip(repo, "main")
    open_pr(repo)
    if change == "untracked":
        (repo / "added.txt").write_text("mine\n")
    elif change == "staged elsewhere":
        (repo / "other.txt").write_text("mine\n")
        git(repo, "add", "other.txt")
    else:
        (repo / "README.md").write_text("# mine\n")
        if change == "staged":
            git(repo, "add", "README.md")
    before, status = snapshot(repo), git(repo, "status", "--porcelain")

    with pytest.raises(ForgeError) as refused:
        forge(repo).merge("1")

    message = str(refused.value)
    assert message.startswith("cannot merge pull request #1 into main, which is checked out in ")
    assert named in message
    assert "Commit or stash them, then run `backlog merge 1` again; nothing was changed" in message
    assert (snapshot(repo), git(repo, "status", "--porcelain")) == (before, status)
    assert tip(repo, "main") == old_main
    assert forge(repo).find("1") == open_pr(repo)  # still open, unchanged


@pytest.mark.parametrize("checked_out", [True, False])
def test_a_conflict_refuses_the_merge_and_changes_nothing(repo: Path, checked_out: bool) -> None:
    commit_on(repo, "backlog/BL-1", {"README.md": "# theirs\n"})
    commit_on(repo, "main", {"README.md": "# ours\n"})
    if not checked_out:
        git(repo, "checkout", "-q", "-b", "elsewhere")
    old_main = tip(repo, "main")
    pr = open_pr(repo)
    before = snapshot(repo)

    with pytest.raises(ForgeError) as refused:
        forge(repo).merge("1")

    assert str(refused.value) == (
        "pull request #1 (backlog/BL-1) conflicts with main in README.md; nothing was changed. "
        "Merge main into backlog/BL-1 and resolve the conflicts, then run `backlog merge 1` again"
    )
    assert (snapshot(repo), git(repo, "status", "--porcelain")) == (before, "")
    assert tip(repo, "main") == old_main
    assert forge(repo).find("1") == pr


def test_a_merged_pull_request_cannot_be_merged_again(repo: Path) -> None:
    commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    open_pr(repo)
    forge(repo).merge("1")
    merged_main = tip(repo, "main")

    with pytest.raises(ForgeError, match=r"#1 \(backlog/BL-1\) is merged, not open; only an open"):
        forge(repo).merge("1")
    assert tip(repo, "main") == merged_main


def test_merging_an_unknown_pull_request_says_where_to_look(repo: Path) -> None:
    with pytest.raises(ForgeError, match=r"no pull request '4'; `backlog prs` lists them"):
        forge(repo).merge("4")


def test_a_branch_the_base_already_contains_is_marked_merged_without_a_commit(
    repo: Path,
) -> None:
    head = commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    open_pr(repo)
    git(repo, "merge", "-q", "--ff-only", "backlog/BL-1")

    pr = forge(repo).merge("1")

    assert (pr.state, pr.merge_commit) == (PullState.MERGED, head)
    assert tip(repo, "main") == head


@pytest.mark.parametrize("checked_out", [True, False])
def test_merge_commits_get_an_identity_where_git_has_none(
    repo: Path, checked_out: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit_on(repo, "backlog/BL-1", {"feature.txt": "new\n"})
    if not checked_out:
        git(repo, "checkout", "-q", "-b", "elsewhere")
    open_pr(repo)
    bare_home = tmp_path / "bare-home"
    bare_home.mkdir()
    monkeypatch.setenv("HOME", str(bare_home))
    for name in ("EMAIL", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)

    forge(repo).merge("1")

    assert git(repo, "log", "-1", "--format=%cn <%ce>", "main") == "backlog <backlog@localhost>\n"
