"""Build a large backlog file and time load, score, rank and save, with peak memory.

    python benchmarks/backlog_scale.py [--items 100000] [--changes 100] [--reference]

Each phase runs in a fresh process so its peak memory (max RSS) is its own. "Cold" is the
first load on a machine (no entry cache yet, every entry parsed); "warm" is every later load.
The save changes ``--changes`` items (status moves and edits, as one engine cycle would) and
adds a tenth as many new ones. With ``--reference``, ruamel.yaml's own loaders read the same
file for comparison (slow: minutes at 100,000 items).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TYPES = ("Feature", "Bug", "Refactor", "Security", "Doc", "Test", "Performance")
STATUSES = ("NEW", "REFINED", "READY", "READY", "READY", "BLOCKED", "DONE", "PR")
WORDS = [
    *("parser", "cache", "login", "export", "billing", "search", "upload", "report"),
    *("session", "invoice", "scheduler", "importer", "webhook", "queue", "retry"),
    *("timeout", "pagination", "locale", "font", "theme", "audit"),
]


def _entry(rng: random.Random, number: int, start: datetime) -> str:
    created = start + timedelta(minutes=number)
    word = rng.choice(WORDS)
    other = rng.choice(WORDS)
    kind = rng.choice(TYPES)
    status = rng.choice(STATUSES)
    lines = [
        f"- id: BL-{number}",
        f"  title: Improve the {word} handling in module {number % 311}",
        f"  task_type: {kind}",
        f"  status: {status}",
        "  description: |-",
        f"    The {word} path in module_{number}.py fails under load when the {other} is full.",
        f"    Reproduce with data set {rng.randint(1, 10**6)}, compare with release {number % 97}.",
    ]
    if number % 3:
        lines += [f"  impact: {rng.randint(1, 13)}", f"  effort: {rng.randint(1, 13)}"]
    if status == "BLOCKED":
        lines.append("  blocked_reason: waiting for the vendor's answer")
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines += [f"  created_at: {stamp}", f"  updated_at: {stamp}"]
    lines += [
        "  acceptance_criteria:",
        f"  - the {word} path handles a full queue",
        "  - tests cover it",
    ]
    lines += [
        "  source:",
        "    kind: comment",
        f"    path: src/pkg/{word}/module_{number % 311}.py",
        f"    line: {1 + number % 900}",
        "    tag: TODO",
    ]
    return "\n".join(lines) + "\n"


def build(path: Path, count: int) -> None:
    """Write a ``count``-item backlog in the layout the tool writes, with a human's header."""
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    header = "# Team backlog (generated for the benchmark)\nversion: 1\nitems:\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(_entry(rng, n, start) for n in range(1, count + 1)))


def _phase(path: Path, state: Path, changes: int) -> None:
    """One process: load, score, rank, change some items, save; print timings as JSON."""
    from continuous_backlog_executor.backlog import BacklogStore
    from continuous_backlog_executor.journal import Journal
    from continuous_backlog_executor.model import BacklogItem, TaskStatus
    from continuous_backlog_executor.scoring import ScoringSettings, order
    from continuous_backlog_executor.store import StateStore

    # settle=True: the `backlog` command's setting (see perf.settle), so these are its figures.
    store = BacklogStore(
        path, state=StateStore(state), journal=Journal(state / "events.jsonl"), settle=True
    )
    now = datetime(2026, 11, 25, tzinfo=UTC)
    settings = ScoringSettings()
    times: dict[str, float] = {}
    started = time.perf_counter()
    with store.transaction() as backlog:
        times["load"] = time.perf_counter() - started
        mark = time.perf_counter()
        scored = backlog.scored(settings, now)
        times["score"] = time.perf_counter() - mark
        mark = time.perf_counter()
        ranked = order(scored)
        times["rank"] = time.perf_counter() - mark
        ready = [r.item for r in ranked if r.item.status is TaskStatus.READY]
        for item in ready[:changes]:
            backlog.transition(item, TaskStatus.DOING, reason="", actor="bench", now=now)
        for number in range(max(1, changes // 10)):
            backlog.add(BacklogItem(id=backlog.new_id(), title=f"New finding {number}"))
        mark = time.perf_counter()
    times["save"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - started
    times["items"] = len(backlog.items)
    times["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(times))


def _run_phase(path: Path, state: Path, changes: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", str(path), str(state), str(changes)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _reference(path: Path) -> None:
    from ruamel.yaml import YAML

    for name, yaml in (
        ("ruamel.yaml safe (C)", YAML(typ="safe", pure=False)),
        ("ruamel.yaml round-trip", YAML()),
    ):
        started = time.perf_counter()
        yaml.load(path.read_text())
        print(f"  reference {name} load of the whole file: {time.perf_counter() - started:.2f} s")


def main() -> None:
    """Build the file, run a cold and two warm phases, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _phase(Path(args.phase[0]), Path(args.phase[1]), int(args.phase[2]))
        return
    with tempfile.TemporaryDirectory() as work:
        path, state = Path(work) / "DOCS" / "backlog.yml", Path(work) / "state"
        started = time.perf_counter()
        build(path, args.items)
        size = path.stat().st_size / 1e6
        print(f"built {args.items} items ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")
        for label in ("cold (first load, no cache)", "warm", "warm again"):
            t = _run_phase(path, state, args.changes)
            total = t["load"] + t["score"] + t["rank"] + t["save"]
            print(
                f"{label:>28}: load {t['load']:.2f} s, score {t['score']:.2f} s, "
                f"rank {t['rank']:.2f} s, save {t['save']:.2f} s ({args.changes} moved, "
                f"{max(1, args.changes // 10)} added) = {total:.2f} s; "
                f"peak {t['peak_mb']:.0f} MB"
            )
        if args.reference:
            _reference(path)


if __name__ == "__main__":
    main()
