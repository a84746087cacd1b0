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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path, PurePosixPath

from . import git
from .sources.bandit import batches

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_KEYWORDS = ("async def ", "def ", "class ", "property ")
# Decorators that make a method an attribute, whose call signature is not the method's.
_ATTRIBUTES = frozenset({"property", "cached_property", "setter", "getter", "deleter"})


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


class ParamKind(Enum):
    """How a caller may pass a parameter."""

    POSITIONAL_ONLY = "positional-only"
    POSITIONAL = "positional or keyword"
    KEYWORD_ONLY = "keyword-only"


@dataclass(frozen=True, slots=True)
class Param:
    """One named parameter; ``default`` is the default's source text, None when required."""

    name: str
    kind: ParamKind
    default: str | None


@dataclass(frozen=True, slots=True)
class Signature:
    """How a public function, method or class is called."""

    keyword: str  # "def", "async def", "class" or "property"
    name: str
    params: tuple[Param, ...] = ()
    args: str | None = None  # the name of *args
    kwargs: str | None = None  # the name of **kwargs
    known: bool = True  # False for a property, or a class whose __init__ is not its own

    def __str__(self) -> str:
        if not self.known:
            return f"{self.keyword} {self.name}"
        return f"{self.keyword} {self.name}({', '.join(self._parts())})"

    def _parts(self) -> list[str]:
        only = [_shown(p) for p in self.params if p.kind is ParamKind.POSITIONAL_ONLY]
        parts = [*only, "/"] if only else []
        parts += [_shown(p) for p in self.params if p.kind is ParamKind.POSITIONAL]
        keyword = self.keyword_only()
        if self.args or keyword:
            parts.append(f"*{self.args or ''}")
        parts += [_shown(p) for p in keyword]
        return [*parts, f"**{self.kwargs}"] if self.kwargs else parts

    def positional(self) -> tuple[Param, ...]:
        """The parameters a caller may pass by position, in order."""
        return tuple(p for p in self.params if p.kind is not ParamKind.KEYWORD_ONLY)

    def keyword_only(self) -> tuple[Param, ...]:
        """The parameters a caller must pass by name."""
        return tuple(p for p in self.params if p.kind is ParamKind.KEYWORD_ONLY)


def _shown(param: Param) -> str:
    return param.name if param.default is None else f"{param.name}={param.default}"


def breaks(old: Signature, new: Signature) -> bool:
    """True when some call that ``old`` accepted is one that ``new`` rejects."""
    if not (old.known and new.known):
        return False
    return (
        _positional_breaks(old, new)
        or _keyword_breaks(old, new)
        or (old.args is not None and new.args is None)
        or (old.kwargs is not None and new.kwargs is None)
    )


def _positional_breaks(old: Signature, new: Signature) -> bool:
    before, after = old.positional(), new.positional()
    if len(after) < len(before):
        return True
    for was, now in zip(before, after, strict=False):
        # A positional-only parameter's name is invisible to callers; any other's is not.
        renamed = was.kind is ParamKind.POSITIONAL and now.name != was.name
        narrowed = was.kind is ParamKind.POSITIONAL and now.kind is not ParamKind.POSITIONAL
        if renamed or narrowed or (was.default is not None and now.default is None):
            return True
    # A parameter that was keyword-only may become positional at the end and stay required.
    keywords = {p.name for p in old.keyword_only()}
    return any(p.default is None and p.name not in keywords for p in after[len(before) :])


def _keyword_breaks(old: Signature, new: Signature) -> bool:
    named = {p.name: p for p in new.params if p.kind is not ParamKind.POSITIONAL_ONLY}
    for was in old.keyword_only():
        now = named.get(was.name)
        if now is None or (was.default is not None and now.default is None):
            return True
    before = {p.name for p in old.params if p.kind is not ParamKind.POSITIONAL_ONLY}
    return any(p.default is None and p.name not in before for p in new.keyword_only())


def signature(
    keyword: str, name: str, arguments: ast.arguments, *, bound: bool = False
) -> Signature:
    """The signature of ``arguments``; ``bound`` drops the first positional one (``self``)."""
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults += arguments.defaults
    kinds = [ParamKind.POSITIONAL_ONLY] * len(arguments.posonlyargs)
    kinds += [ParamKind.POSITIONAL] * len(arguments.args)
    params = [
        Param(arg.arg, kind, _text(default))
        for arg, kind, default in zip(positional, kinds, defaults, strict=True)
    ]
    if bound and params:
        params.pop(0)
    params += [
        Param(arg.arg, ParamKind.KEYWORD_ONLY, _text(default))
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    ]
    star, double = arguments.vararg, arguments.kwarg
    args, kwargs = (star.arg if star else None), (double.arg if double else None)
    return Signature(keyword, name, tuple(params), args, kwargs)


def _text(default: ast.expr | None) -> str | None:
    return None if default is None else ast.unparse(default)


@dataclass(frozen=True, slots=True)
class ModuleApi:
    """A module's public definitions by name, and the other names it binds."""

    signatures: Mapping[str, Signature]  # "area", "Shape", "Shape.area"
    bound: frozenset[str]  # names bound by imports and assignments ("x", "Shape.x")

    def keeps(self, name: str) -> bool:
        """True when ``name`` is no public definition here but may still be reachable, or when
        its class is gone or was redefined some other way (then the class is what changed)."""
        owner, dot, _ = name.rpartition(".")
        if name in self.bound:
            return True
        owned = self.signatures.get(owner)
        return bool(dot) and (owned is None or owned.keyword != "class")


def module_api(tree: ast.Module) -> ModuleApi:
    """The public interface of the module ``tree``."""
    statements = list(_statements(tree.body))
    exported = _exported(statements)
    signatures: dict[str, Signature] = {}
    for node in statements:
        if not isinstance(node, Definition):
            continue
        public = node.name in exported if exported is not None else _public(node.name)
        if public:
            signatures.update(_definitions(node))
        else:
            signatures.pop(node.name, None)  # redefined privately after a public definition
    bound = _bound(statements, "")
    for node in statements:
        if isinstance(node, ast.ClassDef):
            bound |= _bound(node.body, f"{node.name}.")
    return ModuleApi(signatures, frozenset(bound))


def _statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of ``body``, looking into ``if`` and ``try`` blocks (last one wins)."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _statements([*node.body, *node.orelse])
        elif isinstance(node, ast.Try | ast.TryStar):
            handlers = [s for handler in node.handlers for s in handler.body]
            yield from _statements([*node.body, *handlers, *node.orelse, *node.finalbody])
        else:
            yield node


def _exported(statements: Sequence[ast.stmt]) -> frozenset[str] | None:
    """The names of a literal ``__all__``; None when there is none (or it is computed)."""
    names = None
    for node in statements:
        if isinstance(node, ast.Assign) and any(_named(t, "__all__") for t in node.targets):
            names = _literal_names(node.value)
    return names


def _literal_names(value: ast.expr) -> frozenset[str] | None:
    if not isinstance(value, ast.List | ast.Tuple):
        return None
    names = [
        e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
    ]
    return frozenset(names) if len(names) == len(value.elts) else None


def _named(target: ast.expr, name: str) -> bool:
    return isinstance(target, ast.Name) and target.id == name


def _public(name: str) -> bool:
    return not name.startswith("_")


def _definitions(node: Definition) -> dict[str, Signature]:
    """The signatures ``node`` defines: itself, and a class's public methods."""
    if not isinstance(node, ast.ClassDef):
        keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        return {node.name: signature(keyword, node.name, node.args)}
    methods = {
        method.name: method
        for method in node.body
        if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    found = {node.name: _class_signature(node, methods.get("__init__"))}
    for name, method in methods.items():
        qualified = f"{node.name}.{name}"
        if _public(name) and _attribute(method):
            found[qualified] = Signature("property", qualified, known=False)
        elif _public(name):
            keyword = "async def" if isinstance(method, ast.AsyncFunctionDef) else "def"
            found[qualified] = signature(keyword, qualified, method.args)
    return found


def _attribute(method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(_decorator(node) in _ATTRIBUTES for node in method.decorator_list)


def _decorator(node: ast.expr) -> str:
    """The last name of a decorator: ``setter`` for ``@area.setter``."""
    node = node.func if isinstance(node, ast.Call) else node
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _class_signature(node: ast.ClassDef, init: Definition | None) -> Signature:
    if isinstance(init, ast.FunctionDef | ast.AsyncFunctionDef):
        return signature("class", node.name, init.args, bound=True)
    # Without bases or decorators, a class without __init__ is called with no arguments;
    # otherwise its __init__ is inherited or generated and cannot be read here.
    plain = not node.decorator_list and not node.keywords
    plain = plain and all(_named(base, "object") for base in node.bases)
    return Signature("class", node.name, known=plain)


def _bound(statements: Sequence[ast.stmt], prefix: str) -> set[str]:
    """Names bound in ``statements`` by imports and assignments, each after ``prefix``."""
    names: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(
                n.id
                for target in targets
                for n in ast.walk(target)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            )
    return {prefix + name for name in names}


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
