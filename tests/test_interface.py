"""Tests for ``interface``: public interface changes read from the code of two real commits."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from conftest import git
from continuous_backlog_executor.interface import (
    ChangeKind,
    InterfaceChange,
    InterfaceReport,
    public_changes,
    public_module,
    read_files,
)

SHAPES = """\
import math

__version__ = "1"


def area(width, height=1):
    return width * height


async def fetch(url, *, timeout=10):
    return url


class Shape:
    def __init__(self, sides, *, name="shape"):
        self.sides = sides

    def scale(self, factor):
        return factor

    def _helper(self):
        return None


def _private(x):
    return x
"""


def commit(repo: Path, files: Mapping[str, str | bytes | None]) -> str:
    """Write (or, for None, delete) ``files`` in ``repo``, commit them, and return the commit."""
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return git(repo, "rev-parse", "HEAD").strip()


def changes(
    repo: Path, before: Mapping[str, str | bytes | None], after: Mapping[str, str | bytes | None]
) -> InterfaceReport:
    """The report between a commit with ``before`` and the next one with ``after``."""
    base = commit(repo, before)
    head = commit(repo, after)
    return public_changes(repo, base, head, exclude=["tests/*", "test_*.py"])


def texts(report: InterfaceReport) -> list[str]:
    return [str(change) for change in report.changes]


def test_an_unchanged_interface_with_new_bodies_and_names_reports_nothing(repo: Path) -> None:
    edited = (
        SHAPES.replace("width * height", "height * width") + "\n\ndef perimeter(a):\n    pass\n"
    )
    edited = edited.replace(
        "def area(width, height=1)", "def area(width: int, height: int = 1) -> int"
    )

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert report == InterfaceReport((), ())


def test_a_removed_function_is_reported_with_its_signature(repo: Path) -> None:
    edited = SHAPES.replace("def area(width, height=1):\n    return width * height\n", "")

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert report.changes == (
        InterfaceChange(
            "src/shapes.py", "area", ChangeKind.REMOVED, "def area(width, height=1)", None
        ),
    )
    assert texts(report) == ["src/shapes.py: area(width, height=1) (removed)"]


def test_a_removed_method_is_reported_under_its_class(repo: Path) -> None:
    edited = SHAPES.replace("    def scale(self, factor):\n        return factor\n", "")

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert texts(report) == ["src/shapes.py: Shape.scale(self, factor) (removed)"]


def test_a_removed_class_is_reported_once_not_per_method(repo: Path) -> None:
    edited = SHAPES[: SHAPES.index("class Shape")] + SHAPES[SHAPES.index("def _private") :]

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert texts(report) == ["src/shapes.py: Shape(sides, *, name='shape') (removed)"]


def test_a_changed_parameter_is_reported_before_and_after(repo: Path) -> None:
    edited = SHAPES.replace("def area(width, height=1)", "def area(width)")

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert report.changes == (
        InterfaceChange(
            "src/shapes.py",
            "area",
            ChangeKind.CHANGED,
            "def area(width, height=1)",
            "def area(width)",
        ),
    )
    assert texts(report) == ["src/shapes.py: area(width, height=1) -> area(width) (changed)"]


@pytest.mark.parametrize(
    ("after", "breaking"),
    [
        ("def area(width, height=1, depth=1)", False),  # optional at the end
        ("def area(width, height=1, *, unit='m')", False),  # optional keyword-only
        ("def area(width, height=1, *args, **kwargs)", False),
        ("def area(width, /, height=1)", True),  # made positional-only
        ("def area(size, height=1)", True),  # renamed
        ("def area(height=1, width=0)", True),  # reordered
        ("def area(width, height)", True),  # default removed
        ("def area(width, *, height=1)", True),  # made keyword-only
        ("def area(width, height=1, *, unit)", True),  # required keyword-only added
    ],
)
def test_signature_changes_are_judged_by_the_calls_they_break(
    repo: Path, after: str, breaking: bool
) -> None:
    edited = SHAPES.replace("def area(width, height=1)", after)

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert [c.name for c in report.changes] == (["area"] if breaking else [])


def test_a_required_parameter_added_at_the_end_is_reported(repo: Path) -> None:
    report = changes(repo, {"m.py": "def f(a):\n    pass\n"}, {"m.py": "def f(a, b):\n    pass\n"})

    assert texts(report) == ["m.py: f(a) -> f(a, b) (changed)"]


def test_widening_a_parameter_is_compatible(repo: Path) -> None:
    before = "def f(a, /, b, *, c=1):\n    pass\n"
    after = "def f(x, b, c=1, *, d=2):\n    pass\n"

    report = changes(repo, {"m.py": before}, {"m.py": after})

    assert report.changes == ()


def test_a_class_signature_is_its_init_and_methods_are_compared(repo: Path) -> None:
    edited = SHAPES.replace(
        'def __init__(self, sides, *, name="shape")', "def __init__(self, sides, name)"
    )
    edited = edited.replace("def scale(self, factor)", "async def scale(self, factor, centre)")

    report = changes(repo, {"src/shapes.py": SHAPES}, {"src/shapes.py": edited})

    assert texts(report) == [
        "src/shapes.py: Shape(sides, *, name='shape') -> Shape(sides, name) (changed)",
        "src/shapes.py: Shape.scale(self, factor) -> Shape.scale(self, factor, centre) (changed)",
    ]


def test_private_names_modules_and_excluded_paths_are_not_interface(repo: Path) -> None:
    files = {"src/shapes.py": SHAPES, "src/_impl.py": SHAPES, "src/_impl/mod.py": SHAPES}
    files |= {"tests/test_shapes.py": SHAPES, "src/test_more.py": SHAPES, "src/notes.txt": SHAPES}
    edited = SHAPES.replace("def _private(x)", "def _private()").replace(
        "def _helper(self)", "def _helper(self, x)"
    )

    report = changes(repo, files, {**dict.fromkeys(files, ""), "src/shapes.py": edited})

    assert report.changes == ()
    assert public_module("pkg/__init__.py")
    assert not public_module("pkg/__main__.py")


def test_with_a_literal_all_exactly_its_names_are_public(repo: Path) -> None:
    names = '__all__ = ["area", "_special"]\n'
    base = names + "def area(w): ...\ndef _special(x): ...\ndef helper(y): ...\n"
    head = names + "def area(w): ...\ndef _special(): ...\n"

    report = changes(repo, {"lib.py": base}, {"lib.py": head})

    assert texts(report) == ["lib.py: _special(x) -> _special() (changed)"]


def test_a_name_dropped_from_all_is_removed_and_a_reexport_keeps_it(repo: Path) -> None:
    base = '__all__ = ["area", "volume"]\n\ndef area(w):\n    pass\n\ndef volume(w):\n    pass\n'
    head = 'from .solid import volume\n\n__all__ = ["volume"]\n\ndef area(w):\n    pass\n'

    report = changes(repo, {"pkg/__init__.py": base}, {"pkg/__init__.py": head})

    assert texts(report) == ["pkg/__init__.py: area(w) (removed)"]


def test_a_deleted_or_renamed_module_loses_its_public_names(repo: Path) -> None:
    small = "def area(w):\n    return w\n\nclass Box:\n    def open(self):\n        pass\n"
    other = "def size():\n    return 1\n"

    report = changes(
        repo,
        {"src/shapes.py": small, "src/old.py": other},
        {"src/shapes.py": None, "src/figures.py": small, "src/old.py": None},
    )

    assert "R100\tsrc/shapes.py\tsrc/figures.py" in git(
        repo, "diff", "--name-status", "-M", "HEAD~1", "HEAD"
    )
    assert texts(report) == [
        "src/old.py: size() (removed)",
        "src/shapes.py: area(w) (removed)",
        "src/shapes.py: Box() (removed)",
    ]


def test_a_class_whose_init_is_inherited_or_generated_has_no_readable_signature(
    repo: Path,
) -> None:
    base = "@dataclass\nclass Point:\n    x: int\n\nclass Child(Base): ...\n"
    head = base.replace("x: int", "x: int\n    y: int").replace(
        "Child(Base): ...", "Child(Base):\n    def __init__(self, a): ..."
    )

    first, second = commit(repo, {"m.py": base}), commit(repo, {"m.py": head})
    third = commit(repo, {"m.py": None})

    assert public_changes(repo, first, second).changes == ()
    assert texts(public_changes(repo, second, third)) == [
        "m.py: Point (removed)",
        "m.py: Child(a) (removed)",
    ]


def test_an_unparsable_version_is_skipped_with_a_warning(repo: Path) -> None:
    broken = SHAPES.replace("def area(width, height=1):", "def area(width, height=1)")
    latin = b"NAME = 'caf\xe9'\ndef area(w):\n    pass\n"

    report = changes(
        repo, {"a.py": SHAPES, "b.py": latin}, {"a.py": broken, "b.py": "def area():\n    pass\n"}
    )

    assert report.changes == ()
    assert report.warnings == (
        f"a.py at {git(repo, 'rev-parse', 'HEAD').strip()} cannot be parsed "
        "(line 6: expected ':'); its interface was not compared",
        f"b.py at {git(repo, 'rev-parse', 'HEAD~1').strip()} cannot be parsed (line 1: (unicode "
        "error) 'utf-8' codec can't decode byte 0xe9 in position 3: unexpected end of data); "
        "its interface was not compared",
    )


def test_a_declared_source_encoding_is_honoured(repo: Path) -> None:
    latin = b"# -*- coding: latin-1 -*-\n# caf\xe9\ndef area(w):\n    pass\n"

    report = changes(repo, {"a.py": latin}, {"a.py": latin.replace(b"(w)", b"()")})

    assert texts(report) == ["a.py: area(w) -> area() (changed)"]


def test_read_files_returns_exact_bytes_and_leaves_out_missing_paths(repo: Path) -> None:
    head = commit(repo, {"odd/a*.py": b"x = '\xff'\n", "odd/ab.py": "y = 1\n"})

    found = read_files(repo, head, ["odd/a*.py", "missing.py", "odd"])

    assert found == {"odd/a*.py": b"x = '\xff'\n"}


def test_a_property_is_an_attribute_compared_by_name_only(repo: Path) -> None:
    base = "class Box:\n    @property\n    def size(self): ...\n"
    base += "\n    @property\n    def colour(self): ...\n"
    head = base.replace(
        "    @property\n    def colour(self): ...\n",
        "    @size.setter\n    def size(self, value): ...\n",
    )

    report = changes(repo, {"box.py": base}, {"box.py": head})

    assert texts(report) == ["box.py: Box.colour (removed)"]
