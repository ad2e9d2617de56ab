"""The reliability summary: faults injected by kind, rows lost, duplicates, one line per fault kind.

Input: one ``Outcome`` per scenario, recorded by the tests. Output: a table for the terminal (pytest's
terminal summary, see ``conftest.py``) and the same text in ``SUMMARY_FILE`` (git-ignored).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SUMMARY_FILE = Path(__file__).resolve().parents[2] / ".reliability" / "summary.txt"


@dataclass(frozen=True)
class Outcome:
    """What one scenario injected (fault kind -> count) and what the tables lost or repeated."""

    scenario: str
    faults: dict[str, int]
    rows_lost: int
    duplicates: int


OUTCOMES: list[Outcome] = []


def record(outcome: Outcome) -> None:
    OUTCOMES.append(outcome)


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
