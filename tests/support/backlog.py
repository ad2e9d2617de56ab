"""Helpers for the bronze/silver tests: a generated backlog with every fault, and a drain."""

from __future__ import annotations

import datetime as dt

from clickstream import cli
from clickstream.core.config import LakehousePaths
from clickstream.streaming.layer_streams import (
    BronzeOptions,
    SilverOptions,
    start_bronze,
    start_silver,
)
from clickstream.streaming.trigger import Trigger

# Every fault kind at once, at rates high enough to appear in a few minutes of events.
FAULT_FLAGS = [
    "--duplicate-rate", "0.03",
    "--late-rate", "0.03",
    "--out-of-order-rate", "0.05",
    "--malformed-rate", "0.03",
    "--field-error-rate", "0.03",
    "--bot-rate", "0.02",
]  # fmt: skip


def recent_hour(hours_ago: int = 3) -> dt.datetime:
    """A whole hour safely in the past, so no event is 'in the future' for validation."""
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    return now - dt.timedelta(hours=hours_ago)


def generate_backlog(
    paths: LakehousePaths, start: dt.datetime, minutes: int, seed: int, rate: int = 40
) -> None:
    """Backfill ``minutes`` of events with every fault kind into the raw folder."""
    end = start + dt.timedelta(minutes=minutes)
    code = cli.main(
        [
            "generate",
            "--out", str(paths.raw),
            "--start", start.isoformat(),
            "--end", end.isoformat(),
            "--rate", str(rate),
            "--seed", str(seed),
            *FAULT_FLAGS,
        ]
    )  # fmt: skip
    assert code == 0


def drain(spark, paths: LakehousePaths, bronze: BronzeOptions | None = None) -> None:
    """Run bronze, then silver and quarantine, available-now, in the test session."""
    trigger = Trigger(available_now=True)
    for query in start_bronze(spark, paths, trigger, bronze or BronzeOptions()):
        query.awaitTermination()
    for query in start_silver(spark, paths, trigger, SilverOptions()):
        query.awaitTermination()
