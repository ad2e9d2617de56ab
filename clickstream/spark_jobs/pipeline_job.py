"""Pipeline job: bronze, silver and the gold models in one Spark application.

Run it (``clickstream submit`` adds ``--master``, ``--jars`` and the shared ``--conf``)::

    .venv/bin/clickstream submit pipeline --trigger available-now
    .venv/bin/clickstream submit pipeline --select revenue_by_product_5m --stop-at 2026-01-01T12:00:00Z

In: the raw folder. Out: bronze, silver, quarantine and the selected gold tables, through the same
checkpoints as the per-layer jobs (so exactly once with them; their locks keep the two apart).
available-now drains layer by layer (bronze, then silver, then each model) and exits: one JVM
instead of three, which is what the streaming DAG's drain runs. processing-time runs every query at
once until SIGTERM or ``--stop-at``. Prints the rows of every table at the end.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.pipeline.pipeline_run import add_arguments, run_from_args
from clickstream.streaming.trigger import trigger_from_args


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_from_args(args, trigger_from_args(args))


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
