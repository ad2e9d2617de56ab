"""The warm-up benchmark runs the real pipeline again and again in one Spark session, and measures
each run from what that run alone wrote."""

from __future__ import annotations

from clickstream.bench.job_commands import lakehouse, write_backlog
from clickstream.bench.warm import measure_warm_runs
from clickstream.core import metrics_store
from clickstream.lakehouse.delta_log import commit_times


def test_each_run_drains_every_layer_and_records_only_its_own_batches(spark, tmp_path):
    backlog = tmp_path / "backlog"
    events = write_backlog(backlog, 3000, files=3)

    measured = measure_warm_runs(backlog, tmp_path, events, runs=2)

    assert len(measured["runs"]) == 2
    for number, run in enumerate(measured["runs"], start=1):
        paths = lakehouse(tmp_path / f"run{number}", raw=backlog)
        bronze = metrics_store.read_batches(paths.metrics, "bronze")
        # One record per committed batch: the first run's listener is off before the second.
        assert len(bronze) == len(commit_times(paths.checkpoint("bronze")))
        assert sum(batch["rows_out"] for batch in bronze) == events
        assert (
            sum(b["rows_out"] for b in metrics_store.read_batches(paths.metrics, "silver"))
            == events
        )
        assert {"bronze", "silver", "gold_session_funnel"} <= set(run["stages"])
        assert 0 < run["query_seconds"] <= run["wall_seconds"]
        assert run["jvm_cpu_seconds"] > 0
    assert measured["cold_query_seconds"] == measured["runs"][0]["query_seconds"]
    assert measured["best_warm_query_seconds"] == measured["runs"][1]["query_seconds"]
