"""``clickstream demo``: the main job on embedded defaults, end to end, in one command.

Input: the lakehouse paths and the size of the backlog. Output: a generated backlog of shopper
events with every kind of fault (the last ``minutes`` of event time), the pipeline drained over it
(available-now), and a printed summary reconciled against the generator's ledger.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from clickstream.core import config

# Fault rates of the demo backlog: every kind shows up in ten minutes of events.
DEMO_FAULTS = {
    "duplicate_rate": 0.01,
    "late_rate": 0.01,
    "out_of_order_rate": 0.02,
    "malformed_rate": 0.005,
    "field_error_rate": 0.005,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--minutes",
        type=int,
        default=60,
        help="minutes of event time to generate (default: 60: enough for sessions and funnel "
        "windows to close behind their watermarks)",
    )
    parser.add_argument(
        "--rate", type=float, default=30.0, help="events per second of event time (default: 30)"
    )
    parser.add_argument("--seed", type=int, help="make the generated events reproducible")


def run_command(args: argparse.Namespace) -> int:
    """CLI handler: generate, drain, summarise, reconcile."""
    # Faker (generator) and the job modules load here, not when the CLI parser is built.
    from clickstream.generator.engine import GeneratorSettings, generate
    from clickstream.generator.faults import FaultSettings
    from clickstream.gold.run_options import GoldOptions
    from clickstream.pipeline.pipeline_run import run_pipeline
    from clickstream.pipeline.reconcile import print_reconciliation, print_summary, summarize
    from clickstream.spark.jars import required_jars
    from clickstream.streaming.layer_streams import BronzeOptions, SilverOptions
    from clickstream.streaming.trigger import Trigger

    required_jars()  # fail in one line before generating anything
    paths = config.paths_from_args(args)
    end = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
    start = end - timedelta(minutes=args.minutes)
    print(f"== generating {args.minutes} min of shopper events into {paths.raw}")
    generated = generate(
        GeneratorSettings(
            out=paths.raw,
            rate=args.rate,
            start=start,
            end=end,
            seed=args.seed,
            faults=FaultSettings(**DEMO_FAULTS),
        )
    )
    print(
        f"   {generated.events:,} events in {len(generated.files)} files "
        f"({generated.events_per_second:,.0f} events/s)"
    )
    print("== draining raw -> bronze -> silver + quarantine -> gold models (available-now)")
    spark = run_pipeline(
        paths, Trigger(available_now=True), BronzeOptions(), SilverOptions(), GoldOptions()
    )
    try:
        summary = summarize(spark, paths)
    finally:
        spark.stop()
    print_summary(summary, paths)
    return 0 if print_reconciliation(summary, paths.raw) else 1
