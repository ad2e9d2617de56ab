"""Running queries: stop after the current batch on SIGTERM or Ctrl-C, and each error as one line.

Input: started ``StreamingQuery`` objects. Output: they ran until done or stopped; a failure is
raised as one ``ClickstreamError`` line.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from clickstream.core.errors import ClickstreamError

if TYPE_CHECKING:
    from pyspark.sql.streaming import StreamingQuery

log = logging.getLogger("clickstream.streaming")


STOP_WAIT_SECONDS = 120


class StopRequest:
    """Turns SIGTERM and SIGINT, or reaching ``deadline``, into a request to stop after the
    current batch."""

    def __init__(self, deadline: datetime | None = None) -> None:
        self.event = threading.Event()
        self.deadline = deadline
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._request)

    def _request(self, signum: int, _frame: object) -> None:
        log.warning("%s received: stopping after the current batch", signal.Signals(signum).name)
        self.event.set()

    @property
    def requested(self) -> bool:
        deadline = self.deadline
        if deadline is not None and not self.event.is_set() and datetime.now(UTC) >= deadline:
            log.info("stop time %s reached: stopping after the current batch", deadline)
            self.event.set()
        return self.event.is_set()


def stop_after_current_batch(query: StreamingQuery) -> None:
    """Wait (bounded) for the running batch to commit, then stop the query."""
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while query.isActive and query.status["isTriggerActive"] and time.monotonic() < deadline:
        time.sleep(0.2)
    query.stop()


# Wrappers of an error raised inside a foreachBatch function: Spark's, and py4j's when the call
# into Python failed (seen once for a gold MERGE, its cause cut from the log by the wrapper).
BATCH_FUNCTION_WRAPPERS = (
    "[FOREACH_BATCH_USER_FUNCTION_ERROR]",
    "An exception was raised by the Python Proxy.",
)
# "ValueError: ...", ": org.apache.spark.SparkException: [...]", "Caused by: java.io...: ..."
EXCEPTION_LINE = re.compile(r"^(?:Caused by: |: )?([\w.$]+(?:Exception|Error)): (.*)$")


def first_line(error: Exception) -> str:
    """The first line of a (Spark) exception's message: the error class and what happened.

    An error inside a ``foreachBatch`` function arrives wrapped, with the Python traceback and the
    Java stack trace in the message: the wrapper is replaced by the innermost exception's message.
    """
    lines = str(error).strip().splitlines() or [type(error).__name__]
    for wrapper in BATCH_FUNCTION_WRAPPERS:
        head, found, _ = lines[0].partition(wrapper)
        if found:
            break
    else:
        return lines[0]
    end = lines.index("=== Streaming Query ===") if "=== Streaming Query ===" in lines else None
    exceptions = [match for match in map(EXCEPTION_LINE.match, lines[1:end]) if match]
    if not exceptions:
        return lines[0]
    name, message = exceptions[-1].groups()
    return head + (message if message.startswith("[") else f"{name.rsplit('.', 1)[-1]}: {message}")


def run_until_done(queries: Sequence[StreamingQuery], stop: StopRequest) -> None:
    """Block until every query has finished, or a stop was requested (then stop them all).

    Raise ``ClickstreamError`` naming the query if one failed; the others are stopped first.
    """
    try:
        while not stop.requested:
            for query in queries:
                error = query.exception()
                if error is not None:
                    raise ClickstreamError(f"query {query.name} failed: {first_line(error)}")
            if not any(query.isActive for query in queries):
                return
            time.sleep(0.5)
    finally:
        for query in queries:
            if query.isActive:
                stop_after_current_batch(query)
