"""Continuous Backlog Executor: discover, rank by WSJF and work through a repository's backlog."""

from __future__ import annotations

from .model import Approval, BacklogItem, Source, TaskStatus, TaskType

__all__ = ["Approval", "BacklogItem", "Source", "TaskStatus", "TaskType"]
__version__ = "0.1.0"
