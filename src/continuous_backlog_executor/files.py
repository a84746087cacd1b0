"""Writing files so that a crash or a kill never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20  # text is encoded a megabyte at a time, never as one huge copy


def atomic_write(path: Path, data: str | bytes | Iterable[str], *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one step: temp file, fsync, rename, fsync the folder.

    ``data`` may be bytes, text, or text in pieces. The file keeps its permission bits (or gets
    ``mode`` when new); readers see either the old content or the new, never a mix.
    """
    pieces = [data] if isinstance(data, (str, bytes)) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o7777
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            for piece in pieces:
                _write(stream, piece)
            stream.flush()
            os.fsync(stream.fileno())
        temp.chmod(mode if mode is not None else 0o644)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def remove_leftovers(path: Path) -> None:
    """Delete temp files an interrupted ``atomic_write`` of ``path`` left behind.

    Only safe while holding the lock that serialises writers of ``path``.
    """
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _write(stream: BinaryIO, piece: str | bytes) -> None:
    if isinstance(piece, bytes):
        stream.write(piece)
        return
    for start in range(0, len(piece), CHUNK):
        stream.write(piece[start : start + CHUNK].encode("utf-8"))


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write, so concurrent appenders never interleave.

    If a crash left the file without a final newline, the new line starts on a line of its
    own, so only the torn line is lost, never the one appended after it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse to open folders, which is fine.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def same_file_state(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    """True when two ``stat`` results describe the same unchanged file (or both no file)."""
    if a is None or b is None:
        return a is b
    return (a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns)


def stat_or_none(path: Path) -> os.stat_result | None:
    """``path.stat()``, or ``None`` when there is no file."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
