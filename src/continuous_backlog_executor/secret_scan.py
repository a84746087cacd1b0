"""Secrets: finding them in the lines a diff adds, and keeping them out of agents and logs.

``scan_added_lines`` runs detect-secrets' plugins (with its default filters) over the lines a
unified diff adds; ``leaked_values`` looks there for the values of the user's own secret
variables. A hit names the file, the line in the new file and the kind of secret, never the
secret. ``secret_names`` tells which environment variables look like secrets: those with a
word (the name split on ``_``) such as TOKEN, SECRET, PASSWORD, PASSWD, PASS, KEY, CREDENTIAL,
AUTH, SESSION or COOKIE, or ending in TOKEN, SECRET, PASSWORD or PASSWD (``NPM_AUTHTOKEN``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

# detect-secrets has no public call for numbered lines of a named file: its ``scan_line`` also
# reports unquoted strings below the entropy limit, and ``scan_diff`` needs unidiff and skips
# files that are not on disk. This is the step both use, so the dependency is held below 2.
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings

# Shorter values ("1", "true", "main") would match everywhere and hide nothing.
MIN_SECRET_LENGTH = 6
SECRET_WORDS = frozenset(
    (
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "KEY",
        "APIKEY",
        "CREDENTIAL",
        "AUTH",
        "SESSION",
        "COOKIE",
    )
)
SECRET_ENDINGS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD")
_WORD_BREAK = re.compile(r"[^A-Z0-9]+")
_ESCAPE = re.compile(rb"\\([0-7]{3}|.)")
_ESCAPES = {
    b"a": b"\a",
    b"b": b"\b",
    b"t": b"\t",
    b"n": b"\n",
    b"v": b"\v",
    b"f": b"\f",
    b"r": b"\r",
}
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret found in an added line: where, and what kind (never the value)."""

    path: str
    line: int  # in the new version of the file
    kind: str  # the detector's name, or "environment variable NAME"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"

    def to_json(self) -> dict[str, str | int]:
        """The hit as JSON-ready data."""
        return {"path": self.path, "line": self.line, "kind": self.kind}


def added_lines(diff_text: str) -> Iterator[tuple[str, int, str]]:
    """``(path, line number in the new file, text)`` for each line ``diff_text`` adds.

    ``diff_text`` is a unified diff as ``git diff`` writes it, with ``b/`` before new paths.
    Hunk lengths are counted, so an added line that starts with ``++`` is not taken for a header.
    """
    path, line, old_left, new_left = "", 0, 0, 0
    # Split on newlines only: a form feed or other line break inside a line stays in it.
    for raw in diff_text.split("\n"):
        if old_left > 0 or new_left > 0:
            marker = raw[:1] or " "  # a context line whose trailing space was stripped
            if marker == "+":
                yield path, line, raw[1:]
            if marker in "+ ":
                line, new_left = line + 1, new_left - 1
            if marker in "- ":
                old_left -= 1
        elif raw.startswith("+++ "):
            path = _new_path(raw[4:])
        elif hunk := _HUNK.match(raw):
            old_left = int(hunk.group(1) or 1)
            line, new_left = int(hunk.group(2)), int(hunk.group(3) or 1)


def _new_path(name: str) -> str:
    """The path of a ``+++`` header, unquoted and without its ``b/``."""
    name = name.rstrip("\t\r")
    if name.startswith('"') and name.endswith('"'):
        # git quotes unusual names C-style, with octal escapes for each byte beyond ASCII.
        name = _ESCAPE.sub(_unescaped, name[1:-1].encode()).decode("utf-8", "replace")
    return name.removeprefix("b/")


def _unescaped(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    return bytes([int(code, 8)]) if len(code) == 3 else _ESCAPES.get(code, code)


def scan_added_lines(diff_text: str) -> list[SecretHit]:
    """What detect-secrets' plugins find in the lines ``diff_text`` adds, in file order."""
    files: dict[str, list[tuple[int, str]]] = {}
    for path, line, text in added_lines(diff_text):
        files.setdefault(path, []).append((line, text))
    if not files:
        return []
    hits: set[SecretHit] = set()
    with default_settings():
        for path, lines in files.items():
            # The library's own per-file step: every plugin, then its filters, on numbered lines.
            found = _process_line_based_plugins(lines, filename=path)
            hits.update(SecretHit(path, s.line_number, s.type) for s in found)
    return sorted(hits, key=lambda h: (h.path, h.line, h.kind))


def leaked_values(diff_text: str, secrets: Mapping[str, str]) -> list[SecretHit]:
    """The added lines of ``diff_text`` that contain one of the ``secrets`` values (by name)."""
    values = _values(secrets)
    return [
        SecretHit(path, line, f"environment variable {name}")
        for path, line, text in added_lines(diff_text)
        for value, name in values.items()
        if value in text
    ]


def _values(secrets: Mapping[str, str]) -> dict[str, str]:
    """Each value long enough to look for, with the (first) name it has, longest first."""
    found: dict[str, str] = {}
    for name, value in sorted(secrets.items()):
        if len(value) >= MIN_SECRET_LENGTH:
            found.setdefault(value, name)
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def secret_names(environ: Mapping[str, str], *, allow: Sequence[str] = ()) -> set[str]:
    """The names in ``environ`` that look like secrets (see the module docstring), but ``allow``."""
    return {name for name in environ if _looks_secret(name) and name not in allow}


def _looks_secret(name: str) -> bool:
    words = [word for word in _WORD_BREAK.split(name.upper()) if word]
    return any(
        word in SECRET_WORDS
        or word.removesuffix("S") in SECRET_WORDS
        or word.endswith(SECRET_ENDINGS)
        for word in words
    )


# What agents and the project's tests get from the engine's environment without being asked
# for: where programs, homes, languages' toolchains and certificates are; never credentials.
BASE_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ",
        "TMPDIR", "TEMP", "TMP", "CI", "VIRTUAL_ENV", "CONDA_PREFIX", "JAVA_HOME",
        "GOPATH", "GOROOT", "GOCACHE", "GOMODCACHE", "CARGO_HOME", "RUSTUP_HOME",
        "NODE_PATH", "NVM_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS", "GIT_EXEC_PATH",
    }
)  # fmt: skip
BASE_PREFIXES = ("LC_", "XDG_", "PYTHON")


def safe_environment(
    environ: Mapping[str, str], *, allow: Sequence[str] = (), needs: Sequence[str] = ()
) -> dict[str, str]:
    """What agents and the project's tests are given of ``environ``: the harmless basics
    (``BASE_NAMES``, ``BASE_PREFIXES``), the names the user allows (``execution.env_allow``,
    globs such as ``DATABASE_*``) and those an agent's backend needs (``needs``: its API key).
    Among the basics, anything that looks like a secret is left out too; nothing of this
    tool's own settings (``BACKLOG_*``) is passed on unless allowed."""
    chosen = [*allow, *needs]

    def wanted(name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in chosen):
            return True
        basic = name in BASE_NAMES or name.startswith(BASE_PREFIXES)
        return basic and not _looks_secret(name)

    return {name: value for name, value in environ.items() if wanted(name)}


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with each value of ``secrets`` replaced by ``***NAME***``."""
    values = _values(secrets)
    if not values:
        return text
    # One pass, longest value first: a value inside a longer one, or inside a marker just
    # written, is never replaced on its own.
    pattern = re.compile("|".join(re.escape(value) for value in values))
    return pattern.sub(lambda match: f"***{values[match.group()]}***", text)
