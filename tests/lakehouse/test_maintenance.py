"""Maintenance on a real lakehouse: compaction keeps every row, only committed raw files are
archived, old metrics records go and new ones stay."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickstream.core import metrics_store
from clickstream.core.config import resolve_paths
from clickstream.lakehouse.delta_log import committed_raw_files, delta_tables
from clickstream.lakehouse.maintenance import archive_raw_files, maintain_table
from tests.support.backlog import drain, generate_backlog, recent_hour


def test_optimize_and_vacuum_keep_every_row_in_fewer_files(spark, lake):
    generate_backlog(lake, recent_hour(), minutes=4, seed=31, rate=5)
    for _ in range(2):  # two drains: bronze gets several small files per partition
        drain(spark, lake)
        generate_backlog(lake, recent_hour(2), minutes=2, seed=32, rate=5)
    before = spark.read.format("delta").load(str(lake.bronze)).collect()

    report = maintain_table(spark, "bronze", lake.bronze)

    after = spark.read.format("delta").load(str(lake.bronze)).collect()
    assert Counter(map(tuple, after)) == Counter(map(tuple, before))
    assert report.live_files_after < report.live_files_before
    assert report.version_after > report.version_before
    # VACUUM keeps every file younger than the retention: the compacted-away files stay on disk.
    assert report.disk_files_after >= report.disk_files_before


def test_only_raw_files_of_committed_bronze_batches_are_archived(spark, lake):
    generate_backlog(lake, recent_hour(), minutes=3, seed=33, rate=5)
    drain(spark, lake)
    ingested = sorted(path.name for path in lake.raw.glob("*.json"))
    generate_backlog(lake, recent_hour(2), minutes=1, seed=34, rate=5)  # landed, not ingested
    waiting = sorted(set(path.name for path in lake.raw.glob("*.json")) - set(ingested))

    assert sorted(path.name for path in committed_raw_files(lake.checkpoint("bronze"))) == ingested
    assert archive_raw_files(lake) == len(ingested)

    assert sorted(path.name for path in lake.raw.glob("*.json")) == waiting
    assert sorted(path.name for path in lake.archive.glob("*.json")) == ingested
    assert (lake.raw / "_ledger").is_dir()  # ground truth stays where reconciliation reads it
    drain(spark, lake)  # the archived files are not read again; the waiting ones are
    sources = spark.read.format("delta").load(str(lake.bronze)).select("source_file").distinct()
    assert len({Path(row.source_file).name for row in sources.collect()}) == len(ingested) + len(
        waiting
    )


def test_pruning_drops_old_metrics_records_only(tmp_path):
    now = datetime.now(UTC)

    def record(batch: int, age: timedelta) -> dict:
        stamp = (now - age).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"query": "bronze", "batch_id": batch, "timestamp": stamp}

    for batch, age in enumerate([timedelta(days=10), timedelta(days=8), timedelta(hours=1)]):
        metrics_store.append_batch(tmp_path, record(batch, age))

    removed = metrics_store.prune_batches(tmp_path, now - timedelta(days=7))

    assert removed == {"bronze": 2}
    assert [r["batch_id"] for r in metrics_store.read_batches(tmp_path, "bronze")] == [2]
    metrics_store.append_batch(tmp_path, record(3, timedelta(0)))  # writers go on after a prune
    assert [r["batch_id"] for r in metrics_store.read_batches(tmp_path, "bronze")] == [2, 3]


def test_a_table_still_being_created_is_not_maintained(tmp_path):
    """Its ``_delta_log`` folder exists, its first commit is still a hidden temporary file."""
    lake = resolve_paths({"root": tmp_path}, environ={})
    for table, log_files in [
        (lake.bronze, ["00000000000000000000.json", "00000000000000000000.crc"]),
        (lake.silver, [".00000000000000000000.json.0b5c.tmp"]),
        (lake.gold_table("revenue_by_product_5m"), ["00000000000000000010.checkpoint.parquet"]),
        (lake.gold_table("bot_anomalies"), []),
    ]:
        (table / "_delta_log").mkdir(parents=True)
        for name in log_files:
            (table / "_delta_log" / name).write_bytes(b"")
    assert delta_tables(lake) == {
        "bronze": lake.bronze,
        "gold.revenue_by_product_5m": lake.gold_table("revenue_by_product_5m"),
    }
