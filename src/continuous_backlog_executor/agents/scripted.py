"""The scripted agent: a stand-in coding agent that does exactly what a YAML script says (see
``script``), run as a real program through the command contract, for tests and demos.

    python -m continuous_backlog_executor.agents.scripted --script PATH

It reads the phase from the ``BACKLOG_*`` environment variables, performs that try's actions in
``BACKLOG_WORKDIR`` (even harmful ones: catching those is the engine's job) and exits 0, or 2
with a message naming the script, item, phase and action when the script is bad.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ruamel.yaml import YAML

from .. import process
from ..errors import ProcessError
from .base import Phase
from .script import MODULE, ScriptedAgent, ScriptError, Step, load

__all__ = ["ScriptedAgent", "main"]

BAD_SCRIPT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Perform this phase's actions; return the exit status."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument("--script", type=Path, required=True, help="the YAML script to follow")
    script_path: Path = parser.parse_args(argv).script
    try:
        item, phase, try_number = _phase_from_environment(script_path)
        workdir = Path(os.environ.get("BACKLOG_WORKDIR") or Path.cwd())
        for step in load(script_path).steps(item, phase, try_number):
            _perform(step, workdir)
    except ScriptError as error:
        print(error, file=sys.stderr)
        return BAD_SCRIPT
    return 0


def _phase_from_environment(script: Path) -> tuple[str, Phase, int]:
    item = os.environ.get("BACKLOG_ITEM_ID", "")
    phase, try_text = os.environ.get("BACKLOG_PHASE", ""), os.environ.get("BACKLOG_TRY", "1")
    how = "run this program through the command agent, which sets it"
    if not item:
        raise ScriptError(f"{script}: BACKLOG_ITEM_ID is not set; {how}")
    try:
        return item, Phase(phase), int(try_text)
    except ValueError:
        raise ScriptError(
            f"{script}: item {item!r}: BACKLOG_PHASE={phase!r} and BACKLOG_TRY={try_text!r} "
            f"must be a phase ({', '.join(Phase)}) and a try number; {how}"
        ) from None


def _perform(step: Step, workdir: Path) -> None:
    try:
        PERFORM[step.action](step, workdir)
    except (OSError, ProcessError) as error:
        raise ScriptError(f"{step.where}: {error}") from error


def _write(step: Step, workdir: Path) -> None:
    target = workdir / step.fields["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(step.fields["content"], encoding="utf-8")


def _append(step: Step, workdir: Path) -> None:
    target = workdir / step.fields["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as file:
        file.write(step.fields["content"])


def _replace(step: Step, workdir: Path) -> None:
    target = workdir / step.fields["path"]
    text = target.read_text(encoding="utf-8")
    if step.fields["old"] not in text:
        raise ScriptError(f"{step.where}: {step.fields['old']!r} is not in {target}")
    target.write_text(text.replace(step.fields["old"], step.fields["new"]), encoding="utf-8")


def _delete(step: Step, workdir: Path) -> None:
    target = workdir / step.text
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink()


def _mkdir(step: Step, workdir: Path) -> None:
    (workdir / step.text).mkdir(parents=True, exist_ok=True)


def _symlink(step: Step, workdir: Path) -> None:
    link = workdir / step.fields["path"]
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(step.fields["target"])


def _sleep(step: Step, workdir: Path) -> None:
    time.sleep(step.number)


def _spawn_sleeper(step: Step, workdir: Path) -> None:
    # Deliberately outside the process wrapper: this is the stray child an agent may leave
    # behind, which the engine must stop with the agent's process group.
    sleeper = subprocess.Popen(
        [sys.executable, "-c", f"import time; time.sleep({step.number})"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"spawned sleeper {sleeper.pid}", flush=True)


def _print(step: Step, workdir: Path) -> None:
    # Flushed at once so the transcript shows it while the agent is still running.
    print(step.text, flush=True)


def _commit(step: Step, workdir: Path) -> None:
    process.run(["git", "add", "-A"], cwd=workdir, check=True)
    process.run(["git", "commit", "-q", "-m", step.text], cwd=workdir, check=True)


def _write_env(step: Step, workdir: Path) -> None:
    target = workdir / step.fields["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(os.environ.get(step.fields["var"], ""), encoding="utf-8")


def _answer(step: Step, workdir: Path) -> None:
    answer_file = os.environ.get("BACKLOG_ANSWER_FILE")
    if not answer_file:
        raise ScriptError(f"{step.where}: BACKLOG_ANSWER_FILE is not set for this phase")
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with Path(answer_file).open("w", encoding="utf-8") as file:
        yaml.dump(step.data, file)


def _exit(step: Step, workdir: Path) -> None:
    sys.stdout.flush()
    raise SystemExit(int(step.number))


def _syntax_error(step: Step, workdir: Path) -> None:
    with (workdir / step.text).open("a", encoding="utf-8") as file:
        file.write("\ndef broken(:\n")


PERFORM: dict[str, Callable[[Step, Path], None]] = {
    "answer": _answer,
    "append": _append,
    "commit": _commit,
    "delete": _delete,
    "exit": _exit,
    "mkdir": _mkdir,
    "print": _print,
    "replace": _replace,
    "sleep": _sleep,
    "spawn_sleeper": _spawn_sleeper,
    "symlink": _symlink,
    "syntax_error": _syntax_error,
    "write": _write,
    "write_env": _write_env,
}


if __name__ == "__main__":
    sys.exit(main())
