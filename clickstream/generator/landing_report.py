"""What the generator shows people: a live progress line, the run summary, the raw-folder report.

Input: a ``RunSummary`` (``engine``) or a ``RawReport`` and ``Ledger`` (``inspect_raw``, ``ledger``).
Output: rich renderings; progress goes to stderr and only on a terminal, tables to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from clickstream.core.event_schema import EVENT_TYPES
from clickstream.generator.engine import RunSummary
from clickstream.generator.inspect_raw import RawReport
from clickstream.generator.ledger import MALFORMED_KINDS, Ledger


@contextmanager
def live_progress() -> Iterator[Callable[[RunSummary], None] | None]:
    """A callback that refreshes one progress line on stderr, or None when stderr is no terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def update(summary: RunSummary) -> None:
            progress.update(
                task,
                description=(
                    f"{summary.events:,} events  {len(summary.files):,} files  "
                    f"{summary.events_per_second:,.0f} events/s"
                ),
            )

        yield update


def summary_table(summary: RunSummary) -> Table:
    """The end-of-run summary: what landed where, faults by kind, speed."""
    table = Table(title=f"clickstream generate ({summary.mode})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("output folder", str(summary.out))
    table.add_row("seed", str(summary.seed))
    table.add_row("files", f"{len(summary.files):,}")
    table.add_row("lines", f"{summary.lines:,}")
    table.add_row("valid events", f"{summary.events:,}")
    for event_type in EVENT_TYPES:
        table.add_row(f"  {event_type}", f"{summary.events_by_type[event_type]:,}")
    table.add_row("duplicates", f"{summary.duplicates:,}")
    table.add_row("late events", f"{summary.late_events:,}")
    table.add_row("out-of-order events", f"{summary.out_of_order_events:,}")
    table.add_row("malformed lines", f"{sum(summary.malformed_by_kind.values()):,}")
    for kind in MALFORMED_KINDS:
        table.add_row(f"  {kind}", f"{summary.malformed_by_kind[kind]:,}")
    if summary.field_errors_by_kind:
        field_errors = sum(summary.field_errors_by_kind.values())
        table.add_row("valid events with a field error", f"{field_errors:,}")
        for kind, count in sorted(summary.field_errors_by_kind.items()):
            table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("bot users", f"{len(summary.bot_user_ids):,}")
    table.add_row("elapsed", f"{summary.elapsed:.2f} s")
    table.add_row("events/s", f"{summary.events_per_second:,.0f}")
    table.add_row("MB/s", f"{summary.bytes / 1e6 / max(summary.elapsed, 1e-9):,.1f}")
    return table


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    (console or Console(file=sys.stdout)).print(summary_table(summary))


def _iso(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def raw_report_table(report: RawReport, ledger: Ledger | None) -> Table:
    """What the files hold, found by reading them, beside what their ledger says."""
    table = Table(title="clickstream inspect raw", title_justify="left")
    table.add_column("metric")
    table.add_column("files say", justify="right")
    if ledger is not None:
        table.add_column("ledger says", justify="right")

    def row(name: str, found: object, recorded: object = "") -> None:
        cells = [name, f"{found:,}" if isinstance(found, int) else str(found)]
        if ledger is not None:
            cells.append(f"{recorded:,}" if isinstance(recorded, int) else str(recorded))
        table.add_row(*cells)

    kinds = report.malformed_by_kind
    recorded_kinds = ledger.malformed_by_kind if ledger else kinds
    row("files", len(report.files), len(ledger.files) if ledger else "")
    row("files without ledger", len(report.files_without_ledger))
    row("lines", report.lines, ledger.lines if ledger else "")
    row("valid events", len(report.valid_event_ids), ledger.unique_valid_events if ledger else "")
    for event_type in EVENT_TYPES:
        recorded = ledger.events_by_type[event_type] if ledger else ""
        row(f"  {event_type}", report.events_by_type[event_type], recorded)
    row("duplicates", report.duplicates, ledger.duplicates if ledger else "")
    late_label = f"late (> {report.late_after_seconds:g} s behind file time)"
    row(late_label, report.late_events, ledger.late_events if ledger else "")
    recorded_disorder = len(ledger.out_of_order_event_ids) if ledger else ""
    row("out of order", report.out_of_order_events, recorded_disorder)
    row("malformed lines", len(report.malformed), ledger.malformed_lines if ledger else "")
    for kind in sorted(set(MALFORMED_KINDS) | set(kinds)):
        row(f"  {kind}", kinds[kind], recorded_kinds[kind] if ledger else "")
    recorded_field_errors = ledger.field_error_events if ledger else ""
    row("valid events with a field error", len(report.field_errors), recorded_field_errors)
    row(
        "bot users (> 50 events/min)",
        len(report.bot_user_ids),
        len(ledger.bot_user_ids) if ledger else "",
    )
    row("first event", _iso(report.first_event_ms))
    row("last event", _iso(report.last_event_ms))
    return table


def print_raw_report(report: RawReport, ledger: Ledger | None) -> None:
    Console(file=sys.stdout).print(raw_report_table(report, ledger))
