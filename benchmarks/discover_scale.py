"""Time the comments source on a large real code base, beside the plain tools.

    python benchmarks/discover_scale.py [--work DIR] [--commits 300]

The corpus is numpy's source distribution (downloaded once from the package index into
``--work``, default ``benchmarks/.work``) made into a git repository with ``--commits`` commits
of history: every file is committed in up to four growing parts at different commits, so the
lines of one file were written at different times and git blame has real history to walk.

Figures printed, each with its reference run in the same way on the same files:
- cold comment scan (no blame, nothing cached) against ``rg -n 'TODO|FIXME|HACK|XXX|BUG'``.
  Each run of the scan is a new Python process, as a user's ``backlog discover`` is, with a new
  state folder: the figure is the scan itself (timed inside that process around the source's
  ``discover``, so compiling its regular expressions and starting its threads and children
  count), beside the whole process with Python's start-up and the package's imports; each run
  of rg is its own process too, timed from outside. The best of five runs of each; the files
  are in the operating system's cache for both, as they are after the first run;
- blame ages for every hit against a plain ``git blame --porcelain FILE`` loop over the files;
- a rerun with everything cached, and a rescan after one file changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from continuous_backlog_executor import blame as blame_mod  # noqa: E402
from continuous_backlog_executor.sources.base import DiscoveryContext, Finding, Scan  # noqa: E402
from continuous_backlog_executor.sources.comments import OPTIONS, SOURCE  # noqa: E402
from continuous_backlog_executor.store import StateStore  # noqa: E402

PATTERN = "TODO|FIXME|HACK|XXX|BUG"
INDEX = "https://pypi.org/pypi/numpy/json"


def fetch_sdist(work: Path) -> Path:
    """numpy's newest source distribution, downloaded once and checked against its digest."""
    found = sorted(work.glob("numpy-*.tar.gz"))
    if found:
        return found[-1]
    with urllib.request.urlopen(INDEX, timeout=60) as response:
        release = json.load(response)
    sdist = next(u for u in release["urls"] if u["packagetype"] == "sdist")
    target: Path = work / str(sdist["filename"])
    urllib.request.urlretrieve(urllib.parse.urljoin(INDEX, sdist["url"]), target)  # noqa: S310
    if hashlib.sha256(target.read_bytes()).hexdigest() != sdist["digests"]["sha256"]:
        target.unlink()
        raise SystemExit("the downloaded source distribution does not match its sha256")
    return target


def _git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return done.stdout.decode()


def build_corpus(work: Path, commits: int) -> Path:
    """The numpy tree as a git repository with ``commits`` commits of history (built once)."""
    repo = work / f"numpy-{commits}"
    if (repo / ".git").exists():
        return repo
    sdist = fetch_sdist(work)
    staging = work / "unpacked"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(staging, filter="data")
    (top,) = staging.iterdir()
    files = sorted(p.relative_to(top) for p in top.rglob("*") if p.is_file() and not p.is_symlink())
    rng = random.Random(42)
    # Each file arrives in up to four growing parts, each at its own commit.
    plan: dict[int, list[tuple[Path, int, int]]] = {}
    for path in files:
        parts = rng.randint(1, 4)
        moments = sorted(rng.sample(range(commits), parts))
        for index, moment in enumerate(moments, start=1):
            plan.setdefault(moment, []).append((path, index, parts))
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for moment in range(commits):
        for path, index, parts in plan.get(moment, []):
            data = (top / path).read_bytes()
            lines = data.splitlines(keepends=True)
            cut = len(lines) * index // parts
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_bytes(data if index == parts else b"".join(lines[:cut]))
        _git(repo, "add", "-A")
        when = datetime.fromtimestamp(start.timestamp() + moment * 7200, UTC)
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"step {moment}", when=when)
    shutil.rmtree(staging)
    return repo


def best(runs: int, action: Callable[[], object]) -> float:
    """The best wall time of ``runs`` runs of ``action``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def scan(repo: Path, state: Path, *, blame: bool) -> Scan:
    options = {key: setting.default for key, setting in OPTIONS.items()} | {"blame": blame}
    return SOURCE.discover(DiscoveryContext(repo, options, StateStore(state), datetime.now(UTC)))


# Run in a new process: the cold scan, timed around the source's discover alone.
SCAN_IN_NEW_PROCESS = """
import json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from continuous_backlog_executor.sources.base import DiscoveryContext
from continuous_backlog_executor.sources.comments import OPTIONS, SOURCE
from continuous_backlog_executor.store import StateStore
options = {key: setting.default for key, setting in OPTIONS.items()} | {"blame": False}
state = StateStore(Path(sys.argv[2]))
context = DiscoveryContext(Path(sys.argv[1]), options, state, datetime.now(UTC))
def cpu():
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
started, spent = time.perf_counter(), cpu()
found = SOURCE.discover(context).findings
seconds, spent = time.perf_counter() - started, cpu() - spent
print(json.dumps({"seconds": seconds, "cpu": spent, "findings": len(found)}))
"""


def cold_scan(repo: Path, state: Path) -> tuple[float, float, int, float]:
    """A cold scan in a new Python process: the scan's seconds, the process's, the findings,
    and the processor time the scan took (its threads' and its children's, on every core)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", SCAN_IN_NEW_PROCESS, str(repo), str(state)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        check=True,
    )
    whole = time.perf_counter() - started
    answer = json.loads(done.stdout)
    return answer["seconds"], whole, answer["findings"], answer["cpu"]


def children_cpu() -> float:
    """Processor seconds this process's finished children have taken, on every core."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rg(repo: Path) -> int:
    rg_path = Path(sys.executable).parent / "rg"
    done = subprocess.run(
        [str(rg_path if rg_path.exists() else "rg"), "-n", PATTERN, "."],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return done.stdout.count(b"\n")


def plain_blame(repo: Path, files: list[str]) -> None:
    for path in files:
        subprocess.run(
            ["git", "blame", "--porcelain", path], cwd=repo, capture_output=True, check=True
        )


def cold_figures(repo: Path, fresh: Iterator[Path]) -> list[Finding]:
    """Print the cold scan's figures beside rg's; the findings, from a scan in this process."""
    lines = rg(repo)
    reference = best(5, lambda: rg(repo))
    spent = children_cpu()
    for _ in range(5):
        rg(repo)
    rg_cpu = (children_cpu() - spent) / 5
    runs = [cold_scan(repo, next(fresh)) for _ in range(5)]
    cold, whole = min(run[0] for run in runs), min(run[1] for run in runs)
    scan_cpu = sum(run[3] for run in runs) / len(runs)
    found = scan(repo, next(fresh), blame=False).findings
    if any(run[2] != len(found) for run in runs):
        raise SystemExit("a scan in a new process found other tags than one in this process")
    print(
        f"cold scan, no blame: {cold:.3f} s for {len(found)} comment tags; "
        f"rg -n: {reference:.3f} s for {lines} matching lines; ratio {cold / reference:.2f}x"
    )
    print(
        f"  the whole new process, with Python's start-up and imports: {whole:.3f} s "
        f"({whole / reference:.2f}x)"
    )
    # On few cores the processor time bounds the wall time: rg spends its own on every core.
    print(
        f"  processor time on all cores, mean of 5: scan {scan_cpu:.3f} s (git, rg and "
        f"Python); rg -n {rg_cpu:.3f} s; {os.cpu_count()} cores"
    )
    return list(found)


def main() -> None:
    """Build the corpus, run each measurement beside its reference, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    repo = build_corpus(args.work, args.commits)
    files = _git(repo, "ls-files").count("\n")
    ready = time.perf_counter() - started
    print(f"corpus: {repo} ({files} files, {args.commits} commits; ready in {ready:.0f} s)")
    with tempfile.TemporaryDirectory() as scratch:
        fresh = iter(Path(scratch) / f"state{n}" for n in range(100))
        found = cold_figures(repo, fresh)
        hit_files = sorted({f.origin.path or "" for f in found})
        wanted = {
            path: (
                blame_mod.blob_id((repo / path).read_bytes()),
                [f.origin.line or 1 for f in found if f.origin.path == path],
            )
            for path in hit_files
        }
        ours = best(1, lambda: blame_mod.Blamer(repo, None).ages(wanted, clean=wanted))
        plain = best(1, lambda: plain_blame(repo, hit_files))
        print(
            f"blame ages for {len(found)} hits in {len(hit_files)} files: {ours:.2f} s; "
            f"plain git blame per file: {plain:.2f} s; {plain / ours:.1f}x faster"
        )
        # With sources.comments.write_commit_graph allowed: a commit-graph with Bloom filters.
        blame_mod.write_commit_graph(repo)
        try:
            graphed = best(1, lambda: blame_mod.Blamer(repo, None).ages(wanted, clean=wanted))
            plain_graphed = best(1, lambda: plain_blame(repo, hit_files))
        finally:
            for leftover in (repo / ".git" / "objects" / "info").glob("commit-graph*"):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        print(
            f"  with a commit-graph: {graphed:.2f} s, {plain / graphed:.1f}x faster than the plain "
            f"loop without one (the plain loop with one: {plain_graphed:.2f} s)"
        )
        state = Path(scratch) / "warm"
        first = best(1, lambda: scan(repo, state, blame=True))
        rerun = best(3, lambda: scan(repo, state, blame=True))
        print(
            f"first full discover with blame: {first:.2f} s; rerun with the caches: {rerun:.3f} s"
        )
        target = repo / hit_files[len(hit_files) // 2]
        original = target.read_bytes()
        try:
            target.write_bytes(b"# TODO: a new note at the top\n" + original)
            changed = best(1, lambda: scan(repo, state, blame=True))
        finally:
            target.write_bytes(original)
        print(f"rescan after one file changed: {changed:.3f} s")


if __name__ == "__main__":
    main()
