"""Creating a table while other jobs race to, or after one was killed midway through creating it."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from clickstream import tables
from clickstream.silver import create_silver_table


def create_with_spark(spark, path):
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([StructField("id", LongType())])
    return lambda: tables.create_empty_table(spark, str(path), schema)


def test_the_loser_of_a_creation_race_waits_for_the_winners_commit(spark, tmp_path):
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)  # the winner is creating it: no commit yet
    winner = threading.Timer(2, lambda: write_deltalake(str(path), pa.table({"id": [1]})))
    winner.start()
    tables.ensure_table(str(path), create_with_spark(spark, path))
    winner.join()
    assert spark.read.format("delta").load(str(path)).count() == 1


@pytest.mark.parametrize(
    "create",
    [create_with_spark, lambda spark, path: lambda: create_silver_table(spark, str(path))],
    ids=["create", "create_if_not_exists"],
)
def test_a_creation_killed_before_its_first_commit_is_cleared_then_done(
    spark, tmp_path, monkeypatch, create
):
    """What a job killed between Delta making ``_delta_log`` and committing version 0 leaves: Delta
    alone refuses to create over it (or skips, for ``if not exists``) and readers fail on it."""
    monkeypatch.setattr(tables, "ABANDONED_CREATION_SECONDS", 2)
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)
    (path / "_delta_log" / ".00000000000000000000.json.0c1f.tmp").write_text("{")
    started = time.monotonic()
    tables.ensure_table(str(path), create(spark, path))
    assert time.monotonic() - started >= 2  # a creation in flight was given its time
    assert spark.readStream.format("delta").load(str(path)).columns  # the schema is set
    assert [entry.name for entry in path.iterdir()] == ["_delta_log"]


def test_a_failing_creation_without_a_race_is_raised_at_once(tmp_path):
    def create():
        raise ValueError("no such column type")

    started = time.monotonic()
    with pytest.raises(ValueError, match="no such column type"):
        tables.ensure_table(str(tmp_path / "table"), create)
    assert time.monotonic() - started < 1
