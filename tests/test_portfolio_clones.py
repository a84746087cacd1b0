"""The portfolio's clones: made on first use, fetched and reset to origin's default branch
afterwards, and a failure naming the repository without the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor.portfolio import Portfolio, PortfolioError
from continuous_backlog_executor.store import StateStore

SECRET = "ghp_portfolioSecret0123456789"


def remote(tmp_path: Path) -> tuple[Path, Path]:
    """A bare acme/calc under ``tmp_path/remotes`` and a work tree that pushes to it."""
    bare = tmp_path / "remotes" / "acme" / "calc.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "--initial-branch=main")
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "--initial-branch=main")
    (work / "a.txt").write_text("one\n")
    git(work, "add", "a.txt")
    git(work, "commit", "-q", "-m", "one")
    git(work, "push", "-q", str(bare), "main")
    return bare, work


def test_a_repository_is_cloned_then_fetched(tmp_path: Path) -> None:
    bare, work = remote(tmp_path)
    portfolio = Portfolio(
        StateStore(tmp_path / "state"),
        url_for=lambda repo: str(tmp_path / "remotes" / f"{repo}.git"),
        token=None,
        token_env="GITHUB_TOKEN",
    )

    clone = portfolio.checkout("acme/calc")
    assert clone == tmp_path / "state" / "repos" / "acme" / "calc"
    assert (clone / "a.txt").read_text() == "one\n"

    (work / "a.txt").write_text("two\n")
    git(work, "commit", "-q", "-am", "two")
    git(work, "push", "-q", str(bare), "main")
    assert portfolio.checkout("acme/calc") == clone
    assert (clone / "a.txt").read_text() == "two\n"
    assert git(clone, "rev-parse", "HEAD") == git(work, "rev-parse", "HEAD")


def test_a_failed_clone_names_the_repository_and_hides_the_token(tmp_path: Path) -> None:
    portfolio = Portfolio(
        StateStore(tmp_path / "state"),
        url_for=lambda repo: f"http://me:{SECRET}@127.0.0.1:9/{repo}.git",
        token=SECRET,
        token_env="GITHUB_TOKEN",
    )

    with pytest.raises(PortfolioError) as caught:
        portfolio.checkout("acme/calc")

    assert "could not clone acme/calc" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_name_that_is_no_repository_is_refused(tmp_path: Path) -> None:
    portfolio = Portfolio(StateStore(tmp_path), url_for=str, token=None, token_env="GITHUB_TOKEN")

    with pytest.raises(PortfolioError, match="owner/name"):
        portfolio.checkout("acme/../etc")
