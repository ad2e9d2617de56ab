"""What the dashboard reads: the gold tables, the quarantine's size and the streaming metrics.

Input: the lakehouse paths. Output: a ``Snapshot`` of pandas DataFrames (``None`` for a table that
does not exist yet), read with the ``deltalake`` package: no JVM, no Spark. Only the gold rows of
the last ``LOOKBACK`` before the newest data are read; where that is comes from the files' statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from clickstream.core.config import LakehousePaths
from clickstream.core.metrics_store import read_batches
from clickstream.lakehouse.delta_log import has_commit

LOOKBACK = timedelta(hours=1)
REFRESH_SECONDS = 5  # the page reads everything again this often


@dataclass(frozen=True)
class GoldColumns:
    """The columns of a gold model the dashboard cuts it by."""

    time: str  # a row belongs to the last hour when this is in it
    end: str  # its newest value says how far the data goes
    date_partition: str


GOLD_MODELS = {
    "revenue_by_product_5m": GoldColumns("window_start", "window_end", "window_date"),
    "funnel_summary_10m": GoldColumns("window_start", "window_end", "window_date"),
    "session_funnel": GoldColumns("session_end", "session_end", "session_date"),
    "bot_anomalies": GoldColumns("window_start", "window_end", "window_date"),
}


@dataclass(frozen=True)
class Snapshot:
    """The dashboard's inputs at one moment: gold rows since ``since``, counts, metrics."""

    until: datetime | None  # the newest event time in gold; None when gold is empty
    gold: dict[str, pd.DataFrame | None]  # model -> its rows since until - LOOKBACK
    quarantined_rows: int | None
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # query -> batches

    @property
    def since(self) -> datetime | None:
        return None if self.until is None else self.until - LOOKBACK


def newest_value(path: Path, column: str) -> datetime | None:
    """The largest value of ``column`` from the files' statistics (no data read)."""
    import pyarrow as pa
    from deltalake import DeltaTable

    files = pa.table(DeltaTable(path).get_add_actions(flatten=True))
    stats = f"max.{column}"
    if files.num_rows == 0 or stats not in files.column_names:
        return None
    values = [value for value in files.column(stats).to_pylist() if value is not None]
    return max(values) if values else None


def read_since(path: Path, columns: GoldColumns, since: datetime) -> pd.DataFrame:
    """Rows whose time is ``since`` or later; partitions before the day ahead of it skipped."""
    from deltalake import DeltaTable

    first_day = (since - timedelta(days=1)).date()
    frame = DeltaTable(path).to_pandas(
        filters=[(columns.date_partition, ">=", first_day), (columns.time, ">=", since)]
    )
    return frame.reset_index(drop=True)


def read_all(path: Path) -> pd.DataFrame:
    """Every row: only used for a table without statistics, i.e. an empty one."""
    from deltalake import DeltaTable

    return DeltaTable(path).to_pandas()


def row_count(path: Path) -> int:
    from clickstream.lakehouse.table_inspect import table_summary

    return table_summary(path.name, path)["rows"]


def metrics_queries(metrics_dir: Path) -> list[str]:
    """Every query with a metrics file, by name."""
    return sorted(path.stem for path in (metrics_dir / "streaming").glob("*.jsonl"))


def load_snapshot(paths: LakehousePaths) -> Snapshot:
    """Read everything the dashboard shows; missing tables become ``None``."""
    tables = {model: paths.gold_table(model) for model in GOLD_MODELS}
    ends = [
        newest_value(path, GOLD_MODELS[model].end)
        for model, path in tables.items()
        if has_commit(path)
    ]
    ends = [end for end in ends if end is not None]
    until = max(ends) if ends else None
    gold: dict[str, pd.DataFrame | None] = {}
    for model, path in tables.items():
        if not has_commit(path):
            gold[model] = None
        elif until is None:
            gold[model] = read_all(path)
        else:
            gold[model] = read_since(path, GOLD_MODELS[model], until - LOOKBACK)
    return Snapshot(
        until=until,
        gold=gold,
        quarantined_rows=row_count(paths.quarantine) if has_commit(paths.quarantine) else None,
        metrics={
            query: read_batches(paths.metrics, query) for query in metrics_queries(paths.metrics)
        },
    )
