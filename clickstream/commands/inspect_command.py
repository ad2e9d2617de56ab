"""``clickstream inspect tables``: the lakehouse's Delta tables, their history and rows, no JVM.

Input: the parsed arguments (lakehouse path flags, ``TABLE ...``, ``--history``, ``--as-of``,
``--sample``, ``--json``). Output: rich tables on stdout (with silver's field errors by code), or
one JSON document with ``--json``;
exit code 0 (a table that does not exist, or a version it lacks, is an error: exit 3).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from clickstream.commands.generate_command import add_inspect_child
from clickstream.core import config
from clickstream.core.errors import ClickstreamError
from clickstream.lakehouse.table_inspect import (
    field_error_counts,
    find_table,
    lakehouse_summary,
    parse_as_of,
    sample_rows,
    table_history,
)

SUMMARY_COLUMNS = (
    "table",
    "rows",
    "size",
    "files",
    "version",
    "last commit (UTC)",
    "partitioned by",
)


def add_inspect_tables(children: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``inspect tables [TABLE ...] [--history TABLE] [--as-of V|TIME] [--sample N] [--json]``."""
    child = add_inspect_child(
        children,
        "tables",
        run_inspect_tables,
        "every Delta table: rows, size, files, version, last commit, partitions (no JVM)",
    )
    child.add_argument(
        "tables",
        nargs="*",
        default=[],
        metavar="TABLE",
        help="bronze, silver, quarantine or a gold model (default: every table)",
    )
    child.add_argument(
        "--history", default=None, metavar="TABLE", help="show the Delta history of one table"
    )
    child.add_argument(
        "--as-of",
        default=None,
        metavar="VERSION|TIME",
        help="time travel: the tables as of a version number or an ISO-8601 time (UTC if naive)",
    )
    child.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="also show the first N rows of each table",
    )
    child.add_argument("--json", action="store_true", default=False, help="print JSON, not tables")
    return child


def run_inspect_tables(args: argparse.Namespace) -> int:
    """Gather what was asked (summary or history, samples), then print it as tables or JSON."""
    paths = config.paths_from_args(args)
    as_of = parse_as_of(args.as_of)
    document: dict[str, Any] = {}
    if args.history and (as_of is not None or args.sample or args.tables):
        raise ClickstreamError("--history TABLE lists every version: no TABLE, --as-of or --sample")
    if args.history:
        name, path = find_table(paths, args.history)
        document["history"] = {"table": name, "commits": table_history(path)}
    else:
        document["tables"] = lakehouse_summary(paths, args.tables, as_of)
        silver = [summary for summary in document["tables"] if summary["table"] == "silver"]
        if silver:
            document["field_errors"] = field_error_counts(Path(silver[0]["path"]), as_of)
        if args.sample > 0:
            document["samples"] = {
                summary["table"]: sample_rows(Path(summary["path"]), args.sample, as_of)
                for summary in document["tables"]
            }
    if args.json:
        print(json.dumps(document, indent=2, default=json_value))
    else:
        print_document(document, as_of)
    return 0


def print_document(document: dict[str, Any], as_of) -> None:
    console = Console()
    if not console.is_terminal:  # a pipe or a log: rich would assume 80 columns and wrap names
        console = Console(width=160)
    if "history" in document:
        console.print(history_table(document["history"]))
        return
    title = "Delta tables" + (f" as of {as_of}" if as_of is not None else "")
    if not document["tables"]:
        console.print(f"{title}: none yet (run the pipeline first)")
    else:
        console.print(summary_table(document["tables"], title))
    field_errors = document.get("field_errors")
    if field_errors:
        codes = ", ".join(f"{code} {n:,}" for code, n in field_errors["by_code"].items())
        console.print(
            f"silver rows with a field error (kept, the field null): {field_errors['rows']:,}"
            + (f" ({codes})" if codes else "")
        )
    for name, rows in document.get("samples", {}).items():
        console.print(rows_table(rows, f"{name}: first {len(rows)} rows"))


def summary_table(summaries: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in SUMMARY_COLUMNS:
        numeric = column in {"rows", "size", "files", "version"}
        wraps = column in {"table", "partitioned by"}  # narrow terminals fold names, not figures
        table.add_column(
            column,
            justify="right" if numeric else "left",
            no_wrap=not wraps,
            overflow="fold",
        )
    for summary in summaries:
        table.add_row(
            summary["table"],
            f"{summary['rows']:,}",
            human_bytes(summary["bytes"]),
            f"{summary['files']:,}",
            str(summary["version"]),
            f"{summary['last_commit']:%Y-%m-%d %H:%M}" if summary["last_commit"] else "",
            ", ".join(summary["partition_columns"]),
        )
    return table


def history_table(history: dict[str, Any]) -> Table:
    table = Table(title=f"history of {history['table']}", title_justify="left")
    for column in ("version", "time (UTC)", "operation", "parameters", "metrics"):
        table.add_column(column, overflow="fold")
    for commit in history["commits"]:
        table.add_row(
            str(commit["version"]),
            f"{commit['timestamp']:%Y-%m-%d %H:%M:%S}" if commit["timestamp"] else "",
            commit["operation"] or "",
            short_pairs(commit["parameters"]),
            short_pairs(commit["metrics"]),
        )
    return table


def rows_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else ["(no rows)"]:
        table.add_column(column, overflow="fold", max_width=40)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row.values()))
    return table


def json_value(value: Any) -> str:
    """Times as ISO-8601, decimals and anything else as their text."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def short_pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items())


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(count)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{count} B" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GiB"
