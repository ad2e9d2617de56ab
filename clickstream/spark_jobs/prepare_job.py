"""Prepare the lakehouse: bronze, silver (with its NOT NULL and CHECK constraints) and quarantine.

Run it: ``.venv/bin/clickstream submit prepare``. Idempotent: existing tables are kept, missing
constraints are added. The streaming jobs create missing tables too; running this first lets
several jobs start at once without racing to create them.
"""

from __future__ import annotations

import argparse
import sys

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.core.logs import configure_logging
from clickstream.lakehouse.table_setup import prepare_lakehouse
from clickstream.spark.session import build_spark_session


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    paths = config.paths_from_args(parse_args(argv))
    configure_logging()
    spark = build_spark_session("clickstream-prepare")
    try:
        prepare_lakehouse(spark, paths)
    finally:
        spark.stop()
    print(f"lakehouse ready under {paths.root}")
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
