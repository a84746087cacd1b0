"""The comments source on real git repositories: what it finds, skips, dates and remembers."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from continuous_backlog_executor.model import Source, TaskType
from continuous_backlog_executor.sources.base import DiscoveryContext, Finding, Scan
from continuous_backlog_executor.sources.comments import OPTIONS, SOURCE
from continuous_backlog_executor.store import StateStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WRITTEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def commit(repo: Path, message: str, when: datetime = WRITTEN, author: str = "Alice") -> None:
    """Commit everything in ``repo`` as ``author`` at ``when``."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.com",
    }
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)


class Recorder:
    """An observer that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None, str]] = []

    def progress(self, source: str, done: int, total: int | None, what: str) -> None:
        self.calls.append((source, done, total, what))

    def last(self, what: str) -> tuple[int, int | None]:
        """``(done, total)`` of the last report about ``what``."""
        found = [(d, t) for _, d, t, w in self.calls if w == what]
        return found[-1]


def discover(
    repo: Path,
    *,
    known: tuple[Source, ...] = (),
    observer: Recorder | None = None,
    own: frozenset[str] = frozenset(),
    **options: object,
) -> Scan:
    """Run the comments source with its defaults and ``options``."""
    values = {key: setting.default for key, setting in OPTIONS.items()} | options
    context = DiscoveryContext(
        repo,
        values,
        StateStore(repo.parent / "state"),
        NOW,
        observer or Recorder(),
        known=known,
        own_files=own,
    )
    return SOURCE.discover(context)


def places(scan: Scan) -> list[tuple[str | None, int | None, str | None, str]]:
    return [(f.origin.path, f.origin.line, f.origin.tag, f.title) for f in scan.findings]


def pinned(findings: tuple[Finding, ...]) -> tuple[Source, ...]:
    """The sources the backlog would hold for these findings (what ``known`` passes back)."""
    return tuple(
        Source(
            kind=f.origin.kind, path=f.origin.path, line=f.origin.line, fingerprint=f.fingerprint
        )
        for f in findings
    )


def write(repo: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


PY = """\
import os


def load(path):
    # TODO(bob): cache the parsed file so a second
    #            load does not read it again
    text = "TODO: not a comment, a string"
    # FIXME #42 crashes on an empty file
    return text  # HACK[PROJ-7] temporary workaround
"""
JS = """\
const note = `TODO: in a template literal`;
/*
 * XXX: the retry loop never gives up
 */
function retry() {}  // this is not a TODO item, just prose
"""


def test_tags_in_comments_are_found_dated_by_blame(repo: Path) -> None:
    write(repo, {"app/load.py": PY, "web/retry.js": JS, "notes.md": "A TODO in prose.\n"})
    commit(repo, "code with notes")

    scan = discover(repo)

    assert scan.warnings == ()
    assert places(scan) == [
        ("app/load.py", 5, "TODO", "cache the parsed file so a second load does not read it again"),
        ("app/load.py", 8, "FIXME", "crashes on an empty file"),
        ("app/load.py", 9, "HACK", "temporary workaround"),
        ("web/retry.js", 3, "XXX", "the retry loop never gives up"),
    ]
    first, second, third, fourth = scan.findings
    assert [f.created_at for f in scan.findings] == [WRITTEN] * 4
    assert [f.origin.author for f in scan.findings] == ["bob", "Alice", "Alice", "Alice"]
    assert [f.task_type for f in scan.findings] == [
        TaskType.FEATURE,
        TaskType.BUG,
        TaskType.REFACTOR,
        TaskType.REFACTOR,
    ]
    assert second.labels == ("ref:#42",)
    assert third.labels == ("ref:PROJ-7",)
    assert first.description == (
        "TODO (for bob) at app/load.py:5: cache the parsed file so a second load does not read "
        "it again\n\n"
        "2  \n3  \n4  def load(path):\n"
        "5      # TODO(bob): cache the parsed file so a second\n"
        "6      #            load does not read it again\n"
        '7      text = "TODO: not a comment, a string"\n'
        "8      # FIXME #42 crashes on an empty file\n"
        "9      return text  # HACK[PROJ-7] temporary workaround"
    )
    assert fourth.origin == Source(
        kind="comments", path="web/retry.js", line=3, tag="XXX", author="Alice"
    )


def test_a_file_one_commit_made_is_dated_by_that_commit_without_blame(repo: Path) -> None:
    write(repo, {"old.py": "x = 1\n"})
    commit(repo, "old", when=WRITTEN)
    later = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    write(repo, {"new.py": "# TODO: in a file one commit made\n"})
    commit(repo, "new", when=later, author="Bob")
    seen = Recorder()

    (finding,) = discover(repo, observer=seen).findings

    assert (finding.created_at, finding.origin.author) == (later, "Bob")
    assert seen.last("blamed") == (0, 1)


def test_a_renamed_file_is_still_dated_by_blame(repo: Path) -> None:
    write(repo, {"a.py": "# TODO: written long ago\n"})
    commit(repo, "old", when=WRITTEN)
    subprocess.run(["git", "mv", "a.py", "b.py"], cwd=repo, check=True)
    commit(repo, "rename", when=datetime(2026, 1, 2, tzinfo=UTC), author="Bob")

    (finding,) = discover(repo).findings

    assert (finding.created_at, finding.origin.author) == (WRITTEN, "Alice")


def test_uncommitted_comments_are_found_and_dated_now_ish(repo: Path) -> None:
    write(repo, {"a.py": "x = 1\n"})
    commit(repo, "start")
    write(repo, {"a.py": "x = 1\n# TODO: not committed yet\n"})

    (finding,) = discover(repo).findings

    assert (finding.origin.line, finding.origin.author) == (2, None)
    assert finding.created_at is not None
    assert finding.created_at > WRITTEN


def test_identity_survives_moved_lines_changed_code_and_a_renamed_file(repo: Path) -> None:
    write(repo, {"src/a.py": "# TODO: first\nx = 1\n# TODO: second\n"})
    commit(repo, "start")
    before = discover(repo).findings

    write(repo, {"src/a.py": "import os\n\n\n# TODO: first\nx = 2\n# TODO: second\n"})
    commit(repo, "code above changes")
    subprocess.run(["git", "mv", "src/a.py", "src/b.py"], cwd=repo, check=True)
    commit(repo, "rename")
    after = discover(repo, known=pinned(before)).findings

    assert [f.fingerprint for f in after] == [f.fingerprint for f in before]
    assert [(f.origin.path, f.origin.line) for f in after] == [("src/b.py", 4), ("src/b.py", 6)]


def test_identical_comments_in_different_places_are_different_findings(repo: Path) -> None:
    same = "# TODO: handle errors\n"
    write(repo, {"a.py": same, "b.py": same + "x = 1\n" + same})
    commit(repo, "three of a kind")

    findings = discover(repo).findings

    assert len({f.fingerprint for f in findings}) == 3


SKIPPED: dict[str, str | bytes] = {
    "vendor/lib.py": "# TODO: vendored\n",
    "web/node_modules/x/index.js": "// TODO: vendored\n",
    "gen.py": "# Code generated by protoc. DO NOT EDIT.\n# TODO: generated\n",
    "blob.py": b"# TODO: binary\x00\x01\x02\n",
    "app.min.js": "// TODO: minified\n",
    "data.unknown": "# TODO: unknown language\n",
    "DOCS/backlog.yml": "# TODO: the tool's own file\n",
}


def test_vendored_generated_binary_and_own_files_are_skipped(repo: Path) -> None:
    write(repo, {**SKIPPED, "kept.py": "# TODO: kept\n"})
    commit(repo, "many kinds of file")

    scan = discover(repo, own=frozenset({"DOCS/backlog.yml"}))

    assert places(scan) == [("kept.py", 1, "TODO", "kept")]


def test_untracked_files_only_when_asked(repo: Path) -> None:
    write(repo, {"tracked.py": "# TODO: tracked\n"})
    commit(repo, "tracked")
    write(repo, {"untracked.py": "# TODO: untracked\n", ".gitignore": "ignored.py\n"})
    write(repo, {"ignored.py": "# TODO: ignored\n"})

    assert [p[0] for p in places(discover(repo))] == ["tracked.py"]
    assert [p[0] for p in places(discover(repo, include_untracked=True))] == [
        "tracked.py",
        "untracked.py",
    ]


def test_unreadable_kinds_of_file_are_warned_about_and_skipped(repo: Path) -> None:
    outside = repo.parent / "outside.py"
    outside.write_text("# TODO: outside the repository\n")
    (repo / "link.py").symlink_to(outside)
    write(
        repo,
        {
            "latin1.py": "# TODO: caf\xe9\n".encode("latin-1"),
            "big.py": "# TODO: big\n" + "x = 1\n" * 100,
        },
    )
    commit(repo, "odd files")

    scan = discover(repo, max_file_size=200)

    assert places(scan) == []
    assert scan.warnings == (
        "big.py: skipped, 612 bytes is over sources.comments.max_file_size",
        "latin1.py: skipped, not UTF-8 text",
    )


def test_configured_tags_and_excludes(repo: Path) -> None:
    write(
        repo,
        {
            "a.py": "# NOTE: custom tag\nx = 1\n# TODO: default tag\n",
            "skip/b.py": "# NOTE: excluded\n",
        },
    )
    commit(repo, "custom")

    scan = discover(repo, tags=("NOTE",), exclude=("skip/*",))

    assert places(scan) == [("a.py", 1, "NOTE", "custom tag")]


@pytest.mark.slow
def test_a_rescan_reads_and_blames_only_changed_files(repo: Path) -> None:
    write(repo, {f"pkg/m{n}.py": f"# TODO: item {n}\nx = {n}\n" for n in range(60)})
    commit(repo, "sixty files")
    # A second commit to every file: a file one commit made is dated without blame at all.
    write(repo, {f"pkg/m{n}.py": f"# TODO: item {n}\nx = {n}\ny = 0\n" for n in range(60)})
    commit(repo, "and a line more")
    first = Recorder()
    discover(repo, observer=first)
    assert first.last("finding tags") == (0, 61)  # and the README
    assert first.last("blamed") == (60, 60)

    write(repo, {"pkg/m7.py": "# TODO: item 7, reworded\nx = 7\ny = 0\n", "pkg/new.py": "x = 0\n"})
    commit(repo, "one change, one new file")
    second = Recorder()
    scan = discover(repo, observer=second)

    assert second.last("finding tags") == (0, 2)
    assert second.last("blamed") == (1, 60)
    assert len(scan.findings) == 60
    assert ("pkg/m7.py", 1, "TODO", "item 7, reworded") in places(scan)


def test_the_code_shown_is_the_code_around_the_tag_whatever_breaks_its_lines(repo: Path) -> None:
    # A form feed or a lone carriage return does not end a line for git, nor for line numbers.
    write(repo, {"a.py": "x = 1\x0c\ny = 2\r\n# TODO: here\rstill the same line\nz = 3\n"})
    commit(repo, "odd line breaks")

    (finding,) = discover(repo, context_lines=1).findings

    assert finding.origin.line == 3
    assert finding.description.endswith(
        "\n\n2  y = 2\n3  # TODO: here\rstill the same line\n4  z = 3"
    )


@pytest.mark.parametrize(
    "glob",
    ["*.min.js", "vendor/*", "*/vendor/*", "f?.py", "e[[]1].py", "[!a]*", "deep*", "*", "a.py"],
)
def test_excludes_are_globs_where_a_star_also_matches_a_slash(repo: Path, glob: str) -> None:
    names = ["a.py", "vendor/b.py", "x/vendor/c.py", "d.min.js", "e[1].py", "f1.py", "deep/g.py"]
    write(repo, {name: ("// " if name.endswith(".js") else "# ") + "TODO: x\n" for name in names})
    commit(repo, "files to exclude")

    found = {path for path, *_ in places(discover(repo, blame=False, exclude=(glob,)))}

    assert found == {name for name in names if not fnmatch.fnmatchcase(name, glob)}
