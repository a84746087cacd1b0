"""Which of many files may hold a tag that opens a comment, and on which lines.

ripgrep reads the files, in parallel and in native code, and names the lines that
``todos.opening_lines`` matches; Python then reads only those files, and searches only those
lines. Without ripgrep (or for a few files) Python applies the same expression itself.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..git import git_env
from ..process import find_program, run
from ..todos import opening_lines
from .base import SourceError

RG_TIMEOUT = 300.0
# Below this many files, starting ripgrep costs more than reading them in Python.
RG_MIN_FILES = 50
# ripgrep searches the files in shares, one after another, so that the caller reads the files
# of one share while ripgrep searches the next; fewer, larger shares waste less of ripgrep's
# start-up and of its parallelism.
SHARES = 4
# At most this many bytes of paths per ripgrep command line: far below any system's limit.
ARGV_BYTES = 256 * 1024
# Files are named one by one, so no ignore rule applies: exactly the files given are searched.
_RG_OPTIONS = (
    "--no-config",
    # JSON, as a path or a line may hold any character (a carriage return would be taken for
    # the end of a line when reading plain output as text).
    "--json",
    # Raw bytes, binary files too: the reader decides what it skips and warns about.
    "--text",
    "--encoding=none",
)
# A matching line in ``rg --json`` output, as ripgrep 14 writes it: its path (a JSON string),
# its number and where it starts. (A line in another form is read as JSON; text in a JSON
# string has its quotes escaped, so none of these keys can match inside one.)
_MATCH = re.compile(
    r'\{"type":"match","data":\{"path":\{"text":("(?:[^"\\]|\\.)*")\},"lines":.*?'
    r',"line_number":(\d+),"absolute_offset":(\d+),'
)


@dataclass(frozen=True, slots=True)
class Found:
    """What a search of ``paths`` found: the paths that may hold a tag opening a comment, each
    with such lines (where each starts, in bytes: its number; ``None``: not known, look at the
    whole file), and ripgrep's complaints (``rg: PATH: why``, about files it could not read)."""

    paths: tuple[str, ...]
    lines: dict[str, dict[int, int] | None]
    errors: tuple[str, ...] = ()


@contextlib.contextmanager
def searching(repo: Path, paths: Sequence[str], tags: Sequence[str]) -> Iterator[Iterator[Found]]:
    """Search ``paths`` (relative to ``repo``): ripgrep starts at once, on one share of them
    after another (see ``SHARES``), and the body iterates over what it finds, share by share.
    Leaving the body cancels the shares not started yet, and waits for none under way (it
    ends by itself, or is stopped with every other child on Ctrl-C)."""
    rg = find_program("rg")
    if rg is None or len(paths) < RG_MIN_FILES or not tags:
        yield iter([in_python(repo, paths, tags)])
        return
    argv = [str(rg), *_RG_OPTIONS, "--regexp", opening_lines(tags), "--"]
    shares = list(_shares(paths))
    pool = ThreadPoolExecutor(max_workers=1)  # one ripgrep at a time: each uses every core
    try:
        outputs = pool.map(lambda share: _run([*argv, *share], repo), shares)
        yield (
            Found(tuple(share), _lines_of(stdout, set(share)), _errors(stderr))
            for share, (stdout, stderr) in zip(shares, outputs, strict=True)
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _shares(paths: Sequence[str]) -> Iterator[list[str]]:
    size = -(-len(paths) // SHARES)
    share: list[str] = []
    length = 0
    for path in paths:
        more = len(path.encode()) + 1
        if share and (len(share) >= size or length + more > ARGV_BYTES):
            yield share
            share, length = [], 0
        share.append(path)
        length += more
    if share:
        yield share


def _errors(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.split("\n") if line)


def _lines_of(output: str, wanted: set[str]) -> dict[str, dict[int, int] | None]:
    found: dict[str, dict[int, int]] = {}
    # Not splitlines(), which would also split at the U+2028 and others JSON leaves as they are.
    for record in output.split("\n"):
        if '"type":"match"' not in record:
            continue
        path, number, offset = _match(record)
        if path in wanted:  # not so a path that became a folder, which is searched inside
            found.setdefault(path, {})[offset] = number
    return dict(found)


def _match(record: str) -> tuple[str | None, int, int]:
    """The path, line number and line start of a match in ``rg --json`` output."""
    quick = _MATCH.match(record)
    if quick is not None:
        path = quick[1][1:-1] if "\\" not in quick[1] else json.loads(quick[1])
        return path, int(quick[2]), int(quick[3])
    data = json.loads(record)["data"]
    return data["path"].get("text"), data["line_number"], data["absolute_offset"]


def _run(argv: list[str], repo: Path) -> tuple[str, str]:
    result = run(argv, cwd=repo, env=git_env(), timeout=RG_TIMEOUT)
    # 1: nothing found; 2: some file could not be read (the others were searched all the same).
    if result.timed_out or result.returncode not in (0, 1, 2):
        raise SourceError(f"comments: ripgrep failed:\n{result.describe()}")
    return result.stdout, result.stderr if result.returncode == 2 else ""


def in_python(repo: Path, paths: Sequence[str], tags: Sequence[str]) -> Found:
    """What ripgrep would find, file by file in Python (without the lines' offsets)."""
    opening = re.compile(opening_lines(tags), re.MULTILINE)
    literals = tuple(tag.encode() for tag in tags)
    return Found(
        tuple(paths),
        {path: None for path in paths if tags and _may_open(repo / path, literals, opening)},
    )


def _may_open(file: Path, tags: Sequence[bytes], opening: re.Pattern[str]) -> bool:
    try:
        data = file.read_bytes()
    except OSError:
        return True  # let reading it report the problem
    if not any(tag in data for tag in tags):
        return False  # the quick answer for most files
    # Bytes that are not UTF-8 match nothing but themselves, in ripgrep as here.
    return opening.search(data.decode("utf-8", errors="surrogateescape")) is not None


def line_starts(data: bytes, text: str, lines: Mapping[int, int]) -> dict[int, int]:
    """The ``lines`` of ``data`` (a byte offset in each: its number) as where they start in
    ``text``, the decoding of ``data``: their numbers."""
    starts = sorted(
        {data.rfind(b"\n", 0, offset) + 1: number for offset, number in lines.items()}.items()
    )
    if len(text) == len(data):
        return dict(starts)  # one byte per character, so byte offsets are character offsets
    found = {}
    characters = done = 0
    for start, number in starts:  # every line starts on a character boundary
        characters += len(data[done:start].decode("utf-8"))
        found[characters] = number
        done = start
    return found
