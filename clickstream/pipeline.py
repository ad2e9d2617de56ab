"""``clickstream pipeline run``: every streaming job in one Spark application, for local use.

Input: the lakehouse paths, a trigger and the job options. Output: bronze, silver, quarantine and
the gold models kept up to date until Ctrl-C / SIGTERM (processing-time), or drained once layer by
layer and then exit (``--available-now``); then a summary of what the tables hold.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clickstream import config
from clickstream.gold_job import (
    GoldOptions,
    add_gold_arguments,
    gold_checkpoints,
    gold_options_from_args,
    gold_stages,
)
from clickstream.jobs import (
    BRONZE_QUERIES,
    SILVER_QUERIES,
    BronzeOptions,
    SilverOptions,
    add_bronze_arguments,
    add_silver_arguments,
    bronze_options_from_args,
    silver_options_from_args,
    start_bronze,
    start_silver,
)
from clickstream.maintenance import delta_tables
from clickstream.runner import run_streaming_job
from clickstream.streaming import DEFAULT_INTERVAL, Trigger

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class PipelineSummary:
    """What the tables hold after a run."""

    bronze_rows: int
    silver_rows: int
    quarantine_rows: int
    duplicates_removed: int
    quarantine_by_reason: dict[str, int]
    field_error_rows: int
    field_errors_by_code: dict[str, int]
    gold_rows: dict[str, int]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--available-now",
        action="store_true",
        help="drain every layer once, in order, then exit (default: run until Ctrl-C/SIGTERM)",
    )
    parser.add_argument(
        "--interval",
        default=DEFAULT_INTERVAL,
        help=f"trigger interval when running continuously (default: {DEFAULT_INTERVAL!r})",
    )
    add_bronze_arguments(parser)
    add_silver_arguments(parser)
    add_gold_arguments(parser)


def run_pipeline(
    paths: config.LakehousePaths,
    trigger: Trigger,
    bronze: BronzeOptions,
    silver: SilverOptions,
    gold: GoldOptions,
) -> SparkSession:
    """Drain bronze, silver, then each gold model (available-now), or run them all at once;
    return the session."""

    def start_bronze_stage(spark):
        return start_bronze(spark, paths, trigger, bronze)

    def start_silver_stage(spark):
        return start_silver(spark, paths, trigger, silver)

    refresh_then_check, *start_gold = gold_stages(paths, trigger, gold)
    if trigger.available_now:
        stages = [refresh_then_check, start_bronze_stage, start_silver_stage, *start_gold]
    else:
        [start_all_gold] = start_gold

        def start_everything(spark):
            return start_bronze_stage(spark) + start_silver_stage(spark) + start_all_gold(spark)

        stages = [refresh_then_check, start_everything]
    checkpoints = [*BRONZE_QUERIES, *SILVER_QUERIES, *gold_checkpoints(gold)]
    return run_streaming_job(
        "clickstream-pipeline", paths, checkpoints, stages, stop_at=trigger.stop_at
    )


def summarize(spark: SparkSession, paths: config.LakehousePaths) -> PipelineSummary:
    """Row counts of every table; duplicates removed = valid bronze rows not in silver."""
    from pyspark.sql import functions as F

    def count(path) -> int:
        return spark.read.format("delta").load(str(path)).count()

    bronze_rows, silver_rows = count(paths.bronze), count(paths.silver)

    def counts_of_codes(path, column: str) -> dict[str, int]:
        """How often each code of an array column occurs in the table."""
        codes = spark.read.format("delta").load(str(path)).select(F.explode(column).alias("code"))
        return {row.code: row["count"] for row in sorted(codes.groupBy("code").count().collect())}

    quarantine_rows = count(paths.quarantine)
    silver = spark.read.format("delta").load(str(paths.silver))
    field_error_rows = silver.where(F.size("field_errors") > 0).count()
    gold_tables = [path for name, path in delta_tables(paths).items() if name.startswith("gold.")]
    return PipelineSummary(
        bronze_rows=bronze_rows,
        silver_rows=silver_rows,
        quarantine_rows=quarantine_rows,
        duplicates_removed=bronze_rows - quarantine_rows - silver_rows,
        quarantine_by_reason=counts_of_codes(paths.quarantine, "rejection_reasons"),
        field_error_rows=field_error_rows,
        field_errors_by_code=counts_of_codes(paths.silver, "field_errors"),
        gold_rows={path.name: count(path) for path in gold_tables},
    )


def print_summary(summary: PipelineSummary, paths: config.LakehousePaths) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lakehouse after the run", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("path")
    table.add_row("bronze", f"{summary.bronze_rows:,}", str(paths.bronze))
    table.add_row("silver", f"{summary.silver_rows:,}", str(paths.silver))
    table.add_row("quarantine", f"{summary.quarantine_rows:,}", str(paths.quarantine))
    table.add_row("duplicates removed", f"{summary.duplicates_removed:,}", "")
    table.add_row("silver rows with a field error", f"{summary.field_error_rows:,}", "")
    for model, rows in summary.gold_rows.items():
        table.add_row(f"gold: {model}", f"{rows:,}", str(paths.gold_table(model)))
    console = Console()
    console.print(table)
    if summary.quarantine_by_reason:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in summary.quarantine_by_reason.items())
        console.print(f"quarantine reasons: {reasons}")
    if summary.field_errors_by_code:
        codes = ", ".join(f"{code} {n:,}" for code, n in summary.field_errors_by_code.items())
        console.print(f"field errors (kept in silver, the field null): {codes}")


def run_from_args(args: argparse.Namespace, trigger: Trigger) -> int:
    """Run the pipeline with the parsed job options and ``trigger``, then print the summary."""
    paths = config.paths_from_args(args)
    spark = run_pipeline(
        paths,
        trigger,
        bronze_options_from_args(args),
        silver_options_from_args(args),
        gold_options_from_args(args),
    )
    try:
        print_summary(summarize(spark, paths), paths)
    finally:
        spark.stop()
    return 0


def run_command(args: argparse.Namespace) -> int:
    """CLI handler of ``clickstream pipeline run``."""
    return run_from_args(args, Trigger(available_now=args.available_now, interval=args.interval))
