"""The dashboard's figures from the fixture gold tables, against the plain-Python oracle."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from clickstream.dashboard import figures
from clickstream.dashboard.sources import load_snapshot
from tests.dashboard.lakehouse import expected_figures


@pytest.fixture(scope="module")
def snapshot_and_oracle(fixture_lake):
    paths, rows, now = fixture_lake
    return load_snapshot(paths), expected_figures(rows), now


def test_snapshot_reads_only_the_last_hour_of_data(snapshot_and_oracle):
    snapshot, expected, _ = snapshot_and_oracle
    assert snapshot.until == expected["until"]
    assert snapshot.since == expected["until"] - timedelta(hours=1)
    revenue = snapshot.gold["revenue_by_product_5m"]
    assert len(revenue) > 0
    assert (revenue["window_start"] >= snapshot.since).all()
    assert snapshot.quarantined_rows == expected["quarantined"]


def test_headline(snapshot_and_oracle):
    snapshot, expected, _ = snapshot_and_oracle
    kpis = figures.headline(snapshot.gold)
    assert round(kpis.revenue, 2) == float(expected["revenue"])
    assert kpis.orders == expected["orders"]
    assert kpis.conversion_rate == pytest.approx(expected["conversion_rate"])
    assert kpis.active_sessions == expected["active_sessions"]
    assert kpis.bots_flagged == expected["bots_flagged"]


def test_revenue_per_window_and_top_products(snapshot_and_oracle):
    snapshot, expected, _ = snapshot_and_oracle
    windows = figures.revenue_per_window(snapshot.gold["revenue_by_product_5m"])
    assert [w.to_pydatetime() for w in windows["window_start"]] == list(
        expected["revenue_by_window"]
    )
    assert [round(v, 2) for v in windows["revenue"]] == [
        float(v) for v in expected["revenue_by_window"].values()
    ]
    top = figures.top_products(snapshot.gold["revenue_by_product_5m"], count=3)
    assert list(top["product_id"]) == [product for product, _ in expected["top_products"][:3]]
    assert [round(v, 2) for v in top["revenue"]] == [
        float(v) for _, v in expected["top_products"][:3]
    ]


def test_funnel_recovers_the_rates_over_several_windows(snapshot_and_oracle):
    snapshot, expected, _ = snapshot_and_oracle
    steps = figures.funnel(snapshot.gold["funnel_summary_10m"])
    oracle = expected["funnel"]
    assert (steps.sessions, steps.views, steps.carts, steps.purchases) == (
        oracle["sessions"],
        oracle["views"],
        oracle["carts"],
        oracle["purchases"],
    )
    assert steps.view_to_cart_rate == pytest.approx(oracle["view_to_cart_rate"])
    assert steps.cart_to_purchase_rate == pytest.approx(oracle["cart_to_purchase_rate"])


def test_alerts_and_pipeline_health(snapshot_and_oracle):
    snapshot, expected, now = snapshot_and_oracle
    alerts = figures.anomaly_alerts(snapshot.gold["bot_anomalies"])
    assert len(alerts) == expected["bot_alerts"]
    assert list(alerts["window_start"]) == sorted(alerts["window_start"], reverse=True)
    health = figures.pipeline_health(snapshot.metrics, now).set_index("stream")
    assert health["rows_dropped_by_watermark"].to_dict() == expected["rows_dropped_by_watermark"]
    assert health["last_batch"].to_dict() == {
        stream: 2 for stream in expected["rows_dropped_by_watermark"]
    }
    assert (health["freshness_s"] == 30).all()  # each last batch is stamped 30 s before `now`


def test_an_empty_lakehouse_gives_zeros_not_errors(empty_lake):
    snapshot = load_snapshot(empty_lake)
    assert snapshot.until is None
    assert all(frame is None for frame in snapshot.gold.values())
    assert snapshot.quarantined_rows is None
    assert figures.headline(snapshot.gold) == figures.Headline(0.0, 0, None, 0, 0)
    assert figures.revenue_per_window(None).empty
    assert figures.top_products(None).empty
    assert figures.funnel(None).sessions == 0
    assert figures.anomaly_alerts(None).empty
    assert figures.pipeline_health({}, snapshot.until).empty


def test_dashboard_and_inspect_modules_do_not_load_pyspark():
    modules = ["clickstream.dashboard.sources", "clickstream.dashboard.figures"]
    modules += [
        "clickstream.dashboard.launch",
        "clickstream.commands.inspect_command",
        "clickstream.cli",
    ]
    code = f"import sys, {', '.join(modules)}; print('pyspark' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
