"""Downtime: hours of raw files that piled up while the pipeline was down are caught up in bounded
batches, in a small driver, with the same tables as processing them live."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections import Counter
from datetime import timedelta

import pytest

from clickstream.core.config import LakehousePaths, resolve_paths
from clickstream.core.metrics_store import read_batches
from clickstream.lakehouse.delta_log import file_source_batches
from tests.reliability import report
from tests.reliability.fleet import CLICKSTREAM
from tests.reliability.lakehouse import backfill, drain_everything
from tests.support import models
from tests.support.backlog import recent_hour

HOURS = 3
FILES_PER_BATCH = 100
LIVE_STEPS = 3  # "live": the same files landing in 3 parts, each drained before the next lands


def files_per_bronze_batch(lake: LakehousePaths) -> Counter:
    """batch id -> raw files it read, from bronze's file-source log."""
    return Counter(file_source_batches(lake.checkpoint("bronze")).values())


# Columns that say when a row was processed, not what it holds: they differ between two runs.
PROCESSING_COLUMNS = (
    "ingestion_timestamp",
    "ingestion_date",
    "source_modified_at",
    "source_file",
    "quarantined_at",
)


def table_rows(spark, path) -> Counter:
    """The rows of a Delta table without ``PROCESSING_COLUMNS``, as hashable tuples."""
    frame = spark.read.format("delta").load(str(path))
    kept = frame.drop(*(column for column in PROCESSING_COLUMNS if column in frame.columns))
    return Counter(
        tuple(tuple(value) if isinstance(value, list) else value for value in row)
        for row in kept.collect()
    )


@pytest.mark.slow
def test_hours_of_backlog_are_caught_up_in_bounded_batches_like_live(
    spark, tmp_path, record_outcome
):
    down = resolve_paths({"root": tmp_path / "down"}, environ={})
    backfill(
        down, recent_hour(hours_ago=HOURS + 2), timedelta(hours=HOURS), 1, 29,
        "--bot-rate", "0.02", "--duplicate-rate", "0.02", "--malformed-rate", "0.02",
        "--out-of-order-rate", "0.05",
    )  # fmt: skip
    landed = sorted(down.raw.glob("events_*.json"))

    # Catch up in one run of the documented command, with a 512 MB driver.
    caught_up = subprocess.run(
        [CLICKSTREAM, "pipeline", "run", "--trigger", "available-now", "--data-dir", str(down.root),
         "--max-files-per-trigger", str(FILES_PER_BATCH)],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "CLICKSTREAM_SPARK_DRIVER_MEMORY": "512m",
             "CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS": "2"},
    )  # fmt: skip
    assert caught_up.returncode == 0, caught_up.stderr[-3000:]
    per_batch = files_per_bronze_batch(down)
    assert len(per_batch) == math.ceil(len(landed) / FILES_PER_BATCH)
    assert max(per_batch.values()) == FILES_PER_BATCH and sum(per_batch.values()) == len(landed)
    assert len([b for b in read_batches(down.metrics, "bronze") if b["rows_in"]]) == len(per_batch)

    # Live: the same files land in parts, each drained before the next one lands.
    live = resolve_paths({"root": tmp_path / "live"}, environ={})
    live.raw.mkdir(parents=True)
    for part in range(LIVE_STEPS):
        share = len(landed) // LIVE_STEPS
        for path in landed[part * share : None if part == LIVE_STEPS - 1 else (part + 1) * share]:
            shutil.copy2(path, live.raw / path.name)
        drain_everything(spark, live)

    tables = {
        "silver": (down.silver, live.silver),
        "quarantine": (down.quarantine, live.quarantine),
        **{
            f"gold {model}": (down.gold_table(model), live.gold_table(model))
            for model in models.ALL
        },
    }  # fmt: skip
    differences = {}
    for name, (after_downtime, as_live) in tables.items():
        caught, lived = table_rows(spark, after_downtime), table_rows(spark, as_live)
        differences[name] = report.lost_and_repeated(lived, caught)
        assert caught == lived, name
        assert caught, name
    record_outcome(
        report.Outcome(
            "downtime",
            {
                f"{HOURS} h backlog: raw files": len(landed),
                f"bronze batches (max {FILES_PER_BATCH} files)": len(per_batch),
            },
            rows_lost=sum(lost for lost, _ in differences.values()),
            duplicates=sum(extra for _, extra in differences.values()),
        )
    )
