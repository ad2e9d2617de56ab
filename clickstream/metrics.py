"""The metrics store: one JSON line per streaming micro-batch, one file per query.

Input: a Structured Streaming progress (its JSON). Output: ``<metrics>/streaming/<query>.jsonl``
lines with the figures the dashboard, the benchmarks and Airflow read: rows in, rows out, batch
duration, state rows, rows dropped by watermark, duplicates dropped. ``read_batches`` reads them back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Name of the observed metric every sink writes its row count under (see ``streaming``).
ROWS_OUT_METRIC = "rows_out"


def batch_record(progress: dict[str, Any]) -> dict[str, Any]:
    """Spark's progress JSON -> one flat metrics record."""
    state = progress.get("stateOperators") or []
    observed = progress.get("observedMetrics") or {}
    rows_out = sum(
        int(metric.get(ROWS_OUT_METRIC, 0)) for metric in observed.values() if metric is not None
    )
    durations = progress.get("durationMs") or {}
    return {
        "timestamp": progress.get("timestamp"),
        "query": progress.get("name"),
        "query_id": progress.get("id"),
        "run_id": progress.get("runId"),
        "batch_id": progress.get("batchId"),
        "rows_in": progress.get("numInputRows", 0),
        "rows_out": rows_out,
        "batch_duration_ms": durations.get("triggerExecution", 0),
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


def append_batch(metrics_dir: Path, record: dict[str, Any]) -> None:
    """Append one record; a single ``write`` on an O_APPEND file keeps lines whole."""
    path = metrics_file(metrics_dir, record["query"] or "unnamed")
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_batches(metrics_dir: Path, query_name: str) -> list[dict[str, Any]]:
    """Every recorded batch of one query, oldest first; empty if none."""
    path = metrics_file(metrics_dir, query_name)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
