"""The metrics store: one JSON line per streaming micro-batch, one file per query.

Input: a Structured Streaming progress (its JSON). Output: ``<metrics>/streaming/<query>.jsonl``
lines with the figures the dashboard, the benchmarks and Airflow read: rows in, rows out, rows
with a field error (silver), batch duration and its phases, state rows, rows dropped by
watermark, duplicates dropped.
``read_batches`` reads them back.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

# Name of the observed metric every sink writes its row count under (see ``streaming``).
ROWS_OUT_METRIC = "rows_out"
# Silver's rows with a field error (an optional field that arrived wrong, kept null).
FIELD_ERROR_ROWS_METRIC = "field_error_rows"


def observed_sum(observed: dict[str, Any], metric_name: str) -> int:
    """The sum of one observed metric over a progress's observations."""
    return sum(int(metric.get(metric_name) or 0) for metric in observed.values() if metric)


def batch_record(progress: dict[str, Any]) -> dict[str, Any]:
    """Spark's progress JSON -> one flat metrics record."""
    state = progress.get("stateOperators") or []
    observed = progress.get("observedMetrics") or {}
    durations = progress.get("durationMs") or {}
    return {
        "timestamp": progress.get("timestamp"),
        "query": progress.get("name"),
        "query_id": progress.get("id"),
        "run_id": progress.get("runId"),
        "batch_id": progress.get("batchId"),
        "rows_in": progress.get("numInputRows", 0),
        "rows_out": observed_sum(observed, ROWS_OUT_METRIC),
        "field_error_rows": observed_sum(observed, FIELD_ERROR_ROWS_METRIC),
        "batch_duration_ms": durations.get("triggerExecution", 0),
        # where the batch's time went: addBatch (the sink's write), latestOffset, getBatch,
        # queryPlanning, walCommit, commitOffsets (Spark's names)
        "phase_ms": {phase: ms for phase, ms in durations.items() if phase != "triggerExecution"},
        "state_rows": sum(op.get("numRowsTotal", 0) for op in state),
        "rows_dropped_by_watermark": sum(op.get("numRowsDroppedByWatermark", 0) for op in state),
        "duplicates_dropped": sum(
            (op.get("customMetrics") or {}).get("numDroppedDuplicateRows", 0) for op in state
        ),
        "input_rows_per_second": progress.get("inputRowsPerSecond"),
        "processed_rows_per_second": progress.get("processedRowsPerSecond"),
        "watermark": (progress.get("eventTime") or {}).get("watermark"),
    }


def metrics_file(metrics_dir: Path, query_name: str) -> Path:
    return metrics_dir / "streaming" / f"{query_name}.jsonl"


@contextmanager
def _store_lock(metrics_dir: Path, exclusive: bool) -> Iterator[None]:
    """Writers share the store's lock; pruning takes it alone, so no appended line is lost."""
    folder = metrics_dir / "streaming"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def append_batch(metrics_dir: Path, record: dict[str, Any]) -> None:
    """Append one record; a single ``write`` on an O_APPEND file keeps lines whole."""
    path = metrics_file(metrics_dir, record["query"] or "unnamed")
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    with _store_lock(metrics_dir, exclusive=False):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def prune_batches(metrics_dir: Path, older_than: datetime) -> dict[str, int]:
    """Drop the records of batches before ``older_than`` (aware) from every query's file.

    Returns the number of records removed per query. Each file is rewritten beside itself and
    renamed over it while writers wait on the store's lock.
    """
    removed: dict[str, int] = {}
    with _store_lock(metrics_dir, exclusive=True):
        for path in sorted((metrics_dir / "streaming").glob("*.jsonl")):
            lines = path.read_text().splitlines(keepends=True)
            kept = [line for line in lines if line.strip() and not _before(line, older_than)]
            removed[path.stem] = len(lines) - len(kept)
            if removed[path.stem]:
                temporary = path.with_name(f".{path.name}.tmp")
                temporary.write_text("".join(kept))
                os.replace(temporary, path)
    return removed


def _before(line: str, moment: datetime) -> bool:
    stamp = json.loads(line).get("timestamp")
    if not stamp:
        return False
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) < moment


def read_batches(metrics_dir: Path, query_name: str) -> list[dict[str, Any]]:
    """Every recorded batch of one query, oldest first; empty if none."""
    path = metrics_file(metrics_dir, query_name)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
