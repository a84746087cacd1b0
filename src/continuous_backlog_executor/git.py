"""Small named git operations, each one command, run with a cleaned environment."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import GitError, ProcessError
from .process import Result, run

GIT_TIMEOUT = 60.0


# Set by git while running hooks; inherited, they would point our commands at another repository.
_LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_INDEX_VERSION",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_QUARANTINE_PATH",
    }
)


def git_env() -> dict[str, str]:
    """The environment for git: ours minus the variables that would redirect it elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def git(*args: str, cwd: Path, check: bool = True) -> Result:
    """Run ``git args`` in ``cwd``; raise ``GitError`` on failure when ``check``."""
    try:
        result = run(["git", *args], cwd=cwd, env=git_env(), timeout=GIT_TIMEOUT)
    except ProcessError as error:
        raise GitError(f"{error}; is git installed and on PATH?") from error
    if check and not result.ok:
        raise GitError(result.describe())
    return result


def toplevel(path: Path) -> Path | None:
    """The root of the work tree containing ``path``, or ``None`` outside any repository."""
    result = git("rev-parse", "--show-toplevel", cwd=path, check=False)
    return Path(result.stdout.strip()) if result.ok and result.stdout.strip() else None


def common_dir(path: Path) -> Path:
    """The git folder shared by every worktree of the repository at ``path``."""
    result = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=path)
    return Path(result.stdout.strip())


def user_name(path: Path) -> str | None:
    """``user.name`` as git would use it in ``path``, if set."""
    result = git("config", "user.name", cwd=path, check=False)
    return result.stdout.strip() or None


def user_email(path: Path) -> str | None:
    """``user.email`` as git would use it in ``path``, if set."""
    result = git("config", "user.email", cwd=path, check=False)
    return result.stdout.strip() or None


def resolve_commit(path: Path, rev: str) -> str | None:
    """The commit ``rev`` names in the repository at ``path``, or ``None`` if it names none."""
    if rev.startswith("-"):  # never let a name be read as an option
        return None
    result = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=path, check=False)
    sha = result.stdout.strip()
    return sha if result.ok and sha else None


def head(path: Path) -> str:
    """The commit checked out in the work tree at ``path``."""
    return git("rev-parse", "--verify", "HEAD", cwd=path).stdout.strip()


def merge_base(path: Path, first: str, second: str) -> str:
    """The best common ancestor of two commits."""
    return git("merge-base", first, second, cwd=path).stdout.strip()


def commits_since(path: Path, sha: str) -> list[str]:
    """Commits reachable from ``HEAD`` but not from ``sha``, oldest first."""
    listed = git("rev-list", "--reverse", f"{sha}..HEAD", cwd=path).stdout
    return listed.split()


def git_with_index(index: Path, *args: str, cwd: Path) -> Result:
    """Run ``git args`` with ``index`` as its index file, so the real index is left alone."""
    env = {**git_env(), "GIT_INDEX_FILE": str(index)}
    try:
        result = run(["git", *args], cwd=cwd, env=env, timeout=GIT_TIMEOUT)
    except ProcessError as error:
        raise GitError(f"{error}; is git installed and on PATH?") from error
    if not result.ok:
        raise GitError(result.describe())
    return result
