"""Python call signatures and a module's public interface, read from its syntax tree: what
``interface`` compares between two commits (its docstring says what counts as public and what
counts as a change).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
# Decorators that make a method an attribute, whose call signature is not the method's.
_ATTRIBUTES = frozenset({"property", "cached_property", "setter", "getter", "deleter"})


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
