"""The command line: parse options, build the context, hand over to one subcommand.

``backlog`` has a subcommand per task; ``run_continuous_executor.py`` keeps the original
engine's flags and maps each onto a subcommand.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.logging import RichHandler

from . import __version__, context
from .commands import COMMANDS
from .config import LOG_LEVELS
from .error_handler import guarded, set_crash_log_folder

PROG = "backlog"
EPILOG = """\
Every command works on the git repository you stand in unless --repo says otherwise, and
needs no configuration: settings come from built-in defaults, then the JSON file (--config,
$BACKLOG_CONFIG, or .backlog.json in the repository), then BACKLOG_* environment variables,
then --set options. Exit codes: 0 success, 1 a problem to fix (the message says what),
2 bad usage, 3 a bug (a crash log is written), 130 interrupted."""


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. scoring.aging_cap=3)")
    return key.strip(), value


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Sub-parsers suppress their defaults so an option given before the subcommand survives.
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--repo",
        type=Path,
        default=default,
        metavar="PATH",
        help="the repository to work on (default: the one you stand in)",
    )
    group.add_argument(
        "--config", type=Path, default=default, metavar="PATH", help="a JSON configuration file"
    )
    group.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        default=default,
        help="how much to log to stderr (default: INFO, or $LOG_LEVEL)",
    )
    group.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_setting,
        default=argparse.SUPPRESS if suppress else [],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set scoring.aging_cap=3 (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``backlog`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Discover, rank by WSJF and work through a repository's backlog.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=command.HELP,
            description=command.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(sub)
        _common(sub, suppress=True)
    return parser


def _configure_logging(level: str) -> None:
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(show_time=False, show_path=False, markup=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The libraries' own chatter (matplotlib announces its font cache at INFO) is not the
    # tool's news; their warnings still come through.
    for library in ("matplotlib", "PIL", "httpx", "httpcore"):
        logging.getLogger(library).setLevel(max(logging.WARNING, root.level))


def _dispatch(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = dict(args.settings)
    if args.log_level:
        overrides["log_level"] = args.log_level
    if getattr(args, "max_cycles", None):
        overrides["execution.max_cycles"] = args.max_cycles
    # Until the settings are read and checked, log at a level known to be valid.
    early = (args.log_level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    _configure_logging(early if early in LOG_LEVELS else "INFO")
    ctx = context.build(repo=args.repo, config_file=args.config, overrides=overrides)
    _configure_logging(ctx.config.value("log_level"))
    with contextlib.suppress(OSError):
        set_crash_log_folder(ctx.state.folder("crashes"))
    return COMMANDS[args.command].run(args, ctx)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``backlog`` command."""
    args = build_parser().parse_args(argv)
    return guarded(lambda: _dispatch(args))


LEGACY_DESCRIPTION = """\
Continuous Backlog Executor, with the original engine's options. Each maps onto a `backlog`
subcommand: --status-report is `backlog status`, --dry-run is `backlog plan`. See
`backlog --help` for everything else."""


def legacy_parser() -> argparse.ArgumentParser:
    """The parser for ``run_continuous_executor.py``."""
    parser = argparse.ArgumentParser(
        prog="run_continuous_executor.py",
        description=LEGACY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="a JSON configuration file")
    parser.add_argument("--repo", type=Path, metavar="PATH", help="the repository (default: here)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan; write nothing")
    parser.add_argument(
        "--discover-only", action="store_true", help="discover backlog items and stop"
    )
    parser.add_argument("--status-report", action="store_true", help="write a status report")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="how much to log (default: INFO, or $LOG_LEVEL)",
    )
    parser.add_argument("--max-cycles", type=int, metavar="N", help="stop after N items")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the whole loop on a copy of the example project with a stand-in agent",
    )
    return parser


def legacy_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_continuous_executor.py``: the original flags, mapped onto commands."""
    args = legacy_parser().parse_args(argv)
    common = []
    for flag, value in (
        ("--config", args.config),
        ("--repo", args.repo),
        ("--log-level", args.log_level),
    ):
        if value is not None:
            common += [flag, str(value)]
    if args.demo:
        return main(["--log-level", args.log_level or "WARNING", "demo"])
    if args.status_report:
        return main([*common, "status"])
    if args.dry_run:
        cycles = ["--max-cycles", str(args.max_cycles)] if args.max_cycles else []
        return main([*common, "plan", *cycles])
    if args.discover_only:
        return main([*common, "discover"])
    cycles = ["--max-cycles", str(args.max_cycles)] if args.max_cycles else []
    return main([*common, "run", *cycles])
