"""The tools a model is offered in the engine's own tool loop (list, read, search, write and edit
files, run the tests, show the diff, finish), every one confined to the item's worktree. Whatever
the model sends, a call answers with a ``ToolResult`` it can read and act on, never an exception.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from .. import git, process, worktree
from ..errors import BacklogError, ProcessError
from .chat import ToolSpec
from .command import tail
from .tool_args import Arguments, Param, Signature, ToolInputError

MAX_CHARS = 20_000  # of any one result's text: the model reads all of it on every later turn
MAX_FILES = 1_000  # paths listed by list_files
MAX_MATCHES = 300  # lines shown by search
MAX_READ_BYTES = 5_000_000  # larger files are not read whole; search them instead
TEST_TAIL_LINES = 150  # of the test command's output
SEARCH_TIMEOUT = 30.0
LOG_NAME = "run_tests.log"  # in the log folder: every test run's full output, appended


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What one tool call tells the model."""

    text: str  # what the model is told (capped in size)
    is_error: bool = False  # the call was refused or could not be done
    finished: bool = False  # the finish tool was called
    summary: str = ""  # finish's summary (untrusted; recorded only)


@dataclass(frozen=True, slots=True)
class _Tool(Signature):
    handler: Callable[[Workspace, Arguments], ToolResult]


def _cap(text: str, *, keep_end: bool = False) -> str:
    """``text`` cut to ``MAX_CHARS``, saying how much was cut (the start, with ``keep_end``)."""
    if len(text) <= MAX_CHARS:
        return text
    note = f"[... {len(text) - MAX_CHARS} characters cut]"
    return f"{note}\n{text[-MAX_CHARS:]}" if keep_end else f"{text[:MAX_CHARS]}\n{note}"


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def _is_git(parts: Sequence[str]) -> bool:
    # Case-folded: on a case-insensitive file system ``.GIT`` is the same folder.
    return any(part.casefold() == ".git" for part in parts)


class Workspace:
    """The tools over one worktree at ``root``: ``specs`` to offer them, ``call`` to run one.

    Paths the model gives are relative to ``root``; absolute ones, ``..``, anything in ``.git``
    and anything a symlink leads out of the worktree are refused. ``run_tests`` runs only
    ``test_command`` (plus test files or ids inside the worktree) with ``env``, stopping its
    whole process group after ``test_timeout`` seconds; its output is appended to
    ``log_folder/run_tests.log``. ``read_file`` refuses files holding NUL bytes as binary and
    shows other bytes that are not UTF-8 as U+FFFD replacement characters; ``replace_in_file``
    edits UTF-8 text only, so it never writes those replacement characters back.
    """

    def __init__(
        self,
        root: Path,
        *,
        test_command: Sequence[str],
        test_timeout: float,
        env: Mapping[str, str],
        log_folder: Path,
    ) -> None:
        self.root = root.resolve()
        self.test_command = tuple(test_command)
        self.test_timeout = test_timeout
        self.env = dict(env)
        self.log_folder = log_folder

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        """Every tool, with a JSON schema of its arguments, to offer the model."""
        return tuple(tool.spec for tool in TOOLS.values())

    def call(self, name: str, arguments: str) -> ToolResult:
        """Run tool ``name`` with ``arguments`` (the model's JSON text); never raises for
        anything the model sends: refusals and failures come back as error results."""
        result = self._answer(name, arguments)
        return replace(result, text=_cap(result.text), summary=_cap(result.summary))

    def _answer(self, name: str, arguments: str) -> ToolResult:
        tool = TOOLS.get(name)
        if tool is None:
            known = ", ".join(TOOLS)
            return ToolResult(f"unknown tool {name!r}; the tools are: {known}", is_error=True)
        try:
            return tool.handler(self, tool.parse(arguments))
        except ToolInputError as error:
            return ToolResult(str(error), is_error=True)
        except OSError as error:  # a file vanished, a folder is in the way, a disk is full
            return ToolResult(f"{name} failed: {error.strerror or error}", is_error=True)
        except BacklogError as error:  # git or a program could not run
            return ToolResult(f"{name} failed: {error}", is_error=True)

    def _locate(self, path: str) -> tuple[str, Path]:
        """``path`` normalised (``.`` for the root) and its real location, refusing any path
        that is absolute, climbs out, enters ``.git``, or passes a symlink leading out."""
        if "\0" in path:
            raise ToolInputError(f"refused: path {path!r} contains a NUL character")
        pure = PurePosixPath(path)
        if pure.is_absolute():
            raise ToolInputError(
                f"refused: path {path!r} is absolute; give a path relative to the worktree root"
            )
        if ".." in pure.parts:
            # Refused even when it would stay inside: ``a/..`` means different things to the
            # file system and to a lexical check when ``a`` is a symlink.
            raise ToolInputError(
                f"refused: path {path!r} is outside the worktree ('..' is not allowed)"
            )
        if _is_git(pure.parts):
            raise ToolInputError(f"refused: path {path!r} is inside .git, which no tool may touch")
        # Each prefix, so a symlinked folder leading out and back in is refused too.
        real = self.root
        for depth in range(1, len(pure.parts) + 1):
            real = Path(os.path.realpath(self.root.joinpath(*pure.parts[:depth])))
            if not _inside(real, self.root):
                link = "/".join(pure.parts[:depth])
                raise ToolInputError(
                    f"refused: path {path!r} is outside the worktree (symlink {link!r} leads out)"
                )
            if _is_git(real.relative_to(self.root).parts):
                raise ToolInputError(
                    f"refused: path {path!r} leads into .git, which no tool may touch"
                )
        return pure.as_posix(), real

    def _relative(self, real: Path) -> str:
        # Where git and ripgrep should look: the real place, never through a symlink.
        return real.relative_to(self.root).as_posix()

    def _read_bytes(self, path: str) -> tuple[str, Path, bytes]:
        relative, real = self._locate(path)
        if real.is_dir():
            raise ToolInputError(f"{relative!r} is a folder; use list_files to see what is in it")
        if not real.exists():
            raise ToolInputError(f"no file {relative!r} in the worktree; use list_files to find it")
        if not real.is_file():  # a FIFO or device would block or never end
            raise ToolInputError(f"{relative!r} is not a regular file")
        if real.stat().st_size > MAX_READ_BYTES:
            raise ToolInputError(f"{relative!r} is over {MAX_READ_BYTES} bytes; use search in it")
        return relative, real, real.read_bytes()

    def _write_bytes(self, real: Path, data: bytes) -> None:
        real.parent.mkdir(parents=True, exist_ok=True)
        # The path was checked once resolved; O_NOFOLLOW stops a symlink swapped in since
        # then from redirecting the write out of the worktree.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(real, flags, 0o666), "wb") as file:
            file.write(data)

    def _list_files(self, args: Arguments) -> ToolResult:
        """Tracked and untracked, not ignored files under the folder ``path``."""
        relative, real = self._locate(args.text("path", "."))
        if not real.is_dir():
            raise ToolInputError(f"no folder {relative!r} in the worktree")
        listed = git.git(
            "--literal-pathspecs", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            "--", self._relative(real), cwd=self.root,
        ).stdout  # fmt: skip
        # A tracked file deleted in the worktree is still in the index; it is not there to read.
        names = sorted({n for n in listed.split("\0") if n and os.path.lexists(self.root / n)})
        if not names:
            return ToolResult(f"no files under {relative!r}")
        more = len(names) - MAX_FILES
        note = f"\n[... {more} more files; list a folder to see fewer]" if more > 0 else ""
        return ToolResult("\n".join(names[:MAX_FILES]) + note)

    def _read_file(self, args: Arguments) -> ToolResult:
        """The file ``path`` (lines ``start_line`` to ``end_line``), each line numbered."""
        relative, _, data = self._read_bytes(args.text("path"))
        if b"\0" in data:
            raise ToolInputError(f"{relative!r} looks binary (it holds NUL bytes); it is not shown")
        lines = data.decode("utf-8", errors="replace").split("\n")
        if lines[-1] == "":  # the final newline ends the last line; it starts no new one
            lines.pop()
        if not lines:
            return ToolResult(f"{relative!r} is empty")
        start = args.numbers.get("start_line", 1)
        end = min(args.numbers.get("end_line", len(lines)), len(lines))
        if not 1 <= start <= len(lines) or end < start:
            raise ToolInputError(
                f"lines {start}-{end} are not in {relative!r}, which has {len(lines)} lines"
            )
        shown, size = [f"{relative} (lines {start}-{end} of {len(lines)}):"], 0
        for number in range(start, end + 1):
            line = f"{number:6}\t{lines[number - 1].removesuffix(chr(13))}"
            size += len(line) + 1
            if size > MAX_CHARS and len(shown) > 1:
                shown.append(f"[... lines {number}-{end} not shown; read on with start_line]")
                break
            shown.append(line)
        return ToolResult("\n".join(shown))

    def _search(self, args: Arguments) -> ToolResult:
        """Lines matching the regular expression ``pattern`` under ``path``, with ripgrep."""
        pattern = args.text("pattern")
        if not pattern or "\0" in pattern:
            raise ToolInputError("the pattern must be a non-empty regular expression without NUL")
        relative, real = self._locate(args.text("path", "."))
        if not real.exists():
            raise ToolInputError(f"no file or folder {relative!r} in the worktree")
        rg = process.find_program("rg")
        if rg is None:
            hint = "install the ripgrep package beside this Python (pip install ripgrep)"
            raise ToolInputError(
                f"search is unavailable: {process.missing_program('rg', None, hint)}"
            )
        argv = [
            str(rg), "--no-config", "--line-number", "--with-filename", "--no-heading",
            "--color", "never", "--hidden", "--glob", "!.git", "--sort", "path",
            "--max-columns", "400", "--max-columns-preview", "-e", pattern,
            "--", self._relative(real),
        ]  # fmt: skip
        result = process.run(argv, cwd=self.root, env=git.git_env(), timeout=SEARCH_TIMEOUT)
        if result.timed_out or (result.returncode > 1 and not result.stdout):
            raise ToolInputError(f"search failed: {result.stderr.strip() or 'timed out'}")
        if result.returncode == 1:
            return ToolResult(f"no matches for {pattern!r} under {relative!r}")
        lines = [line.removeprefix("./") for line in result.stdout.splitlines()]
        more = len(lines) - MAX_MATCHES
        note = f"\n[... {more} more matches; narrow the pattern or path]" if more > 0 else ""
        return ToolResult("\n".join(lines[:MAX_MATCHES]) + note)

    def _write_file(self, args: Arguments) -> ToolResult:
        """Write ``content`` to the file ``path``, creating it and its folders if need be."""
        relative, real = self._locate(args.text("path"))
        if real.is_dir():
            raise ToolInputError(f"{relative!r} is a folder; give a file's path")
        if real.exists() and not real.is_file():
            raise ToolInputError(f"{relative!r} is not a regular file")
        existed = real.exists()
        data = args.text("content").encode("utf-8")
        self._write_bytes(real, data)
        lines = data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
        verb = "wrote" if existed else "created"
        return ToolResult(f"{verb} {relative} ({lines} lines, {len(data)} bytes)")

    def _replace_in_file(self, args: Arguments) -> ToolResult:
        """Replace the one occurrence of ``old`` in the file ``path`` with ``new``."""
        relative, real, data = self._read_bytes(args.text("path"))
        old = args.text("old")
        if not old:
            raise ToolInputError("'old' is empty; give the exact text to replace")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolInputError(
                f"{relative!r} is not UTF-8 text; rewrite it with write_file"
            ) from None
        # Overlapping occurrences count too: either one could be the one meant.
        count = len(re.findall(f"(?={re.escape(old)})", text))
        if count != 1:
            hint = (
                "copy the text exactly as it is in the file, without read_file's line numbers"
                if count == 0
                else "include more of the surrounding lines so that it matches one place only"
            )
            raise ToolInputError(
                f"'old' occurs {count} times in {relative!r}; it must occur exactly once: {hint}"
            )
        line = text[: text.index(old)].count("\n") + 1
        self._write_bytes(real, text.replace(old, args.text("new"), 1).encode("utf-8"))
        return ToolResult(f"replaced 1 occurrence in {relative} at line {line}")

    def _run_tests(self, args: Arguments) -> ToolResult:
        """Run the configured test command, with ``tests`` appended, within the time limit."""
        if not self.test_command:
            raise ToolInputError("no test command is configured, so tests cannot be run here")
        argv = (
            *self.test_command,
            *(self._test_argument(test) for test in args.lists.get("tests", ())),
        )
        log = self.log_folder / LOG_NAME
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as file:
            file.write(f"$ {shlex.join(argv)}\n")
            start = file.tell()
        try:
            result = process.run_logged(
                argv, cwd=self.root, env=self.env, timeout=self.test_timeout, log=log
            )
        except ProcessError as error:
            raise ToolInputError(f"the test command could not start: {error}") from None
        output = _cap(tail(log, start, TEST_TAIL_LINES), keep_end=True)
        if result.timed_out:
            status = f"timed out after {self.test_timeout:g}s; the run and all it started stopped"
        else:
            status = f"exit status {result.returncode} after {result.duration:.1f}s"
        text = f"$ {shlex.join(argv)}\n{status}\n--- end of the output ---\n{output}"
        return ToolResult(text, is_error=result.timed_out)

    def _test_argument(self, test: str) -> str:
        """``test`` (a path, or a test id ``path::name``) if it names something in the
        worktree; options are refused, so the model cannot change what the command does."""
        if test.startswith("-"):
            raise ToolInputError(f"refused: {test!r} is an option; give test files or ids only")
        path, sep, name = test.partition("::")
        relative, real = self._locate(path)
        if relative.startswith("-"):  # ``./-k`` would reach the command as ``-k``
            raise ToolInputError(f"refused: {test!r} is an option; give test files or ids only")
        if not real.exists():
            raise ToolInputError(f"no test file or folder {relative!r} in the worktree")
        return f"{relative}{sep}{name}"

    def _git_diff(self, args: Arguments) -> ToolResult:
        """Every change in the worktree against HEAD, untracked files included."""
        diff = worktree.diff_text(self.root, "HEAD")
        return ToolResult(diff or "no changes against HEAD")

    def _finish(self, args: Arguments) -> ToolResult:
        """End the work, with a summary that is recorded (and checked by the engine)."""
        return ToolResult("finished", finished=True, summary=args.text("summary"))


_PATH = "relative to the worktree root"
TOOLS: dict[str, _Tool] = {
    "finish": _Tool(
        "finish",
        "Call when the work is done; the engine then checks it.",
        (Param("summary", "string", "What you changed and why.", required=True),),
        Workspace._finish,
    ),
    "git_diff": _Tool(
        "git_diff", "Show every change in the worktree against HEAD.", (), Workspace._git_diff
    ),
    "list_files": _Tool(
        "list_files",
        f"List files (tracked, or untracked and not ignored) under a folder; {MAX_FILES} at most.",
        (Param("path", "string", f"A folder {_PATH}; default: the whole worktree."),),
        Workspace._list_files,
    ),
    "read_file": _Tool(
        "read_file",
        "Read a text file, each line prefixed by its number and a tab.",
        (
            Param("path", "string", f"The file {_PATH}.", required=True),
            Param("start_line", "integer", "First line to show (1-based); default 1."),
            Param("end_line", "integer", "Last line to show (inclusive); default: the last."),
        ),
        Workspace._read_file,
    ),
    "replace_in_file": _Tool(
        "replace_in_file",
        "Replace text in a file; the old text must occur exactly once in it.",
        (
            Param("path", "string", f"The file {_PATH}.", required=True),
            Param("old", "string", "The exact text to replace (no line numbers).", required=True),
            Param("new", "string", "The text to put in its place.", required=True),
        ),
        Workspace._replace_in_file,
    ),
    "run_tests": _Tool(
        "run_tests",
        "Run the project's test command; shows the exit status and the end of the output.",
        (Param("tests", "array", f"Test files or ids (path::name) {_PATH}; default: all."),),
        Workspace._run_tests,
    ),
    "search": _Tool(
        "search",
        f"Search files for a regular expression (ripgrep): path:line:text, {MAX_MATCHES} at most.",
        (
            Param(
                "pattern", "string", "The regular expression (Rust regex syntax).", required=True
            ),
            Param("path", "string", f"A file or folder {_PATH}; default: the whole worktree."),
        ),
        Workspace._search,
    ),
    "write_file": _Tool(
        "write_file",
        "Write a file whole, creating it and its folders if need be.",
        (
            Param("path", "string", f"The file {_PATH}.", required=True),
            Param("content", "string", "The file's entire new content.", required=True),
        ),
        Workspace._write_file,
    ),
}
