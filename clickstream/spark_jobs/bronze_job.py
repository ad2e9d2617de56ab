"""Bronze streaming job: raw JSON-lines files -> the bronze Delta table, exactly once.

Run it (``clickstream submit`` adds ``--master``, ``--jars`` and the shared ``--conf``; ``--print``
shows the spark-submit command instead of running it)::

    .venv/bin/clickstream submit bronze --trigger available-now
    .venv/bin/clickstream submit bronze --print

In: ``<data>/raw/events/*.json``. Out: ``<data>/bronze/events``, one row per raw line:
``raw_line`` as it arrived, ``source_file``, ``source_modified_at``, ``ingestion_timestamp``,
partitioned by ``ingestion_date`` (silver parses). Checkpoint: ``<data>/checkpoints/bronze``. Per-batch figures:
``<data>/metrics/streaming/bronze.jsonl``. SIGTERM stops it after the current batch.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.streaming.job_runner import run_streaming_job
from clickstream.streaming.layer_streams import (
    BRONZE_QUERIES,
    add_bronze_arguments,
    bronze_options_from_args,
    start_bronze,
)
from clickstream.streaming.trigger import add_trigger_arguments, trigger_from_args


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    add_trigger_arguments(parser)
    add_bronze_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = config.paths_from_args(args)
    trigger = trigger_from_args(args)
    options = bronze_options_from_args(args)
    spark = run_streaming_job(
        "clickstream-bronze",
        paths,
        BRONZE_QUERIES,
        [lambda spark: start_bronze(spark, paths, trigger, options)],
        stop_at=trigger.stop_at,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
