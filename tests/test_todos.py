"""Tests for finding TODO-style tags: the forms a tag takes, where it counts, and what it says."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from continuous_backlog_executor.comment_syntax import syntax_for
from continuous_backlog_executor.todos import (
    DEFAULT_TAGS,
    Todo,
    find,
    lines_suffice,
    opening_lines,
    tag_pattern,
)


def todos(path: str, text: str, tags: Sequence[str] = DEFAULT_TAGS) -> list[Todo]:
    """The tags ``find`` reports in ``text``, read with the syntax of ``path``."""
    syntax = syntax_for(path)
    assert syntax is not None
    return find(text, syntax, tag_pattern(tags))


def todo(
    line: int,
    tag: str,
    text: str,
    *,
    end: int | None = None,
    who: str | None = None,
    ref: str | None = None,
) -> Todo:
    """The expected Todo; ``end`` defaults to ``line`` (no continuation lines)."""
    return Todo(line, line if end is None else end, tag, text, who, ref)


def source(*lines: str) -> str:
    """A file of ``lines``, each ending in a newline."""
    return "".join(f"{line}\n" for line in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("# TODO: fix it\n", todo(1, "TODO", "fix it"), id="colon"),
        pytest.param("# TODO - fix it\n", todo(1, "TODO", "fix it"), id="dash"),
        pytest.param("# TODO\n", todo(1, "TODO", ""), id="alone"),
        pytest.param("# TODO fix it\n", todo(1, "TODO", "fix it"), id="no-separator"),
        pytest.param("#TODO:fix it\n", todo(1, "TODO", "fix it"), id="no-spaces"),
        pytest.param("# TODO(alice): fix it\n", todo(1, "TODO", "fix it", who="alice"), id="who"),
        pytest.param("# TODO(alice)\n", todo(1, "TODO", "", who="alice"), id="who-alone"),
        pytest.param(
            "# TODO[JIRA-12] fix it\n", todo(1, "TODO", "fix it", ref="JIRA-12"), id="ref"
        ),
        pytest.param("# FIXME #123 fix it\n", todo(1, "FIXME", "fix it", ref="#123"), id="issue"),
        pytest.param(
            "# FIXME(ann) #45: fix it\n",
            todo(1, "FIXME", "fix it", who="ann", ref="#45"),
            id="who-and-issue",
        ),
        pytest.param("# TODO \u2013 fix it\n", todo(1, "TODO", "fix it"), id="en-dash"),
        pytest.param("# TODO \u2014 fix it\n", todo(1, "TODO", "fix it"), id="em-dash"),
        pytest.param("# TODO: fix it   \n", todo(1, "TODO", "fix it"), id="trailing-spaces"),
        pytest.param("# FIXME: x\n", todo(1, "FIXME", "x"), id="FIXME"),
        pytest.param("# HACK: x\n", todo(1, "HACK", "x"), id="HACK"),
        pytest.param("# XXX: x\n", todo(1, "XXX", "x"), id="XXX"),
        pytest.param("# BUG: x\n", todo(1, "BUG", "x"), id="BUG"),
    ],
)
def test_tag_forms(text: str, expected: Todo) -> None:
    assert todos("a.py", text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# TODOS: x\n", id="plural"),
        pytest.param("# MYTODO: x\n", id="prefixed"),
        pytest.param("# TODO_LIST: x\n", id="identifier"),
        pytest.param("# TODO-list: x\n", id="hyphenated"),
        pytest.param("# todo: x\n", id="lower-case"),
        pytest.param("# Todo: x\n", id="title-case"),
    ],
)
def test_tags_are_whole_case_sensitive_words(text: str) -> None:
    assert todos("a.py", text) == []


def test_tags_are_configurable() -> None:
    text = source("# NOTE(bo): custom", "", "# TODO: not configured")
    assert todos("a.py", text, tags=("NOTE",)) == [todo(1, "NOTE", "custom", who="bo")]


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        pytest.param("a.py", "# TODO: x\n", [todo(1, "TODO", "x")], id="line-comment"),
        pytest.param("a.py", "## TODO: x\n", [todo(1, "TODO", "x")], id="doubled-marker"),
        pytest.param(
            "a.py", "x = 1  # TODO: trailing\n", [todo(1, "TODO", "trailing")], id="trailing"
        ),
        pytest.param(
            "a.js", "// FIXME(ann): x\n", [todo(1, "FIXME", "x", who="ann")], id="slash-comment"
        ),
        pytest.param(
            "a.c",
            source("/*", " * HACK[PROJ-12] x", " */"),
            [todo(2, "HACK", "x", ref="PROJ-12")],
            id="starred-block-line",
        ),
        pytest.param("a.c", "/** TODO: x */\n", [todo(1, "TODO", "x")], id="doc-block"),
        pytest.param("a.py", "# this is not a TODO item\n", [], id="prose"),
        pytest.param("a.py", "# Not a TODO: prose\n", [], id="prose-with-colon"),
        pytest.param("a.py", "# call() TODO: x\n", [], id="after-code-in-comment"),
        pytest.param("a.py", "# x = 1  # TODO: x\n", [], id="after-commented-out-code"),
        pytest.param("a.js", "// f(); // TODO: x\n", [], id="after-code-in-slash-comment"),
        pytest.param("a.c", "/* see the TODO: x */\n", [], id="prose-in-block"),
    ],
)
def test_tag_must_open_the_comment(path: str, text: str, expected: list[Todo]) -> None:
    assert todos(path, text) == expected


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        pytest.param(
            "a.py",
            source("# TODO: one", "# two", "#", "# three"),
            [todo(1, "TODO", "one two", end=2)],
            id="until-blank-comment-line",
        ),
        pytest.param(
            "a.py",
            source("# TODO: one", "# two", "x = 1", "# three"),
            [todo(1, "TODO", "one two", end=2)],
            id="until-code",
        ),
        pytest.param(
            "a.py",
            source("# TODO: one", "x = 1  # two"),
            [todo(1, "TODO", "one")],
            id="until-code-with-trailing-comment",
        ),
        pytest.param(
            "a.py",
            source("# TODO: one", "    # indented"),
            [todo(1, "TODO", "one")],
            id="until-indented-comment",
        ),
        pytest.param(
            "a.py",
            source("    # TODO: one", "    # two", "# outdented"),
            [todo(1, "TODO", "one two", end=2)],
            id="until-outdented-comment",
        ),
        pytest.param(
            "a.py",
            source("x = 1  # TODO: one", "       # two", "  # three"),
            [todo(1, "TODO", "one two", end=2)],
            id="trailing-comment-same-column",
        ),
        pytest.param(
            "a.py",
            source("# TODO: one", "# FIXME: two", "# more"),
            [todo(1, "TODO", "one"), todo(2, "FIXME", "two more", end=3)],
            id="until-another-tag",
        ),
        pytest.param(
            "a.py",
            source("# TODO:", "# text on the next line"),
            [todo(1, "TODO", "text on the next line", end=2)],
            id="text-starts-below",
        ),
        pytest.param(
            "a.py",
            "# TODO: one\n# two",
            [todo(1, "TODO", "one two", end=2)],
            id="last-line-without-newline",
        ),
        pytest.param(
            "a.sql",
            source("-- TODO: one", "--   two"),
            [todo(1, "TODO", "one two", end=2)],
            id="dash-comments",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", " * two", " */"),
            [todo(1, "TODO", "one two", end=2)],
            id="block-closer-own-line",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", "   two */"),
            [todo(1, "TODO", "one two", end=2)],
            id="block-closer-stripped",
        ),
        pytest.param(
            "a.c",
            source("/**", " * TODO: one", " * two", " **/"),
            [todo(2, "TODO", "one two", end=3)],
            id="block-starred-closer",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", " *", " * two", " */"),
            [todo(1, "TODO", "one")],
            id="block-until-blank-line",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", " * XXX: two", " */"),
            [todo(1, "TODO", "one"), todo(2, "XXX", "two")],
            id="block-until-another-tag",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one */", "// two"),
            [todo(1, "TODO", "one")],
            id="block-ends-before-line-comment",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", "   two */", "/* three */"),
            [todo(1, "TODO", "one two", end=2)],
            id="block-ends-before-next-block",
        ),
        pytest.param(
            "a.c",
            source("/* TODO: one", "   two */ int x;"),
            [todo(1, "TODO", "one two", end=2)],
            id="block-ends-before-code-on-closing-line",
        ),
        pytest.param(
            "a.html",
            source("<!-- TODO: one", "     two -->"),
            [todo(1, "TODO", "one two", end=2)],
            id="html-closer-stripped",
        ),
        pytest.param(
            "a.html",
            source("<!--", "  TODO: one", "  two", "-->"),
            [todo(2, "TODO", "one two", end=3)],
            id="html-closer-own-line",
        ),
        pytest.param(
            "a.hs",
            source("{-", "  TODO: one", "  two", "-}"),
            [todo(2, "TODO", "one two", end=3)],
            id="haskell-closer-own-line",
        ),
        pytest.param(
            "a.rb",
            source("=begin", "TODO: one", "two", "=end", "puts 1"),
            [todo(2, "TODO", "one two", end=3)],
            id="ruby-end-line",
        ),
        pytest.param(
            "a.lua",
            source("--[[", "TODO: one", "two", "--]]"),
            [todo(2, "TODO", "one two", end=3)],
            id="lua-closer-own-line",
        ),
        pytest.param(
            "a.lua", "--[[ TODO: one ]]\n", [todo(1, "TODO", "one")], id="lua-block-one-line"
        ),
        pytest.param(
            "a.lua",
            source("--[[ TODO: one", "two ]]"),
            [todo(1, "TODO", "one two", end=2)],
            id="lua-block-opening-line",
        ),
    ],
)
def test_continuation_lines(path: str, text: str, expected: list[Todo]) -> None:
    assert todos(path, text) == expected


# One file per language: a tag in a comment that counts, one in a string that does not, and a
# mention in prose that does not.
LANGUAGES = [
    pytest.param(
        "example.py",
        source(
            '"""Module docstring. TODO: not a comment."""',
            "",
            's = "# TODO: in a string"',
            "t = '''",
            "# FIXME: in a triple-quoted string",
            "'''",
            "# This mentions a TODO in prose.",
            "x = 1  # TODO(alice): trailing comment",
            "# XXX[PY-1] first line",
            "# second line",
            "def f() -> None:",
            '    """TODO: in a docstring."""',
        ),
        [
            todo(8, "TODO", "trailing comment", who="alice"),
            todo(9, "XXX", "first line second line", end=10, ref="PY-1"),
        ],
        id="python",
    ),
    pytest.param(
        "app.js",
        source(
            'const a = "// TODO: in a string";',
            "const b = `",
            "/* FIXME: in a template literal ${a} */",
            "`;",
            "// Remember the TODO list in prose.",
            "/* HACK: block",
            " * continues */",
            "const c = 'it\\'s'; // BUG #7: trailing",
        ),
        [todo(6, "HACK", "block continues", end=7), todo(8, "BUG", "trailing", ref="#7")],
        id="javascript",
    ),
    pytest.param(
        "app.ts",
        source(
            "function id<T>(x: T): T { return x; } // TODO: generic",
            "const s: string = '/* FIXME: in a string */';",
            "/**",
            " * XXX(bob): doc comment",
            " * more detail",
            " */",
            "// see the TODO above",
        ),
        [
            todo(1, "TODO", "generic"),
            todo(4, "XXX", "doc comment more detail", end=5, who="bob"),
        ],
        id="typescript",
    ),
    pytest.param(
        "main.go",
        source(
            "package main",
            "",
            "var raw = `",
            "// TODO: in a raw string",
            "`",
            "var q = '\"' // FIXME: after a rune",
            "// A TODO in prose.",
            "/* HACK - block */",
        ),
        [todo(6, "FIXME", "after a rune"), todo(8, "HACK", "block")],
        id="go",
    ),
    pytest.param(
        "lib.rs",
        source(
            "fn first<'a>(s: &'a str) -> &'a str { s } // TODO: after lifetimes",
            'let raw = r#"',
            '// FIXME: in a raw "string"',
            '"#;',
            "let c = '\"'; // XXX: after a char",
            "// Not a TODO: prose",
            "struct S<'a> { x: &'a str } /* HACK: after a lifetime */",
        ),
        [
            todo(1, "TODO", "after lifetimes"),
            todo(5, "XXX", "after a char"),
            todo(7, "HACK", "after a lifetime"),
        ],
        id="rust",
    ),
    pytest.param(
        "Main.java",
        source(
            "class Main {",
            '    String s = "/* TODO: in a string */";',
            "    char c = '\"';",
            "    // FIXME(ann): line comment",
            "    //   continued",
            "    int x; // the TODO mentioned in prose",
            "}",
        ),
        [todo(4, "FIXME", "line comment continued", end=5, who="ann")],
        id="java",
    ),
    pytest.param(
        "main.c",
        source(
            "#include <stdio.h>",
            "/* TODO: block comment",
            " * second line */",
            "int main(void) {",
            '    printf("// FIXME: in a string\\n");',
            "    char q = '\"'; /* BUG: after a char */",
            "    return 0; /* prose about a TODO */",
            "}",
        ),
        [
            todo(2, "TODO", "block comment second line", end=3),
            todo(6, "BUG", "after a char"),
        ],
        id="c",
    ),
    pytest.param(
        "main.cpp",
        source(
            "#include <string>",
            'std::string s = "/* TODO: in a string */";',
            "// HACK[CPP-3]: line comment",
            "auto f = [](int x) { return x; }; // XXX",
            "// a TODO in prose",
        ),
        [todo(3, "HACK", "line comment", ref="CPP-3"), todo(4, "XXX", "")],
        id="cpp",
    ),
    pytest.param(
        "run.sh",
        source(
            "#!/bin/sh",
            "echo \"$# args\" '# TODO: in a string'",
            "n=${#name}  # TODO: after a length",
            "[ $# -eq 0 ] && exit 1 # FIXME: after a count",
            "# The TODO list in prose.",
        ),
        [todo(3, "TODO", "after a length"), todo(4, "FIXME", "after a count")],
        id="shell",
    ),
    pytest.param(
        "ci.yaml",
        source(
            'key: "# TODO not" # TODO: yes',
            "url: http://example.com/#TODO",
            "other: '# FIXME: in a string'",
            "# Prose that mentions a TODO.",
            "list:",
            "  - item  # HACK: indented",
        ),
        [todo(1, "TODO", "yes"), todo(6, "HACK", "indented")],
        id="yaml",
    ),
    pytest.param(
        "pyproject.toml",
        source(
            "[tool]",
            'name = "# TODO: in a string"  # TODO: after a string',
            "path = '# FIXME: in a literal string'",
            "# A TODO in prose.",
        ),
        [todo(2, "TODO", "after a string")],
        id="toml",
    ),
    pytest.param(
        "app.rb",
        source(
            's = "# TODO: in a string"',
            "=begin",
            "FIXME: block comment",
            "continues here",
            "=end",
            "puts s # XXX: trailing",
            "# some TODO prose",
        ),
        [
            todo(3, "FIXME", "block comment continues here", end=4),
            todo(6, "XXX", "trailing"),
        ],
        id="ruby",
    ),
    pytest.param(
        "schema.sql",
        source(
            "SELECT '-- TODO: in a string', 'it''s -- FIXME: still a string'",
            "FROM t; -- TODO: after a query",
            "-- prose about a TODO",
            "/* HACK: block",
            "   second line */",
        ),
        [todo(2, "TODO", "after a query"), todo(4, "HACK", "block second line", end=5)],
        id="sql",
    ),
    pytest.param(
        "index.html",
        source(
            "<!DOCTYPE html>",
            '<p title="TODO: in an attribute">TODO: prose in the page</p>',
            "<!-- TODO: a comment -->",
            "<!--",
            "  FIXME: spans",
            "  lines -->",
        ),
        [todo(3, "TODO", "a comment"), todo(5, "FIXME", "spans lines", end=6)],
        id="html",
    ),
    pytest.param(
        "README.md",
        source(
            "# Title",
            "",
            "TODO: plain prose does not count.",
            "Some `TODO: inline code` too.",
            "<!-- TODO: hidden note -->",
        ),
        [todo(5, "TODO", "hidden note")],
        id="markdown",
    ),
    pytest.param(
        "site.css",
        source(
            'a::after { content: "/* TODO: in a string */"; }',
            "/* TODO: a rule */",
            "b { color: red; } /* FIXME(cat): trailing */",
            "/* prose on a TODO */",
        ),
        [todo(2, "TODO", "a rule"), todo(3, "FIXME", "trailing", who="cat")],
        id="css",
    ),
    pytest.param(
        "init.lua",
        source(
            'local s = "-- TODO: in a string"',
            "local t = '-- FIXME: in a string'",
            "-- TODO: line comment",
            "print(s) -- HACK: trailing",
            "-- prose TODO",
        ),
        [todo(3, "TODO", "line comment"), todo(4, "HACK", "trailing")],
        id="lua",
    ),
    pytest.param(
        "Main.hs",
        source(
            "main :: IO ()",
            'main = putStrLn "-- TODO: in a string"',
            "-- a TODO in prose",
            "-- TODO: line comment",
            "{- FIXME: block",
            "   continued -}",
        ),
        [todo(4, "TODO", "line comment"), todo(5, "FIXME", "block continued", end=6)],
        id="haskell",
    ),
    pytest.param(
        "Dockerfile",
        source(
            "FROM python:3.12",
            'RUN echo "# TODO: in a string"',
            "# Prose about a TODO.",
            "# TODO: pin the base image",
        ),
        [todo(4, "TODO", "pin the base image")],
        id="dockerfile",
    ),
    pytest.param(
        "Makefile",
        source(
            "all:",
            "\techo '# TODO: in a string'  # FIXME: trailing",
            "# not a TODO",
            "# TODO - top level",
        ),
        [todo(2, "FIXME", "trailing"), todo(4, "TODO", "top level")],
        id="makefile",
    ),
]


@pytest.mark.parametrize(("path", "text", "expected"), LANGUAGES)
def test_languages(path: str, text: str, expected: list[Todo]) -> None:
    assert todos(path, text) == expected


# Each language's other string forms: a comment marker inside one is text, not a comment.
@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param(
            "Main.java", source('s = """', "    // TODO: no", '    """;'), id="java-text-block"
        ),
        pytest.param("main.cpp", source('s = R"(', "// TODO: no", ')";'), id="cpp-raw-string"),
        pytest.param("a.toml", source('s = """', "# TODO: no", '"""'), id="toml-multiline-basic"),
        pytest.param("a.toml", source("s = '''", "# TODO: no", "'''"), id="toml-multiline-literal"),
        pytest.param("a.sh", source("cat <<EOF", "# TODO: no", "EOF"), id="shell-heredoc"),
        pytest.param("a.html", '<p title="<!-- TODO: no -->">x</p>\n', id="html-attribute"),
        pytest.param("a.md", "Write `<!-- TODO: no -->` so.\n", id="markdown-code-span"),
        pytest.param("a.md", source("```html", "<!-- TODO: no -->", "```"), id="markdown-fence"),
    ],
)
def test_comment_markers_inside_other_string_literals(path: str, text: str) -> None:
    assert todos(path, text) == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        pytest.param(
            "a.c",
            "int x;\n/* TODO: never closed\n   more",
            [todo(2, "TODO", "never closed more", end=3)],
            id="unclosed-c-block",
        ),
        pytest.param(
            "a.html",
            "<!-- TODO: never closed\nmore",
            [todo(1, "TODO", "never closed more", end=2)],
            id="unclosed-html-comment",
        ),
        pytest.param(
            "a.hs",
            "{- TODO: never closed\nmore",
            [todo(1, "TODO", "never closed more", end=2)],
            id="unclosed-haskell-block",
        ),
        pytest.param(
            "a.rb",
            "=begin\nTODO: never closed",
            [todo(2, "TODO", "never closed")],
            id="unclosed-ruby-begin",
        ),
        pytest.param("a.py", "s = '''\n# TODO: no", [], id="unclosed-python-triple"),
        pytest.param("a.py", 's = """\n# TODO: no\n', [], id="unclosed-python-docstring"),
        pytest.param("a.js", "s = `\n// TODO: no\n", [], id="unclosed-js-template"),
        pytest.param("a.go", "s := `\n// TODO: no\n", [], id="unclosed-go-raw-string"),
        pytest.param("a.rs", 's = r#"\n// TODO: no\n', [], id="unclosed-rust-raw-string"),
        pytest.param("a.sql", "SELECT 'a\n-- TODO: no\n", [], id="unclosed-sql-string"),
        pytest.param(
            "a.py",
            "x = 1\r\n# TODO: one\r\n# two\r\ny = 2\r\n",
            [todo(2, "TODO", "one two", end=3)],
            id="crlf-line-comments",
        ),
        pytest.param(
            "a.c",
            "/* TODO: one\r\n * two\r\n */\r\n",
            [todo(1, "TODO", "one two", end=2)],
            id="crlf-block",
        ),
        pytest.param(
            "a.html",
            "<!-- TODO: one\r\n     two -->\r\n",
            [todo(1, "TODO", "one two", end=2)],
            id="crlf-html",
        ),
        pytest.param(
            "a.py", "x = 1\n# TODO: last", [todo(2, "TODO", "last")], id="last-line-no-newline"
        ),
        pytest.param(
            "a.c", "/* TODO: last */", [todo(1, "TODO", "last")], id="last-block-no-newline"
        ),
        pytest.param("a.py", "# TODO", [todo(1, "TODO", "")], id="bare-tag-at-end"),
        pytest.param("a.py", "", [], id="empty-file"),
        pytest.param("a.py", source("# a comment", 's = "# a string"', "x = 1"), [], id="no-tags"),
    ],
)
def test_edges(path: str, text: str, expected: list[Todo]) -> None:
    assert todos(path, text) == expected


# -- searching only the lines a search tool names ----------------------------------------------

LANGUAGE_FILES = sorted({"a.py", "a.c", "a.js", "a.go", "a.rs", "a.sh", "a.yaml", "a.rb", "a.sql"})
LANGUAGE_FILES += ["a.html", "a.md", "a.css", "a.scss", "a.lua", "a.hs", "a.el", "a.tex", "a.php"]
# Pieces of code around tags: comment openers, strings, prose and the forms tags take.
PIECES = [
    *"\"'`#/*-;%<>!{}[]=()\\\n \tx~:",
    *("TODO", "FIXME", "XXX", "TODOS", "MYTODO", "(ann)", "[P-1]", " #12", "\n#3 ", "\u2014"),
    *('"""', "'''", "//", "/*", "*/", "<!--", "-->", "--[[", "]]", "{-", "-}", "=begin"),
    *("=end", "<<EOF", "EOF", 'R"x(', ')x"', 'r#"', '"#', "```", "\r\n", "\u00e9", "\u2003"),
]
CODE = st.lists(st.sampled_from(PIECES), max_size=50).map("".join)


def opening_line_numbers(text: str, tags: Sequence[str]) -> dict[int, int]:
    """The lines ``opening_lines`` matches, as ripgrep names them: line start -> number."""
    found = re.compile(opening_lines(tags), re.MULTILINE).finditer(text)
    starts = {text.rfind("\n", 0, match.start()) + 1 for match in found}
    return {start: text.count("\n", 0, start) + 1 for start in starts}


@settings(max_examples=400, deadline=None)
@given(text=CODE)
def test_searching_only_the_opening_lines_finds_every_tag(text: str) -> None:
    pattern = tag_pattern(DEFAULT_TAGS)
    lines = opening_line_numbers(text, DEFAULT_TAGS)
    for path in LANGUAGE_FILES:
        syntax = syntax_for(path)
        assert syntax is not None
        whole = find(text, syntax, pattern)
        assert find(text, syntax, pattern, lines) == whole, path
        assert [t.offset for t in find(text, syntax, pattern, lines)] == [t.offset for t in whole]


@pytest.mark.parametrize(
    "space", [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and chr(c) != "\n"]
)
def test_opening_lines_know_every_space_python_does(space: str) -> None:
    text = f"x = 1\n#{space}TODO: spaced\n{space}// XXX: indented\n"
    assert len(todos("a.py", text)) == 1
    assert len(todos("a.c", text)) == 1
    assert sorted(opening_line_numbers(text, DEFAULT_TAGS).values()) == [2, 3]


@pytest.mark.parametrize(
    ("tags", "suffice"),
    [
        pytest.param(DEFAULT_TAGS, True, id="words"),
        pytest.param(("NOTE", "_x", "!IMPORTANT"), True, id="other-starts"),
        pytest.param(("TODO", "12"), False, id="a-number-can-follow-an-issue-mark"),
        pytest.param(("#fix",), False, id="a-hash"),
        pytest.param((":x",), False, id="a-colon"),
        pytest.param(("",), False, id="empty"),
    ],
)
def test_lines_suffice_unless_a_tag_can_hide_after_another(
    tags: tuple[str, ...], suffice: bool
) -> None:
    assert lines_suffice(tags) is suffice


def test_opening_lines_take_any_tag_literally() -> None:
    tags = ("F.X", "TO-DO", "caf\u00e9", "\U0001f41b")
    text = "FXX\n# F.X: dotted\n// TO-DO: dashed\n# caf\u00e9\n<!-- \U0001f41b bug -->\n"
    assert sorted(opening_line_numbers(text, tags).values()) == [2, 3, 4, 5]
