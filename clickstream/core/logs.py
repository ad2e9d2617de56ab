"""Logging for the command line and the streaming entry points: one timestamped line per event, on
stderr.

Input: a level (``clickstream --log-level`` / ``-v``, or none). Output: the root logger set up.
The first level given wins: the CLI sets it before its command runs, and the jobs' own later
calls without a level keep it (a job started alone, by spark-submit, gets INFO).
"""

from __future__ import annotations

import logging


def configure_logging(level: int | None = None) -> None:
    """Log to stderr at ``level``; without one, at INFO unless logging is set up already."""
    logging.basicConfig(
        level=logging.INFO if level is None else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if level is not None:
        logging.getLogger().setLevel(level)
    # py4j logs every gateway call at INFO.
    logging.getLogger("py4j").setLevel(logging.WARNING)
