"""Argument types shared by several subcommands: they reject bad values with a clear message."""

from __future__ import annotations

import argparse
from datetime import date

from ..errors import InvalidValueError
from ..model import TaskStatus, TaskType, check_scale


def scale(text: str) -> int:
    """A WSJF input on the 1-13 scale."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 13") from None
    try:
        return check_scale("value", number)
    except InvalidValueError as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def status(text: str) -> TaskStatus:
    """A status name, any case."""
    try:
        return TaskStatus.parse(text)
    except InvalidValueError as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def task_type(text: str) -> TaskType:
    """A task type name, any case."""
    try:
        return TaskType.parse(text)
    except InvalidValueError as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def day(text: str) -> date:
    """A date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format table|json``."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default) or json for programs",
    )
