"""Tests for items' worktrees: branch names, preparing, reusing and removing them without touching
the user's checkout, and what the engine asks of one (commits, changes, diffs, escaping links)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor import git as gitops
from continuous_backlog_executor import worktree as wt
from continuous_backlog_executor.errors import ConfigError, GitError
from continuous_backlog_executor.store import StateStore
from continuous_backlog_executor.worktree import ChangedFile, ChangeKind, Worktrees

Snapshot = dict[str, bytes | str]


@pytest.fixture
def trees(repo: Path) -> Worktrees:
    return Worktrees(repo, StateStore.locate(repo))


def main_head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def snapshot(repo: Path) -> Snapshot:
    """Every file outside .git, the index, HEAD and the branch of the user's checkout."""
    state: Snapshot = {}
    for folder, dirs, files in os.walk(repo):
        if Path(folder) == repo:
            dirs.remove(".git")
        for name in files:
            path = Path(folder, name)
            key = path.relative_to(repo).as_posix()
            state[key] = str(path.readlink()) if path.is_symlink() else path.read_bytes()
    state["<index>"] = (repo / ".git" / "index").read_bytes()
    state["<staged>"] = git(repo, "diff", "--cached")
    state["<unstaged>"] = git(repo, "diff")
    state["<HEAD>"] = (repo / ".git" / "HEAD").read_bytes()
    state["<head>"] = main_head(repo)
    return state


def dirty(repo: Path) -> None:
    """Leave staged, unstaged and untracked work in the user's checkout."""
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "README.md").write_text("# demo, edited by the user\n")
    (repo / "notes.txt").write_text("untracked\n")


@pytest.mark.parametrize(
    ("item_id", "title"),
    [
        ("BL-1", "Fix the login bug"),
        ("TODO#3", "Ünïcödé títle — with “quotes” and dashes"),
        ("../..", "x"),
        ("a..b.lock", ""),
        ("日本", "日本語のタイトル"),
        ("-x-", "@{weird} ~^:?*[\\ chars"),
        ("@", "@"),
        ("x" * 200, "word " * 100),
        ("a/b", "t"),
        (".hidden", "ends with a dot."),
        ("id", "a" * 100),
    ],
)
def test_branch_names_are_valid_refs(item_id: str, title: str, tmp_path: Path) -> None:
    name = wt.branch_name(item_id, title)

    assert name.startswith("backlog/")
    assert len(name) <= len("backlog/") + wt.ID_MAX + 8 + wt.SLUG_MAX
    checked = subprocess.run(
        ["git", "check-ref-format", "--branch", name],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0, name


def test_branch_names_keep_ids_and_titles_recognisable() -> None:
    assert wt.branch_name("BL-1", "Fix the login bug!") == "backlog/BL-1-fix-the-login-bug"
    assert wt.branch_name("BL-2", "Ünïcödé title") == "backlog/BL-2-unicode-title"
    assert wt.branch_name("BL-3", "日本語") == "backlog/BL-3"
    assert wt.branch_name("TODO#3", "x").startswith("backlog/TODO-3-")
    long = wt.branch_name("BL-4", "one two three four five six seven eight nine ten")
    assert long == "backlog/BL-4-one-two-three-four-five-six-seven-eight"


def test_ids_changed_to_fit_never_collide() -> None:
    assert wt.safe_id("BL-1") == "BL-1"
    assert wt.safe_id("a/b") != wt.safe_id("a b")
    assert wt.safe_id("a/b").startswith("a-b-")
    assert wt.safe_id("a-b") == "a-b"
    assert wt.safe_id("a-b") not in {wt.safe_id("a/b"), wt.safe_id("a b")}


def test_base_branch_is_the_main_checkouts_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "develop")

    assert wt.base_branch(repo) == "develop"
    assert wt.base_branch(repo, "main") == "main"


def test_base_branch_refuses_a_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")

    with pytest.raises(ConfigError, match=r"set execution\.base_branch"):
        wt.base_branch(repo)


def test_a_configured_base_branch_must_exist(repo: Path) -> None:
    message = r"execution\.base_branch is 'nope', which names no commit"
    with pytest.raises(ConfigError, match=message):
        wt.base_branch(repo, "nope")


def test_prepare_branches_from_the_base_head(repo: Path, trees: Worktrees) -> None:
    head = main_head(repo)

    tree = trees.prepare("BL-1", "Fix the bug", "main")

    assert tree.path == trees.folder / "BL-1"
    assert tree.branch == "backlog/BL-1-fix-the-bug"
    assert (tree.base, tree.base_sha) == ("main", head)
    assert gitops.head(tree.path) == head
    assert git(tree.path, "symbolic-ref", "--short", "HEAD").strip() == tree.branch
    assert (tree.path / "README.md").read_text() == "# demo\n"


def test_the_users_checkout_is_never_touched(repo: Path, trees: Worktrees) -> None:
    dirty(repo)
    before = snapshot(repo)

    tree = trees.prepare("BL-1", "Fix the bug", "main")
    (tree.path / "new.txt").write_text("work\n")
    (tree.path / "README.md").unlink()
    assert wt.commit_all(tree.path, "Work on BL-1") is not None
    wt.changed_files(tree.path, tree.base_sha)
    wt.diff_text(tree.path, tree.base_sha)
    trees.remove(tree)

    assert snapshot(repo) == before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_prepare_reuses_the_work_so_far(repo: Path, trees: Worktrees) -> None:
    first = trees.prepare("BL-1", "Fix the bug", "main")
    (first.path / "done.txt").write_text("committed\n")
    sha = wt.commit_all(first.path, "part one")
    (first.path / "doing.txt").write_text("uncommitted\n")

    again = trees.prepare("BL-1", "A renamed title", "main")

    assert again == first
    assert gitops.head(again.path) == sha
    assert (again.path / "doing.txt").read_text() == "uncommitted\n"


def test_a_deleted_folder_is_recreated_on_the_same_branch(repo: Path, trees: Worktrees) -> None:
    first = trees.prepare("BL-1", "Fix the bug", "main")
    (first.path / "done.txt").write_text("committed\n")
    sha = wt.commit_all(first.path, "part one")
    shutil.rmtree(first.path)

    again = trees.prepare("BL-1", "Fix the bug", "main")

    assert again == first
    assert gitops.head(again.path) == sha
    assert (again.path / "done.txt").read_text() == "committed\n"


def test_a_broken_folder_is_replaced(repo: Path, trees: Worktrees) -> None:
    first = trees.prepare("BL-1", "Fix the bug", "main")
    shutil.rmtree(first.path)
    first.path.mkdir()
    (first.path / "debris").write_text("half-written\n")

    again = trees.prepare("BL-1", "Fix the bug", "main")

    assert again == first
    assert not (again.path / "debris").exists()
    assert (again.path / "README.md").exists()


def test_base_sha_is_where_the_branch_started(repo: Path, trees: Worktrees) -> None:
    start = main_head(repo)
    trees.prepare("BL-1", "Fix the bug", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "base moves on")

    assert trees.prepare("BL-1", "Fix the bug", "main").base_sha == start


def test_a_branch_checked_out_elsewhere_is_reported(repo: Path, trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    trees.remove(tree)
    git(repo, "checkout", "-q", tree.branch)

    with pytest.raises(GitError, match=r"backlog/BL-1-fix-the-bug is checked out at"):
        trees.prepare("BL-1", "Fix the bug", "main")


def test_a_missing_base_is_a_config_error(repo: Path, trees: Worktrees) -> None:
    with pytest.raises(ConfigError, match=r"'nope' names no commit"):
        trees.prepare("BL-1", "Fix the bug", "nope")


def test_remove_keeps_the_branch_unless_told(repo: Path, trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    trees.remove(tree)
    assert not tree.path.exists()
    assert gitops.resolve_commit(repo, tree.branch) is not None

    trees.remove(trees.prepare("BL-1", "Fix the bug", "main"), keep_branch=False)

    assert gitops.resolve_commit(repo, tree.branch) is None
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_checkout_removes_the_worktree_however_the_body_ends(
    repo: Path, trees: Worktrees, error: type[BaseException]
) -> None:
    seen: list[wt.Worktree] = []

    def work() -> None:
        with trees.checkout("BL-1", "Fix the bug", "main") as tree:
            seen.append(tree)
            assert tree.path.is_dir()
            raise error

    with pytest.raises(error):
        work()

    [tree] = seen

    assert not tree.path.exists()
    assert "BL-1" not in git(repo, "worktree", "list", "--porcelain")
    assert gitops.resolve_commit(repo, tree.branch) is not None


def test_checkout_can_keep_the_worktree(trees: Worktrees) -> None:
    with trees.checkout("BL-1", "Fix the bug", "main", keep=True) as tree:
        pass

    assert tree.path.is_dir()


def test_stale_worktrees_are_those_without_an_active_item(repo: Path, trees: Worktrees) -> None:
    kept = trees.prepare("BL-1", "Kept", "main")
    left = trees.prepare("BL-2", "Left behind", "main")
    vanished = trees.prepare("BL-3", "Folder gone", "main")
    shutil.rmtree(vanished.path)

    assert trees.stale({"BL-1"}) == [left.path, vanished.path]
    assert trees.clean_stale({"BL-1"}) == [left.path, vanished.path]

    assert trees.stale({"BL-1"}) == []
    assert kept.path.is_dir()
    assert not left.path.exists()
    listed = git(repo, "worktree", "list", "--porcelain")
    assert "BL-1" in listed
    assert "BL-2" not in listed
    assert "BL-3" not in listed


def test_commit_all_commits_everything_or_nothing(repo: Path, trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    assert wt.commit_all(tree.path, "nothing yet") is None

    (tree.path / "README.md").unlink()
    (tree.path / "new.txt").write_text("new\n")
    sha = wt.commit_all(tree.path, "Work on BL-1")

    assert sha == gitops.head(tree.path)
    assert git(tree.path, "show", "--name-status", "--format=%an", "HEAD").split() == [
        "Test",
        "User",
        "D",
        "README.md",
        "A",
        "new.txt",
    ]
    assert git(tree.path, "status", "--porcelain") == ""


def test_commit_all_uses_its_own_identity_when_there_is_none(
    repo: Path, trees: Worktrees, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    for name in ("EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    (tree.path / "new.txt").write_text("new\n")

    wt.commit_all(tree.path, "Work on BL-1")

    assert (
        git(tree.path, "log", "-1", "--format=%an <%ae>").strip() == "backlog <backlog@localhost>"
    )


def test_changes_include_untracked_files_deletions_and_renames(
    repo: Path, trees: Worktrees
) -> None:
    (repo / "old.py").write_text("".join(f"line {n}\n" for n in range(20)))
    git(repo, "add", "old.py")
    git(repo, "commit", "-q", "-m", "add old.py")
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    (tree.path / "committed.txt").write_text("committed\n")
    wt.commit_all(tree.path, "part one")
    (tree.path / "README.md").unlink()
    (tree.path / "old.py").rename(tree.path / "new.py")
    (tree.path / "staged.txt").write_text("staged\n")
    git(tree.path, "add", "staged.txt")
    (tree.path / "untracked.txt").write_text("untracked\n")
    index = Path(git(tree.path, "rev-parse", "--git-path", "index").strip())
    index = index if index.is_absolute() else tree.path / index
    index_before = index.read_bytes()

    changes = wt.changed_files(tree.path, tree.base_sha)
    diff = wt.diff_text(tree.path, tree.base_sha)
    stat = wt.diffstat(tree.path, tree.base_sha)

    assert sorted(changes, key=lambda change: change.path) == [
        ChangedFile(ChangeKind.DELETED, "README.md"),
        ChangedFile(ChangeKind.ADDED, "committed.txt"),
        ChangedFile(ChangeKind.RENAMED, "new.py", "old.py"),
        ChangedFile(ChangeKind.ADDED, "staged.txt"),
        ChangedFile(ChangeKind.ADDED, "untracked.txt"),
    ]
    assert "+untracked\n" in diff
    assert "-# demo\n" in diff
    assert "rename from old.py" in diff
    assert "untracked.txt" in stat
    assert "5 files changed" in stat
    assert index.read_bytes() == index_before
    assert git(tree.path, "diff", "--cached", "--name-only") == "staged.txt\n"


def test_commits_since_sees_commits_made_in_the_worktree(trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    assert gitops.commits_since(tree.path, tree.base_sha) == []

    git(tree.path, "commit", "-q", "--allow-empty", "-m", "an agent's own commit")

    assert gitops.commits_since(tree.path, tree.base_sha) == [gitops.head(tree.path)]


def test_reset_and_clean_drop_a_failed_try(trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    (tree.path / "README.md").write_text("broken\n")
    wt.commit_all(tree.path, "bad try")
    (tree.path / "README.md").write_text("worse\n")
    (tree.path / "junk").mkdir()
    (tree.path / "junk" / "file.txt").write_text("junk\n")

    wt.reset_hard(tree.path, tree.base_sha)
    wt.clean(tree.path)

    assert gitops.head(tree.path) == tree.base_sha
    assert (tree.path / "README.md").read_text() == "# demo\n"
    assert not (tree.path / "junk").exists()


def test_destructive_helpers_refuse_the_main_checkout(repo: Path) -> None:
    (repo / "precious.txt").write_text("keep me\n")

    calls: list[Callable[[], object]] = [
        lambda: wt.reset_hard(repo, "HEAD"),
        lambda: wt.clean(repo),
        lambda: wt.commit_all(repo, "no"),
    ]
    for call in calls:
        with pytest.raises(GitError, match="main checkout"):
            call()

    assert (repo / "precious.txt").exists()


def test_escapes_finds_links_pointing_outside(trees: Worktrees, tmp_path: Path) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tree.path / "sub").mkdir()
    (tree.path / "sub" / "out").symlink_to(outside)
    (tree.path / "to-file").symlink_to(outside / "missing.txt")
    (tree.path / "inside").symlink_to("README.md")
    (tree.path / "sub" / "up").symlink_to("../README.md")
    (tree.path / "sub" / "root").symlink_to("..")

    assert wt.escapes(tree.path) == ["sub/out", "to-file"]


def test_escapes_ignores_the_projects_own_links_unless_retargeted(
    repo: Path, trees: Worktrees, tmp_path: Path
) -> None:
    outside = tmp_path / "shared"
    outside.mkdir()
    (repo / "shared").symlink_to(outside)
    (repo / "other").symlink_to(outside)
    git(repo, "add", "shared", "other")
    git(repo, "commit", "-q", "-m", "links")
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    assert wt.escapes(tree.path) == ["other", "shared"]
    assert wt.escapes(tree.path, tree.base_sha) == []

    (tree.path / "other").unlink()
    (tree.path / "other").symlink_to(tmp_path)

    assert wt.escapes(tree.path, tree.base_sha) == ["other"]


def test_a_same_size_edit_made_right_after_the_checkout_is_seen(trees: Worktrees) -> None:
    tree = trees.prepare("BL-1", "Fix the bug", "main")
    (tree.path / "README.md").write_text("# DEMO\n")  # as long as before, in the same second
    time.sleep(1.1)  # git's racy-file check compares against the index's time, in seconds

    assert [c.path for c in wt.changed_files(tree.path, tree.base_sha)] == ["README.md"]
