"""The backlog store under contention and faults: locks, parallel writers, edits, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from continuous_backlog_executor.backlog import BacklogStore
from continuous_backlog_executor.errors import BacklogBusyError, ConcurrentEditError
from continuous_backlog_executor.journal import Journal
from continuous_backlog_executor.model import BacklogItem, TaskStatus
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_store(root: Path, *, lock_timeout: float = 30.0) -> BacklogStore:
    """A store for ``root/DOCS/backlog.yml`` with its state in ``root/state``."""
    return BacklogStore(
        root / "DOCS" / "backlog.yml",
        state=StateStore(root / "state"),
        journal=Journal(root / "DOCS" / "status" / "events.jsonl"),
        lock_timeout=lock_timeout,
    )


def python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start a Python child running ``code`` with the project importable."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_transaction_writes_items_and_journals_transitions(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with store.transaction() as backlog:
        item = backlog.add(BacklogItem(id="A-1", title="first", created_at=NOW, updated_at=NOW))
        backlog.transition(item, TaskStatus.BLOCKED, reason="vendor", actor="ann", now=NOW)

    assert store.load().get("A-1").blocked_reason == "vendor"
    (event,) = store.journal.read()
    assert (event.item, event.from_status, event.to_status, event.reason, event.actor) == (
        "A-1",
        TaskStatus.NEW,
        TaskStatus.BLOCKED,
        "vendor",
        "ann",
    )


def test_a_held_lock_makes_a_second_writer_give_up_with_a_clear_message(tmp_path: Path) -> None:
    store = make_store(tmp_path, lock_timeout=0.5)
    lock = store.state.lock_path(store.path)
    holder = python(
        """
        import sys, time
        from filelock import FileLock
        with FileLock(sys.argv[1]):
            print("locked", flush=True)
            time.sleep(30)
        """,
        str(lock),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BacklogBusyError) as caught, store.transaction():
            pass
    finally:
        holder.kill()
        holder.communicate()

    assert str(caught.value) == (
        f"another backlog command is changing {store.path} (lock {lock}); waited 0.5s. "
        "Run again once it finishes, or raise lock_timeout in the configuration."
    )
    with store.transaction() as backlog:  # the lock died with its holder
        backlog.add(BacklogItem(id="A-1", title="after"))


@pytest.mark.slow
def test_parallel_writers_lose_no_update(tmp_path: Path) -> None:
    writers = [
        python(
            """
            import sys
            from pathlib import Path
            from continuous_backlog_executor.backlog import BacklogStore
            from continuous_backlog_executor.journal import Journal
            from continuous_backlog_executor.model import BacklogItem
            from continuous_backlog_executor.store import StateStore
            root, name = Path(sys.argv[1]), sys.argv[2]
            store = BacklogStore(
                root / "DOCS" / "backlog.yml",
                state=StateStore(root / "state"),
                journal=Journal(root / "events.jsonl"),
            )
            for number in range(15):
                with store.transaction() as backlog:
                    backlog.add(BacklogItem(id=f"{name}-{number}", title=f"{name} {number}"))
            """,
            str(tmp_path),
            f"W{index}",
        )
        for index in range(4)
    ]
    for writer in writers:
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err

    ids = {item.id for item in make_store(tmp_path).load().items}
    assert ids == {f"W{w}-{n}" for w in range(4) for n in range(15)}


def test_an_edit_on_disk_during_a_transaction_is_never_overwritten(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="A-1", title="first"))
    human = store.path.read_text() + "# a human saved this while the tool was working\n"

    def edited_meanwhile() -> None:
        with store.transaction() as backlog:
            backlog.add(BacklogItem(id="A-2", title="second"))
            store.path.write_text(human)

    with pytest.raises(ConcurrentEditError) as caught:
        edited_meanwhile()

    assert str(caught.value) == (
        f"{store.path} changed on disk while this command ran (was it edited or restored?); "
        "nothing was written. Run the command again."
    )
    assert store.path.read_text() == human
    assert store.journal.read() == []


def test_a_failed_save_can_be_retried_after_the_file_is_seen_again(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="A-1", title="first"))
    backlog = store.load()
    backlog.add(BacklogItem(id="A-2", title="second"))
    store.path.write_text(store.path.read_text() + "# edited\n")

    with pytest.raises(ConcurrentEditError):
        store.save(backlog)
    store.save(backlog)  # the store re-read the file after the failure

    text = store.path.read_text()
    assert "# edited\n" in text
    assert [item.id for item in store.load().items] == ["A-1", "A-2"]


@pytest.mark.slow
def test_killing_a_writer_at_any_moment_leaves_a_readable_backlog(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with store.transaction() as backlog:
        for number in range(2000):
            backlog.add(BacklogItem(id=f"S-{number}", title=f"seed item {number} " + "x" * 200))
    code = """
        import sys
        from pathlib import Path
        from continuous_backlog_executor.backlog import BacklogStore
        from continuous_backlog_executor.journal import Journal
        from continuous_backlog_executor.model import BacklogItem
        from continuous_backlog_executor.store import StateStore
        root = Path(sys.argv[1])
        store = BacklogStore(
            root / "DOCS" / "backlog.yml",
            state=StateStore(root / "state"),
            journal=Journal(root / "events.jsonl"),
        )
        number = 0
        print("ready", flush=True)
        while True:
            with store.transaction() as backlog:
                for item in backlog.items[:50]:
                    item.title = f"renamed {number} " + item.id
                backlog.add(BacklogItem(id=f"K-{number}", title=f"added {number}"))
            number += 1
    """
    for delay in (0.3, 0.55, 0.8, 1.1):
        writer = python(code, str(tmp_path))
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.communicate()

        items = make_store(tmp_path).load().items
        assert len({item.id for item in items}) == len(items) >= 2000

    # A writer killed mid-write leaves a temporary file; the next write clears it away.
    with store.transaction() as backlog:
        backlog.add(BacklogItem(id="LAST", title="after the kills"))
    assert [p.name for p in store.path.parent.iterdir()] == ["backlog.yml"]
