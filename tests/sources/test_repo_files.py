"""The tracked files of real git repositories, as the comments source reads them from the index."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from continuous_backlog_executor.sources import repo_files

ODD_NAMES = ["plain.py", "tab\there.py", "new\nline.py", " lead space.py", "ünï cødé.py"]


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "Alice",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    ).stdout


def new_repo(path: Path, object_format: str) -> Path:
    path.mkdir()
    try:
        git(path, "init", "-q", f"--object-format={object_format}")
    except subprocess.CalledProcessError:
        pytest.skip(f"this git cannot make {object_format} repositories")
    return path


def content_id(repo: Path, name: str) -> str:
    return git(repo, "hash-object", "--", name).strip()


@pytest.mark.parametrize(("object_format", "id_length"), [("sha1", 40), ("sha256", 64)])
def test_files_by_content_id_without_symlinks_whatever_their_names(
    tmp_path: Path, object_format: str, id_length: int
) -> None:
    repo = new_repo(tmp_path / "repo", object_format)
    # A symlink sorts first, so the ids' length is read from a record that is left out.
    (repo / "a-link").symlink_to("plain.py")
    for number, name in enumerate(ODD_NAMES):
        (repo / name).write_text(f"x = {number}\n")
    (repo / "plain.py").chmod(0o755)
    git(repo, "add", "-A")

    files = repo_files.tracked(repo)

    assert files == {name: content_id(repo, name) for name in ODD_NAMES}
    assert {len(blob or "") for blob in files.values()} == {id_length}


def test_submodules_are_left_out_and_a_conflict_gives_the_last_stage(tmp_path: Path) -> None:
    inner = new_repo(tmp_path / "inner", "sha1")
    (inner / "f.py").write_text("y = 1\n")
    git(inner, "add", "-A")
    git(inner, "commit", "-q", "-m", "inner")
    repo = new_repo(tmp_path / "repo", "sha1")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    (repo / "both.py").write_text("base\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "theirs")
    (repo / "both.py").write_text("theirs\n")
    git(repo, "commit", "-q", "-am", "theirs")
    git(repo, "checkout", "-q", "-")
    (repo / "both.py").write_text("ours\n")
    git(repo, "commit", "-q", "-am", "ours")
    subprocess.run(["git", "merge", "-q", "theirs"], cwd=repo, check=False, capture_output=True)

    files = repo_files.tracked(repo)

    assert files == {
        ".gitmodules": git(repo, "rev-parse", ":.gitmodules").strip(),
        "both.py": git(repo, "rev-parse", ":3:both.py").strip(),
    }


def test_no_files_in_a_new_repository(tmp_path: Path) -> None:
    assert repo_files.tracked(new_repo(tmp_path / "repo", "sha1")) == {}
