"""Tests for finding comments by language: which syntax a path gets, and where its comments are."""

from __future__ import annotations

import pytest

from continuous_backlog_executor.comment_syntax import Comments, syntax_for


def comment_texts(path: str, text: str) -> list[str]:
    """Every comment in ``text``, found through ``Comments.around`` alone, in order."""
    syntax = syntax_for(path)
    assert syntax is not None
    comments = Comments(text, syntax)
    spans = dict.fromkeys(
        span for span in map(comments.around, range(len(text) + 1)) if span is not None
    )
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("a.py", "python", id="python"),
        pytest.param("pkg/stubs.pyi", "python", id="python-stub"),
        pytest.param("SCRIPT.PY", "python", id="suffix-case-insensitive"),
        pytest.param("app.js", "javascript", id="javascript"),
        pytest.param("app.ts", "javascript", id="typescript"),
        pytest.param("main.go", "go", id="go"),
        pytest.param("lib.rs", "rust", id="rust"),
        pytest.param("Main.java", "c", id="java"),
        pytest.param("main.c", "c", id="c"),
        pytest.param("main.cpp", "c", id="cpp"),
        pytest.param("run.sh", "shell", id="shell"),
        pytest.param("ci.yml", "config", id="yaml-yml"),
        pytest.param("ci.yaml", "config", id="yaml"),
        pytest.param("pyproject.toml", "config", id="toml"),
        pytest.param("app.rb", "ruby", id="ruby"),
        pytest.param("schema.sql", "sql", id="sql"),
        pytest.param("index.html", "markup", id="html"),
        pytest.param("README.md", "markdown", id="markdown"),
        pytest.param("site.css", "css", id="css"),
        pytest.param("init.lua", "lua", id="lua"),
        pytest.param("Main.hs", "haskell", id="haskell"),
        pytest.param("Dockerfile", "shell", id="dockerfile"),
        pytest.param("docker/Dockerfile.dev", "shell", id="dockerfile-variant"),
        pytest.param("Makefile", "shell", id="makefile"),
        pytest.param("sub/dir/GNUmakefile", "shell", id="makefile-in-folder"),
        pytest.param("CMakeLists.txt", "shell", id="name-before-suffix"),
        pytest.param("requirements.txt", "config", id="requirements"),
    ],
)
def test_syntax_for_known_files(path: str, name: str) -> None:
    syntax = syntax_for(path)
    assert syntax is not None
    assert syntax.name == name


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("data.unknown", id="unknown-suffix"),
        pytest.param("notes.txt", id="plain-text"),
        pytest.param("LICENSE", id="no-suffix"),
        pytest.param("image.png", id="binary"),
        pytest.param("", id="empty"),
    ],
)
def test_syntax_for_unknown_files_is_none(path: str) -> None:
    assert syntax_for(path) is None


@pytest.mark.parametrize(
    ("path", "text", "comments"),
    [
        pytest.param("a.py", 'x = "#"  # c\n', ["# c"], id="python-hash-in-string"),
        pytest.param("a.py", "'''\n# no\n'''\n# yes\n", ["# yes"], id="python-triple-quoted"),
        pytest.param("a.py", "s = b'#' rb'#' f\"#\"  # c\n", ["# c"], id="python-prefixed"),
        pytest.param("a.c", "c = '\"'; /* b */ // l\n", ["/* b */", "// l"], id="c-char-quote"),
        pytest.param("a.c", "#include <x.h>\n// l\n", ["// l"], id="c-preprocessor"),
        pytest.param("a.js", "`\n// no\n` // yes\n", ["// yes"], id="js-template-literal"),
        pytest.param("a.js", "'// no' \"/* no */\" /**/\n", ["/**/"], id="js-quotes"),
        pytest.param("a.go", "`\n// no\n` // yes\n", ["// yes"], id="go-raw-string"),
        pytest.param("a.rs", 'r##"\n"# // no\n"## // yes\n', ["// yes"], id="rust-raw-hashes"),
        pytest.param(
            "a.rs", "fn f<'a>(x: &'a str) {} // c\n", ["// c"], id="rust-lifetime-before-comment"
        ),
        pytest.param("a.sh", "echo $# ${#v} '#' # c\n", ["# c"], id="shell-dollar-hash"),
        pytest.param("a.yaml", 'k: "# no" # c\nu: a#b\n', ["# c"], id="yaml-hash-after-space"),
        pytest.param("a.rb", "=begin\nx\n=end\n# c\n", ["=begin\nx\n=end", "# c"], id="ruby"),
        pytest.param("a.sql", "'it''s -- no' -- c\n", ["-- c"], id="sql-doubled-quote"),
        pytest.param("a.sql", '/* b */ "-- no"\n', ["/* b */"], id="sql-block"),
        pytest.param("a.html", "<p>-- no</p><!-- c -->\n", ["<!-- c -->"], id="html"),
        pytest.param(
            "a.css", "a { b: url(//x) } /* c */\n", ["/* c */"], id="css-no-line-comments"
        ),
        pytest.param("a.lua", "--[[ b ]] x -- l\n", ["--[[ b ]]", "-- l"], id="lua"),
        pytest.param("a.hs", '"-- no" {- b -} -- l\n', ["{- b -}", "-- l"], id="haskell"),
        pytest.param("a.c", "x;\n/* open\nto the end", ["/* open\nto the end"], id="unclosed"),
    ],
)
def test_comment_spans(path: str, text: str, comments: list[str]) -> None:
    assert comment_texts(path, text) == comments


PY_SOURCE = "x = 1  # c\ny = '#'\n"  # the comment is [7, 10); the string's "#" is at 17


@pytest.mark.parametrize(
    ("position", "span"),
    [
        pytest.param(0, None, id="before-any-comment"),
        pytest.param(6, None, id="just-before"),
        pytest.param(7, (7, 10), id="first-char"),
        pytest.param(9, (7, 10), id="last-char"),
        pytest.param(10, None, id="end-is-exclusive"),
        pytest.param(17, None, id="inside-a-string"),
        pytest.param(len(PY_SOURCE), None, id="end-of-text"),
    ],
)
def test_around(position: int, span: tuple[int, int] | None) -> None:
    syntax = syntax_for("a.py")
    assert syntax is not None
    assert Comments(PY_SOURCE, syntax).around(position) == span
