"""Tests for ``secret_scan``: detect-secrets over the lines a real git diff adds, and the
user's secret variables kept out of diffs, agents and logs."""

from __future__ import annotations

from pathlib import Path

from conftest import git
from continuous_backlog_executor.secret_scan import (
    SecretHit,
    added_lines,
    leaked_values,
    redact,
    safe_environment,
    scan_added_lines,
    secret_names,
)

AWS = "AKIAIOSFODNN7EXAMPLE"
BASE64 = "c3VwZXJzZWNyZXRrZXl2YWx1ZTEyMzQ1Njc4OTA="
TOKEN = "ghp-not-a-real-token-0123"
BEFORE = """\
import os

OLD_KEY = "AKIAJ5Q7R2D9A7EXAMPLE"


def main():
    return os.environ
"""
AFTER = f"""\
import os

AWS_ID = "{AWS}"


def main():
    blob = "{BASE64}"
    return os.environ

KEY = '''
-----BEGIN RSA PRIVATE KEY-----
'''
HEADERS = {{"Authorization": "token {TOKEN}"}}
"""


def diff(repo: Path, before: str, after: str, name: str = "src/app.py") -> str:
    """The ``git diff`` between a commit with ``before`` at ``name`` and one with ``after``."""
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(before)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "before")
    path.write_text(after)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "after")
    return git(repo, "diff", "HEAD~1", "HEAD")


def test_secrets_in_added_lines_are_found_at_their_new_line(repo: Path) -> None:
    hits = scan_added_lines(diff(repo, BEFORE, AFTER))

    assert hits == [
        SecretHit("src/app.py", 3, "AWS Access Key"),
        SecretHit("src/app.py", 7, "Base64 High Entropy String"),
        SecretHit("src/app.py", 11, "Private Key"),
    ]
    assert str(hits[0]) == "src/app.py:3: AWS Access Key"
    assert hits[0].to_json() == {"path": "src/app.py", "line": 3, "kind": "AWS Access Key"}


def test_removed_and_unchanged_lines_are_not_scanned(repo: Path) -> None:
    edited = BEFORE.replace('OLD_KEY = "AKIAJ5Q7R2D9A7EXAMPLE"\n', "")

    assert scan_added_lines(diff(repo, BEFORE, edited)) == []
    assert scan_added_lines(diff(repo, AFTER, AFTER + "\nVALUE = 1\n")) == []


def test_added_lines_follow_hunks_and_are_not_headers(repo: Path) -> None:
    before = "".join(f"line {n}\n" for n in range(1, 30))
    after = before.replace("line 3\n", "++x\n").replace("line 25\n", "line 25\n+++ y\n")

    lines = list(added_lines(diff(repo, before, after, name="docs/caf\u00e9 notes.txt")))

    assert lines == [
        ("docs/caf\u00e9 notes.txt", 3, "++x"),
        ("docs/caf\u00e9 notes.txt", 26, "+++ y"),
    ]


def test_a_secret_variable_leaked_into_a_diff_is_named_never_shown(repo: Path) -> None:
    text = diff(repo, BEFORE, AFTER)

    hits = leaked_values(text, {"GITHUB_TOKEN": TOKEN, "SHORT": "abc", "OTHER": "not-in-it"})

    assert hits == [SecretHit("src/app.py", 13, "environment variable GITHUB_TOKEN")]
    assert TOKEN not in repr(hits) + str(hits[0]) + str(hits[0].to_json())
    assert leaked_values(text.replace("+HEADERS", " HEADERS"), {"GITHUB_TOKEN": TOKEN}) == []


def test_secret_names_are_read_from_the_words_of_a_name() -> None:
    environ = dict.fromkeys(
        [
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "OPENAI_API_KEY",
            "DB_PASSWORD",
            "PGPASS",
            "MYSQL_PASS",
            "NPM_AUTHTOKEN",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "HTTP_AUTH",
            "AWS_SESSION_TOKEN",
            "SESSION_COOKIE",
            "ssh_keys",
            "KEYBOARD_LAYOUT",
            "GIT_AUTHOR_NAME",
            "PASSTHROUGH",
            "MONKEY",
            "PATH",
            "HOME",
        ],
        "value",
    )

    assert secret_names(environ, allow=["HTTP_AUTH"]) == {
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "DB_PASSWORD",
        "MYSQL_PASS",
        "NPM_AUTHTOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "AWS_SESSION_TOKEN",
        "SESSION_COOKIE",
        "ssh_keys",
    }


def test_a_safe_environment_is_the_basics_plus_what_is_allowed_or_needed() -> None:
    environ = {
        "PATH": "/bin",
        "HOME": "/home/a",
        "LC_ALL": "C",
        "PYTHONHASHSEED": "0",
        "PYTHON_TOKEN": "p" * 10,  # a basic prefix, but a secret's name
        "API_KEY": "k" * 10,
        "OPENAI_API_KEY": "o" * 10,
        "DEPLOY_TOKEN": "t" * 10,
        "DATABASE_URL": "postgres://u:pw@db/app",
        "DATABASE_NAME": "app",
        "BACKLOG_FORGE": "github",
        "SOME_SERVICE_URL": "https://x",
    }

    assert safe_environment(
        environ, allow=["DEPLOY_TOKEN", "DATABASE_*"], needs=["OPENAI_API_KEY"]
    ) == {
        "PATH": "/bin",
        "HOME": "/home/a",
        "LC_ALL": "C",
        "PYTHONHASHSEED": "0",
        "OPENAI_API_KEY": "o" * 10,
        "DEPLOY_TOKEN": "t" * 10,
        "DATABASE_URL": "postgres://u:pw@db/app",
        "DATABASE_NAME": "app",
    }


def test_redact_names_each_secret_in_place_of_its_value() -> None:
    secrets = {
        "API_KEY": "abcdef123",
        "LONG_KEY": "abcdef123456",
        "PIN": "1234",
        "SAME": "abcdef123",
    }
    text = "key=abcdef123 long=abcdef123456 pin=1234"

    assert redact(text, secrets) == "key=***API_KEY*** long=***LONG_KEY*** pin=1234"
    assert redact(text, {}) == text
