"""Creating the lakehouse tables before any stream runs, safely when two jobs race to do it.

Input: a Spark session and the lakehouse paths. Output: bronze, silver (with its constraints) and
quarantine Delta tables exist. Empty tables get their schema from the very transforms that write
them, so the DDL never drifts from the code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.bronze import BRONZE_PARTITION_COLUMN, BRONZE_STATS_COLUMNS, to_bronze
from clickstream.config import LakehousePaths
from clickstream.maintenance import has_commit
from clickstream.silver import (
    QUARANTINE_PARTITION_COLUMN,
    add_missing_constraints,
    create_silver_table,
    to_quarantine,
)
from clickstream.validation import ValidationSettings, with_rejection_reasons

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

log = logging.getLogger("clickstream.tables")

RAW_LINES_SCHEMA = "raw_line string, source_file string, source_modified_at timestamp"


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


CREATION_RACE_SECONDS = 60  # how long a job that lost a creation race waits for the winner's commit


def ensure_table(spark: SparkSession, path: str, create: Callable[[], None]) -> None:
    """Run ``create`` unless a Delta table is at ``path``; losing a creation race is fine.

    The loser can fail while the winner's first commit is still in flight (Delta refuses a location
    that holds a ``_delta_log`` folder without a commit): it waits for that commit, then goes on.
    """
    if is_delta_table(spark, path):
        return
    try:
        create()
        log.info("created Delta table %s", path)
    except Exception:
        deadline = time.monotonic() + CREATION_RACE_SECONDS
        while not has_commit(Path(path)):  # from the log's file names: no cached snapshot
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        log.info("Delta table %s was created by another job meanwhile", path)


def empty_bronze(spark: SparkSession) -> DataFrame:
    return to_bronze(spark.createDataFrame([], RAW_LINES_SCHEMA))


def create_empty_table(
    spark: SparkSession,
    path: str,
    schema: StructType,
    partition_columns: Sequence[str] = (),
    properties: dict[str, str] | None = None,
) -> None:
    """An empty Delta table at ``path``: ``schema``, partitioned by ``partition_columns`` (none:
    unpartitioned), with table ``properties``; one commit."""
    from delta.tables import DeltaTable

    builder = DeltaTable.create(spark).location(path).addColumns(schema)
    if partition_columns:
        builder = builder.partitionedBy(*partition_columns)
    for key, value in (properties or {}).items():
        builder = builder.property(key, value)
    builder.execute()


def create_bronze_table(spark: SparkSession, path: str) -> None:
    """The empty bronze table, statistics on ``BRONZE_STATS_COLUMNS`` only."""
    schema = empty_bronze(spark).schema
    stats = {"delta.dataSkippingStatsColumns": BRONZE_STATS_COLUMNS}
    create_empty_table(spark, path, schema, [BRONZE_PARTITION_COLUMN], stats)


def create_quarantine_table(spark: SparkSession, path: str) -> None:
    """The empty quarantine table, its schema that of ``to_quarantine``."""
    rejected = to_quarantine(with_rejection_reasons(empty_bronze(spark), ValidationSettings()))
    create_empty_table(spark, path, rejected.schema, [QUARANTINE_PARTITION_COLUMN])


def ensure_bronze_table(spark: SparkSession, paths: LakehousePaths) -> None:
    path = str(paths.bronze)
    ensure_table(spark, path, lambda: create_bronze_table(spark, path))


def ensure_silver_exists(spark: SparkSession, paths: LakehousePaths) -> None:
    """Silver, for its readers: created (with constraints) if missing, left alone otherwise."""
    silver = str(paths.silver)
    ensure_table(spark, silver, lambda: create_silver_table(spark, silver))


def ensure_silver_tables(spark: SparkSession, paths: LakehousePaths) -> None:
    """Silver (with every constraint, also an older table's missing ones) and quarantine."""
    ensure_silver_exists(spark, paths)
    add_missing_constraints(spark, str(paths.silver))
    quarantine = str(paths.quarantine)
    ensure_table(spark, quarantine, lambda: create_quarantine_table(spark, quarantine))


def prepare_lakehouse(spark: SparkSession, paths: LakehousePaths) -> None:
    """Every table of bronze and silver exists, with its constraints."""
    ensure_bronze_table(spark, paths)
    ensure_silver_tables(spark, paths)
