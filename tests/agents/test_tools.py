"""The model's tools over a real item worktree: real files, git, ripgrep and child processes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_support import gone

from conftest import git
from continuous_backlog_executor.agents import tools
from continuous_backlog_executor.agents.tools import ToolResult, Workspace

# The test command: prints its arguments, fails when told to, and can hang with a grandchild.
CHECK = """\
import pathlib, subprocess, sys, time
print("args:", *sys.argv[1:])
if pathlib.Path("hang").exists():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pathlib.Path("child.pid").write_text(str(child.pid))
    print("hanging", flush=True)
    time.sleep(60)
sys.exit(3 if pathlib.Path("fail").exists() else 0)
"""

Call = Callable[..., ToolResult]


@pytest.fixture
def tree(repo: Path) -> Path:
    """An item's linked worktree of a small project, as the engine makes them."""
    (repo / "src").mkdir()
    (repo / "src" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text("def test_add():\n    pass\n")
    (repo / "check.py").write_text(CHECK)
    (repo / ".gitignore").write_text("*.log\nchild.pid\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "calc")
    path = repo.parent / "item"
    git(repo, "worktree", "add", "-q", "-b", "item", str(path))
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the worktree with a secret in it, which no tool may read or change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("secret\n")
    return folder


@pytest.fixture
def space(tree: Path, tmp_path: Path) -> Workspace:
    return Workspace(
        tree,
        test_command=[sys.executable, "check.py"],
        test_timeout=20.0,
        env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]},
        log_folder=tmp_path / "logs",
    )


@pytest.fixture
def bare(tmp_path: Path) -> Workspace:
    """Tools over a plain folder: enough where the arguments are refused before any work."""
    return Workspace(tmp_path, test_command=[], test_timeout=1, env={}, log_folder=tmp_path)


@pytest.fixture
def call(space: Workspace) -> Call:
    """Call a tool with keyword arguments, sent as the JSON text a model would write."""

    def invoke(name: str, **arguments: object) -> ToolResult:
        return space.call(name, json.dumps(arguments))

    return invoke


def refused(result: ToolResult, *words: str) -> bool:
    return (
        result.is_error
        and result.text.startswith("refused:")
        and all(word in result.text for word in words)
    )


def test_specs_offer_every_tool_with_an_object_schema(bare: Workspace) -> None:
    specs = {spec.name: spec for spec in bare.specs}
    assert sorted(specs) == [
        "finish", "git_diff", "list_files", "read_file",
        "replace_in_file", "run_tests", "search", "write_file",
    ]  # fmt: skip
    assert specs["read_file"].parameters["required"] == ["path"]
    assert specs["run_tests"].parameters["properties"]["tests"]["items"] == {"type": "string"}
    for spec in specs.values():
        assert spec.parameters["type"] == "object"
        assert spec.parameters["additionalProperties"] is False
        json.dumps(spec.parameters)


def test_list_files_shows_tracked_and_untracked_but_not_ignored(tree: Path, call: Call) -> None:
    (tree / "src" / "new.py").write_text("")
    (tree / "build.log").write_text("ignored\n")
    (tree / "check.py").unlink()
    assert call("list_files") == ToolResult(
        ".gitignore\nREADME.md\nsrc/calc.py\nsrc/new.py\ntests/test_calc.py"
    )
    assert call("list_files", path="src/").text == "src/calc.py\nsrc/new.py"
    assert call("list_files", path="nowhere") == ToolResult(
        "no folder 'nowhere' in the worktree", is_error=True
    )


def test_list_files_is_capped(call: Call, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "MAX_FILES", 2)
    assert call("list_files").text == (
        ".gitignore\nREADME.md\n[... 3 more files; list a folder to see fewer]"
    )


def test_read_file_numbers_lines_and_takes_a_range(tree: Path, call: Call) -> None:
    (tree / "five.txt").write_text("one\ntwo\r\nthree\nfour\nfive")
    assert call("read_file", path="five.txt", start_line=2, end_line=3).text == (
        "five.txt (lines 2-3 of 5):\n     2\ttwo\n     3\tthree"
    )
    assert call("read_file", path="./five.txt", start_line=4, end_line=99).text == (
        "five.txt (lines 4-5 of 5):\n     4\tfour\n     5\tfive"
    )
    assert call("read_file", path="src/calc.py").text == (
        "src/calc.py (lines 1-2 of 2):\n     1\tdef add(a, b):\n     2\t    return a - b"
    )


# One worktree for all of them: each case is a quick refusal.
READ_ERRORS: list[tuple[dict[str, object], str]] = [
    ({"path": "src/calc.py", "start_line": 3}, "lines 3-2 are not in 'src/calc.py', which has 2"),
    ({"path": "src/calc.py", "start_line": 2, "end_line": 1}, "lines 2-1 are not in"),
    ({"path": "src/calc.py", "start_line": 0}, "lines 0-2 are not in"),
    ({"path": "missing.py"}, "no file 'missing.py' in the worktree"),
    ({"path": "src"}, "'src' is a folder; use list_files"),
    ({"path": "blob.bin"}, "'blob.bin' looks binary"),
]


def test_read_file_errors(tree: Path, call: Call) -> None:
    (tree / "blob.bin").write_bytes(b"\x89PNG\0\0\x01")
    for arguments, message in READ_ERRORS:
        result = call("read_file", **arguments)
        assert result.is_error
        assert result.text.startswith(message), (arguments, result.text)


def test_read_file_shows_bytes_that_are_not_utf8_as_replacement_characters(
    tree: Path, call: Call
) -> None:
    (tree / "latin.txt").write_bytes(b"caf\xe9\n")
    assert call("read_file", path="latin.txt").text.endswith("1\tcaf\ufffd")


def test_read_file_stops_before_the_cap_and_says_where_to_go_on(tree: Path, call: Call) -> None:
    (tree / "long.txt").write_text("".join(f"{'x' * 99}\n" for _ in range(300)))
    text = call("read_file", path="long.txt").text
    assert len(text) <= tools.MAX_CHARS
    assert text.endswith("[... lines 187-300 not shown; read on with start_line]")


def test_every_result_is_capped(tree: Path, call: Call) -> None:
    (tree / "wide.txt").write_text("y" * 30_000)
    text = call("read_file", path="wide.txt").text
    assert len(text) == tools.MAX_CHARS + len("\n[... 10034 characters cut]")
    assert text.endswith("y\n[... 10034 characters cut]")


def test_search_reports_path_line_and_text(tree: Path, call: Call) -> None:
    (tree / "src" / "more.py").write_text("x = 1\ndef add_more():\n    pass\n")
    (tree / ".hidden.py").write_text("def add_hidden(): pass\n")
    assert call("search", pattern=r"def add\w*").text == (
        ".hidden.py:1:def add_hidden(): pass\n"
        "src/calc.py:1:def add(a, b):\n"
        "src/more.py:2:def add_more():"
    )
    assert call("search", pattern="return", path="src").text == "src/calc.py:2:    return a - b"
    assert call("search", pattern="-k", path="src/calc.py") == ToolResult(
        "no matches for '-k' under 'src/calc.py'"
    )


def test_search_never_looks_into_git(tree: Path, call: Call) -> None:
    # The repository's own files name the branch ``item`` (HEAD, logs); the tree does not.
    assert call("search", pattern="refs/heads/item").text.startswith("no matches")


def test_search_reports_a_bad_pattern_and_caps_matches(
    tree: Path, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = call("search", pattern="(unclosed")
    assert bad.is_error
    assert "search failed: rg: regex parse error" in bad.text
    monkeypatch.setattr(tools, "MAX_MATCHES", 1)
    assert call("search", pattern="a").text.endswith("more matches; narrow the pattern or path]")


def test_write_file_creates_folders_and_overwrites(tree: Path, call: Call) -> None:
    assert call("write_file", path="pkg/sub/mod.py", content="a = 1\nb = 2\n") == ToolResult(
        "created pkg/sub/mod.py (2 lines, 12 bytes)"
    )
    assert call("write_file", path="pkg/sub/mod.py", content="é") == ToolResult(
        "wrote pkg/sub/mod.py (1 lines, 2 bytes)"
    )
    assert (tree / "pkg" / "sub" / "mod.py").read_text() == "é"
    assert (
        call("write_file", path="src", content="").text == "'src' is a folder; give a file's path"
    )


def test_replace_in_file_edits_the_one_occurrence(tree: Path, call: Call) -> None:
    assert call("replace_in_file", path="src/calc.py", old="a - b", new="a + b") == ToolResult(
        "replaced 1 occurrence in src/calc.py at line 2"
    )
    assert (tree / "src" / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ("a * b", "'old' occurs 0 times in 'src/calc.py'; it must occur exactly once: copy"),
        ("a, b", "'old' occurs 2 times in 'src/calc.py'; it must occur exactly once: include"),
        ("", "'old' is empty"),
    ],
)
def test_replace_in_file_refuses_unless_old_occurs_once(
    tree: Path, call: Call, old: str, message: str
) -> None:
    (tree / "src" / "calc.py").write_text("def add(a, b):\n    return add2(a, b)\n")
    result = call("replace_in_file", path="src/calc.py", old=old, new="x")
    assert result.is_error
    assert result.text.startswith(message)
    assert (tree / "src" / "calc.py").read_text() == "def add(a, b):\n    return add2(a, b)\n"


def test_replace_in_file_counts_overlapping_occurrences(tree: Path, call: Call) -> None:
    (tree / "aaa.txt").write_text("aaa")
    assert "occurs 2 times" in call("replace_in_file", path="aaa.txt", old="aa", new="b").text


def test_run_tests_runs_the_command_with_the_given_tests(
    tree: Path, call: Call, tmp_path: Path
) -> None:
    result = call("run_tests", tests=["tests/test_calc.py::test_add[1-2]", "./src"])
    assert not result.is_error
    lines = result.text.splitlines()
    assert lines[0] == f"$ {sys.executable} check.py 'tests/test_calc.py::test_add[1-2]' src"
    assert lines[1].startswith("exit status 0 after ")
    assert lines[2:] == ["--- end of the output ---", "args: tests/test_calc.py::test_add[1-2] src"]
    (tree / "fail").write_text("")
    assert "\nexit status 3 after " in call("run_tests").text
    log = (tmp_path / "logs" / "run_tests.log").read_text()
    assert log.count(f"$ {sys.executable} check.py") == 2


# One worktree for all of them: each case is a quick refusal.
TEST_REFUSALS = [
    ("-k", "refused: '-k' is an option"),
    ("--rootdir=/", "refused: '--rootdir=/' is an option"),
    ("./-x", "refused: './-x' is an option"),
    ("../other.py", "refused: path '../other.py' is outside the worktree"),
    ("/etc/passwd::x", "refused: path '/etc/passwd' is absolute"),
    ("tests/nope.py::test", "no test file or folder 'tests/nope.py' in the worktree"),
]


def test_run_tests_refuses_anything_but_tests_in_the_worktree(
    tree: Path, call: Call, tmp_path: Path
) -> None:
    (tree / "-x").write_text("")
    for test, message in TEST_REFUSALS:
        result = call("run_tests", tests=["tests", test])
        assert result.is_error
        assert result.text.startswith(message), (test, result.text)
    assert not (tmp_path / "logs" / "run_tests.log").exists()  # nothing ran


def test_run_tests_timeout_stops_the_whole_process_group(tree: Path, space: Workspace) -> None:
    (tree / "hang").write_text("")
    timed = Workspace(
        tree,
        test_command=space.test_command,
        test_timeout=0.5,
        env=space.env,
        log_folder=space.log_folder,
    )
    result = timed.call("run_tests", "{}")
    assert result.is_error
    assert "timed out after 0.5s; the run and all it started stopped" in result.text
    assert "hanging" in result.text
    assert gone(int((tree / "child.pid").read_text()))


def test_run_tests_without_a_command_or_a_program(tree: Path, space: Workspace) -> None:
    none = Workspace(tree, test_command=[], test_timeout=1, env={}, log_folder=space.log_folder)
    assert none.call("run_tests", "").text.startswith("no test command is configured")
    broken = Workspace(
        tree, test_command=["./no-such-runner"], test_timeout=1, env={}, log_folder=space.log_folder
    )
    result = broken.call("run_tests", "")
    assert result.is_error
    assert result.text.startswith("the test command could not start: cannot run './no-such")


def test_git_diff_shows_changes_and_new_files_against_head(tree: Path, call: Call) -> None:
    assert call("git_diff") == ToolResult("no changes against HEAD")
    (tree / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tree / "src" / "new.py").write_text("NEW = 1\n")
    diff = call("git_diff").text
    assert "-    return a - b\n+    return a + b\n" in diff
    assert "+++ b/src/new.py\n@@ -0,0 +1 @@\n+NEW = 1\n" in diff
    assert git(tree, "status", "--porcelain") == " M src/calc.py\n?? src/new.py\n"


def test_finish_carries_its_summary(call: Call) -> None:
    assert call("finish", summary="fixed add") == ToolResult(
        "finished", finished=True, summary="fixed add"
    )


PATHS = [
    ("../x", "is outside the worktree ('..' is not allowed)"),
    ("src/../../x", "is outside the worktree ('..' is not allowed)"),
    ("/etc/passwd", "is absolute"),
    (".git/config", "is inside .git"),
    ("src/.GIT/x", "is inside .git"),
    ("out/secret.txt", "is outside the worktree (symlink 'out' leads out)"),
    ("link.txt", "is outside the worktree (symlink 'link.txt' leads out)"),
    ("back/calc.py", "is outside the worktree (symlink 'back' leads out)"),
    ("gitlink/HEAD", "leads into .git"),
    ("nul\0.txt", "contains a NUL character"),
]


# Every tool that takes a path, with the other arguments it needs.
PATH_TOOLS = {
    "read_file": {},
    "write_file": {"content": "pwned\n"},
    "replace_in_file": {"old": "secret", "new": "pwned"},
    "list_files": {},
    "search": {"pattern": "secret"},
}


@pytest.mark.parametrize(("path", "message"), PATHS)
def test_paths_outside_the_worktree_are_refused(
    tree: Path, outside: Path, space: Workspace, path: str, message: str
) -> None:
    (tree / "out").symlink_to(outside)  # a folder leading out
    (tree / "link.txt").symlink_to(outside / "secret.txt")  # the final component leading out
    (outside / "calc.py").symlink_to(tree / "src" / "calc.py")
    (tree / "back").symlink_to(outside)  # out, and a link there back in
    (tree / "gitlink").symlink_to(tree / ".git")
    for tool, extra in PATH_TOOLS.items():
        result = space.call(tool, json.dumps({"path": path, **extra}))
        assert refused(result, repr(path), message), (tool, result.text)
    assert (outside / "secret.txt").read_text() == "secret\n"
    assert sorted(p.name for p in outside.iterdir()) == ["calc.py", "secret.txt"]
    assert "pwned" not in (tree / ".git").read_text()


def test_symlinks_inside_the_worktree_are_followed(tree: Path, call: Call) -> None:
    (tree / "lib").symlink_to(tree / "src")
    (tree / "alias.py").symlink_to("src/calc.py")
    assert "return a - b" in call("read_file", path="lib/calc.py").text
    assert call("list_files", path="lib").text == "src/calc.py"
    assert call("search", pattern="return", path="lib").text == "src/calc.py:2:    return a - b"
    assert not call("write_file", path="alias.py", content="X = 1\n").is_error
    assert (tree / "alias.py").is_symlink()
    assert (tree / "src" / "calc.py").read_text() == "X = 1\n"


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("read_file", "{path: 'x'}", "the arguments are not valid JSON (Expecting property"),
        ("read_file", '{"path": "x"', "the arguments are not valid JSON"),
        ("read_file", "[" * 100_000, "the arguments are not valid JSON"),
        ("read_file", '["x"]', "the arguments must be a JSON object, not an array"),
        ("read_file", "null", "the arguments must be a JSON object, not null"),
        ("read_file", "{}", "missing argument 'path'"),
        ("read_file", '{"path": 3}', "argument 'path' must be a string, not a number"),
        ("read_file", '{"path": "x", "start_line": "1"}', "'start_line' must be an integer, not"),
        ("read_file", '{"path": "x", "start_line": true}', "must be an integer, not a boolean"),
        ("read_file", '{"path": "x", "start_line": 1.5}', "must be an integer, not a number"),
        ("read_file", '{"path": "x", "lines": 3}', "unknown argument 'lines'"),
        ("read_file", '{"path": "\\ud800"}', "argument 'path' is not valid Unicode text"),
        ("run_tests", '{"tests": "tests"}', "'tests' must be an array of strings, not a string"),
        ("run_tests", '{"tests": [1]}', "'tests' must be an array of strings, not an array"),
        ("git_diff", '{"path": "."}', "unknown argument 'path'; git_diff takes no arguments"),
    ],
)
def test_malformed_arguments_are_answered_with_the_expected_ones(
    bare: Workspace, name: str, arguments: str, message: str
) -> None:
    result = bare.call(name, arguments)
    assert result.is_error
    assert result.text.startswith(message) or message in result.text
    if name == "read_file":
        assert result.text.endswith(
            "; read_file expects a JSON object with path (string, required), "
            "start_line (integer, optional), end_line (integer, optional)"
        )


def test_optional_arguments_may_be_null(call: Call) -> None:
    assert call("read_file", path="src/calc.py", start_line=None).text.startswith("src/calc.py")


def test_an_unknown_tool_is_named_with_the_known_ones(bare: Workspace) -> None:
    assert bare.call("rm_rf", "{}") == ToolResult(
        "unknown tool 'rm_rf'; the tools are: finish, git_diff, list_files, read_file, "
        "replace_in_file, run_tests, search, write_file",
        is_error=True,
    )


def test_file_system_failures_come_back_as_errors(tree: Path, call: Call) -> None:
    (tree / "plain").write_text("")
    result = call("write_file", path="plain/inner.txt", content="x")
    assert result == ToolResult("write_file failed: File exists", is_error=True)
