"""Helpers shared by the agent tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from continuous_backlog_executor.agents.base import AgentRequest

# Builds a request for one phase; keywords override its fields (see the make_request fixture).
MakeRequest = Callable[..., AgentRequest]


def gone(pid: int, within: float = 5.0) -> bool:
    """True once process ``pid`` has ended (a zombie nobody reaped yet counts as ended)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (ProcessLookupError, FileNotFoundError):
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
