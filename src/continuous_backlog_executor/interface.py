"""Public interface changes between two commits, found by comparing the Python code itself.

A module's public interface is its module-level functions and classes whose names do not start
with ``_`` (exactly the names of ``__all__`` when that is a literal list or tuple), and the
methods of those classes whose names do not start with ``_``, plus ``__init__``, which is the
class's call signature. Modules with a path part starting with ``_`` (other than
``__init__.py``) are private and have none. A change is a public name removed (a deleted or
renamed-away module removes all of its names), or a signature changed so that a call that
worked before fails: a parameter removed, renamed or moved, made positional-only or
keyword-only, made required, or added without a default; ``*args`` or ``**kwargs`` dropped.
New names, parameters added with a default at the end or as keyword-only, bodies,
annotations and decorators change nothing here.

Names a module still binds some other way (an import, an assignment) count as kept, as the
call signature of what they name cannot be read. A method moved into a base class is reported
as removed, since base classes are not followed.
"""

from __future__ import annotations

import ast
import fnmatch
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from . import git
from .signatures import ModuleApi, breaks, module_api
from .sources.bandit import batches

_KEYWORDS = ("async def ", "def ", "class ", "property ")


class ChangeKind(StrEnum):
    """How a public name changed."""

    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class InterfaceChange:
    """One incompatible change: ``before`` and ``after`` are signatures (``def area(w, h=1)``),
    ``after`` is None for a removed name."""

    path: str
    name: str  # "area", "Shape" or "Shape.area"
    kind: ChangeKind
    before: str | None
    after: str | None

    def __str__(self) -> str:
        before = _call(self.before) if self.before else self.name
        if self.after is None:
            return f"{self.path}: {before} ({self.kind})"
        return f"{self.path}: {before} -> {_call(self.after)} ({self.kind})"


def _call(signature: str) -> str:
    """``area(w, h=1)`` from ``def area(w, h=1)``."""
    return next(
        (signature.removeprefix(k) for k in _KEYWORDS if signature.startswith(k)), signature
    )


@dataclass(frozen=True, slots=True)
class InterfaceReport:
    """The incompatible changes found, in path order, and the versions that could not be read."""

    changes: tuple[InterfaceChange, ...]
    warnings: tuple[str, ...]


def public_changes(
    repo: Path, base: str, head: str, *, exclude: Sequence[str] = ()
) -> InterfaceReport:
    """The incompatible public interface changes of the Python modules that differ between the
    commits ``base`` and ``head`` of ``repo``, leaving out paths matching an ``exclude`` glob
    (``*`` crosses folders, and a glob without ``/`` also matches a file name anywhere)."""
    pairs = sorted(
        (before, after)
        for before, after in changed_files(repo, base, head)
        if public_module(before, exclude)
    )
    old = read_files(repo, base, [before for before, _ in pairs])
    new = read_files(repo, head, [after for _, after in pairs if after is not None])
    changes: list[InterfaceChange] = []
    warnings: list[str] = []
    for before, after in pairs:
        was = _parsed(before, base, old.get(before), warnings)
        now = None if after is None else _parsed(after, head, new.get(after), warnings)
        if was is not None and (after is None or now is not None):
            changes.extend(compare(before, was, now))
    return InterfaceReport(tuple(changes), tuple(warnings))


def changed_files(repo: Path, base: str, head: str) -> list[tuple[str, str | None]]:
    """``(path at base, path at head)`` for each file of ``base`` that differs at ``head``; the
    head path is None when the file was deleted or renamed away (its old path loses its names).
    """
    output = git.git("diff", "--name-status", "-z", "-M", base, head, "--", cwd=repo).stdout
    fields = iter(output.split("\0"))
    pairs: list[tuple[str, str | None]] = []
    for status in fields:
        if not status:
            continue
        path = next(fields)
        if status[0] in "RC":
            next(fields)  # the new path: a new module, so nothing of it can have been removed
        if status[0] in "DR":
            pairs.append((path, None))
        elif status[0] in "MT":
            pairs.append((path, path))
    return pairs


def public_module(path: str, exclude: Sequence[str] = ()) -> bool:
    """True for a Python module that is neither excluded nor private."""
    parts = PurePosixPath(path).parts
    private = any(part.startswith("_") and part != "__init__.py" for part in parts)
    excluded = any(
        fnmatch.fnmatchcase(path, glob) or PurePosixPath(path).match(glob) for glob in exclude
    )
    return path.endswith(".py") and not private and not excluded


def _parsed(path: str, commit: str, source: bytes | None, warnings: list[str]) -> ModuleApi | None:
    """The public interface of one version, or None (and a warning) when it cannot be read."""
    if source is None:
        warnings.append(f"{path} at {commit}: not a regular file there; its interface is unknown")
        return None
    try:
        return module_api(ast.parse(source, filename=path))
    except (SyntaxError, ValueError, RecursionError) as error:
        why = error.msg if isinstance(error, SyntaxError) else str(error)
        where = f"line {error.lineno}: " if isinstance(error, SyntaxError) and error.lineno else ""
        warnings.append(
            f"{path} at {commit} cannot be parsed ({where}{why}); its interface was not compared"
        )
        return None


def compare(path: str, before: ModuleApi, after: ModuleApi | None) -> Iterator[InterfaceChange]:
    """The incompatible changes from ``before`` to ``after`` (None: the module is gone)."""
    now = after.signatures if after is not None else {}
    for name, old in before.signatures.items():
        new = now.get(name)
        if new is not None and breaks(old, new):
            yield InterfaceChange(path, name, ChangeKind.CHANGED, str(old), str(new))
        elif new is None and _removed(name, after):
            yield InterfaceChange(path, name, ChangeKind.REMOVED, str(old), None)


def _removed(name: str, after: ModuleApi | None) -> bool:
    """True when ``name`` is to be reported gone; of a gone module, only its top-level names."""
    return "." not in name if after is None else not after.keeps(name)


def read_files(repo: Path, commit: str, paths: Sequence[str]) -> dict[str, bytes]:
    """The contents at ``commit`` of those ``paths`` that are regular files there, as bytes."""
    if not paths:
        return {}
    listed = git.git("ls-tree", "-r", "-z", "--name-only", commit, cwd=repo).stdout
    present = sorted(set(paths) & set(listed.split("\0")))
    found: dict[str, bytes] = {}
    # An archive is written to a file, so its bytes arrive exactly as committed.
    with tempfile.TemporaryDirectory(prefix="backlog-files-") as folder:
        archive = Path(folder) / "files.tar"
        for batch in batches(present):
            # Literal pathspecs: a file named "a*.py" is that file, not a pattern.
            git.git(
                "--literal-pathspecs", "archive", "-o", str(archive), commit, "--", *batch, cwd=repo
            )
            found.update(_members(archive))
    return found


def _members(archive: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(archive) as tar:
        for member in tar:
            content = tar.extractfile(member) if member.isfile() else None
            if content is not None:
                yield member.name, content.read()
