"""Silver streaming job: bronze -> silver (valid, typed, deduplicated) and quarantine (rejected).

Run it (``clickstream submit`` adds ``--master``, ``--jars`` and the shared ``--conf``; ``--print``
shows the spark-submit command instead of running it)::

    .venv/bin/clickstream submit silver --trigger available-now
    .venv/bin/clickstream submit silver --print

In: ``<data>/bronze/events``. Out: ``<data>/silver/events`` (one row per unique valid
``event_id``: ``event_time``, ``price`` decimal(12,2), ``quantity``, ``revenue``, ``event_hour``,
partitioned by ``event_date``, guarded by NOT NULL and CHECK constraints) and
``<data>/quarantine/events`` (``rejection_reasons``, ``raw_line``, ``source_file``). Checkpoints:
``<data>/checkpoints/silver`` and ``<data>/checkpoints/quarantine``. SIGTERM stops both after
their current batch.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.streaming.job_runner import run_streaming_job
from clickstream.streaming.layer_streams import (
    SILVER_QUERIES,
    add_silver_arguments,
    silver_options_from_args,
    start_silver,
)
from clickstream.streaming.trigger import add_trigger_arguments, trigger_from_args


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    add_trigger_arguments(parser)
    add_silver_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = config.paths_from_args(args)
    trigger = trigger_from_args(args)
    options = silver_options_from_args(args)
    spark = run_streaming_job(
        "clickstream-silver",
        paths,
        SILVER_QUERIES,
        [lambda spark: start_silver(spark, paths, trigger, options)],
        stop_at=trigger.stop_at,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
