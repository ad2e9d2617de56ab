"""``clickstream pipeline run``: every streaming job in one Spark application, for local use.

Input: the lakehouse paths, a trigger and the job options. Output: bronze, silver, quarantine and
the gold models kept up to date until Ctrl-C / SIGTERM (processing-time), or drained once layer by
layer and then exit (``--trigger available-now``); then a summary of what the tables hold.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from clickstream.core import config
from clickstream.gold.run_options import (
    GoldOptions,
    add_full_refresh_argument,
    add_gold_arguments,
    gold_checkpoints,
    gold_options_from_args,
    gold_stages,
)
from clickstream.pipeline.reconcile import print_summary, summarize
from clickstream.streaming.job_runner import run_streaming_job
from clickstream.streaming.layer_streams import (
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
from clickstream.streaming.trigger import Trigger, add_trigger_arguments, trigger_from_args

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``clickstream pipeline run`` and of the pipeline Spark job: the same ones."""
    add_trigger_arguments(parser)
    add_bronze_arguments(parser)
    add_silver_arguments(parser)
    add_gold_arguments(parser)
    add_full_refresh_argument(parser)


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
    return run_from_args(args, trigger_from_args(args))
