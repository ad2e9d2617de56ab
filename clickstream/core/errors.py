"""The product's user-facing errors and the wrapper that turns them into one line and an exit code.

Input: an entry-point function. Output: its exit code; a ``ClickstreamError`` becomes
``error: <message>`` on stderr and exit code 2 instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class ClickstreamError(Exception):
    """An error the user can fix; its message says how."""


class SetupError(ClickstreamError):
    """The environment is not set up (missing jars, missing venv pieces)."""


def run_entry_point(main: Callable[[], int | None]) -> int:
    """Run ``main`` and return its exit code; print one line and return 2 on ``ClickstreamError``."""
    try:
        return main() or 0
    except ClickstreamError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
