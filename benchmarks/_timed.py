"""Run a command and append its wall time to a log: the timing wrapper of engine_overhead.py.

    python -I -S benchmarks/_timed.py LOG LABEL -- COMMAND [ARG ...]

Writes one line ``LABEL<TAB>SECONDS`` to LOG (appended in one write, so concurrent wrappers do
not interleave) and exits with the command's status. It imports nothing beyond ``os`` and
``time`` (``subprocess`` alone would triple its start-up), so with ``-I -S`` its own cost stays
a few milliseconds.
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    """Run ``argv[3:]`` (after ``LOG LABEL --``), log its time, return its status."""
    if len(argv) < 4 or argv[2] != "--":
        print("usage: _timed.py LOG LABEL -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    log, label, command = argv[0], argv[1], argv[3:]
    started = time.perf_counter()
    try:
        pid = os.posix_spawnp(command[0], command, os.environ)
    except OSError as error:
        print(f"_timed.py: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
        return 127  # the shell's "command not found"
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    seconds = time.perf_counter() - started
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{label}\t{seconds:.6f}\n".encode())
    finally:
        os.close(fd)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
