"""The lakehouse against the ledger, row by row: what each table must hold once drained.

Input: a Spark session, the lakehouse paths, the ledger of the landed files. Output: per table the
rows lost and repeated (Counters compared by key), and the drains the tests finish with.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from clickstream import cli
from clickstream.core import metrics_store
from clickstream.core.config import LakehousePaths
from clickstream.generator.ledger import Ledger, ledger_path
from clickstream.gold import sql_runner
from clickstream.sql_models import load_project
from clickstream.streaming.trigger import Trigger
from tests.reliability.report import lost_and_repeated
from tests.support.backlog import drain


def backfill(
    lake: LakehousePaths, start: datetime, span: timedelta, rate: float, seed: int, *flags: str
):
    """``clickstream generate`` history from ``start`` for ``span`` into the raw folder."""
    end = start + span
    argv = [
        "generate",
        "--out",
        str(lake.raw),
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
    ]
    assert cli.main([*argv, "--rate", str(rate), "--seed", str(seed), *flags]) == 0


def drain_everything(spark, lake: LakehousePaths) -> dict[str, list[dict]]:
    """Bronze, silver and quarantine, then every gold model in order, available-now. Returns each
    model's batches as the metrics store records them (``metrics_store.batch_record``)."""
    drain(spark, lake)
    project = load_project()
    batches = {}
    for model in project.order():
        [query] = sql_runner.start_models(
            spark, project, lake, [model.name], Trigger(available_now=True)
        )
        query.awaitTermination()
        batches[model.name] = [metrics_store.batch_record(as_dict(p)) for p in query.recentProgress]
    return batches


def as_dict(progress) -> dict:
    """A progress as the listener sees it (its JSON): observed metrics as plain dicts."""
    return json.loads(progress.json) if hasattr(progress, "json") else progress


@dataclass(frozen=True)
class TableCheck:
    """Rows of one table that the ledger says are missing or extra."""

    table: str
    lost: int
    repeated: int


def check_tables(spark, lake: LakehousePaths, ledger: Ledger) -> list[TableCheck]:
    """Bronze by raw line per file, silver by event id, quarantine by malformed line per file."""

    def read(path: Path):
        return spark.read.format("delta").load(str(path))

    def per_file(table: Path) -> Counter:
        files = read(table).select("source_file").collect()
        return Counter(Path(row.source_file).name for row in files)

    raw_lines = Counter(
        {
            name: json.loads(ledger_path(lake.raw, name).read_bytes())["lines"]
            for name in ledger.files
        }
    )
    silver_ids = Counter(row.event_id for row in read(lake.silver).select("event_id").collect())
    malformed = Counter(line.file for line in ledger.malformed)
    checks = [
        ("bronze", raw_lines, per_file(lake.bronze)),
        ("silver", Counter(ledger.valid_event_ids), silver_ids),
        ("quarantine", malformed, per_file(lake.quarantine)),
    ]
    return [TableCheck(name, *lost_and_repeated(+want, got)) for name, want, got in checks]
