"""``clickstream forget --user ID``: erase one shopper from the whole lakehouse, with a record.

Input: the lakehouse paths, a user id, and the VACUUM retention the caller confirms. Output, in
this order (upstream first, so rows a running pipeline carries down are caught by a later step):

1. every raw file, landed or archived, rewritten without the user's lines, and its ledger sidecar
   adjusted, so the tables still reconcile with the ledger (``clickstream.lakehouse.raw_erasure``);
2. a Delta ``DELETE`` of the user's rows in bronze and quarantine (matched on ``raw_line`` the way
   the raw files are), silver, and every gold table with a ``user_id`` column; tables of
   aggregates without one hold no row of a user and stay as they are;
3. ``VACUUM`` of each table touched, at the retention given: the files holding the deleted rows
   go once they are older than it. A retention below the tables' own (7 days unless set) deletes
   files that time travel and streams behind the latest version may still need: refused unless
   confirmed;
4. a check that no row of the user is left (a running pipeline may land some meanwhile: then the
   command fails and says to run it again), and a line appended to ``<data>/erasures.jsonl``
   (the user's SHA-256, never the id; what was deleted where; the table versions).

The streams read their input with ``skipChangeCommits``: a DELETE is not new input to them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core import config
from clickstream.core.errors import ClickstreamError
from clickstream.lakehouse.raw_erasure import (
    RawErasure,
    forget_raw,
    mentions_user,
    user_id_pattern,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession

ERASURES_FILE = "erasures.jsonl"
DEFAULT_RETENTION_HOURS = 168.0  # Delta's delta.deletedFileRetentionDuration unless a table sets it
RAW_LINE_TABLES = ("bronze", "quarantine")


@dataclass(frozen=True)
class TableErasure:
    name: str
    rows_deleted: int
    version: int | None  # the table's version after the erasure (None: nothing to delete)


@dataclass
class Erasure:
    """What one ``forget`` did: the record appended to ``erasures.jsonl``."""

    erased_at: str
    user_sha256: str
    raw: RawErasure
    tables: list[TableErasure] = field(default_factory=list)
    untouched_tables: list[str] = field(default_factory=list)  # no user_id column: aggregates
    vacuum_retain_hours: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def user_sha256(user_id: str) -> str:
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def user_rows(spark: SparkSession, name: str, columns: list[str], user_id: str) -> Column | None:
    """The condition that picks the user's rows of table ``name``, or None if it has none."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    if name in RAW_LINE_TABLES:
        pattern = user_id_pattern(user_id)

        def is_users(raw_line: str | None) -> bool:
            import re

            return raw_line is not None and mentions_user(
                raw_line.encode("utf-8"), user_id, re.compile(pattern)
            )

        return F.udf(is_users, BooleanType())(F.col("raw_line"))
    if "user_id" in columns:
        return F.col("user_id") == F.lit(user_id)
    return None


def erase_rows(spark: SparkSession, name: str, path: Path, condition: Column) -> TableErasure:
    """DELETE the rows of ``condition`` (no commit when there are none); purge deletion vectors,
    so the rows are out of the live files too."""
    from delta.tables import DeltaTable

    matching = spark.read.format("delta").load(str(path)).where(condition).count()
    if not matching:
        return TableErasure(name, 0, None)
    table = DeltaTable.forPath(spark, str(path))
    table.delete(condition)
    properties = table.detail().collect()[0]["properties"] or {}
    if properties.get("delta.enableDeletionVectors") == "true":
        spark.sql(f"REORG TABLE delta.`{path}` APPLY (PURGE)").collect()
    return TableErasure(name, matching, table.history(1).collect()[0]["version"])


def vacuum(spark: SparkSession, path: Path, retain_hours: float) -> None:
    spark.sql(f"VACUUM delta.`{path}` RETAIN {retain_hours:g} HOURS").collect()


def check_retention(retain_hours: float | None, confirmed: bool) -> None:
    if retain_hours is not None and retain_hours < 0:
        raise ClickstreamError(f"--retain-hours must be >= 0, not {retain_hours:g}")
    if retain_hours is not None and retain_hours < DEFAULT_RETENTION_HOURS and not confirmed:
        raise ClickstreamError(
            f"--retain-hours {retain_hours:g} is below the tables' retention of "
            f"{DEFAULT_RETENTION_HOURS:g} h: VACUUM would delete files that time travel and streams "
            "behind the latest version still read; add --yes to confirm"
        )


def append_record(path: Path, erasure: Erasure) -> None:
    """One JSON line, fsynced: the erasure log only grows."""
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(erasure.to_json(), sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())


def forget_user(
    spark: SparkSession,
    paths: config.LakehousePaths,
    user_id: str,
    retain_hours: float | None,
    say=print,
) -> Erasure:
    """Erase ``user_id`` everywhere (steps 1-4 of the module's docstring); return the record."""
    from clickstream.lakehouse.delta_log import delta_tables

    raw = forget_raw(paths.raw, paths.archive, user_id)
    say(
        f"raw: {raw.lines_removed:,} lines removed from {raw.files_rewritten:,} of "
        f"{raw.files_scanned:,} files (landed and archived), {raw.sidecars_rewritten:,} ledger "
        "sidecars adjusted"
    )
    erasure = Erasure(datetime.now(UTC).isoformat(timespec="seconds"), user_sha256(user_id), raw)
    tables = delta_tables(paths)
    conditions = {}
    for name, path in tables.items():
        columns = spark.read.format("delta").load(str(path)).columns
        condition = user_rows(spark, name, columns, user_id)
        if condition is None:
            erasure.untouched_tables.append(name)
            continue
        conditions[name] = condition
        done = erase_rows(spark, name, path, condition)
        erasure.tables.append(done)
        say(f"{name}: {done.rows_deleted:,} rows deleted")
    if erasure.untouched_tables:
        say(f"no user_id column (aggregates only): {', '.join(erasure.untouched_tables)}")

    if retain_hours is not None:
        erasure.vacuum_retain_hours = retain_hours
        for done in erasure.tables:
            if done.rows_deleted:
                vacuum(spark, tables[done.name], retain_hours)
        say(f"vacuumed the tables touched, keeping files removed in the last {retain_hours:g} h")
    else:
        say(
            "not vacuumed: the deleted rows stay in files of older table versions until a VACUUM "
            "past the tables' retention (the maintenance job runs one daily)"
        )

    left = {
        name: count
        for name, condition in conditions.items()
        if (count := spark.read.format("delta").load(str(tables[name])).where(condition).count())
    }
    if left:
        listed = ", ".join(f"{name} {count:,}" for name, count in left.items())
        raise ClickstreamError(
            f"rows of the user arrived while erasing ({listed}): a pipeline is running; "
            "run forget again"
        )
    append_record(paths.root / ERASURES_FILE, erasure)
    say(f"recorded in {paths.root / ERASURES_FILE} (user sha256 {erasure.user_sha256[:12]}...)")
    return erasure


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, metavar="ID", help="the user_id to erase")
    parser.add_argument(
        "--retain-hours",
        type=float,
        metavar="H",
        help="VACUUM the tables touched, keeping files removed in the last H hours (default: no "
        f"VACUUM now; below {DEFAULT_RETENTION_HOURS:g} needs --yes)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm a --retain-hours below the tables' retention (time travel to older "
        "versions is lost)",
    )


def run_command(args: argparse.Namespace) -> int:
    """CLI handler of ``clickstream forget``."""
    from clickstream.spark.session import build_spark_session

    check_retention(args.retain_hours, args.yes)
    if not args.user.strip():
        raise ClickstreamError("--user must not be empty")
    paths = config.paths_from_args(args)
    spark = build_spark_session("clickstream-forget")
    try:
        if args.retain_hours is not None and args.retain_hours < DEFAULT_RETENTION_HOURS:
            spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        forget_user(spark, paths, args.user, args.retain_hours)
    finally:
        spark.stop()
    return 0
