"""The pipeline's tables counted, and checked against the generator's ground truth.

Input: the lakehouse's tables (``summarize``: a ``PipelineSummary`` of row counts) and the
``Ledger`` of the raw folder.
Output: one ``Reconciliation`` per identity that must hold once every raw file has been drained:
raw lines = bronze rows, unique valid events = silver rows, malformed lines = quarantine rows, and
(counted apart: they are valid events, in silver) events with a wrong optional field = silver rows
with a field error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core import config
from clickstream.lakehouse.delta_log import delta_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from clickstream.generator.ledger import Ledger


@dataclass(frozen=True)
class PipelineSummary:
    """What the tables hold after a run."""

    bronze_rows: int
    silver_rows: int
    quarantine_rows: int
    duplicates_removed: int
    quarantine_by_reason: dict[str, int]
    field_error_rows: int
    field_errors_by_code: dict[str, int]
    gold_rows: dict[str, int]


def summarize(spark: SparkSession, paths: config.LakehousePaths) -> PipelineSummary:
    """Row counts of every table; duplicates removed = valid bronze rows not in silver."""
    from pyspark.sql import functions as F

    def count(path) -> int:
        return spark.read.format("delta").load(str(path)).count()

    bronze_rows, silver_rows = count(paths.bronze), count(paths.silver)

    def counts_of_codes(path, column: str) -> dict[str, int]:
        """How often each code of an array column occurs in the table."""
        codes = spark.read.format("delta").load(str(path)).select(F.explode(column).alias("code"))
        return {row.code: row["count"] for row in sorted(codes.groupBy("code").count().collect())}

    quarantine_rows = count(paths.quarantine)
    silver = spark.read.format("delta").load(str(paths.silver))
    field_error_rows = silver.where(F.size("field_errors") > 0).count()
    gold_tables = [path for name, path in delta_tables(paths).items() if name.startswith("gold.")]
    return PipelineSummary(
        bronze_rows=bronze_rows,
        silver_rows=silver_rows,
        quarantine_rows=quarantine_rows,
        duplicates_removed=bronze_rows - quarantine_rows - silver_rows,
        quarantine_by_reason=counts_of_codes(paths.quarantine, "rejection_reasons"),
        field_error_rows=field_error_rows,
        field_errors_by_code=counts_of_codes(paths.silver, "field_errors"),
        gold_rows={path.name: count(path) for path in gold_tables},
    )


def print_summary(summary: PipelineSummary, paths: config.LakehousePaths) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lakehouse after the run", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("path")
    table.add_row("bronze", f"{summary.bronze_rows:,}", str(paths.bronze))
    table.add_row("silver", f"{summary.silver_rows:,}", str(paths.silver))
    table.add_row("quarantine", f"{summary.quarantine_rows:,}", str(paths.quarantine))
    table.add_row("duplicates removed", f"{summary.duplicates_removed:,}", "")
    table.add_row("silver rows with a field error", f"{summary.field_error_rows:,}", "")
    for model, rows in summary.gold_rows.items():
        table.add_row(f"gold: {model}", f"{rows:,}", str(paths.gold_table(model)))
    console = Console()
    console.print(table)
    if summary.quarantine_by_reason:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in summary.quarantine_by_reason.items())
        console.print(f"quarantine reasons: {reasons}")
    if summary.field_errors_by_code:
        codes = ", ".join(f"{code} {n:,}" for code, n in summary.field_errors_by_code.items())
        console.print(f"field errors (kept in silver, the field null): {codes}")


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
