"""An upsert model's MERGE that loses a race with maintenance (OPTIMIZE) is retried, not fatal.

The race is made deterministic: the MERGE's source waits, inside a Python worker, for a flag file
that the test writes only after OPTIMIZE committed between the MERGE's snapshot and its commit.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from clickstream.sql_models import load_project
from clickstream.streaming.sinks import merge_batches

TIMEOUT = 180


def hold_until(flag: str, started: str):
    """A UDF that marks ``started`` and then returns only once ``flag`` exists."""

    def hold(value):
        Path(started).touch()
        deadline = time.monotonic() + TIMEOUT
        while not Path(flag).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return value

    return F.udf(hold, "double", useArrow=False)


def revenue_row(spark, product: str, revenue: float):
    """One row of a window_start/product_id-keyed table, partitioned by window_date."""
    return spark.sql(
        f"select timestamp'2026-01-01 10:00:00' as window_start, '{product}' as product_id, "
        f"double({revenue}) as revenue, date'2026-01-01' as window_date"
    )


def test_merge_racing_a_concurrent_optimize_is_retried_and_lands_once(spark, tmp_path):
    model = load_project().models["revenue_by_product_5m"]  # upsert on window_start, product_id
    table = str(tmp_path / "gold")
    for product in ("p1", "p2", "p3"):  # three small files in one partition: OPTIMIZE compacts them
        revenue_row(spark, product, 1.0).write.format("delta").mode("append").partitionBy(
            "window_date"
        ).save(table)

    flag, started = tmp_path / "optimized", tmp_path / "merge-started"
    update = revenue_row(spark, "p1", 5.0)
    held = update.withColumn("revenue", hold_until(str(flag), str(started))("revenue"))
    errors: list[BaseException] = []

    def run_merge() -> None:
        try:
            merge_batches(Path(table), model.config.unique_key, model.name)(held, 7)
        except BaseException as error:  # reported below
            errors.append(error)

    merging = threading.Thread(target=run_merge)
    merging.start()
    deadline = time.monotonic() + TIMEOUT
    while not started.exists():
        assert merging.is_alive() and time.monotonic() < deadline, errors
        time.sleep(0.1)
    DeltaTable.forPath(spark, table).optimize().executeCompaction()
    flag.touch()
    merging.join(TIMEOUT)

    assert not merging.is_alive() and errors == []
    operations = [
        row.operation
        for row in DeltaTable.forPath(spark, table).history().orderBy("version").collect()
    ]
    assert operations[-2:] == ["OPTIMIZE", "MERGE"]  # the MERGE committed after the compaction
    revenue = {
        row.product_id: row.revenue for row in spark.read.format("delta").load(table).collect()
    }
    assert revenue == {"p1": 5.0, "p2": 1.0, "p3": 1.0}
