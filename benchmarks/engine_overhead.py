"""Time the engine's own overhead per item in ``backlog run``: everything but the agent's work and
the project's test runs, with an instant agent on the shipped example.

    python benchmarks/engine_overhead.py [--runs 3] [--discover] [--no-breakdown]

Each run copies examples/inventory into a fresh git repository (as ``backlog demo`` does) and
runs ``backlog run --no-discover --format json`` on it in a child process, with the scripted
stand-in agent (examples/inventory-agent/script.yml: prepared changes, no thinking time) as a
command agent. The agent and the test command (pytest, as the engine would detect it) are each
wrapped in ``_timed.py``, which logs the wall time of the real program, so

    engine overhead = run's wall time - agent time - project test time - wrapper start-up

where the wrapper's start-up (one extra ``python -I -S`` per call, which is not the engine's)
is measured on an empty command and taken out. The run's wall time includes the CLI's own
start-up. Security scanners (bandit, detect-secrets, pip-audit), git and the backlog file's
transactions are the engine's own checks and count as overhead. The example sets no
``execution.check_command``, so the ci gate runs nothing. The median of ``--runs`` runs is
reported, per item processed.

With ``--discover``, discovery runs first (its test run counts as project tests; the deps
source is off, as it needs the network). Unless ``--no-breakdown``, one more run under cProfile
shows where the overhead goes; profiling slows Python code, not the child processes.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from continuous_backlog_executor.agents.script import MODULE  # noqa: E402
from continuous_backlog_executor.commands.demo import SCRIPT, run_demo  # noqa: E402
from continuous_backlog_executor.testrun import detected_command  # noqa: E402

PACKAGE = "continuous_backlog_executor"
TIMED = Path(__file__).resolve().parent / "_timed.py"
TARGET = 0.5  # seconds of engine overhead per item the issue allows
PROBES = 20  # empty-wrapper runs to measure the wrapper's start-up
# The engine's parts, as (label, function, files it may be in), none inside another; an
# attempt's code is split between executor.py (the phases) and session.py (their footing).
ATTEMPT = ("executor.py", "session.py")
PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("discovery (but its test run)", "_sync", ("commands/run.py",)),
    ("recover what a dead run left", "recover", ("engine.py",)),
    ("pick the next item (read, rank)", "next_decision", ("engine.py",)),
    ("git worktree add", "prepare", ("worktree.py",)),
    ("git worktree remove", "remove", ("worktree.py",)),
    ("backlog transactions (lock, read, write)", "transaction", ("backlog.py",)),
    ("around each agent call (prompt, checks)", "_agent", ATTEMPT),
    ("isolation checks after the agent", "_outside", ATTEMPT),
    ("reading test reports", "report", ("testrun.py",)),
    ("changed files (git diff)", "changed_files", ("worktree.py",)),
    ("reset and clean the worktree", "_reset", ATTEMPT),
    ("commits", "_commit", ATTEMPT),
    ("security: bandit (base and head)", "bandit_delta", ("security.py",)),
    ("security: detect-secrets", "secrets_delta", ("security.py",)),
    ("security: pip-audit", "dependency_delta", ("security.py",)),
    ("escalation review of the diff", "diff_escalations", ("review.py",)),
    ("pull request (local forge)", "open", ("forges/local.py",)),
    ("receipts", "_save_receipt", ("engine.py",)),
    ("status reports (each item, the end)", "write", ("reports/publish.py",)),
    ("end-of-pass review", "review", ("commands/review.py",)),
)
# What the parts above contain that is not the engine's, by the same lookup.
INSIDE = {
    "_agent": ("run", ("agents/command.py",)),
    "report": ("result", ("testrun.py",)),
}
GIT = ("git", ("git.py",))


@dataclass(frozen=True)
class Figures:
    """One run's times in seconds, and what it did."""

    wall: float
    agent: float
    tests: float
    wrapper: float  # the wrappers' own start-up, all calls together
    calls: int
    processed: int
    to_pr: int

    @property
    def overhead(self) -> float:
        """The engine's own time."""
        return self.wall - self.agent - self.tests - self.wrapper


# -- running ----------------------------------------------------------------------------------


def _timed(log: Path, label: str, command: Sequence[str]) -> list[str]:
    return [sys.executable, "-I", "-S", str(TIMED), str(log), label, "--", *command]


def wrapper_cost(scratch: Path) -> float:
    """The median time one ``_timed.py`` call adds around the command it times."""
    log, empty = scratch / "probe.log", shutil.which("true") or "true"
    outer = []
    for _ in range(PROBES):
        started = time.perf_counter()
        subprocess.run(_timed(log, "probe", [empty]), check=True)
        outer.append(time.perf_counter() - started)
    inner = [float(line.split("\t")[1]) for line in log.read_text().splitlines()]
    return statistics.median(o - i for o, i in zip(outer, inner, strict=True))


def backlog_argv(repo: Path, log: Path, *, discover: bool) -> list[str]:
    """``backlog run`` on ``repo`` with the agent and the tests wrapped, logging into ``log``."""
    agent = [sys.executable, "-m", MODULE, "--script", str(SCRIPT)]
    tests = detected_command(repo)
    if tests is None:
        raise SystemExit(f"no test command detected in {repo}")
    settings = {
        "agent.type": "command",
        "agent.command": shlex.join(_timed(log, "agent", agent)),
        "execution.test_command": shlex.join(_timed(log, "tests", tests)),
        # A text list: comma-separated on the command line.
        "sources.tests.command": ",".join(_timed(log, "discovery tests", tests)),
        "sources.deps.enabled": "false",
        "actor": "benchmark",
    }
    argv = ["-m", PACKAGE, "--repo", str(repo)]
    argv += [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    return [*argv, "run", "--format", "json", *([] if discover else ["--no-discover"])]


def _environment() -> dict[str, str]:
    # The checkout's package whether or not it is installed, and none of the caller's settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLOG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def one_run(scratch: Path, cost: float, *, discover: bool, profile: Path | None = None) -> Figures:
    """Copy the example, run the engine over it once, and return the figures."""
    scratch.mkdir()
    repo, log = run_demo(scratch / "inventory"), scratch / "timed.log"
    argv = backlog_argv(repo, log, discover=discover)
    if profile is not None:
        argv = ["-m", "cProfile", "-o", str(profile), *argv]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=_environment(), check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"backlog run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    processed = json.loads(done.stdout)["processed"]
    timed = timed_seconds(log)
    return Figures(
        wall=wall,
        agent=timed["agent"],
        tests=timed["tests"] + timed["discovery tests"],
        wrapper=cost * timed["calls"],
        calls=int(timed["calls"]),
        processed=len(processed),
        to_pr=sum(1 for p in processed if p["pr_url"]),
    )


def timed_seconds(log: Path) -> defaultdict[str, float]:
    """Seconds per label in a ``_timed.py`` log, and the number of ``calls``."""
    seconds: defaultdict[str, float] = defaultdict(float)
    for line in log.read_text().splitlines():
        label, value = line.split("\t")
        seconds[label] += float(value)
        seconds["calls"] += 1
    return seconds


# -- reporting --------------------------------------------------------------------------------


def report(runs: Sequence[Figures], cost: float) -> None:
    """Print the median figures, in total and per item."""
    median = Figures(
        *(statistics.median(getattr(f, x.name) for f in runs) for x in fields(Figures))
    )
    items = max(1, median.processed)
    overhead = statistics.median(f.overhead for f in runs)  # not the medians' difference
    print(
        f"items processed: {median.processed:g}, {median.to_pr:g} to a pull request "
        f"(median of {len(runs)} run(s))"
    )
    print(f"{'':<40}{'total':>9}{'per item':>10}")
    rows = (
        ("wall time of `backlog run`", median.wall),
        ("  agent (scripted, instant)", median.agent),
        ("  project tests (pytest)", median.tests),
        (f"  wrapper start-up ({median.calls:g} x {cost * 1000:.0f} ms)", median.wrapper),
        ("  engine overhead", overhead),
    )
    for label, seconds in rows:
        print(f"{label:<40}{seconds:>8.2f}s{seconds / items:>9.3f}s")
    each = ", ".join(f"{f.overhead / max(1, f.processed):.3f}" for f in runs)
    verdict = "within" if overhead / items < TARGET else "OVER"
    print(
        f"engine overhead per item: {overhead / items:.3f} s (runs: {each}); "
        f"{verdict} the {TARGET} s target"
    )


Entry = tuple[int, int, float, float, dict[tuple[str, int, str], tuple[int, int, float, float]]]


@dataclass(frozen=True)
class Profile:
    """A cProfile output file: per function (file, line, name), its calls, times and callers."""

    entries: dict[tuple[str, int, str], Entry]
    total: float

    @classmethod
    def read(cls, path: Path) -> Profile:
        """The profile written to ``path``."""
        stats = pstats.Stats(str(path))
        return cls(stats.stats, stats.get_stats_profile().total_tt)  # type: ignore[attr-defined]

    def _matching(self, function: str, files: Sequence[str]) -> list[Entry]:
        return [
            entry
            for (path, _line, name), entry in self.entries.items()
            if name == function and any(path.endswith(f"{PACKAGE}/{f}") for f in files)
        ]

    def cumulative(self, function: str, files: Sequence[str]) -> tuple[int, float]:
        """Calls and cumulative seconds of ``function`` in one of the package's ``files``."""
        found = self._matching(function, files)
        return sum(entry[1] for entry in found), sum(entry[3] for entry in found)

    def seconds_from(self, function: str, files: Sequence[str], callers: Sequence[str]) -> float:
        """Cumulative seconds of ``function`` when called from the package's ``callers`` files."""
        return sum(
            figures[3]
            for entry in self._matching(function, files)
            for (path, _line, _name), figures in entry[4].items()
            if any(path.endswith(f"{PACKAGE}/{f}") for f in callers)
        )

    def callers(self, function: str, files: Sequence[str]) -> dict[str, tuple[int, float]]:
        """Calls and cumulative seconds of ``function``, by the name of the function calling
        it, most calls first."""
        calls: Counter[str] = Counter()
        seconds: defaultdict[str, float] = defaultdict(float)
        for entry in self._matching(function, files):
            for (_path, _line, name), figures in entry[4].items():
                calls[name] += figures[1]
                seconds[name] += figures[3]
        return {name: (count, seconds[name]) for name, count in calls.most_common()}


def breakdown(profile: Profile, figures: Figures) -> None:
    """Print where the engine's time goes in the profiled run, per item."""
    items = max(1, figures.processed)
    agent = profile.cumulative("run", ("agents/command.py",))[1]
    tests = profile.cumulative("result", ("testrun.py",))[1]
    overhead = profile.total - agent - tests
    command = profile.cumulative("run", ("commands/run.py",))[1]
    rows = [("start-up: imports, settings, agent check", 1, profile.total - command)]
    for label, function, files in PARTS:
        calls, seconds = profile.cumulative(function, files)
        if function in INSIDE:
            seconds -= profile.cumulative(*INSIDE[function])[1]
        if function == "_sync":  # its test run is the project's
            seconds -= profile.seconds_from("report", ("testrun.py",), ("sources/tests.py",))
        if calls:
            rows.append((label, calls, seconds))
    rows.append(("everything else", 0, overhead - sum(seconds for *_, seconds in rows)))
    print(f"\nwhere the overhead goes: one run under cProfile, overhead {overhead:.2f} s")
    print(f"{'':<44}{'calls':>6}{'total':>9}{'per item':>10}")
    for label, calls, seconds in rows:
        print(f"{label:<44}{calls or '':>6}{seconds:>8.2f}s{seconds / items:>9.3f}s")
    calls, seconds = profile.cumulative(*GIT)
    label = "of which git commands, in all rows above"
    print(f"{label:<44}{calls:>6}{seconds:>8.2f}s{seconds / items:>9.3f}s")
    callers = list(profile.callers(*GIT).items())[:8]
    shown = ", ".join(f"{name} {count} ({seconds:.2f} s)" for name, (count, seconds) in callers)
    print(f"git calls by caller: {shown}")


def main() -> None:
    """Run the engine ``--runs`` times on fresh copies and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--discover", action="store_true", help="run discovery first")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the profiled run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engine-overhead-") as work:
        cost = wrapper_cost(Path(work))
        what = "with discovery" if args.discover else "--no-discover"
        print(f"backlog run {what} on examples/inventory with the scripted agent")
        runs = [
            one_run(Path(work, f"run{n}"), cost, discover=args.discover) for n in range(args.runs)
        ]
        report(runs, cost)
        if not args.no_breakdown:
            path = Path(work, "run.prof")
            figures = one_run(Path(work, "profiled"), cost, discover=args.discover, profile=path)
            breakdown(Profile.read(path), figures)


if __name__ == "__main__":
    main()
