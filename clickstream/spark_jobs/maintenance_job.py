"""Lakehouse maintenance: OPTIMIZE and VACUUM every Delta table, archive ingested raw files, prune
old metrics, and report sizes and file counts.

Run it: ``.venv/bin/clickstream submit maintenance [--metrics-days 7]``. VACUUM keeps what each
table's ``delta.deletedFileRetentionDuration`` says (7 days unless set).
Safe while the streaming jobs run (see ``clickstream.lakehouse.maintenance``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from clickstream.core import config, metrics_store
from clickstream.core.errors import run_entry_point
from clickstream.core.logs import configure_logging
from clickstream.lakehouse.delta_log import delta_tables
from clickstream.lakehouse.maintenance import archive_raw_files, folder_size, maintain_table
from clickstream.spark.session import build_spark_session


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    config.add_path_arguments(parser)
    parser.add_argument(
        "--metrics-days",
        type=float,
        default=7,
        help="drop metrics records of batches older than this (default: 7)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = config.paths_from_args(args)
    configure_logging()
    print(f"archived {archive_raw_files(paths):,} ingested raw files into {paths.archive}")
    cutoff = datetime.now(UTC) - timedelta(days=args.metrics_days)
    pruned = metrics_store.prune_batches(paths.metrics, cutoff)
    print(f"pruned {sum(pruned.values()):,} metrics records older than {cutoff:%Y-%m-%d %H:%M}Z")
    spark = build_spark_session("clickstream-maintenance")
    try:
        reports = [maintain_table(spark, name, path) for name, path in delta_tables(paths).items()]
    finally:
        spark.stop()
    print(f"{'table':32} {'version':>11} {'live files':>12} {'MB':>15} {'files on disk':>15}")
    for r in reports:
        print(
            f"{r.name:32} {r.version_before:>5}->{r.version_after:<5} "
            f"{r.live_files_before:>5}->{r.live_files_after:<6} "
            f"{r.bytes_before / 1e6:>7.2f}->{r.bytes_after / 1e6:<7.2f} "
            f"{r.disk_files_before:>7}->{r.disk_files_after:<7}"
        )
    for name in ("raw", "archive"):
        files, size = folder_size(getattr(paths, name))
        print(f"{name} folder: {files:,} files, {size / 1e6:,.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
