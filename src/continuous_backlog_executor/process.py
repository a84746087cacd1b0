"""The one way this package runs a child process: an argv list, an explicit environment, a time
limit on the whole process group, and an orderly shutdown (interrupt, terminate, then kill)."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import ProcessError

# How long each shutdown signal gets before the next, harsher one is sent.
GRACE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Result:
    """How a child process ended and what it printed."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when the process exited with status 0 in time."""
        return self.returncode == 0 and not self.timed_out

    def describe(self) -> str:
        """A multi-line account for error messages: command, status and output tails."""
        status = "timed out" if self.timed_out else f"exited with {self.returncode}"
        lines = [f"$ {' '.join(self.argv)}  ({status} after {self.duration:.1f}s)"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                lines.append(f"{name}:\n{_tail(text)}")
        return "\n".join(lines)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# The children this process is waiting for, so a run with several workers can stop them all
# at once on Ctrl-C (each runs in its own session and does not get the terminal's signal).
_RUNNING: set[subprocess.Popen[str]] = set()
_RUNNING_LOCK = threading.Lock()


@contextlib.contextmanager
def _tracked(child: subprocess.Popen[str]) -> Iterator[None]:
    with _RUNNING_LOCK:
        _RUNNING.add(child)
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(child)


def stop_all() -> int:
    """Kill every child this process is waiting for, with its process group; how many."""
    with _RUNNING_LOCK:
        children = list(_RUNNING)
    for child in children:
        _kill_group(child)
    return len(children)


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
    check: bool = False,
) -> Result:
    """Run ``argv`` in ``cwd`` and wait for it, within ``timeout`` seconds if given.

    ``env`` replaces the environment entirely when given, so callers decide what a child sees.
    A timeout stops the whole process group, grandchildren included. With ``check``, a failure
    raises ``ProcessError`` describing the command, its status and its output.
    """
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except OSError as error:
        raise ProcessError(f"cannot run {argv[0]!r}: {error.strerror}") from error
    timed_out = False
    try:
        with _tracked(child):
            stdout, stderr = child.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_group(child)
        stdout, stderr = child.communicate()
    except BaseException:
        stop_group(child)
        raise
    result = Result(
        tuple(argv), child.returncode, stdout, stderr, time.monotonic() - started, timed_out
    )
    if check and not result.ok:
        raise ProcessError(result.describe())
    return result


def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log: Path,
) -> Result:
    """Run ``argv`` in ``cwd`` with stdin closed, appending its stdout and stderr to ``log`` as
    it runs (so a hung child's output can be read before it ends); the result holds no output.

    The time limit stops the whole process group. When the child ends in time, whatever it left
    running in its group is killed too: nothing it started may keep working after it returns.
    Raises ``ProcessError`` when the program cannot be started or ``log`` cannot be opened.
    """
    started = time.monotonic()
    # The child writes straight into the file; our copy of the descriptor is closed at once.
    with _open_log(log, argv[0]) as output:
        try:
            child = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        except OSError as error:
            raise ProcessError(f"cannot run {argv[0]!r}: {error.strerror}") from error
    try:
        with _tracked(child):
            timed_out = not _wait(child, timeout)
    except BaseException:
        stop_group(child)
        raise
    if timed_out:
        stop_group(child)
    else:
        _kill_group(child)
    return Result(tuple(argv), child.returncode, "", "", time.monotonic() - started, timed_out)


def _wait(child: subprocess.Popen[str], timeout: float) -> bool:
    """Wait for ``child`` to end; False when ``timeout`` seconds passed first.

    On Linux a pidfd wakes us the moment the child ends; ``Popen.wait`` with a timeout polls,
    sleeping up to 50 ms at a time, which every agent run and check would pay.
    """
    try:
        handle = os.pidfd_open(child.pid)
    except (AttributeError, OSError):  # not Linux, or an old kernel
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        ready, _, _ = select.select([handle], [], [], timeout)
    finally:
        os.close(handle)
    if not ready:
        return False
    child.wait()
    return True


def _open_log(log: Path, program: str) -> IO[str]:
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        return log.open("a", encoding="utf-8")
    except OSError as error:
        raise ProcessError(
            f"cannot write the output of {program!r} to {log}: {error.strerror}"
        ) from error


def _kill_group(child: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


def stop_group(child: subprocess.Popen[str]) -> None:
    """Stop ``child`` and everything it started: SIGINT, then SIGTERM, then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no straggler in its group outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        return


def find_program(
    name: str, configured: str | None = None, *, base: Path | None = None
) -> Path | None:
    """Where program ``name`` is: ``configured`` (a path, relative to ``base``, or a name looked
    up on PATH) when given, else the one installed beside this Python, else the first on PATH.
    """
    if configured:
        if "/" in configured:
            candidate = (base or Path.cwd()) / Path(configured).expanduser()
            return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None
        found = shutil.which(configured)
        return Path(found) if found else None
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def missing_program(name: str, configured: str | None, hint: str) -> str:
    """Why ``find_program`` found nothing, and ``hint`` on how to install it."""
    if configured and "/" in configured:
        return f"{name} is not installed at {configured}; {hint}"
    where = f"{configured!r} is not on PATH" if configured else "not beside Python nor on PATH"
    return f"{name} is not installed ({where}); {hint}"


def kill_working_in(folder: Path) -> list[int]:
    """Kill the process group of every process whose working folder is ``folder`` or inside
    it (this process's own group aside); the ids of the processes found. Where there is no
    ``/proc`` to tell, nothing is done."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    root = folder.resolve()
    mine = os.getpgrp()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(str((entry / "cwd").readlink()).removesuffix(" (deleted)"))
            group = os.getpgid(int(entry.name))
        except OSError:  # gone, or not ours to look at
            continue
        if (cwd == root or root in cwd.parents) and group != mine:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
            found.append(int(entry.name))
    return found
