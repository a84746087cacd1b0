"""From TODO-style tags found in files to findings: identity, age, title and description.

A finding's identity is its tag and text (numbered among identical ones in its file) plus the
file it was first seen in, so it survives lines moving and its file being renamed; its age is
when its comment was written, from git blame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import blame as blame_mod
from ..classify import classify
from ..errors import GitError
from ..model import Source
from ..todos import Todo
from .base import DiscoveryContext, Finding

TITLE_LIMIT = 120
# How much text after the first line shown is taken to find the lines around a tag in: enough
# for most (a larger piece is taken when not).
_LINES_PIECE = 1024


@dataclass(frozen=True, slots=True)
class Hit:
    """A tag found in a file (the cached form of a ``Todo`` plus the file's content id)."""

    path: str
    blob: str
    todo: Todo
    committed: bool = False  # the file is exactly as committed at HEAD


def cache_path(context: DiscoveryContext, kind: str) -> Path | None:
    try:
        return context.state.cache_path(context.repo, kind)
    except OSError:
        return None


def findings(context: DiscoveryContext, hits: list[Hit], texts: Mapping[str, str]) -> list[Finding]:
    """The findings for ``hits``, described with the code around them from ``texts`` (the text
    of each file with hits)."""
    # Each hit's text with its runs of whitespace made single spaces, worked out once: its
    # identity, its title and its description all use it.
    said = [" ".join(hit.todo.text.split()) for hit in hits]
    places = list(zip([hit.path for hit in hits], _content_hashes(hits, said), strict=True))
    identities = _identities(context.known, places)
    ages = _ages(context, hits)
    context_lines = int(context.options.get("context_lines", 3))
    findings = []
    for hit, words, place in zip(hits, said, places, strict=True):
        todo = hit.todo
        age = ages.get((hit.path, todo.line))
        author = todo.who or (age.author if age and age.commit != blame_mod.NOT_COMMITTED else None)
        origin = Source(kind="comments", path=hit.path, line=todo.line, tag=todo.tag, author=author)
        findings.append(
            Finding(
                fingerprint=identities[place],
                title=_title(todo, hit.path, words),
                description=_description(
                    todo, hit.path, words, texts.get(hit.path, ""), context_lines
                ),
                task_type=classify(todo.text, tag=todo.tag),
                origin=origin,
                created_at=age.time if age else None,
                labels=(f"ref:{todo.ref}",) if todo.ref else (),
            )
        )
    return findings


def _content_hashes(hits: Sequence[Hit], said: Sequence[str]) -> list[str]:
    """A hash of each hit's tag and text (as ``said``: its whitespace made single spaces),
    numbered among identical ones in the same file."""
    seen: dict[tuple[str, str, str], int] = {}
    hashes = []
    for hit, words in zip(hits, said, strict=True):
        key = (hit.path, hit.todo.tag, words)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        hashes.append(
            hashlib.sha1(  # an identity, not a security measure
                f"{hit.todo.tag}\0{words}\0{occurrence}".encode(), usedforsecurity=False
            ).hexdigest()[:16]
        )
    return hashes


def _identities(
    known: Sequence[Source], current: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The fingerprint of each (path, content hash) found now.

    A finding keeps the fingerprint it had where it was (same file, same content); one that
    vanished from its file and turns up elsewhere once (a moved or renamed file) keeps it too;
    anything else gets a new fingerprint naming its content and where it was first seen.
    """
    by_place: dict[tuple[str, str], str] = {}
    for source in known:
        if source.fingerprint and source.path and ":" in source.fingerprint:
            by_place[(source.path, source.fingerprint.split(":", 1)[0])] = source.fingerprint
    now = set(current)
    moved: dict[str, list[str]] = {}
    for (path, content), fingerprint in by_place.items():
        if (path, content) not in now:
            moved.setdefault(content, []).append(fingerprint)
    identities: dict[tuple[str, str], str] = {}
    for place in sorted(now):
        path, content = place
        kept = by_place.get(place)
        if kept is None and moved.get(content):
            kept = moved[content].pop(0)
        identities[place] = kept or f"{content}:{path}"
    return identities


def _ages(
    context: DiscoveryContext, hits: Sequence[Hit]
) -> dict[tuple[str, int], blame_mod.LineAge]:
    if not hits or not context.options.get("blame", True):
        return {}
    repo = context.repo
    try:
        if context.options.get("write_commit_graph") and not blame_mod.has_commit_graph(repo):
            blame_mod.write_commit_graph(repo)
    except GitError:
        pass  # an old git, or a repository without commits: blame still works, only slower
    blamer = blame_mod.Blamer(repo, cache_path(context, "blame"))
    wanted: dict[str, tuple[str, list[int]]] = {}
    clean = set()
    for hit in hits:
        wanted.setdefault(hit.path, (hit.blob, []))[1].append(hit.todo.line)
        if hit.committed:
            clean.add(hit.path)
    context.observer.progress("comments", 0, len(wanted), "dating comments with git blame")
    ages = blamer.ages(wanted, clean=clean)
    # How many files git actually had to blame (the rest were remembered from earlier scans).
    context.observer.progress("comments", blamer.blamed_files, len(wanted), "blamed")
    return ages


def _title(todo: Todo, path: str, said: str) -> str:
    if not said:
        return f"{todo.tag} in {path}:{todo.line}"
    return said if len(said) <= TITLE_LIMIT else said[: TITLE_LIMIT - 1].rstrip() + "\u2026"


def _description(
    todo: Todo, path: str, said: str, text: str, around: int, *, size: int = _LINES_PIECE
) -> str:
    who = f" (for {todo.who})" if todo.who else ""
    head = f"{todo.tag}{who} at {path}:{todo.line}: {said or '(no text)'}"
    first, lines = _code(todo, text, around, size)
    if not lines:
        return head
    width = len(str(first + len(lines) - 1))  # every number as wide as the last
    code = "\n".join([f"{str(n).rjust(width)}  {line}" for n, line in enumerate(lines, first)])
    return f"{head}\n\n{code}"


def _code(todo: Todo, text: str, around: int, size: int) -> tuple[int, list[str]]:
    """The lines from ``around`` before the tag's to ``around`` after its comment's last, found
    from where its line starts, so a large file is never split into lines: the first one's
    number, and the lines."""
    start, number = todo.offset, todo.line
    first = max(1, todo.line - around)
    while number > first and start > 0:
        start = text.rfind("\n", 0, start - 1) + 1
        number -= 1
    wanted = todo.end_line + around - number + 1
    if wanted <= 0:
        return number, []
    # Split off the lines wanted from a piece of the text after their start, taking a larger
    # piece if this one ends before the last of them does (``size`` characters at first).
    while True:
        piece = text[start : start + size]
        lines = piece.split("\n", wanted)
        if len(lines) > wanted:
            lines.pop()  # the rest of the piece
            break
        if start + size >= len(text):
            if not lines[-1]:
                lines.pop()  # the text ends with a line break: no line after it
            break
        size *= 4
    return number, [line.removesuffix("\r") for line in lines] if "\r" in piece else lines
