"""Creating the lakehouse tables before any stream runs, safely when two jobs race to do it.

Input: a Spark session and the lakehouse paths. Output: bronze, silver (with its constraints) and
quarantine Delta tables exist. Empty tables get their schema from the very transforms that write
them, so the DDL never drifts from the code; tables of an older release gain the columns they lack
(``evolve_table``).
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.config import LakehousePaths
from clickstream.core.errors import ClickstreamError
from clickstream.lakehouse.delta_log import has_commit, holds_commit
from clickstream.transforms.bronze_transform import (
    BRONZE_PARTITION_COLUMN,
    BRONZE_STATS_COLUMNS,
    to_bronze,
)
from clickstream.transforms.silver_transform import (
    QUARANTINE_PARTITION_COLUMN,
    SILVER_COLUMNS,
    add_missing_constraints,
    create_silver_table,
    to_quarantine,
)
from clickstream.transforms.validation import ValidationSettings, with_rejection_reasons

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

log = logging.getLogger("clickstream.tables")

RAW_LINES_SCHEMA = "raw_line string, source_file string, source_modified_at timestamp"


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


CREATION_RACE_SECONDS = 60  # how long a job that lost a creation race waits for the winner's commit
ABANDONED_CREATION_SECONDS = 15  # a log without a commit, untouched this long: its creator died


def ensure_table(path: str, create: Callable[[], None]) -> None:
    """Run ``create`` until a Delta table is committed at ``path``; racing creators are fine.

    Delta makes ``_delta_log`` before the first commit, and refuses (or, for ``if not exists``,
    silently skips) a creation over one. Such a log is another job's creation in flight (wait for
    its commit) or one killed midway, which nothing will ever commit: once untouched for
    ``ABANDONED_CREATION_SECONDS`` it is removed and the table created afresh.
    """
    table = Path(path)
    deadline = time.monotonic() + CREATION_RACE_SECONDS
    while not has_commit(table):  # from the log's file names: no cached snapshot
        remove_abandoned_creation(table)
        try:
            create()
        except Exception:
            if not (table / "_delta_log").is_dir() or time.monotonic() > deadline:
                raise  # not a race, or one nobody finishes
        if has_commit(table):
            log.info("Delta table %s is created", path)
            return
        if time.monotonic() > deadline:
            raise ClickstreamError(
                f"Delta table {path} got no first commit in {CREATION_RACE_SECONDS} s"
            )
        time.sleep(0.5)


def remove_abandoned_creation(table: Path) -> None:
    """Remove ``table``'s ``_delta_log`` if it holds no commit and nothing touched it for
    ``ABANDONED_CREATION_SECONDS``. Moved aside first, so a commit landing meanwhile is put back."""
    delta_log = table / "_delta_log"
    if not delta_log.is_dir() or has_commit(table):
        return
    try:
        touched = max(entry.stat().st_mtime for entry in [delta_log, *delta_log.iterdir()])
    except FileNotFoundError:  # a file renamed under us: the creator is alive
        return
    if time.time() - touched < ABANDONED_CREATION_SECONDS:
        return
    aside = table / f"_abandoned_delta_log.{uuid.uuid4().hex}"
    try:
        delta_log.rename(aside)
    except FileNotFoundError:  # another job is removing it
        return
    if holds_commit(aside):  # committed after all
        aside.rename(delta_log)
        return
    shutil.rmtree(aside)
    log.warning("removed %s: a creation killed before its first commit", delta_log)


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


def quarantine_schema(spark: SparkSession) -> StructType:
    """The schema of ``to_quarantine``'s rows."""
    return to_quarantine(with_rejection_reasons(empty_bronze(spark), ValidationSettings())).schema


def create_quarantine_table(spark: SparkSession, path: str) -> None:
    """The empty quarantine table, its schema that of ``to_quarantine``."""
    create_empty_table(spark, path, quarantine_schema(spark), [QUARANTINE_PARTITION_COLUMN])


Column = tuple[str, str, bool]  # name, SQL type, nullable


def columns_of(schema: StructType) -> list[Column]:
    return [(field.name, field.dataType.simpleString(), field.nullable) for field in schema]


def schema_changes(table: Sequence[Column], wanted: Sequence[Column]) -> list[str]:
    """The ``alter table`` clauses that evolve a table of columns ``table`` to ``wanted``: columns
    it lacks are added (nullable: old rows hold null), columns ``wanted`` nullable lose NOT NULL.
    Nothing is dropped or retyped."""
    present = {name: nullable for name, _, nullable in table}
    added = [f"{name} {sql_type}" for name, sql_type, _ in wanted if name not in present]
    changes = [f"add columns ({', '.join(added)})"] if added else []
    changes += [
        f"alter column {name} drop not null"
        for name, _, nullable in wanted
        if nullable and present.get(name) is False
    ]
    return changes


def evolve_table(spark: SparkSession, path: str, wanted: Sequence[Column]) -> None:
    """Bring the Delta table at ``path`` to ``wanted``'s columns (``schema_changes``), in place:
    a running deployment's tables gain the columns of a new release without a rebuild."""

    def table_columns() -> list[Column]:
        return columns_of(spark.read.format("delta").load(path).schema)

    for change in schema_changes(table_columns(), wanted):
        try:
            spark.sql(f"alter table delta.`{path}` {change}")
        except Exception:
            if change in schema_changes(table_columns(), wanted):  # not done by another job
                raise
        log.info("Delta table %s: %s", path, change)


def ensure_bronze_table(spark: SparkSession, paths: LakehousePaths) -> None:
    path = str(paths.bronze)
    ensure_table(path, lambda: create_bronze_table(spark, path))
    evolve_table(spark, path, columns_of(empty_bronze(spark).schema))


def ensure_silver_exists(spark: SparkSession, paths: LakehousePaths) -> None:
    """Silver, for its readers: created (with constraints) if missing, left alone otherwise."""
    silver = str(paths.silver)
    ensure_table(silver, lambda: create_silver_table(spark, silver))


def ensure_silver_tables(spark: SparkSession, paths: LakehousePaths) -> None:
    """Silver (with every constraint, also an older table's missing ones) and quarantine."""
    ensure_silver_exists(spark, paths)
    evolve_table(spark, str(paths.silver), SILVER_COLUMNS)
    add_missing_constraints(spark, str(paths.silver))
    quarantine = str(paths.quarantine)
    ensure_table(quarantine, lambda: create_quarantine_table(spark, quarantine))
    evolve_table(spark, quarantine, columns_of(quarantine_schema(spark)))


def prepare_lakehouse(spark: SparkSession, paths: LakehousePaths) -> None:
    """Every table of bronze and silver exists, with its constraints."""
    ensure_bronze_table(spark, paths)
    ensure_silver_tables(spark, paths)
