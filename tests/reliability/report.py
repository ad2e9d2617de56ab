"""The reliability summary: faults injected by kind, rows lost, duplicates, one line per fault kind.

Input: one ``Outcome`` per scenario, attached by the tests to their test report (``record_outcome``
in ``conftest.py``: it reaches pytest's main process from an xdist worker too). Output: a table for
the terminal (the terminal summary of ``tests/conftest.py``) and the same text in ``SUMMARY_FILE``
(git-ignored).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

SUMMARY_FILE = Path(__file__).resolve().parents[2] / ".reliability" / "summary.txt"


@dataclass(frozen=True)
class Outcome:
    """What one scenario injected (fault kind -> count) and what the tables lost or repeated."""

    scenario: str
    faults: dict[str, int]
    rows_lost: int
    duplicates: int


PROPERTY = "reliability_outcome"  # the name of an Outcome among a test report's user_properties


def as_property(outcome: Outcome) -> tuple[str, dict]:
    """``outcome`` as one of a test report's ``user_properties`` (plain data: xdist sends it on)."""
    return PROPERTY, asdict(outcome)


def outcomes_of(test_report) -> list[Outcome]:
    """The outcomes a test recorded, from the report of its call phase (none from other phases:
    setup and teardown reports carry the same properties)."""
    if test_report.when != "call":
        return []
    return [Outcome(**value) for name, value in test_report.user_properties if name == PROPERTY]


def render(outcomes: list[Outcome]) -> str:
    """The summary table as plain text."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="reliability: faults injected, rows lost, duplicates", title_justify="left")
    for name, justify in [
        ("scenario", "left"),
        ("fault", "left"),
        ("injected", "right"),
        ("rows lost", "right"),
        ("duplicates", "right"),
    ]:
        table.add_column(name, justify=justify)
    for outcome in outcomes:
        for number, (kind, count) in enumerate(outcome.faults.items()):
            first = number == 0
            table.add_row(
                outcome.scenario if first else "",
                kind,
                f"{count:,}",
                f"{outcome.rows_lost:,}" if first else "",
                f"{outcome.duplicates:,}" if first else "",
            )
        table.add_section()
    buffer = io.StringIO()
    Console(file=buffer, width=110, no_color=True).print(table)
    return buffer.getvalue()


def lost_and_repeated(expected: Counter, actual: Counter) -> tuple[int, int]:
    """(rows expected but missing, rows present more often than expected or not at all)."""
    return sum((expected - actual).values()), sum((actual - expected).values())
