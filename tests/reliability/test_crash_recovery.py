"""Crash recovery on a live stream: kill -9 the generator, bronze, silver and the gold runner at
random moments, restart each at once, run OPTIMIZE and VACUUM all along; then nothing is lost or
repeated anywhere, and gold equals the plain-Python recomputation.

CI mode: at least 20 kills, at least 2 of each of the 4 processes; ``--soak``: at least 100, at
least 15 of each.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from clickstream.core.config import LakehousePaths, resolve_paths
from clickstream.core.metrics_store import read_batches
from clickstream.generator.ledger import load_ledger
from clickstream.lakehouse import delta_log, maintenance
from tests.reliability import report
from tests.reliability.fleet import Fleet, land_history
from tests.reliability.lakehouse import check_tables, drain_everything
from tests.support import models, oracle
from tests.support.gold_check import assert_gold_equals_oracle, committed_watermark

# The queries of each Spark job whose batches with rows open its kill window: for gold the two
# models that read every silver event. revenue_by_product_5m reads purchases only (its scan skips
# silver files without one by their Parquet statistics, so its batches count no input rows until a
# purchase lands: a soak run waited 13 minutes for one); funnel_summary_10m reads closed sessions.
WATCHED_QUERIES = {
    "bronze": ["bronze"],
    "silver": ["silver", "quarantine"],
    "gold": ["gold_bot_anomalies", "gold_session_funnel"],
}
JOBS = tuple(WATCHED_QUERIES)
MAINTENANCE_PAUSE_SECONDS = 30  # between rounds of OPTIMIZE + VACUUM of every table


class MaintenanceLoop(threading.Thread):
    """OPTIMIZE and VACUUM every table of the lakehouse, again and again, until stopped."""

    def __init__(self, spark, lake: LakehousePaths):
        super().__init__(daemon=True)
        self.spark, self.lake = spark, lake
        self.done = threading.Event()
        self.runs: Counter[str] = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.done.is_set():
            for name, table in delta_log.delta_tables(self.lake).items():
                try:
                    maintenance.maintain_table(self.spark, name, table)
                    self.runs[name] += 1
                except Exception as error:  # reported by the test, not swallowed
                    self.errors.append(f"{name}: {str(error).splitlines()[0]}")
            self.done.wait(MAINTENANCE_PAUSE_SECONDS)


@pytest.mark.slow
def test_kill_9_anything_at_any_time_loses_and_repeats_nothing(
    spark, tmp_path, soak, record_outcome
):
    lake = resolve_paths({"root": tmp_path / "data"}, environ={})
    land_history(lake, minutes=24)
    fleet = Fleet(lake, random.Random(7))
    # The generator lives 15-60 s: long enough for some sessions to go from a view to a purchase.
    fleet.add("generator", (15, 60))
    for job, queries in WATCHED_QUERIES.items():
        fleet.add(job, (0, 8), queries)
    upkeep = MaintenanceLoop(spark, lake)
    upkeep.start()
    try:
        fleet.crash_until(total=100 if soak else 20, each=15 if soak else 2, probes=set(JOBS))
    finally:
        fleet.stop_all()
        upkeep.done.set()
        upkeep.join()

    drain_everything(spark, lake)

    ledger = load_ledger(lake.raw)  # a generator killed mid-landing: its sidecar is left out
    checks = check_tables(spark, lake, ledger)
    watched = [query for queries in WATCHED_QUERIES.values() for query in queries]
    batches = {
        query: sum(1 for batch in read_batches(lake.metrics, query) if batch["rows_in"])
        for query in [*watched, "gold_revenue_by_product_5m"]
    }
    record_outcome(
        report.Outcome(
            "crash recovery",
            {
                **{f"kill -9 {name}": n for name, n in sorted(fleet.kills.items())},
                **{f"second {job} refused": n for job, n in sorted(fleet.refused.items())},
                **{f"OPTIMIZE+VACUUM {name}": n for name, n in sorted(upkeep.runs.items())},
                "maintenance errors": len(upkeep.errors),
                **{f"batches with rows: {q}": n for q, n in batches.items()},
                "duplicate events": ledger.duplicates,
                **{f"malformed {kind}": n for kind, n in sorted(ledger.malformed_by_kind.items())},
            },
            rows_lost=sum(check.lost for check in checks),
            duplicates=sum(check.repeated for check in checks),
        )
    )
    # Each kill of a job came after a batch with rows in each of its watched queries. The revenue
    # model may have none (a purchase must land while gold runs): the oracle checks it below.
    assert all(batches[query] > 0 for query in watched), batches
    assert len(ledger.files) > 10 and ledger.duplicates and ledger.malformed_lines
    assert [(c.table, c.lost, c.repeated) for c in checks] == [
        ("bronze", 0, 0),
        ("silver", 0, 0),
        ("quarantine", 0, 0),
    ]
    assert fleet.refused == Counter(JOBS)
    assert upkeep.errors == []

    events = oracle.load_valid_events(lake.raw, ledger.valid_event_ids)
    watermarks = {
        model: committed_watermark(lake.checkpoint(f"gold/{model}")) for model in models.APPEND
    }
    checked = assert_gold_equals_oracle(spark, lake, events, watermarks)
    assert checked[models.UPSERT] > 0 and checked[models.APPEND_READING_SILVER] > 0
