"""The escalation triggers checked again on the real diff, before a pull request is opened:
public interface changes (found by comparing the code), security-sensitive, migration and
performance-critical paths, and a diff larger than the configured limit."""

from __future__ import annotations

from pathlib import Path

from . import git, interface, worktree
from .execution import ExecutionSettings
from .gates import matches
from .git import git as run_git
from .policy import Trigger
from .worktree import Worktree


def diff_escalations(repo: Path, wt: Worktree, settings: ExecutionSettings) -> list[str]:
    """Every trigger the item's diff sets off, each as ``trigger: detail``."""
    esc = settings.escalation
    head = git.head(wt.path)
    changed = [c.path for c in worktree.changed_files(wt.path, wt.base_sha)]
    found: list[str] = []
    if esc.public_interface:
        report = interface.public_changes(repo, wt.base_sha, head, exclude=settings.test_patterns)
        found += [f"{Trigger.PUBLIC_INTERFACE}: {change}" for change in report.changes]
    for trigger, globs in (
        (Trigger.SECURITY, esc.security_paths),
        (Trigger.MIGRATION, esc.migration_paths),
        (Trigger.PERFORMANCE, esc.performance_paths),
    ):
        hit = [path for path in changed if matches(path.lower(), [g.lower() for g in globs])]
        if hit:
            found.append(f"{trigger}: the diff touches {', '.join(hit[:5])}")
    size = diff_lines(wt.path, wt.base_sha)
    if size > esc.max_diff_lines:
        found.append(f"large change: {size} changed lines > {esc.max_diff_lines}")
    return found


def diff_lines(path: Path, base_sha: str) -> int:
    """Lines added plus lines removed between ``base_sha`` and the worktree's HEAD."""
    numstat = run_git("diff", "--numstat", "-z", base_sha, "HEAD", cwd=path).stdout
    total = 0
    for record in numstat.split("\0"):
        fields = record.split("\t")
        if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
            total += int(fields[0]) + int(fields[1])
    return total
