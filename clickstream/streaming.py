"""Shared plumbing of every streaming job: triggers, checkpoint locks, Delta sinks, metrics, stopping.

Input: streaming DataFrames built by the layer modules. Output: running ``StreamingQuery`` objects
that write Delta with their own checkpoint, log and record every batch, refuse a second instance on
the same checkpoint, and stop after their current batch on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from clickstream import batch_commits, metrics
from clickstream.errors import ClickstreamError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

log = logging.getLogger("clickstream.streaming")

DEFAULT_INTERVAL = "2 seconds"
STOP_WAIT_SECONDS = 120


@dataclass(frozen=True)
class Trigger:
    """When a query runs: every ``interval`` until stopped, or once over what is there now."""

    available_now: bool = False
    interval: str = DEFAULT_INTERVAL
    stop_at: datetime | None = None  # processing-time only: stop after the batch running then

    def writer_kwargs(self) -> dict[str, Any]:
        return {"availableNow": True} if self.available_now else {"processingTime": self.interval}

    def __str__(self) -> str:
        return "available-now" if self.available_now else f"processing-time every {self.interval}"


def add_trigger_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--trigger {processing-time,available-now}`` and ``--interval``."""
    parser.add_argument(
        "--trigger",
        choices=["processing-time", "available-now"],
        default="processing-time",
        help="processing-time: a batch every --interval until SIGTERM; "
        "available-now: drain what is there, then exit (default: processing-time)",
    )
    parser.add_argument(
        "--interval",
        default=DEFAULT_INTERVAL,
        help=f"trigger interval for processing-time (default: {DEFAULT_INTERVAL!r})",
    )
    parser.add_argument(
        "--stop-at",
        type=parse_stop_at,
        metavar="ISO",
        help="processing-time: stop after the batch running at this time (ISO-8601, UTC if no "
        "offset; default: run until SIGTERM)",
    )


def parse_stop_at(text: str) -> datetime:
    """``--stop-at`` value -> an aware datetime (UTC when the text has no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def trigger_from_args(args: argparse.Namespace) -> Trigger:
    return Trigger(
        available_now=args.trigger == "available-now",
        interval=args.interval,
        stop_at=args.stop_at,
    )


class CheckpointLock:
    """An exclusive lock beside a checkpoint, held while a query may write through it.

    ``flock`` is released by the kernel when the process dies, even by ``kill -9``, so a crash
    never leaves a stale lock. It works on local and NFSv4 file systems, not on object stores.
    """

    def __init__(self, checkpoint: Path):
        self.checkpoint = checkpoint
        self.path = checkpoint.with_name(checkpoint.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> CheckpointLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ClickstreamError(
                f"checkpoint {self.checkpoint} is in use by another running job ({holder}); "
                "stop that job first: two writers on one checkpoint would corrupt it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# Spark writes each entry of a checkpoint's logs as ``.<batch>.<uuid>.tmp`` (with a checksum
# ``..<batch>.<uuid>.tmp.crc``), then renames it; a kill between the two leaves them behind.
ORPHANED_LOG_FILE = re.compile(r"^\.{1,2}\d+\.[0-9a-f-]+\.tmp(\.crc)?$")
CHECKPOINT_LOGS = ("offsets", "commits")


def remove_orphaned_log_files(checkpoint: Path) -> list[Path]:
    """Delete the temporary log files a killed query left in ``checkpoint``; return them.

    Spark never reads them, but Spark 4.2 refuses to start a query whose first batch was never
    logged while its offsets folder holds anything (``STATE_STORE_CHECKPOINT_LOCATION_NOT_EMPTY``).
    Call it only under the checkpoint's lock: a running writer's file would look the same.
    """
    removed = []
    for log_dir in (checkpoint / name for name in CHECKPOINT_LOGS):
        if log_dir.is_dir():
            for path in sorted(log_dir.iterdir()):
                if ORPHANED_LOG_FILE.match(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


def lock_checkpoints(stack: ExitStack, checkpoints: Iterable[Path]) -> None:
    """Take every lock in ``checkpoints`` on ``stack``, or fail before starting anything; then
    clear what a killed predecessor left half-written in each (``remove_orphaned_log_files``)."""
    for checkpoint in checkpoints:
        stack.enter_context(CheckpointLock(checkpoint))
        for path in remove_orphaned_log_files(checkpoint):
            log.warning("removed %s, left half-written by a killed job", path)


def append_batches(table_path: Path, checkpoint: Path, partition_by: Sequence[str] = ()):
    """foreachBatch function: append each batch to the Delta table at ``table_path`` exactly once.

    Each append is tagged with the query's id and batch id (``batch_commits``). Spark replays the
    last batch after a crash between the Delta commit and the checkpoint's, as the restarted
    query's first batch (the only one checked: later batches skip reading the log). When the table
    already holds it, it runs into the ``noop`` sink instead, so that stateful operators commit that
    batch's state as Spark requires, and nothing is appended. Input: the batch DataFrame and its id.
    Output: one Delta commit (none for a replayed batch).
    """
    query: list[str] = []  # its id, read from the checkpoint on the first batch

    def append(batch: DataFrame, batch_id: int) -> None:
        if not query:  # only a query's first batch since it started can be a replay
            query.append(batch_commits.query_id(checkpoint))
            last = batch_commits.last_batch(table_path, query[0])
            if last is not None and last >= batch_id:
                log.warning(
                    "%s already holds batch %d (replayed after a crash): not appended again",
                    table_path,
                    batch_id,
                )
                batch.write.format("noop").mode("overwrite").save()
                return
        writer = batch.write.format("delta").mode("append")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        tag = batch_commits.batch_tag(query[0], batch_id)
        writer.option("userMetadata", tag).save(str(table_path))

    return append


def write_delta_stream(
    df: DataFrame,
    *,
    name: str,
    table_path: Path,
    checkpoint: Path,
    trigger: Trigger,
    partition_by: Sequence[str] = (),
    observe: Sequence[Column] = (),
) -> StreamingQuery:
    """Start a query that appends ``df`` to the Delta table at ``table_path``, exactly once
    (``append_batches``).

    The row count written per batch is observed as ``rows_out`` for the metrics store, beside the
    aggregates in ``observe`` (named by their aliases).
    """
    from pyspark.sql import functions as F

    observed = df.observe(name, F.count(F.lit(1)).alias(metrics.ROWS_OUT_METRIC), *observe)
    log.info("starting %s -> %s (%s)", name, table_path, trigger)
    return (
        observed.writeStream.queryName(name)
        .outputMode("append")
        .option("checkpointLocation", str(checkpoint))
        .trigger(**trigger.writer_kwargs())
        .foreachBatch(append_batches(table_path, checkpoint, partition_by))
        .start()
    )


def record_progress(metrics_dir: Path, progress: dict[str, Any]) -> None:
    """Append one batch's progress (Spark's JSON, parsed) to the metrics store; log it if it
    moved rows."""
    record = metrics.batch_record(progress)
    metrics.append_batch(metrics_dir, record)
    if record["rows_in"] or record["rows_out"]:
        log.info(
            "%s batch %s: %s rows in, %s out, %s ms, state %s, dropped late %s, dup %s",
            record["query"],
            record["batch_id"],
            record["rows_in"],
            record["rows_out"],
            record["batch_duration_ms"],
            record["state_rows"],
            record["rows_dropped_by_watermark"],
            record["duplicates_dropped"],
        )


class ProgressJsonCallback:
    """The JVM's Python-listener interface, answered with one py4j call a batch: the progress JSON.

    pyspark's own callback first rebuilds every event as Python objects, field by field, dozens of
    py4j calls each (each a reflective lookup in the JVM): 5-8% of the pipeline JVM's CPU in a
    profile of the freshness benchmark. Idle, start and end events are ignored.
    """

    def __init__(self, on_progress: Callable[[dict[str, Any]], None]) -> None:
        self.on_progress = on_progress

    def onQueryStarted(self, jevent: Any) -> None:
        pass

    def onQueryProgress(self, jevent: Any) -> None:
        self.on_progress(json.loads(jevent.progress().json()))

    def onQueryIdle(self, jevent: Any) -> None:
        pass

    def onQueryTerminated(self, jevent: Any) -> None:
        pass

    class Java:
        implements: ClassVar[list[str]] = [
            "org.apache.spark.sql.streaming.PythonStreamingQueryListener"
        ]


def install_metrics_listener(spark: SparkSession, metrics_dir: Path) -> Any:
    """Record every batch of every query of ``spark`` in the metrics store (``record_progress``).

    Returns the listener (``spark.streams.removeListener`` takes it off again).
    """
    from pyspark import SparkContext
    from pyspark.sql.streaming import StreamingQueryListener

    class MetricsListener(StreamingQueryListener):
        """Registered through the public API; the JVM talks to ``ProgressJsonCallback``.

        ``_jlistener`` is the one private hook used: pyspark 4.2 (pinned) hands the JVM whatever it
        returns. ``test_every_batch_reaches_the_metrics_store_with_its_phases`` guards it.
        """

        @property
        def _jlistener(self) -> Any:
            if not hasattr(self, "_json_listener"):
                callback = ProgressJsonCallback(lambda p: record_progress(metrics_dir, p))
                wrapper = SparkContext._jvm.PythonStreamingQueryListenerWrapper  # type: ignore[union-attr]
                self._json_listener = wrapper(callback)
            return self._json_listener

        def onQueryStarted(self, event: Any) -> None:
            pass

        def onQueryProgress(self, event: Any) -> None:
            pass

        def onQueryIdle(self, event: Any) -> None:
            pass

        def onQueryTerminated(self, event: Any) -> None:
            pass

    listener = MetricsListener()
    spark.streams.addListener(listener)
    return listener


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
