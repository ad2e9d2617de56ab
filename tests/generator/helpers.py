"""Helpers for the generator tests: run the generator, read back what it landed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clickstream.generator.engine import GeneratorSettings, RunSummary, generate
from clickstream.generator.faults import FaultSettings
from clickstream.generator.inspect_raw import classify_line, data_files, split_lines
from clickstream.generator.sessions import FunnelSettings

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def backfill(
    out: Path,
    minutes: float,
    rate: float,
    seed: int = 7,
    faults: FaultSettings | None = None,
    funnel: FunnelSettings | None = None,
    interval: float = 10.0,
) -> RunSummary:
    """Backfill ``minutes`` of events from START into ``out``."""
    settings = GeneratorSettings(
        out=out,
        rate=rate,
        interval=interval,
        start=START,
        end=START + timedelta(minutes=minutes),
        seed=seed,
        faults=faults or FaultSettings(),
        funnel=funnel or FunnelSettings(),
    )
    return generate(settings)


@dataclass
class Line:
    """One raw line as read back: where it is, its bytes, and the event if it is valid."""

    file: str
    number: int
    raw: bytes
    event: dict[str, Any] | None
    kind: str | None


def read_lines(folder: Path) -> list[Line]:
    """Every line of every data file in ``folder``, in file order, classified."""
    lines = []
    for path in data_files(folder):
        for number, raw in enumerate(split_lines(path.read_bytes()), start=1):
            kind, event = classify_line(raw)
            lines.append(Line(path.name, number, raw, event, kind))
    return lines


def valid_events(folder: Path) -> list[dict[str, Any]]:
    """The valid events, first occurrence of each id only, in file order."""
    seen: set[str] = set()
    events = []
    for line in read_lines(folder):
        if line.event is not None and line.event["event_id"] not in seen:
            seen.add(line.event["event_id"])
            events.append(line.event)
    return events


def ledger_documents(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_bytes()) for path in sorted((folder / "_ledger").glob("*.json"))]


def epoch_ms(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp).timestamp() * 1000)
