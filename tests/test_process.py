"""Tests for running child processes: output, environment, input, failures and time limits."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from continuous_backlog_executor import process
from continuous_backlog_executor.errors import ProcessError

PYTHON = sys.executable


def python(code: str, *args: str) -> list[str]:
    """The argv that runs ``code`` with this interpreter."""
    return [PYTHON, "-c", code, *args]


def test_captures_output_and_exit_code(tmp_path: Path) -> None:
    argv = python("import sys; print('to out'); print('to err', file=sys.stderr); sys.exit(3)")

    result = process.run(argv, cwd=tmp_path)

    assert result.argv == tuple(argv)
    assert result.returncode == 3
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"
    assert result.timed_out is False
    assert result.ok is False
    assert result.duration >= 0


def test_a_clean_exit_is_ok(tmp_path: Path) -> None:
    result = process.run(python("pass"), cwd=tmp_path)

    assert (result.returncode, result.stdout, result.stderr, result.ok) == (0, "", "", True)


def test_runs_in_the_given_folder(tmp_path: Path) -> None:
    result = process.run(python("import os; print(os.getcwd())"), cwd=tmp_path)

    assert Path(result.stdout.strip()).resolve() == tmp_path.resolve()


def test_output_is_decoded_as_utf8(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.buffer.write('clé ✓\\n'.encode() + b'\\xff\\n')"

    result = process.run(python(code), cwd=tmp_path)

    assert result.stdout == "clé ✓\n\ufffd\n"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(None, "inherited:None", id="inherits-without-env"),
        pytest.param({"ONLY_THIS": "given"}, "None:given", id="env-replaces-everything"),
    ],
)
def test_env_replaces_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None, expected: str
) -> None:
    monkeypatch.setenv("FROM_PARENT", "inherited")
    code = "import os; print(os.environ.get('FROM_PARENT'), os.environ.get('ONLY_THIS'), sep=':')"

    result = process.run(python(code), cwd=tmp_path, env=env)

    assert result.stdout == expected + "\n"


def test_stdin_text_is_passed(tmp_path: Path) -> None:
    code = "import sys; data = sys.stdin.read(); print(len(data), data.upper(), end='')"

    result = process.run(python(code), cwd=tmp_path, stdin="two\nlines ✓\n")

    assert result.stdout == "12 TWO\nLINES ✓\n"


def test_without_stdin_the_child_reads_nothing(tmp_path: Path) -> None:
    result = process.run(python("import sys; print(repr(sys.stdin.read()))"), cwd=tmp_path)

    assert result.stdout == "''\n"


@pytest.mark.parametrize(
    "program",
    [
        pytest.param("no-such-program-for-backlog-tests", id="on-PATH"),
        pytest.param("/nonexistent/bin/tool", id="absolute-path"),
    ],
)
def test_a_missing_program_raises_naming_it(tmp_path: Path, program: str) -> None:
    with pytest.raises(ProcessError) as caught:
        process.run([program, "--version"], cwd=tmp_path)

    assert str(caught.value) == f"cannot run {program!r}: No such file or directory"


def test_check_raises_with_the_command_and_the_output_tail(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for n in range(1, 31): print(f'line {n}')\n"
        "print('something broke', file=sys.stderr)\n"
        "sys.exit(2)"
    )
    argv = python(code)

    with pytest.raises(ProcessError) as caught:
        process.run(argv, cwd=tmp_path, check=True)

    tail = "\n".join(f"line {n}" for n in range(11, 31))
    expected = (
        re.escape(f"$ {' '.join(argv)}  (exited with 2 after ")
        + r"\d+\.\ds\)"
        + re.escape(f"\nstdout:\n{tail}\nstderr:\nsomething broke")
    )
    assert re.fullmatch(expected, str(caught.value))


def test_check_passes_a_successful_run_through(tmp_path: Path) -> None:
    result = process.run(python("print('fine')"), cwd=tmp_path, check=True)

    assert result.stdout == "fine\n"


def test_describe_names_a_timeout_and_skips_empty_output() -> None:
    result = process.Result(("sleep", "60"), -2, "", "  \n", 1.04, timed_out=True)

    assert result.describe() == "$ sleep 60  (timed out after 1.0s)"
    assert result.ok is False


# A grandchild that keeps the output pipes open; with ``ignore``, it survives SIGINT and SIGTERM
# and only the final SIGKILL to the whole group stops it.
GRANDCHILD = """\
import os, signal, sys, time
if sys.argv[2] == "ignore":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""
CHILD = """\
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]])
time.sleep(60)
"""


def running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting to be reaped has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_exit(pid: int, seconds: float) -> bool:
    """True once ``pid`` is gone, polling for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return not running(pid)


@pytest.mark.slow
@pytest.mark.parametrize("grandchild", ["plain", "ignore"], ids=["plain", "ignores-int-term"])
def test_a_timeout_stops_the_whole_process_group(tmp_path: Path, grandchild: str) -> None:
    pid_file = tmp_path / "grandchild.pid"
    argv = python(CHILD, GRANDCHILD, str(pid_file), grandchild)

    pid: int | None = None
    started = time.monotonic()
    try:
        result = process.run(argv, cwd=tmp_path, timeout=1)
        elapsed = time.monotonic() - started
        assert pid_file.exists(), "the grandchild did not start within the time limit"
        pid = int(pid_file.read_text())
        gone = wait_for_exit(pid, 5)
    finally:
        # Never leave a sleeper behind if the code under test failed to stop it.
        if pid is None and pid_file.exists():
            with contextlib.suppress(ValueError):
                pid = int(pid_file.read_text())
        if pid is not None and running(pid):
            os.kill(pid, signal.SIGKILL)

    assert result.timed_out is True
    assert result.ok is False
    assert result.returncode < 0
    assert 1 <= elapsed < 10
    assert gone, f"grandchild {pid} outlived the timeout"
