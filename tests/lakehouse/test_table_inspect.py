"""``clickstream inspect tables`` on fixture Delta tables written with deltalake (no JVM).

Expected figures come from the files on disk and the commits' own JSON in ``_delta_log``; the
Spark-written lakehouse is inspected in ``tests/gold/test_sql_runner.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from clickstream import cli
from clickstream.core.config import resolve_paths

CONSOLE_SCRIPT = Path(sys.executable).with_name("clickstream")
DAY = datetime(2026, 11, 20, tzinfo=UTC)


def batch(first: int, count: int) -> pa.Table:
    return pa.table(
        {
            "event_id": [f"e{n}" for n in range(first, first + count)],
            "event_time": [DAY + timedelta(minutes=n) for n in range(first, first + count)],
            "event_date": [
                (DAY + timedelta(days=n % 2)).date() for n in range(first, first + count)
            ],
        }
    )


def commit_time(table: Path, version: int) -> datetime:
    """The commit's own timestamp, from its log entry."""
    for line in (table / "_delta_log" / f"{version:020d}.json").read_text().splitlines():
        action = json.loads(line)
        if "commitInfo" in action:
            return datetime.fromtimestamp(action["commitInfo"]["timestamp"] / 1000, UTC)
    raise AssertionError("no commitInfo")


@pytest.fixture
def lake(tmp_path):
    """silver in three versions (3, then 5, then 9 rows) and one gold model."""
    paths = resolve_paths({"root": tmp_path / "data"}, environ={})
    for first, count in [(0, 3), (3, 2), (5, 4)]:
        write_deltalake(
            paths.silver, batch(first, count), partition_by=["event_date"], mode="append"
        )
    write_deltalake(paths.gold_table("bot_anomalies"), batch(100, 1), partition_by=["event_date"])
    return paths


def inspect(capsys, lake, *flags: str) -> tuple[int, dict | str]:
    code = cli.main(["inspect", "tables", "--data-dir", str(lake.root), *flags])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if "--json" in flags else out.out + out.err)


def test_summary_of_every_table(capsys, lake):
    code, document = inspect(capsys, lake, "--json")
    assert code == 0
    by_name = {table["table"]: table for table in document["tables"]}
    assert list(by_name) == ["silver", "gold.bot_anomalies"]  # no bronze, quarantine: not tables
    silver = by_name["silver"]
    parquet = list(lake.silver.rglob("*.parquet"))
    assert (silver["rows"], silver["version"], silver["files"]) == (9, 2, len(parquet))
    assert silver["bytes"] == sum(path.stat().st_size for path in parquet)
    assert silver["partition_columns"] == ["event_date"]
    assert datetime.fromisoformat(silver["last_commit"]) == commit_time(lake.silver, 2)
    assert by_name["gold.bot_anomalies"]["rows"] == 1


def test_time_travel_by_version_and_by_time(capsys, lake):
    _, by_version = inspect(capsys, lake, "silver", "--as-of", "1", "--sample", "10", "--json")
    [summary] = by_version["tables"]
    assert (summary["rows"], summary["version"]) == (5, 1)
    assert sorted(row["event_id"] for row in by_version["samples"]["silver"]) == [
        f"e{n}" for n in range(5)
    ]
    first = commit_time(lake.silver, 0).isoformat()
    _, by_time = inspect(capsys, lake, "silver", "--as-of", first, "--json")
    assert (by_time["tables"][0]["rows"], by_time["tables"][0]["version"]) == (3, 0)
    code, message = inspect(capsys, lake, "silver", "--as-of", "2020-01-01T00:00:00")
    assert code == 3
    assert "no version as of 2020-01-01" in message
    code, message = inspect(capsys, lake, "silver", "--as-of", "7")
    assert code == 3
    assert "no version as of 7" in message


def test_history_newest_first(capsys, lake):
    _, document = inspect(capsys, lake, "--history", "silver", "--json")
    commits = document["history"]["commits"]
    assert [commit["version"] for commit in commits] == [2, 1, 0]
    assert [datetime.fromisoformat(c["timestamp"]) for c in commits] == [
        commit_time(lake.silver, version) for version in (2, 1, 0)
    ]
    _, text = inspect(capsys, lake, "--history", "bot_anomalies")  # gold. prefix optional
    assert "history of gold.bot_anomalies" in text
    code, message = inspect(capsys, lake, "--history", "silver", "--as-of", "0")
    assert (code, "--history TABLE lists every version" in message) == (3, True)


def test_terminal_tables_and_errors(capsys, lake, tmp_path):
    code, text = inspect(capsys, lake, "--sample", "2")
    assert code == 0
    assert "gold.bot_anomalies" in text
    assert "silver: first 2 rows" in text
    code, message = inspect(capsys, lake, "nope")
    assert code == 3
    assert "no Delta table 'nope'" in message
    assert "silver, gold.bot_anomalies" in message
    empty = resolve_paths({"root": tmp_path / "empty"}, environ={})
    code, text = inspect(capsys, empty)
    assert (code, "none yet" in text) == (0, True)


def test_the_console_script_needs_no_jvm(lake):
    """A real process: the command works with no java on the PATH."""
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "inspect", "tables", "--data-dir", str(lake.root), "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent", "HOME": str(lake.root)},
        check=True,
    )
    assert [table["rows"] for table in json.loads(result.stdout)["tables"]] == [9, 1]


def test_silver_field_errors_are_counted_by_code(capsys, tmp_path):
    paths = resolve_paths({"root": tmp_path / "data"}, environ={})
    codes = [["price:wrong_type"], [], None, ["country:invalid", "price:wrong_type"], []]
    rows = batch(0, len(codes)).append_column(
        "field_errors", pa.array(codes, type=pa.list_(pa.string()))
    )
    write_deltalake(paths.silver, rows, partition_by=["event_date"])

    code, document = inspect(capsys, paths, "--json")

    assert code == 0
    assert document["field_errors"] == {
        "rows": 2,
        "by_code": {"country:invalid": 1, "price:wrong_type": 2},
    }
    cli.main(["inspect", "tables", "--data-dir", str(paths.root)])
    assert "silver rows with a field error (kept, the field null): 2" in capsys.readouterr().out
