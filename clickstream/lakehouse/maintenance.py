"""Lakehouse upkeep: compact and vacuum every Delta table, archive ingested raw files, prune metrics.

Input: a Spark session (table work only) and the lakehouse paths. Output: OPTIMIZE and VACUUM done
on each table, with its size and file counts before and after; raw files that bronze has committed
moved to the archive folder; metrics records older than a cutoff removed.

All of it is safe while the streaming jobs run: OPTIMIZE only rewrites files into bigger ones in a
new table version, VACUUM deletes only files unreferenced for longer than the table's
``delta.deletedFileRetentionDuration`` (7 days unless set: no running stream or time-travel reader
of that week loses a file; Delta 4 ignores a ``RETAIN`` clause other than 0), the archive moves only files listed in a committed
batch of bronze's checkpoint, and pruning holds the metrics store's lock.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.config import LakehousePaths
from clickstream.lakehouse.delta_log import committed_raw_files

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger("clickstream.maintenance")


@dataclass(frozen=True)
class TableReport:
    """One table before and after maintenance: live files and bytes (from Delta), and every data
    file on disk (live or kept for time travel)."""

    name: str
    version_before: int
    version_after: int
    live_files_before: int
    live_files_after: int
    bytes_before: int
    bytes_after: int
    disk_files_before: int
    disk_files_after: int


def disk_data_files(table: Path) -> int:
    return sum(1 for _ in table.rglob("*.parquet"))


def maintain_table(spark: SparkSession, name: str, table: Path) -> TableReport:
    """OPTIMIZE then VACUUM one table; report its shape before and after."""
    identifier = f"delta.`{table}`"

    def detail() -> tuple[int, int, int]:
        from delta.tables import DeltaTable

        version = DeltaTable.forPath(spark, str(table)).history(1).collect()[0]["version"]
        row = spark.sql(f"DESCRIBE DETAIL {identifier}").collect()[0]
        return version, row["numFiles"], row["sizeInBytes"]

    version_before, files_before, bytes_before = detail()
    disk_before = disk_data_files(table)
    spark.sql(f"OPTIMIZE {identifier}").collect()
    spark.sql(f"VACUUM {identifier}").collect()
    version_after, files_after, bytes_after = detail()
    return TableReport(
        name,
        version_before,
        version_after,
        files_before,
        files_after,
        bytes_before,
        bytes_after,
        disk_before,
        disk_data_files(table),
    )


def archive_raw_files(paths: LakehousePaths) -> int:
    """Move every raw file of a committed bronze batch into the archive folder; return how many.

    The generator's ledger sidecars stay in ``<raw>/_ledger``: reconciliation still sees them.
    """
    moved = 0
    paths.archive.mkdir(parents=True, exist_ok=True)
    for source in committed_raw_files(paths.checkpoint("bronze")):
        if source.is_file() and source.parent == paths.raw:
            target = paths.archive / source.name
            shutil.move(source, target)
            moved += 1
    if moved:
        log.info("archived %d raw files into %s", moved, paths.archive)
    return moved


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under a folder; (0, 0) if it is missing."""
    files = total = 0
    if folder.is_dir():
        for root, _dirs, names in os.walk(folder):
            for name in names:
                files += 1
                total += os.path.getsize(os.path.join(root, name))
    return files, total
