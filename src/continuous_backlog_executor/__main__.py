"""``python -m continuous_backlog_executor``: the same as the ``backlog`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
