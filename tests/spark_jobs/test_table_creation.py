"""Two jobs racing to create one table: the loser waits for the winner's first commit."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from clickstream import tables


def create_with_spark(spark, path):
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([StructField("id", LongType())])
    return lambda: tables.create_empty_table(spark, str(path), schema)


def test_the_loser_of_a_creation_race_waits_for_the_winners_commit(spark, tmp_path):
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)  # the winner is creating it: no commit yet
    winner = threading.Timer(2, lambda: write_deltalake(str(path), pa.table({"id": [1]})))
    winner.start()
    tables.ensure_table(spark, str(path), create_with_spark(spark, path))
    winner.join()
    assert spark.read.format("delta").load(str(path)).count() == 1


def test_without_a_winner_the_creation_error_is_raised(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CREATION_RACE_SECONDS", 1)
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)
    # Delta's own refusal, raised once the wait is over (which one depends on the log's contents)
    with pytest.raises(Exception, match=r"TABLE_OR_VIEW_ALREADY_EXISTS|NON_EMPTY_LOCATION"):
        tables.ensure_table(spark, str(path), create_with_spark(spark, path))
