"""The stream-building layer of bronze and silver: sources, sinks, checkpoints, options.

Input: a Spark session, the lakehouse paths, a trigger and each job's options. Output: started
``StreamingQuery`` objects. ``clickstream/spark_jobs/bronze_job.py``, ``clickstream/spark_jobs/silver_job.py`` and
``clickstream pipeline run`` all start their queries through here, so they behave the same.

| query | reads | writes | checkpoint |
| --- | --- | --- | --- |
| ``bronze`` | raw ``*.json`` files | bronze | ``<checkpoints>/bronze`` |
| ``silver`` | bronze | silver (valid, deduplicated) | ``<checkpoints>/silver`` |
| ``quarantine`` | bronze | quarantine (rejected rows) | ``<checkpoints>/quarantine`` |
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.config import LakehousePaths
from clickstream.lakehouse.table_setup import ensure_bronze_table, ensure_silver_tables
from clickstream.streaming.sinks import write_delta_stream
from clickstream.streaming.trigger import Trigger
from clickstream.transforms.bronze_transform import (
    BRONZE_PARTITION_COLUMN,
    read_raw_lines,
    to_bronze,
)
from clickstream.transforms.ip_privacy import (
    IP_HASH_KEY_FILE_ENV,
    IP_PRIVACY_ENV,
    IP_PRIVACY_MODES,
    IpPrivacy,
)
from clickstream.transforms.ip_privacy import check as check_ip_privacy
from clickstream.transforms.silver_transform import (
    DEFAULT_DEDUP_WINDOW,
    QUARANTINE_PARTITION_COLUMN,
    SILVER_PARTITION_COLUMN,
    drop_duplicate_events,
    field_error_rows,
    to_quarantine,
    to_silver,
)
from clickstream.transforms.validation import ValidationSettings, with_rejection_reasons

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import StreamingQuery

BRONZE_QUERIES = ("bronze",)
SILVER_QUERIES = ("silver", "quarantine")


@dataclass(frozen=True)
class BronzeOptions:
    """``max_files_per_trigger`` bounds a batch; ``clean_source``: off or delete."""

    max_files_per_trigger: int = 100
    clean_source: str = "off"


@dataclass(frozen=True)
class SilverOptions:
    """Deduplication window (of arrival time), batch bound, validation bounds, IP privacy."""

    dedup_window: str = DEFAULT_DEDUP_WINDOW
    max_files_per_trigger: int = 1000
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    ip_privacy: IpPrivacy = field(default_factory=IpPrivacy)


def add_bronze_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BronzeOptions()
    parser.add_argument(
        "--max-files-per-trigger",
        type=int,
        default=defaults.max_files_per_trigger,
        help=f"raw files per bronze batch (default: {defaults.max_files_per_trigger})",
    )
    parser.add_argument(
        "--clean-source",
        choices=["off", "delete"],
        default=defaults.clean_source,
        help="what Spark does with raw files once bronze committed them: delete removes them "
        "(default: off; maintenance archives them, the one archiver: clickstream submit maintenance)",
    )


def bronze_options_from_args(args: argparse.Namespace) -> BronzeOptions:
    return BronzeOptions(args.max_files_per_trigger, args.clean_source)


def add_silver_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SilverOptions()
    parser.add_argument(
        "--dedup-window",
        default=defaults.dedup_window,
        help="keep the first copy of an event_id seen within this long of its arrival "
        f"(default: {defaults.dedup_window!r})",
    )
    parser.add_argument(
        "--max-future-minutes",
        type=int,
        default=defaults.validation.max_future_minutes,
        help="quarantine events more than this far in the future "
        f"(default: {defaults.validation.max_future_minutes})",
    )
    from_env = IpPrivacy.from_env()
    parser.add_argument(
        "--ip-privacy",
        choices=IP_PRIVACY_MODES,
        default=from_env.mode if from_env.mode in IP_PRIVACY_MODES else None,
        help=f"how silver stores ip_address: keep it, truncate it to its /24 or /48 network, or "
        f"hash it with a secret key (env {IP_PRIVACY_ENV}, default keep)",
    )
    parser.add_argument(
        "--ip-hash-key-file",
        type=Path,
        default=from_env.key_file,
        metavar="FILE",
        help=f"file holding the key of --ip-privacy hash (env {IP_HASH_KEY_FILE_ENV})",
    )


def silver_options_from_args(args: argparse.Namespace) -> SilverOptions:
    validation = ValidationSettings(max_future_minutes=args.max_future_minutes)
    mode = args.ip_privacy or IpPrivacy.from_env().mode  # an unknown mode from the env: check says
    privacy = IpPrivacy(mode, args.ip_hash_key_file)
    check_ip_privacy(privacy)
    return SilverOptions(dedup_window=args.dedup_window, validation=validation, ip_privacy=privacy)


def checkpoints_of(paths: LakehousePaths, query_names: tuple[str, ...]) -> list[Path]:
    return [paths.checkpoint(name) for name in query_names]


def start_bronze(
    spark: SparkSession, paths: LakehousePaths, trigger: Trigger, options: BronzeOptions
) -> list[StreamingQuery]:
    """Raw files -> bronze."""
    ensure_bronze_table(spark, paths)
    paths.raw.mkdir(parents=True, exist_ok=True)
    raw_lines = read_raw_lines(
        spark,
        str(paths.raw),
        options.max_files_per_trigger,
        options.clean_source,
    )
    query = write_delta_stream(
        to_bronze(raw_lines),
        name="bronze",
        table_path=paths.bronze,
        checkpoint=paths.checkpoint("bronze"),
        trigger=trigger,
        partition_by=[BRONZE_PARTITION_COLUMN],
    )
    return [query]


def start_silver(
    spark: SparkSession, paths: LakehousePaths, trigger: Trigger, options: SilverOptions
) -> list[StreamingQuery]:
    """Bronze -> silver (valid, deduplicated) and bronze -> quarantine (rejected)."""
    ensure_bronze_table(spark, paths)
    ensure_silver_tables(spark, paths)

    def validated_bronze():
        bronze = (
            spark.readStream.format("delta")
            .option("maxFilesPerTrigger", options.max_files_per_trigger)
            # A commit that deletes or rewrites rows (``clickstream forget``) is not new input:
            # skipped, instead of failing the stream with "data update in the source table".
            .option("skipChangeCommits", "true")
            .load(str(paths.bronze))
        )
        return with_rejection_reasons(bronze, options.validation)

    silver = write_delta_stream(
        drop_duplicate_events(
            to_silver(validated_bronze(), options.ip_privacy), options.dedup_window
        ),
        name="silver",
        table_path=paths.silver,
        checkpoint=paths.checkpoint("silver"),
        trigger=trigger,
        partition_by=[SILVER_PARTITION_COLUMN],
        observe=[field_error_rows()],
    )
    quarantine = write_delta_stream(
        to_quarantine(validated_bronze()),
        name="quarantine",
        table_path=paths.quarantine,
        checkpoint=paths.checkpoint("quarantine"),
        trigger=trigger,
        partition_by=[QUARANTINE_PARTITION_COLUMN],
    )
    return [silver, quarantine]
