"""The single place where failures become exit codes and one clear line on stderr.

Exit codes: 0 success, 1 an expected failure the user can act on, 2 bad command-line usage,
3 a bug (a crash log with versions and the traceback is written), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import platform
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .errors import BacklogError
from .files import atomic_write
from .model import utcnow

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


def crash_log_folder() -> Path:
    """Where crash logs go; commands may point it at the repository's state folder."""
    return _crash_folder[0]


def set_crash_log_folder(folder: Path) -> None:
    """Write later crash logs into ``folder``."""
    _crash_folder[0] = folder


_crash_folder = [Path(tempfile.gettempdir())]


def _write_crash_log(error: BaseException) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    folder = crash_log_folder()
    text = "\n".join(
        [
            f"backlog {__version__} crashed at {stamp}",
            f"python {sys.version.split()[0]} on {platform.platform()}",
            f"command: {' '.join(sys.argv)}",
            "",
            "".join(traceback.format_exception(error)),
        ]
    )
    for place in (folder, Path(tempfile.gettempdir())):
        path = place / f"backlog-crash-{stamp}.log"
        try:
            atomic_write(path, text)
        except OSError:
            continue
        return path
    return Path("(could not be written)")


def guarded(action: Callable[[], int]) -> int:
    """Run ``action`` and turn whatever it raises into an exit code and a message."""
    try:
        return action()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BacklogError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # anything else is our bug: keep the evidence for the report
        log = _write_crash_log(error)
        print(
            f"bug: {type(error).__name__}: {error}\n"
            f"This is a fault in backlog, not in your input. A crash log is at {log}; "
            "please include it when you report the problem.",
            file=sys.stderr,
        )
        return EXIT_BUG
