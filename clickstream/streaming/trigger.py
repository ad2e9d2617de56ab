"""Triggers: how often a streaming job runs a batch, and when it stops."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_INTERVAL = "2 seconds"
STOP_WAIT_SECONDS = 120


@dataclass(frozen=True)
class Trigger:
    """When a query runs: every ``interval`` until stopped, or once over what is there now."""

    available_now: bool = False
    interval: str = DEFAULT_INTERVAL
    stop_at: datetime | None = None  # processing-time only: stop after the batch running then

    def writer_kwargs(self) -> dict[str, Any]:
        return {"availableNow": True} if self.available_now else {"processingTime": self.interval}

    def __str__(self) -> str:
        return "available-now" if self.available_now else f"processing-time every {self.interval}"


def add_trigger_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--trigger {processing-time,available-now}`` and ``--interval``."""
    parser.add_argument(
        "--trigger",
        choices=["processing-time", "available-now"],
        default="processing-time",
        help="processing-time: a batch every --interval until SIGTERM; "
        "available-now: drain what is there, then exit (default: processing-time)",
    )
    parser.add_argument(
        "--interval",
        type=parse_interval,
        default=DEFAULT_INTERVAL,
        help=f"trigger interval for processing-time (default: {DEFAULT_INTERVAL!r})",
    )
    parser.add_argument(
        "--stop-at",
        type=parse_stop_at,
        metavar="ISO",
        help="processing-time: stop after the batch running at this time (ISO-8601, UTC if no "
        "offset; default: run until SIGTERM)",
    )


# The processing-time intervals this product takes, all forms Spark's interval parser reads: a
# whole number and a full unit name, singular or plural, a fraction for seconds only. Anything
# else ('10 s', '2 secs', '1 min') is refused at parse time, before a JVM starts.
INTERVAL = re.compile(
    r"(?:\d+ +(?:millisecond|second|minute|hour)s?|\d+\.\d+ +seconds?)", re.IGNORECASE
)


def parse_interval(text: str) -> str:
    """``--interval`` value -> the same text, checked: ``<number> <unit>``, the unit one of
    millisecond(s), second(s), minute(s), hour(s) (``500 milliseconds``, ``2 seconds``, ``1 minute``)."""
    value = text.strip()
    if not INTERVAL.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not '<number> <unit>' with a unit of millisecond(s), second(s), "
            "minute(s) or hour(s), e.g. '2 seconds'"
        )
    return value


def parse_stop_at(text: str) -> datetime:
    """``--stop-at`` value -> an aware datetime (UTC when the text has no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def trigger_from_args(args: argparse.Namespace) -> Trigger:
    return Trigger(
        available_now=args.trigger == "available-now",
        interval=args.interval,
        stop_at=args.stop_at,
    )
