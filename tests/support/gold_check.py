"""Gold tables against the plain-Python oracle: what each model must hold once its watermark is
known, and the check itself (used by the runner tests and the reliability suite).

Input: a Spark session, the lakehouse paths, the valid events (``oracle.load_valid_events``) and each
model's final watermark. Output: per model, the rows expected (keyed by the grain) and the rows read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import oracle

THRESHOLD = 50
GAP = timedelta(minutes=10)
KEYS = {
    "revenue_by_product_5m": ("window_start", "product_id"),
    "bot_anomalies": ("window_start", "user_id"),
    "session_funnel": ("session_id", "session_start"),
    "funnel_summary_10m": ("window_start",),
}


def rows_by(spark, path: Path, *key: str) -> dict:
    """The rows of a Delta table keyed by ``key``; the key must be unique."""
    rows = spark.read.format("delta").load(str(path)).collect()
    keyed = {tuple(row[k] for k in key): row.asDict() for row in rows}
    assert len(keyed) == len(rows), "the grain is not unique"
    return keyed


def committed_watermark(checkpoint: Path) -> datetime:
    """The event-time watermark of the last committed batch of a checkpoint (naive UTC): an append
    model has emitted exactly the windows that closed before it."""
    last = max(int(path.name) for path in (checkpoint / "commits").iterdir() if path.name.isdigit())
    metadata = json.loads((checkpoint / "offsets" / str(last)).read_text().splitlines()[1])
    moment = datetime.fromtimestamp(metadata["batchWatermarkMs"] / 1000, UTC)
    return moment.replace(tzinfo=None)


def expected_gold(events: list[oracle.Event], watermarks: dict[str, datetime]) -> dict[str, dict]:
    """Per model, the oracle's rows the table must hold: every window for the upsert, the windows
    the watermark closed for the append models."""
    closed_sessions = {
        key: row
        for key, row in oracle.sessions(events, GAP, THRESHOLD).items()
        if row["closes_at"] <= watermarks["session_funnel"]
    }
    return {
        "revenue_by_product_5m": oracle.revenue_by_product(events),
        "bot_anomalies": {
            key: row
            for key, row in oracle.bot_anomalies(events, THRESHOLD).items()
            if key[0] + timedelta(minutes=1) <= watermarks["bot_anomalies"]
        },
        "session_funnel": {
            key: {name: value for name, value in row.items() if name != "closes_at"}
            for key, row in closed_sessions.items()
        },
        "funnel_summary_10m": {
            (start,): row
            for start, row in oracle.funnel_summary(closed_sessions).items()
            if start + timedelta(minutes=10) <= watermarks["funnel_summary_10m"]
        },
    }


def assert_gold_equals_oracle(spark, paths, events: list[oracle.Event], watermarks) -> dict:
    """Every model's table holds exactly the oracle's rows (to the cent; rates approximately).
    Returns the number of rows checked per model."""
    checked = {}
    for model, expected in expected_gold(events, watermarks).items():
        actual = rows_by(spark, paths.gold_table(model), *KEYS[model])
        assert actual.keys() == expected.keys(), model
        for key, row in expected.items():
            got = {name: actual[key][name] for name in row}
            assert got == pytest.approx(row) if model == "funnel_summary_10m" else got == row, key
        checked[model] = len(expected)
    return checked
