"""Delta table metadata, history and time travel without a JVM (the ``deltalake`` package).

Input: the lakehouse paths (``clickstream.lakehouse.delta_log.delta_tables`` names every table) or one
table's folder. Output: plain dicts and lists, ready for a terminal table or JSON: per table its
rows, size, files, version, last commit time and partition columns (all from the Delta log and its
file statistics, no data read); a table's history; a few rows of the table as of a version or time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clickstream.core.config import LakehousePaths
from clickstream.core.errors import ClickstreamError
from clickstream.lakehouse.delta_log import delta_tables


def find_table(paths: LakehousePaths, name: str) -> tuple[str, Path]:
    """The table called ``name``; a gold model may be named without its ``gold.`` prefix."""
    tables = delta_tables(paths)
    for candidate in (name, f"gold.{name}"):
        if candidate in tables:
            return candidate, tables[candidate]
    known = ", ".join(tables) or "none yet"
    raise ClickstreamError(f"no Delta table {name!r} in {paths.root} (tables: {known})")


def parse_as_of(value: str | None) -> int | datetime | None:
    """``--as-of``: a version number, or an ISO-8601 time (naive = UTC)."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ClickstreamError(
            f"--as-of {value!r}: give a version number or a time such as 2026-11-27T10:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_table(path: Path, as_of: int | datetime | None = None):
    """The ``deltalake.DeltaTable`` at ``path``, loaded as of a version or time if given.

    A time before the table's first commit is an error (deltalake would load version 0).
    """
    from deltalake import DeltaTable

    table = DeltaTable(path)
    if as_of is None:
        return table
    if isinstance(as_of, datetime):
        first = commit_time(table.history()[-1].get("timestamp"))
        if first is not None and as_of < first:
            raise ClickstreamError(f"{path}: no version as of {as_of}: created at {first}")
    try:
        table.load_as_version(as_of)
    except Exception as error:  # deltalake raises its own errors for a version it lacks
        raise ClickstreamError(f"{path}: no version as of {as_of}: {error}") from None
    return table


def commit_time(milliseconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(milliseconds / 1000, UTC) if milliseconds is not None else None


def last_commit(path: Path, version: int | None = None) -> dict[str, Any] | None:
    """The commit that made ``version`` (default: the latest one).

    Read from the latest snapshot: deltalake numbers the history of a time-travelled table wrongly.
    """
    from deltalake import DeltaTable

    table = DeltaTable(path)
    entries = table.history(1) if version is None else table.history()
    return next((e for e in entries if version is None or e.get("version") == version), None)


def table_summary(name: str, path: Path, as_of: int | datetime | None = None) -> dict[str, Any]:
    """Rows, bytes, files, version, commit time and partition columns of one table (log only).

    Rows come from the files' ``numRecords`` statistics; a file written without them is counted
    by reading it.
    """
    import pyarrow as pa

    table = open_table(path, as_of)
    files = pa.table(table.get_add_actions(flatten=True))
    counts = files.column("num_records").to_pylist() if files.num_rows else []
    rows = sum(counts) if None not in counts else table.to_pyarrow_dataset().count_rows()
    version = table.version()
    commit = last_commit(path, None if as_of is None else version)
    return {
        "table": name,
        "path": str(path),
        "rows": rows,
        "bytes": sum(files.column("size_bytes").to_pylist()) if files.num_rows else 0,
        "files": files.num_rows,
        "version": version,
        "last_commit": commit_time(commit.get("timestamp")) if commit else None,
        "partition_columns": list(table.metadata().partition_columns),
    }


def lakehouse_summary(
    paths: LakehousePaths, names: list[str] | None = None, as_of: int | datetime | None = None
) -> list[dict[str, Any]]:
    """``table_summary`` of the named tables (default: every table of the lakehouse)."""
    chosen = [find_table(paths, name) for name in names] if names else delta_tables(paths).items()
    return [table_summary(name, path, as_of) for name, path in chosen]


def table_history(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The table's commits, newest first: version, time, operation, its parameters and metrics."""
    return [
        {
            "version": entry.get("version"),
            "timestamp": commit_time(entry.get("timestamp")),
            "operation": entry.get("operation"),
            "parameters": entry.get("operationParameters") or {},
            "metrics": entry.get("operationMetrics") or {},
        }
        for entry in open_table(path).history(limit)
    ]


def sample_rows(
    path: Path, count: int, as_of: int | datetime | None = None
) -> list[dict[str, Any]]:
    """The first ``count`` rows of the table (as of a version or time), as dicts."""
    return open_table(path, as_of).to_pyarrow_dataset().head(count).to_pylist()


def field_error_counts(path: Path, as_of: int | datetime | None = None) -> dict[str, Any]:
    """Silver's field errors (optional fields that arrived wrong, kept null): the rows with one
    and the count of each ``field:rule`` code. Empty for a table without the column."""
    import pyarrow.compute as pc

    dataset = open_table(path, as_of).to_pyarrow_dataset()
    if "field_errors" not in dataset.schema.names:
        return {}
    errors = dataset.to_table(columns=["field_errors"]).column("field_errors")
    rows = pc.sum(pc.fill_null(pc.greater(pc.list_value_length(errors), 0), False)).as_py() or 0
    counts = pc.value_counts(pc.list_flatten(errors)).to_pylist()
    by_code = {entry["values"]: entry["counts"] for entry in counts if entry["values"] is not None}
    return {"rows": rows, "by_code": dict(sorted(by_code.items()))}
