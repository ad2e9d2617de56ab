"""The generator part measures a real backfill, checked on disk, the same way in both commands."""

from __future__ import annotations

import pytest

from clickstream.bench import throughput
from clickstream.core.errors import ClickstreamError
from clickstream.generator.engine import RunSummary


def test_a_run_lands_every_file_and_reports_its_figures():
    measured = throughput.measure_runs(events=4000, runs=2, rate=200, interval=10)
    first = measured["runs"][0]
    assert [run["events"] >= 4000 for run in measured["runs"]] == [True, True]
    assert first["files"] == 2 and first["bytes"] > 4000 * 300
    assert 0 < first["generating_thread_cpu_seconds"] <= first["cpu_seconds"]
    assert first["setup_seconds"] < first["seconds"]
    assert measured["events_per_second"] <= measured["best_events_per_second"]
    assert measured["goal_met"] == (measured["events_per_second"] >= 300_000)
    assert "median" in throughput.describe(measured)


def test_a_missing_sidecar_or_short_file_fails_the_check(tmp_path):
    (tmp_path / "_ledger").mkdir()
    (tmp_path / "events_20260101_000000.json").write_bytes(b"x" * 10)
    summary = RunSummary(
        out=tmp_path, seed=1, mode="backfill", files=["events_20260101_000000.json"]
    )
    summary.bytes, summary.events_by_type["page_view"] = 10, 1
    with pytest.raises(ClickstreamError, match="1 sidecars missing"):
        throughput.check_landed(tmp_path, summary)
    (tmp_path / "_ledger" / "events_20260101_000000.json.json").write_text("{}")
    throughput.check_landed(tmp_path, summary)
    summary.bytes = 11
    with pytest.raises(ClickstreamError, match="10 bytes on disk"):
        throughput.check_landed(tmp_path, summary)
