"""The product's user-facing errors and the wrapper that turns them into one line and an exit code.

Input: an entry-point function. Output: its exit code; a ``ClickstreamError`` becomes
``error: <message>`` on stderr and exit code 3 instead of a traceback.

Exit codes of every command (docs/cli.md): 0 done; 1 a data check failed (``sql test``,
``inspect raw --strict``, a reconciliation that does not hold); 2 a usage error (argparse: an
unknown flag, a bad flag value); 3 a configuration or input error (``ClickstreamError``: a bad
setting, a missing file, a model that does not compile, setup not done).
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class ClickstreamError(Exception):
    """An error the user can fix; its message says how."""


class SetupError(ClickstreamError):
    """The environment is not set up (missing jars, missing venv pieces)."""


EXIT_DATA_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIGURATION = 3


def run_entry_point(main: Callable[[], int | None]) -> int:
    """Run ``main`` and return its exit code; print one line and return ``EXIT_CONFIGURATION``
    on ``ClickstreamError``."""
    try:
        return main() or 0
    except ClickstreamError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
