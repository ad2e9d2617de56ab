"""Report on the lakehouse: rows per table, reconciliation with the generator's ledger, gold tests.

Run it after the tables are drained: ``.venv/bin/clickstream submit report``. Prints the summary
table, each ledger identity (raw lines = bronze rows, unique valid events = silver rows, malformed
lines = quarantine rows) and every gold model test. Exit 1 if an identity or a test fails.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.core.logs import configure_logging
from clickstream.gold.model_checks import print_results, run_model_tests
from clickstream.gold.run_options import (
    add_gold_arguments,
    gold_options_from_args,
    load_selected,
)
from clickstream.pipeline.reconcile import print_reconciliation, print_summary, summarize
from clickstream.spark.session import build_spark_session


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    add_gold_arguments(parser)  # no --full-refresh: the report reads the tables, never rebuilds
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = config.paths_from_args(args)
    project, models = load_selected(gold_options_from_args(args))
    configure_logging()
    spark = build_spark_session("clickstream-report")
    try:
        summary = summarize(spark, paths)
        results = run_model_tests(spark, project, paths, models)
    finally:
        spark.stop()
    print_summary(summary, paths)
    reconciled = print_reconciliation(summary, paths.raw)
    print_results(results)
    return 0 if reconciled and all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
