"""Creating a table while other jobs race to, or after one was killed midway through creating it."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from clickstream.lakehouse import table_setup
from clickstream.transforms.silver_transform import create_silver_table


def create_with_spark(spark, path):
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([StructField("id", LongType())])
    return lambda: table_setup.create_empty_table(spark, str(path), schema)


def test_the_loser_of_a_creation_race_waits_for_the_winners_commit(spark, tmp_path):
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)  # the winner is creating it: no commit yet
    winner = threading.Timer(2, lambda: write_deltalake(str(path), pa.table({"id": [1]})))
    winner.start()
    table_setup.ensure_table(str(path), create_with_spark(spark, path))
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
    monkeypatch.setattr(table_setup, "ABANDONED_CREATION_SECONDS", 2)
    path = tmp_path / "table"
    (path / "_delta_log").mkdir(parents=True)
    (path / "_delta_log" / ".00000000000000000000.json.0c1f.tmp").write_text("{")
    started = time.monotonic()
    table_setup.ensure_table(str(path), create(spark, path))
    assert time.monotonic() - started >= 2  # a creation in flight was given its time
    assert spark.readStream.format("delta").load(str(path)).columns  # the schema is set
    assert [entry.name for entry in path.iterdir()] == ["_delta_log"]


def test_a_failing_creation_without_a_race_is_raised_at_once(tmp_path):
    def create():
        raise ValueError("no such column type")

    started = time.monotonic()
    with pytest.raises(ValueError, match="no such column type"):
        table_setup.ensure_table(str(tmp_path / "table"), create)
    assert time.monotonic() - started < 1


def abandoned_log(path):
    """A table folder as a creator killed before its first commit leaves it, long untouched."""
    delta_log = path / "_delta_log"
    delta_log.mkdir(parents=True)
    (delta_log / ".00000000000000000000.json.0c1f.tmp").write_text("{")
    long_ago = time.time() - 10 * table_setup.ABANDONED_CREATION_SECONDS
    for entry in [*delta_log.iterdir(), delta_log]:
        os.utime(entry, (long_ago, long_ago))
    return delta_log


def test_two_jobs_clearing_the_same_abandoned_log_remove_it_once_without_failing(
    tmp_path, monkeypatch
):
    delta_log = abandoned_log(tmp_path / "table")
    real_rename, real_rmtree = Path.rename, shutil.rmtree
    competitor_ran, removed = [], []

    def rename_after_the_competitor(self, target):
        if self == delta_log and not competitor_ran:
            competitor_ran.append(True)
            table_setup.remove_abandoned_creation(delta_log.parent)  # it wins the rename
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_after_the_competitor)
    monkeypatch.setattr(shutil, "rmtree", lambda path: (removed.append(path), real_rmtree(path)))
    table_setup.remove_abandoned_creation(delta_log.parent)

    assert competitor_ran
    assert len(removed) == 1  # by the competitor; this job found the log gone and left it
    assert list(delta_log.parent.iterdir()) == []  # nothing left aside


def test_a_first_commit_landing_as_the_log_is_moved_aside_is_put_back(tmp_path, monkeypatch):
    delta_log = abandoned_log(tmp_path / "table")
    real_rename = Path.rename

    def rename_after_the_commit(self, target):
        if self == delta_log:  # the creator was slow, not dead: its commit lands now
            write_deltalake(str(delta_log.parent), pa.table({"id": [1]}))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_after_the_commit)
    table_setup.remove_abandoned_creation(delta_log.parent)

    assert table_setup.has_commit(delta_log.parent)
    assert [entry.name for entry in delta_log.parent.iterdir() if entry.is_dir()] == ["_delta_log"]
