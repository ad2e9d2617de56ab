"""The pipeline's tables checked against the generator's ground truth.

Input: a ``PipelineSummary`` (row counts of the tables) and the ``Ledger`` of the raw folder.
Output: one ``Reconciliation`` per identity that must hold once every raw file has been drained:
raw lines = bronze rows, unique valid events = silver rows, malformed lines = quarantine rows, and
(counted apart: they are valid events, in silver) events with a wrong optional field = silver rows
with a field error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clickstream.generator.ledger import Ledger
    from clickstream.pipeline import PipelineSummary


@dataclass(frozen=True)
class Reconciliation:
    """One identity: what the ledger says against what the table holds."""

    name: str
    expected: int
    actual: int

    @property
    def holds(self) -> bool:
        return self.expected == self.actual

    def __str__(self) -> str:
        verdict = "ok" if self.holds else f"MISMATCH ({self.actual - self.expected:+,})"
        return f"{self.name}: ledger {self.expected:,}, table {self.actual:,}: {verdict}"


def reconcile(summary: PipelineSummary, ledger: Ledger) -> list[Reconciliation]:
    """Every identity between the ledger and the drained tables."""
    return [
        Reconciliation("raw lines = bronze rows", ledger.lines, summary.bronze_rows),
        Reconciliation(
            "unique valid events = silver rows", ledger.unique_valid_events, summary.silver_rows
        ),
        Reconciliation(
            "malformed lines = quarantine rows", ledger.malformed_lines, summary.quarantine_rows
        ),
        Reconciliation(
            "field-error events = silver rows with a field error",
            ledger.field_error_events,
            summary.field_error_rows,
        ),
    ]


def print_reconciliation(summary: PipelineSummary, raw_dir: Path) -> bool:
    """Print each identity against the ledger of ``raw_dir``; True if all hold."""
    from clickstream.generator.ledger import load_ledger

    checks = reconcile(summary, load_ledger(raw_dir))
    for check in checks:
        print(check)
    return all(check.holds for check in checks)
