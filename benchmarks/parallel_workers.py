"""Time ``backlog run --workers N`` on items that only wait for the agent, to show how close N
workers come to finishing N items in the time of one.

    python benchmarks/parallel_workers.py [--items 4] [--sleep 2] [--workers-list 1,2,4]

A small Python project is built once in a temporary git repository: a package with one
function per item, each in its own module with a one-character bug (``a - b`` for ``a + b``),
a passing test, and a backlog of ``--items`` READY Bug items (P-1, P-2, ...) whose descriptions
name their module, so no two items touch the same file. The scripted stand-in agent sleeps
``--sleep`` seconds and writes a failing test (red), sleeps again and fixes the bug (green),
and changes nothing in refactor. For each N in ``--workers-list``, a fresh copy of the
repository gets one ``backlog run --no-discover --format json --workers N`` in a child process.

The test command (pytest, as the engine would detect it) is wrapped in ``_timed.py`` to add up
the project's test time. The ideal wall time for N workers is the agent's sleeps in
ceil(items / N) rounds (two sleeps per item) plus the first run's test time spread over
min(N, CPUs): it leaves out the engine's own work, so even N = 1 is above it, and the test
runs of parallel items compete for the CPUs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from continuous_backlog_executor.git import git  # noqa: E402

PACKAGE = "continuous_backlog_executor"
TIMED = Path(__file__).resolve().parent / "_timed.py"
PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'
ITEM = """\
  - id: P-{n}
    title: add_{n} returns the difference instead of the sum
    task_type: Bug
    status: READY
    impact: 8
    effort: 2
    description: The bug is in calc/add_{n}.py, which returns a - b.
    acceptance_criteria:
      - add_{n}(2, 3) is 5
"""
FAILING_TEST = (
    "from calc.add_{n} import add_{n}\n\n\ndef test_add_{n}():\n    assert add_{n}(2, 3) == 5\n"
)


@dataclass(frozen=True)
class Figures:
    """One run: its wall time, the project's test time, and what became of the items."""

    workers: int
    wall: float
    tests: float  # all test runs together, as if one after another
    to_pr: int
    problems: tuple[str, ...]  # items that did not reach PR, or the run's error


# -- the project ------------------------------------------------------------------------------


def build(repo: Path, items: int) -> None:
    """Write the project with ``items`` buggy modules and its backlog, and commit it."""
    (repo / "calc").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "DOCS").mkdir()
    (repo / "calc" / "__init__.py").write_text("")
    imports = ""
    for n in range(1, items + 1):
        (repo / "calc" / f"add_{n}.py").write_text(f"def add_{n}(a, b):\n    return a - b\n")
        imports += f"from calc.add_{n} import add_{n}\n"
    checks = "".join(f"    assert callable(add_{n})\n" for n in range(1, items + 1))
    (repo / "tests" / "test_calc.py").write_text(f"{imports}\n\ndef test_callable():\n{checks}")
    (repo / "pyproject.toml").write_text(PYPROJECT)
    backlog = "".join(ITEM.format(n=n) for n in range(1, items + 1))
    (repo / "DOCS" / "backlog.yml").write_text(f"version: 1\nitems:\n{backlog}")
    identity = ("-c", "user.name=Benchmark", "-c", "user.email=benchmark@example.com")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git(*identity, "commit", "-q", "-m", "calc with bugs", cwd=repo)


def agent_script(items: int, sleep: float) -> str:
    """The scripted agent's script: per item, sleep then write a failing test, sleep then fix.

    JSON is YAML, and needs no quoting rules of its own."""
    script = {
        f"P-{n}": {
            "red": [
                [
                    {"sleep": sleep},
                    {"write": {"path": f"tests/test_{n}.py", "content": FAILING_TEST.format(n=n)}},
                ]
            ],
            "green": [
                [
                    {"sleep": sleep},
                    {"replace": {"path": f"calc/add_{n}.py", "old": "a - b", "new": "a + b"}},
                ]
            ],
            "refactor": [],
        }
        for n in range(1, items + 1)
    }
    return json.dumps(script, indent=2)


# -- running ----------------------------------------------------------------------------------


def backlog_argv(repo: Path, script: Path, log: Path, workers: int) -> list[str]:
    """``backlog run --workers N`` on ``repo`` with the scripted agent and timed tests."""
    # pytest under this interpreter: what the engine detects from the pyproject's pytest table.
    tests = [sys.executable, "-m", "pytest"]
    timed = [sys.executable, "-I", "-S", str(TIMED), str(log), "tests", "--", *tests]
    settings = {
        "agent.type": "scripted",
        "agent.script": str(script),
        "agent.timeout": "60",
        "execution.max_tries": "1",
        "execution.test_command": shlex.join(timed),
        "actor": "benchmark",
    }
    argv = [sys.executable, "-m", PACKAGE, "--repo", str(repo)]
    argv += [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    return [*argv, "run", "--no-discover", "--format", "json", "--workers", str(workers)]


def _environment() -> dict[str, str]:
    # The checkout's package whether or not it is installed, and none of the caller's settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLOG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def one_run(scratch: Path, template: Path, script: Path, workers: int) -> Figures:
    """Copy the project, run ``backlog run --workers N`` on it once, and return the figures."""
    repo, log = scratch / "repo", scratch / "timed.log"
    shutil.copytree(template, repo, symlinks=True)
    argv = backlog_argv(repo, script, log, workers)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=_environment(), check=False)
    wall = time.perf_counter() - started
    tests = sum(float(line.split("\t")[1]) for line in _lines(log))
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        error = f"exit {done.returncode}, no JSON summary: {done.stderr.strip()[-2000:]}"
        return Figures(workers, wall, tests, 0, (error,))
    processed = summary["processed"]
    problems = [f"{p['id']} {p['status']}: {p['reason']}" for p in processed if p["status"] != "PR"]
    if summary.get("error") or done.returncode != 0:
        problems.append(f"exit {done.returncode}: {summary.get('error') or done.stderr[-2000:]}")
    to_pr = sum(1 for p in processed if p["status"] == "PR")
    return Figures(workers, wall, tests, to_pr, tuple(problems))


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


# -- reporting --------------------------------------------------------------------------------


def ideal(workers: int, *, items: int, sleep: float, tests: float, cpus: int) -> float:
    """The agent's sleeps in rounds of ``workers`` items, plus the test time spread over the
    CPUs the workers can use."""
    return math.ceil(items / workers) * 2 * sleep + tests / min(workers, cpus)


def report(runs: Sequence[Figures], *, items: int, sleep: float, cpus: int) -> None:
    """Print one row per run, then what went wrong, if anything."""
    base = runs[0]
    print(f"{'workers':>7}{'wall':>9}{'to PR':>7}{'speedup':>9}{'ideal':>9}{'tests':>9}")
    for f in runs:
        best = ideal(f.workers, items=items, sleep=sleep, tests=base.tests, cpus=cpus)
        print(
            f"{f.workers:>7}{f.wall:>8.2f}s{f'{f.to_pr}/{items}':>7}"
            f"{base.wall / f.wall:>8.2f}x{best:>8.2f}s{f.tests:>8.2f}s"
        )
    print(f"speedup: against the first row (N = {base.workers}); tests: all test runs added up")
    print(
        f"ideal: {items} items x 2 sleeps x {sleep:g} s in rounds of N, "
        f"plus the first row's tests over min(N, {cpus} CPUs)"
    )
    for f in runs:
        for problem in f.problems:
            print(f"N = {f.workers}: {problem}")


def _workers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be 1 or more: {text}")
    return values


def main() -> None:
    """Build the project once, run it with each worker count, and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--sleep", type=float, default=2.0, help="agent seconds per phase")
    parser.add_argument("--workers-list", type=_workers, default=[1, 2, 4])
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="parallel-workers-") as work:
        template, script = Path(work, "template"), Path(work, "script.yml")
        build(template, args.items)
        script.write_text(agent_script(args.items, args.sleep))
        print(
            f"backlog run --workers N: {args.items} items, agent sleeps {args.sleep:g} s in red "
            f"and in green; {cpus} CPUs"
        )
        runs = []
        for workers in args.workers_list:
            scratch = Path(work, f"workers-{workers}")
            scratch.mkdir()
            runs.append(one_run(scratch, template, script, workers))
        report(runs, items=args.items, sleep=args.sleep, cpus=cpus)


if __name__ == "__main__":
    main()
