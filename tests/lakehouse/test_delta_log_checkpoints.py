"""The benchmark harness's readers of checkpoints and Delta logs, on hand-written files laid out
as Spark and Delta write them; and its percentile against a plain sort."""

from __future__ import annotations

import json
import random

from clickstream.bench.freshness import fifths, parse_maintenance
from clickstream.bench.latency_stats import percentile
from clickstream.lakehouse.delta_log import (
    END_INDEX,
    consumed_through,
    delta_source_offsets,
    file_source_batches,
    first_batch_covering,
)


def write_lines(path, *lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def test_file_source_batches_reads_compacted_and_single_logs(tmp_path):
    log = tmp_path / "sources" / "0"
    entry = '{{"path":"file:///raw/events_{n}%20x.json","timestamp":1,"batchId":{b}}}'
    write_lines(log / "9.compact", "v1", entry.format(n=1, b=3), entry.format(n=2, b=9))
    write_lines(log / "10", "v1", entry.format(n=3, b=10))
    write_lines(log / ".11.tmp", "v1", entry.format(n=4, b=11))  # in flight: not committed

    assert file_source_batches(tmp_path) == {
        "events_1 x.json": 3,
        "events_2 x.json": 9,
        "events_3 x.json": 10,
    }


def test_silver_batch_covering_a_bronze_version(tmp_path):
    def offset(version, index):
        return json.dumps({"reservoirVersion": version, "index": index, "isStartingVersion": False})

    for batch, (version, index) in enumerate([(3, -1), (5, 2), (7, -1), (8, END_INDEX)]):
        write_lines(
            tmp_path / "offsets" / str(batch),
            "v1",
            '{"batchTimestampMs":1}',
            offset(version, index),
        )
    offsets = delta_source_offsets(tmp_path)
    committed = {0: 1.0, 1: 2.0, 2: 3.0}  # batch 3 planned, not committed

    assert [consumed_through(offsets[b]) for b in range(4)] == [2, 4, 6, 8]
    assert first_batch_covering(offsets, committed, 2) == 0
    assert first_batch_covering(offsets, committed, 5) == 2  # batch 1 may have read part of 5
    assert first_batch_covering(offsets, committed, 8) is None


def test_percentile_is_nearest_rank():
    values = [random.Random(seed).uniform(0, 10) for seed in range(37)]
    ordered = sorted(values)
    assert percentile(values, 0.5) == ordered[18]  # rank ceil(18.5) = 19
    assert percentile(values, 0.95) == ordered[35]  # rank ceil(35.15) = 36
    assert percentile(values, 1.0) == ordered[-1]
    assert percentile([], 0.5) is None


def test_fifths_and_maintenance_parsing():
    assert fifths([5, 1, 9, 9, 9, 9, 9, 9, 2, 4]) == {
        "batches": 10,
        "first_fifth_median_ms": 3,
        "last_fifth_median_ms": 3,
    }
    output = (
        "table                            version   live files              MB   files on disk\n"
        "bronze                              40->42      80->2      12.50->12.10     80->82\n"
        "gold.revenue_by_product_5m          10->11      20->1       0.01->0.01      20->21\n"
        "raw folder: 3 files, 1.0 MB\n"
    )
    assert parse_maintenance(output) == {
        "bronze": {
            "before": 80,
            "after": 2,
            "mb_before": 12.5,
            "mb_after": 12.1,
            "disk_before": 80,
            "disk_after": 82,
        },
        "gold.revenue_by_product_5m": {
            "before": 20,
            "after": 1,
            "mb_before": 0.01,
            "mb_after": 0.01,
            "disk_before": 20,
            "disk_after": 21,
        },
    }
