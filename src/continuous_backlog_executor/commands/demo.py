"""``backlog demo``: the whole loop on a fresh copy of the shipped example project, with the
scripted stand-in agent, so it needs no configuration, no API key and no network."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from .. import context as context_mod
from ..errors import BacklogError
from ..git import git
from ..output import console
from . import plan, prs
from . import run as run_command

NAME = "demo"
HELP = "run the whole loop on a copy of the example project, with a stand-in agent"
DESCRIPTION = """\
Copy examples/inventory (a small Python project with TODO/FIXME comments, a failing test and
a hand-written backlog) into a new git repository, then discover, rank and run it with the
scripted stand-in agent (examples/inventory-agent/script.yml: prepared changes per item and
phase, applied as written; it is not an AI). Shows each gate's evidence, the pull-request
branches and the status report. Your own repository is not touched."""

ROOT = Path(__file__).resolve().parents[3]  # the project's checkout: src/<package>/commands
EXAMPLE = ROOT / "examples" / "inventory"
SCRIPT = ROOT / "examples" / "inventory-agent" / "script.yml"


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``demo``'s options."""
    parser.add_argument(
        "--into", type=Path, metavar="DIR", help="make the copy here (default: a new temp folder)"
    )


def run_demo(into: Path | None) -> Path:
    """The example copied into a new git repository; returns its path."""
    if not EXAMPLE.is_dir() or not SCRIPT.is_file():
        raise BacklogError(
            f"the demo needs the project's examples folder ({EXAMPLE}); run it from a clone"
        )
    target = into or Path(tempfile.mkdtemp(prefix="backlog-demo-")) / "inventory"
    if target.exists() and any(target.iterdir()):
        raise BacklogError(f"{target} is not empty; give --into a new or empty folder")
    shutil.copytree(EXAMPLE, target, dirs_exist_ok=True, ignore=_junk)
    identity = ("-c", "user.name=Demo", "-c", "user.email=demo@example.com")
    git("init", "-q", "-b", "main", cwd=target)
    git("add", "-A", cwd=target)
    git(*identity, "commit", "-q", "-m", "The inventory example", cwd=target)
    return target


def _junk(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in {"__pycache__", ".pytest_cache"} or n.endswith(".pyc")]


def run(args: argparse.Namespace, ctx: context_mod.Context) -> int:
    """Copy, discover, plan, run, and show the results."""
    out = console()
    target = run_demo(args.into)
    out.print(f"Demo repository: {target}", markup=False)
    demo = context_mod.build(
        repo=target,
        config_file=None,
        overrides={
            "agent.type": "scripted",
            "agent.script": str(SCRIPT),
            "sources.deps.enabled": False,  # needs the network
            "actor": "demo",
        },
    )
    common = {"format": "table", "max_cycles": None, "dry_run": False}
    out.print("\n== 1. The plan: ranked by WSJF, with what a run would do ==", markup=False)
    plan.run(argparse.Namespace(**common), demo)
    out.print("\n== 2. The run: discover, then each item through the micro-cycle ==", markup=False)
    options = {
        "item": None,
        "no_discover": False,
        "time_limit": None,
        "keep_worktrees": False,
        "workers": None,
    }
    code = run_command.run(argparse.Namespace(**common, **options), demo)
    out.print("\n== 3. Pull requests (branches in the demo repository) ==", markup=False)
    prs.run(argparse.Namespace(format="table", state="all"), demo)
    out.print(
        f"\nLook around: cd {target} && backlog list --all && backlog show INV-1 "
        "&& git log --oneline --all --graph",
        markup=False,
    )
    return code
