"""``backlog run`` under faults, each engine a real process: killed with SIGKILL mid-item, two at
once on one repository, and stopped with Ctrl-C. The backlog, branches, pull requests and the
user's checkout must come out whole, and no agent may be left working."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from ruamel.yaml import YAML
from support import backlog_path

from conftest import git

pytestmark = pytest.mark.slow

T = TypeVar("T")
Actions = list[dict[str, object]]
Script = Mapping[str, Mapping[str, list[Actions]]]

DEADLINE = 30.0  # seconds any awaited event may take on a loaded machine
MODULE = [sys.executable, "-m", "continuous_backlog_executor"]


@dataclass(frozen=True)
class Bug:
    """One backlog item: a function in ``calc/<name>.py`` that computes the wrong thing."""

    item_id: str
    name: str
    wrong: str
    right: str
    check: str
    impact: int

    @property
    def module(self) -> str:
        return f"calc/{self.name}.py"

    @property
    def title(self) -> str:
        return f"{self.name} computes {self.wrong} instead of {self.right}"

    def red(self) -> dict[str, object]:
        test = f"from calc.{self.name} import {self.name}\n\n\ndef test_{self.name}():\n"
        content = f"{test}    assert {self.check}\n"
        return {"write": {"path": f"tests/test_{self.name}.py", "content": content}}

    def green(self) -> dict[str, object]:
        fixed = f"{self.right}  # fixed"
        return {"replace": {"path": self.module, "old": self.wrong, "new": fixed}}


BUGS = (
    Bug("CALC-1", "add", "a - b", "a + b", "add(2, 3) == 5", 8),
    Bug("CALC-2", "mul", "a + b", "a * b", "mul(2, 3) == 6", 6),
    Bug("CALC-3", "sub", "a + b", "a - b", "sub(5, 3) == 2", 4),
)
CALC1 = BUGS[0]
PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'

# Engine B of the race test: the real command, held for a moment inside its recovery, after it
# read the leases and before it cleans the worktrees, as a busy scheduler may hold any process.
PAUSED_IN_RECOVERY = """\
import sys, time
from pathlib import Path
from continuous_backlog_executor import cli, worktree

paused, go = Path(sys.argv[1]), Path(sys.argv[2])
clean_stale = worktree.Worktrees.clean_stale

def held_back(self, active):
    paused.touch()
    while not go.exists():
        time.sleep(0.05)
    return clean_stale(self, active)

worktree.Worktrees.clean_stale = held_back
sys.exit(cli.main(sys.argv[3:]))
"""


# --- the project -----------------------------------------------------------------------------


def make_project(repo: Path, bugs: Sequence[Bug]) -> Path:
    """A small Python project with ``bugs``, one READY backlog item each, and a passing test."""
    (repo / "calc").mkdir()
    (repo / "calc" / "__init__.py").write_text("")
    for bug in BUGS:
        (repo / bug.module).write_text(f"def {bug.name}(a, b):\n    return {bug.wrong}\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text(
        "import calc.add\n\n\ndef test_importable():\n    assert calc.add.add\n"
    )
    (repo / "pyproject.toml").write_text(PYPROJECT)
    items = [
        {
            "id": bug.item_id,
            "title": bug.title,
            "task_type": "Bug",
            "status": "READY",
            "impact": bug.impact,
            "effort": 2,
            "acceptance_criteria": [bug.check],
        }
        for bug in bugs
    ]
    (repo / "DOCS").mkdir()
    with backlog_path(repo).open("w", encoding="utf-8") as stream:
        YAML().dump({"version": 1, "items": items}, stream)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "calc")
    return repo


@pytest.fixture
def project(repo: Path) -> Path:
    """The project with one item, CALC-1."""
    return make_project(repo, [CALC1])


@dataclass(frozen=True)
class Checkout:
    """What the user sees in the main checkout: files outside DOCS/, HEAD, branch and index."""

    files: dict[str, bytes]
    head: str
    branch: str
    index: str

    @classmethod
    def of(cls, repo: Path) -> Checkout:
        files = {
            p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and p.relative_to(repo).parts[0] not in (".git", "DOCS")
        }
        return cls(
            files,
            git(repo, "rev-parse", "HEAD"),
            git(repo, "symbolic-ref", "HEAD"),
            git(repo, "diff", "--cached"),
        )


def items(repo: Path) -> dict[str, dict[str, object]]:
    """The backlog's items by id, read by a strict YAML parser."""
    data = YAML(typ="safe").load(backlog_path(repo).read_text(encoding="utf-8"))
    return {str(entry["id"]): entry for entry in data["items"]}


def branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "backlog/*", "--format=%(refname:short)").split()


def subjects(repo: Path, branch: str) -> list[str]:
    return git(repo, "log", "--format=%s", f"main..{branch}").splitlines()


def worktrees(repo: Path) -> list[Path]:
    """Every registered worktree, the main checkout first."""
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    return [Path(line.removeprefix("worktree ")) for line in listed if line.startswith("worktree ")]


def state(repo: Path) -> Path:
    return repo / ".git" / "backlog-executor"


def pull_requests(repo: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [*MODULE, "prs", "--format", "json"],
        cwd=repo,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=True,
    )
    return list(json.loads(done.stdout))


def receipts(repo: Path, item_id: str) -> list[dict[str, object]]:
    folder = state(repo) / "receipts" / item_id
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def transcript(repo: Path, item_id: str, attempt: int, phase: str) -> Path:
    return state(repo) / "attempts" / item_id / str(attempt) / f"{phase}-1.transcript.txt"


# --- processes -------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """The test's (already cleaned) environment, as the other real-process tests pass it."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def wait_for(found: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    """Poll ``found`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g}s for {what}")
        time.sleep(0.05)


def stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: [0] state, [1] parent pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def alive(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] != "Z"


def sleeper_in(path: Path) -> int | None:
    """The pid the scripted agent's ``spawn_sleeper`` printed into transcript ``path``."""
    text = path.read_text() if path.exists() else ""
    found = text.split("spawned sleeper ", 1)
    return int(found[1].split()[0]) if len(found) == 2 and "\n" in found[1] else None


def parent(pid: int) -> int:
    fields = stat(pid)
    assert fields is not None, f"process {pid} is gone"
    return int(fields[1])


def printed(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text()


def release(fifo: Path) -> None:
    """Let the agent blocked writing into ``fifo`` go on (a named pipe opens once read)."""
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        wait_for(lambda: _read_some(reader), f"an agent to write into {fifo}")
    finally:
        os.close(reader)


def _read_some(reader: int) -> bool:
    try:
        return bool(os.read(reader, 64))
    except BlockingIOError:
        return False


@dataclass(frozen=True)
class Finished:
    """How an engine process ended and what it printed."""

    code: int
    out: str
    err: str

    def report(self) -> dict[str, object]:
        assert self.code == 0, self.err
        return dict(json.loads(self.out))

    def processed(self) -> list[dict[str, object]]:
        rows = self.report()["processed"]
        assert isinstance(rows, list)
        return rows

    def recovered(self) -> list[str]:
        ids = self.report()["recovered"]
        assert isinstance(ids, list)
        return ids


@dataclass
class Engine:
    """A ``backlog run`` process, its output in files (a pipe could fill up and stall it)."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for(self, found: Callable[[], T | None], what: str) -> T:
        """``wait_for`` while this engine runs: its end fails at once, with what it said."""

        def found_or_ended() -> T | None:
            if self.process.poll() is not None:
                raise AssertionError(f"the engine ended before {what}: {self.err.read_text()}")
            return found()

        return wait_for(found_or_ended, what)

    def finish(self, timeout: float = 60.0) -> Finished:
        code = self.process.wait(timeout)
        return Finished(code, self.out.read_text(), self.err.read_text())


class Engines:
    """Starts engines on the test's repository, and stops whatever is left of them afterwards:
    engines, and agents (found by their script, which lives in ``scripts``) with their groups."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scripts = folder / "scripts"
        self.scripts.mkdir(parents=True)
        self.started: list[Engine] = []

    def script(self, name: str, entries: Script) -> Path:
        target = self.scripts / f"{name}.yml"
        with target.open("w", encoding="utf-8") as stream:
            YAML().dump({key: dict(value) for key, value in entries.items()}, stream)
        return target

    def start(
        self, repo: Path, script: Path, *extra: str, launcher: Sequence[str] = MODULE
    ) -> Engine:
        number = len(self.started) + 1
        out, err = self.folder / f"engine-{number}.out", self.folder / f"engine-{number}.err"
        argv = [
            *launcher,
            "run",
            "--no-discover",
            "--format",
            "json",
            "--set",
            "agent.type=scripted",
            "--set",
            f"agent.script={script}",
            "--set",
            "execution.max_tries=1",
            "--set",
            "agent.timeout=20",
            *extra,
        ]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                argv,
                cwd=repo,
                env=environment(),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # like a job of its own in a shell
            )
        engine = Engine(process, out, err)
        self.started.append(engine)
        return engine

    def agents(self) -> list[int]:
        """The living scripted agents following one of this test's scripts."""
        marker = str(self.scripts).encode()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                argv = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if entry.name.isdigit() and marker in argv and alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def close(self) -> None:
        for engine in self.started:
            if engine.process.poll() is None:
                engine.process.kill()
            engine.process.wait()
        for pid in self.agents():
            try:
                os.killpg(pid, signal.SIGKILL)  # each agent leads its own group
            except (ProcessLookupError, PermissionError):
                continue


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Engines]:
    started = Engines(tmp_path / "engines")
    try:
        yield started
    finally:
        started.close()


def good_script(engines: Engines, name: str) -> Path:
    """CALC-1 straight to a pull request."""
    return engines.script(name, {"CALC-1": {"red": [[CALC1.red()]], "green": [[CALC1.green()]]}})


def hanging_in(phase: str) -> dict[str, list[Actions]]:
    """CALC-1's phases up to ``phase``, where the agent starts a child and then hangs."""
    hang: Actions = [{"spawn_sleeper": 60}, {"sleep": 60}]
    return {"red": [[CALC1.red()]], "green": [hang]} if phase == "green" else {"red": [hang]}


# --- kill -9 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["red", "green"])
def test_an_engine_killed_mid_item_is_taken_over_by_the_next_run(
    project: Path, engines: Engines, phase: str
) -> None:
    before = Checkout.of(project)
    first = engines.start(project, engines.script("hangs", {"CALC-1": hanging_in(phase)}))
    log = transcript(project, "CALC-1", 1, phase)
    sleeper = first.wait_for(lambda: sleeper_in(log), f"the agent to hang in {phase}")
    agent = parent(sleeper)
    assert items(project)["CALC-1"]["status"] == "DOING"
    lease = json.loads((state(project) / "leases" / "CALC-1.json").read_text())
    assert (lease["pid"], lease["host"]) == (first.pid, socket.gethostname())

    os.kill(first.pid, signal.SIGKILL)
    assert first.finish().code == -signal.SIGKILL
    assert alive(agent), "the agent runs in its own process group, so it outlives the engine"
    second = engines.start(project, good_script(engines, "succeeds")).finish()

    assert second.recovered() == ["CALC-1"]
    [row] = second.processed()
    assert (row["id"], row["outcome"], row["status"]) == ("CALC-1", "success", "PR")
    assert items(project)["CALC-1"]["status"] == "PR"
    assert items(project)["CALC-1"]["pr_url"] == "local://pr/1"
    [branch] = branches(project)
    assert branch.startswith("backlog/CALC-1-")
    assert subjects(project, branch) == [f"fix: {CALC1.title}", f"test: {CALC1.title}"]
    assert [(pr["item_id"], pr["branch"], pr["state"]) for pr in pull_requests(project)] == [
        ("CALC-1", branch, "open")
    ]
    assert [r["outcome"] for r in receipts(project, "CALC-1")] == ["success"]
    assert worktrees(project) == [project]
    assert list((state(project) / "leases").glob("*.json")) == []
    assert Checkout.of(project) == before


def test_the_agent_of_a_killed_engine_cannot_write_into_the_next_run(
    project: Path, engines: Engines, tmp_path: Path
) -> None:
    # Named pipes order the two agents exactly: a write into one blocks until the test reads it.
    held, second_held = tmp_path / "held", tmp_path / "second-held"
    os.mkfifo(held)
    os.mkfifo(second_held)
    stray = {"path": "calc/stray.py", "content": "STRAY = 'from the killed run'\n"}
    orphaned: Actions = [
        {"print": "first green"},
        {"write": {"path": str(held), "content": "go\n"}},
        {"write": stray},
        {"print": "stray written"},
    ]
    first = engines.start(
        project, engines.script("orphan", {"CALC-1": {"red": [[CALC1.red()]], "green": [orphaned]}})
    )
    first_log = transcript(project, "CALC-1", 1, "green")
    first.wait_for(lambda: printed(first_log, "first green"), "the first run's green phase")
    os.kill(first.pid, signal.SIGKILL)
    first.finish()
    orphans = engines.agents()  # the killed engine's agent, unless something stopped it
    waiting: Actions = [
        {"print": "second green"},
        {"write": {"path": str(second_held), "content": "go\n"}},
        CALC1.green(),
    ]
    second = engines.start(
        project, engines.script("second", {"CALC-1": {"red": [[CALC1.red()]], "green": [waiting]}})
    )
    second_log = transcript(project, "CALC-1", 2, "green")
    second.wait_for(lambda: printed(second_log, "second green"), "the second run's green")

    if any(alive(pid) for pid in orphans):  # it goes on now, amid the second run's green phase
        release(held)
        wait_for(lambda: printed(first_log, "stray written"), "the orphan's write")
    release(second_held)
    [row] = second.finish().processed()

    assert (row["outcome"], row["status"]) == ("success", "PR")
    [branch] = branches(project)
    assert "calc/stray.py" not in git(project, "ls-tree", "-r", "--name-only", branch).split()


# --- two engines at once ---------------------------------------------------------------------


def slow_script(engines: Engines) -> Path:
    """Every item to a pull request, each green phase taking a second and a half."""
    return engines.script(
        "slow",
        {b.item_id: {"red": [[b.red()]], "green": [[{"sleep": 1.5}, b.green()]]} for b in BUGS},
    )


def check_each_item_done_once(repo: Path, rows: list[dict[str, object]]) -> None:
    assert sorted(str(row["id"]) for row in rows) == [b.item_id for b in BUGS]
    assert {(row["outcome"], row["status"]) for row in rows} == {("success", "PR")}
    stored = items(repo)
    assert {i: (e["status"], e["attempts"]) for i, e in stored.items()} == {
        b.item_id: ("PR", 1) for b in BUGS
    }
    for bug in BUGS:
        assert [r["outcome"] for r in receipts(repo, bug.item_id)] == ["success"]
    prs = pull_requests(repo)
    assert sorted(str(pr["item_id"]) for pr in prs) == [b.item_id for b in BUGS]
    assert sorted(str(pr["branch"]) for pr in prs) == branches(repo)
    assert len(branches(repo)) == len(BUGS)
    assert worktrees(repo) == [repo]


def test_two_engines_started_together_never_take_the_same_item(
    repo: Path, engines: Engines
) -> None:
    project = make_project(repo, BUGS)
    before = Checkout.of(project)
    agent = slow_script(engines)

    one, two = engines.start(project, agent), engines.start(project, agent)
    first, second = one.finish().processed(), two.finish().processed()

    # Each engine took an item while the other worked, or the test proved nothing.
    assert first
    assert second
    check_each_item_done_once(project, first + second)
    assert Checkout.of(project) == before


def test_an_engine_started_while_another_works_leaves_its_item_alone(
    repo: Path, engines: Engines
) -> None:
    project = make_project(repo, BUGS)
    before = Checkout.of(project)
    agent = slow_script(engines)
    one = engines.start(project, agent)
    green = transcript(project, "CALC-1", 1, "green")
    one.wait_for(green.exists, "the first engine's green phase")

    two = engines.start(project, agent)
    first, second = one.finish().processed(), two.finish().processed()

    assert first[0]["id"] == "CALC-1"
    assert two.finish().recovered() == []
    assert "CALC-1" not in [row["id"] for row in second]
    check_each_item_done_once(project, first + second)
    assert Checkout.of(project) == before


def test_an_engine_slow_in_its_recovery_leaves_a_new_item_of_another_alone(
    project: Path, engines: Engines, tmp_path: Path
) -> None:
    paused, go, held = tmp_path / "paused", tmp_path / "go", tmp_path / "held"
    os.mkfifo(held)
    waiting: Actions = [
        {"print": "green"},
        {"write": {"path": str(held), "content": "go\n"}},
        CALC1.green(),
    ]
    agent = engines.script("held", {"CALC-1": {"red": [[CALC1.red()]], "green": [waiting]}})
    late = engines.start(
        project, agent, launcher=[sys.executable, "-c", PAUSED_IN_RECOVERY, str(paused), str(go)]
    )
    late.wait_for(paused.exists, "the late engine to read the leases")
    working = engines.start(project, agent)
    # Give the second engine time to take CALC-1 and reach green, if the recovery lets it.

    def in_green() -> bool:
        return printed(transcript(project, "CALC-1", 1, "green"), "green")

    deadline = time.monotonic() + 3
    while not in_green() and time.monotonic() < deadline:
        time.sleep(0.05)

    go.touch()
    wait_for(in_green, "one engine to reach green")
    release(held)
    rows = late.finish().processed() + working.finish().processed()

    assert [(r["id"], r["outcome"], r["status"]) for r in rows] == [("CALC-1", "success", "PR")]


# --- Ctrl-C ----------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_ctrl_c_puts_the_item_back_stops_the_agent_and_the_next_run_finishes_it(
    project: Path, engines: Engines, keep: bool
) -> None:
    before = Checkout.of(project)
    extra = ["--keep-worktrees"] if keep else []
    engine = engines.start(
        project, engines.script("hangs", {"CALC-1": hanging_in("green")}), *extra
    )
    sleeper = engine.wait_for(
        lambda: sleeper_in(transcript(project, "CALC-1", 1, "green")), "green"
    )
    agent = parent(sleeper)

    os.kill(engine.pid, signal.SIGINT)  # what a terminal sends the foreground job on Ctrl-C
    interrupted = time.monotonic()
    ended = engine.finish(DEADLINE)
    took = time.monotonic() - interrupted

    assert (ended.code, ended.out, ended.err.splitlines()[-1]) == (130, "", "interrupted")
    assert took < 10, f"stopping took {took:.1f}s"
    assert not alive(agent)
    assert not alive(sleeper)
    stored = items(project)["CALC-1"]
    assert stored["status"] == "READY"
    assert [r["outcome"] for r in receipts(project, "CALC-1")] == ["interrupted"]
    kept = state(project) / "worktrees" / "CALC-1"
    assert worktrees(project) == ([project, kept] if keep else [project])
    assert kept.is_dir() is keep
    assert list((state(project) / "leases").glob("*.json")) == []
    assert Checkout.of(project) == before
    [branch] = branches(project)
    assert subjects(project, branch) == [f"test: {CALC1.title}"]

    again = engines.start(project, good_script(engines, "succeeds"), *extra).finish()

    assert again.recovered() == []
    assert [(row["id"], row["status"]) for row in again.processed()] == [("CALC-1", "PR")]
    assert branches(project) == [branch]
    assert subjects(project, branch) == [f"fix: {CALC1.title}", f"test: {CALC1.title}"]
    assert Checkout.of(project) == before


# --- workers ---------------------------------------------------------------------------------


def describe(repo: Path, descriptions: Mapping[str, str]) -> None:
    """Give items descriptions (which name the files they will change)."""
    path = backlog_path(repo)
    data = YAML(typ="safe").load(path.read_text())
    for entry in data["items"]:
        entry["description"] = descriptions.get(entry["id"], "")
    with path.open("w", encoding="utf-8") as stream:
        YAML().dump(data, stream)


def span(repo: Path, item_id: str) -> tuple[float, float]:
    """When the item's one attempt started and finished, as POSIX times."""
    [receipt] = receipts(repo, item_id)
    start, end = (receipt[key] for key in ("started", "finished"))
    assert isinstance(start, str)
    assert isinstance(end, str)
    return datetime.fromisoformat(start).timestamp(), datetime.fromisoformat(end).timestamp()


def test_workers_take_items_at_once_but_never_two_that_name_the_same_file(
    repo: Path, engines: Engines
) -> None:
    project = make_project(repo, BUGS)
    describe(
        project,
        {
            "CALC-1": "The bug is in calc/add.py.",
            "CALC-2": "The bug is in calc/mul.py.",
            "CALC-3": "calc/sub.py is wrong, and calc/add.py shares its helper.",
        },
    )
    before = Checkout.of(project)
    slow: Script = {
        bug.item_id: {"red": [[{"sleep": 1.5}, bug.red()]], "green": [[bug.green()]]}
        for bug in BUGS
    }

    rows = engines.start(project, engines.script("slow", slow), "--workers", "3").finish()

    assert sorted((r["id"], r["status"]) for r in rows.processed()) == [
        ("CALC-1", "PR"),
        ("CALC-2", "PR"),
        ("CALC-3", "PR"),
    ]
    add, mul, sub = (span(project, bug.item_id) for bug in BUGS)
    overlap = min(add[1], mul[1]) - max(add[0], mul[0])
    assert overlap > 0, "CALC-1 and CALC-2 ran one after the other"
    assert sub[0] >= add[1] or add[0] >= sub[1], "CALC-1 and CALC-3 ran at the same time"
    assert len(pull_requests(project)) == 3
    assert worktrees(project) == [project]
    assert Checkout.of(project) == before


def hung(repo: Path, bug: Bug) -> Callable[[], int | None]:
    """The pid of the sleeper the agent started in ``bug``'s green phase, once there is one."""
    return lambda: sleeper_in(transcript(repo, bug.item_id, 1, "green"))


def test_ctrl_c_stops_every_worker_and_puts_their_items_back(repo: Path, engines: Engines) -> None:
    project = make_project(repo, BUGS[:2])
    before = Checkout.of(project)
    hang: Actions = [{"spawn_sleeper": 60}, {"sleep": 60}]
    script: Script = {bug.item_id: {"red": [[bug.red()]], "green": [hang]} for bug in BUGS[:2]}
    engine = engines.start(project, engines.script("hangs", script), "--workers", "2")
    sleepers = [engine.wait_for(hung(project, bug), f"{bug.item_id} in green") for bug in BUGS[:2]]
    agents = [parent(pid) for pid in sleepers]

    os.kill(engine.pid, signal.SIGINT)
    interrupted = time.monotonic()
    ended = engine.finish(DEADLINE)
    took = time.monotonic() - interrupted

    assert (ended.code, ended.err.splitlines()[-1]) == (130, "interrupted")
    assert took < 10, f"stopping took {took:.1f}s"
    assert not any(alive(pid) for pid in [*sleepers, *agents])
    stored = items(project)
    assert [stored[b.item_id]["status"] for b in BUGS[:2]] == ["READY", "READY"]
    assert [r["outcome"] for b in BUGS[:2] for r in receipts(project, b.item_id)] == [
        "interrupted",
        "interrupted",
    ]
    assert worktrees(project) == [project]
    assert list((state(project) / "leases").glob("*.json")) == []
    assert Checkout.of(project) == before
