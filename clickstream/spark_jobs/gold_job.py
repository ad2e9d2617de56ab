"""Gold streaming job: the SQL models of ``sql/gold/`` as streaming queries, in dependency order.

Run it (``clickstream submit`` adds ``--master``, ``--jars`` and the shared ``--conf``)::

    .venv/bin/clickstream submit gold --trigger available-now
    .venv/bin/clickstream submit gold --select revenue_by_product_5m --full-refresh

In: silver (``{{ ref('silver_events') }}``) and upstream gold tables, streamed with each model's
watermark. Out: ``<data>/gold/<model>`` Delta tables (append or upsert-by-key, per the model's
``config()``). Checkpoints: ``<data>/checkpoints/gold/<model>``, each holding the fingerprint of
its model; a changed model is refused until run with ``--full-refresh``. SIGTERM stops every query
after its current batch.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.gold.run_options import (
    add_full_refresh_argument,
    add_gold_arguments,
    gold_checkpoints,
    gold_options_from_args,
    gold_stages,
)
from clickstream.streaming.job_runner import run_streaming_job
from clickstream.streaming.trigger import add_trigger_arguments, trigger_from_args


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    add_trigger_arguments(parser)
    add_gold_arguments(parser)
    add_full_refresh_argument(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = config.paths_from_args(args)
    trigger = trigger_from_args(args)
    options = gold_options_from_args(args)
    spark = run_streaming_job(
        "clickstream-gold",
        paths,
        gold_checkpoints(options),
        gold_stages(paths, trigger, options),
        stop_at=trigger.stop_at,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
