"""Tests for item leases: one holder at a time, dead holders taken over, one winner per race."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from continuous_backlog_executor.lease import Lease, Leases
from continuous_backlog_executor.store import StateStore


@pytest.fixture
def leases(tmp_path: Path) -> Leases:
    return Leases(StateStore(tmp_path / "state"))


def planted(
    leases: Leases,
    item_id: str,
    *,
    pid: int | None = None,
    host: str | None = None,
    started: datetime | None = None,
    process_start: int | None = None,
) -> Lease:
    """A lease on file as another holder would have written it (this process, by default)."""
    lease = Lease(
        item_id,
        os.getpid() if pid is None else pid,
        host or socket.gethostname(),
        started or datetime.now(UTC),
        "theirs",
        process_start,
    )
    leases.path(item_id).write_text(lease.to_json())
    return lease


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen(["sleep", "0"])
    child.wait()
    return child.pid


def test_an_item_has_one_lease_at_a_time(leases: Leases) -> None:
    first = leases.acquire("BL-1")

    assert first is not None
    assert (first.item_id, first.pid, first.host) == ("BL-1", os.getpid(), socket.gethostname())
    assert leases.acquire("BL-1") is None
    assert leases.acquire("BL-2") is not None
    assert [lease.item_id for lease in leases.held()] == ["BL-1", "BL-2"]
    assert leases.held()[0] == first
    assert leases.dead() == []


def test_release_needs_the_right_token(leases: Leases) -> None:
    lease = leases.acquire("BL-1")
    assert lease is not None
    impostor = Lease(lease.item_id, lease.pid, lease.host, lease.started, "wrong")

    assert leases.release(impostor) is False
    assert leases.held() == [lease]
    assert leases.release(lease) is True
    assert leases.held() == []
    assert leases.release(lease) is False
    assert leases.acquire("BL-1") is not None


def test_a_dead_holders_lease_is_taken_over(leases: Leases) -> None:
    dead = planted(leases, "BL-1", pid=exited_pid())

    assert leases.dead() == [dead]
    taken = leases.acquire("BL-1")

    assert taken is not None
    assert taken.pid == os.getpid()
    assert taken.token != dead.token
    assert leases.dead() == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_reused_pid_is_not_the_holder(leases: Leases) -> None:
    mine = Lease.mine("BL-1")
    assert mine.process_start is not None
    planted(leases, "BL-1", process_start=mine.process_start + 1)

    assert leases.acquire("BL-1") is not None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_an_exited_but_unreaped_holder_is_dead(leases: Leases) -> None:
    child = subprocess.Popen(["sleep", "0"])
    try:
        deadline = time.monotonic() + 10
        stat = Path(f"/proc/{child.pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        planted(leases, "BL-1", pid=child.pid)

        assert leases.acquire("BL-1") is not None
    finally:
        child.wait()


def test_another_hosts_lease_expires_only_when_stale(tmp_path: Path) -> None:
    leases = Leases(StateStore(tmp_path / "state"), stale_after=3600)
    recent = planted(leases, "BL-1", host="elsewhere", pid=exited_pid())
    old = planted(leases, "BL-2", host="elsewhere", started=datetime.now(UTC) - timedelta(hours=2))

    assert leases.is_alive(recent)
    assert leases.dead() == [old]
    assert leases.acquire("BL-1") is None
    assert leases.acquire("BL-2") is not None


def test_a_damaged_lease_file_does_not_block_the_item(leases: Leases) -> None:
    leases.path("BL-1").write_text('{"item_id": "BL-1", "pid": true')
    leases.path("BL-2").write_text('{"item_id": "BL-2", "pid": true}')

    assert leases.held() == []
    assert leases.acquire("BL-1") is not None
    assert leases.acquire("BL-2") is not None


def test_unusual_ids_get_their_own_lease(leases: Leases) -> None:
    assert leases.acquire("a/b") is not None
    assert leases.acquire("a b") is not None
    assert leases.acquire("../escape") is not None

    assert {path.parent for path in leases.folder.parent.rglob("*.json")} == {leases.folder}
    assert [lease.item_id for lease in leases.held()] == ["../escape", "a b", "a/b"]


RACER = """
import sys, time
from pathlib import Path
from continuous_backlog_executor.lease import Leases
from continuous_backlog_executor.store import StateStore

root, go, out, done = map(Path, sys.argv[1:])
while not go.exists():
    time.sleep(0.001)
lease = Leases(StateStore(root)).acquire("BL-1")
out.write_text("won" if lease else "lost")
while not done.exists():  # stay alive, so the lease is not taken over as a dead one
    time.sleep(0.01)
"""


@pytest.mark.slow
def test_racing_engines_one_wins(tmp_path: Path) -> None:
    go, done = tmp_path / "go", tmp_path / "done"
    outs = [tmp_path / f"out-{n}" for n in range(4)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path / "state"), str(go), str(out), str(done)]
        )
        for out in outs
    ]
    try:
        go.touch()
        deadline = time.monotonic() + 30
        while not all(out.exists() and out.read_text() for out in outs):
            assert time.monotonic() < deadline, "the racers did not answer in time"
            time.sleep(0.01)
    finally:
        done.touch()
        for racer in racers:
            racer.wait(timeout=30)

    assert sorted(out.read_text() for out in outs) == ["lost", "lost", "lost", "won"]
