"""The Streamlit page run by Streamlit's AppTest on the fixture lakehouse and on an empty one."""

from __future__ import annotations

import shutil

import pytest
from deltalake import write_deltalake
from streamlit.testing.v1 import AppTest

from clickstream.core import config
from clickstream.dashboard.launch import APP
from tests.dashboard.lakehouse import GOLD_SCHEMAS, expected_figures

HEADINGS = [
    "Revenue per 5-minute window",
    "Top products",
    "Funnel: views → carts → purchases",
    "Anomaly alerts",
    "Pipeline health",
]


def run_page(monkeypatch, root) -> AppTest:
    for setting in config.PATH_SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv(config.DATA_DIR_ENV, str(root))
    page = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not page.exception, [error.value for error in page.exception]
    return page


def metrics(page: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in page.metric}


def test_page_shows_the_figures_of_the_last_hour(fixture_lake, monkeypatch):
    paths, rows, _ = fixture_lake
    expected = expected_figures(rows)
    page = run_page(monkeypatch, paths.root)
    assert page.title[0].value == "Clickstream live dashboard"
    assert [heading.value for heading in page.subheader] == HEADINGS
    shown = metrics(page)
    assert shown["Revenue (last hour)"] == f"{expected['revenue']:,.2f}"
    assert shown["Orders"] == f"{expected['orders']:,}"
    assert shown["Conversion rate"] == f"{expected['conversion_rate']:.1%}"
    assert shown["Active sessions"] == str(expected["active_sessions"])
    assert shown["Bots flagged"] == str(expected["bots_flagged"])
    assert shown["Sessions"] == str(expected["funnel"]["sessions"])
    assert shown["Added to cart"] == str(expected["funnel"]["carts"])
    assert shown["Quarantined rows"] == str(expected["quarantined"])
    dropped = sum(expected["rows_dropped_by_watermark"].values())
    assert shown["Rows dropped by watermark"] == str(dropped)
    assert f"{expected['bots_flagged']} likely bots" in page.warning[0].value
    top = page.dataframe[0].value
    assert list(top["product_id"]) == [p for p, _ in expected["top_products"]]


@pytest.mark.parametrize("tables", ["missing", "empty"])
def test_empty_lakehouse_shows_what_to_run_not_a_traceback(empty_lake, monkeypatch, tables):
    if tables == "empty":
        for model, schema in GOLD_SCHEMAS.items():
            write_deltalake(empty_lake.gold_table(model), schema.empty_table())
    page = run_page(monkeypatch, empty_lake.root)
    assert [heading.value for heading in page.subheader] == HEADINGS
    notes = " ".join(info.value for info in page.info)
    assert "No gold data" in notes
    assert "make demo" in notes
    assert "No streaming metrics yet" in notes
    assert metrics(page)["Revenue (last hour)"] == "0.00"
    assert metrics(page)["Quarantined rows"] == "n/a"


def test_an_unreadable_table_is_a_warning(fixture_lake, tmp_path, monkeypatch):
    paths, _, _ = fixture_lake
    copy = tmp_path / "data"
    shutil.copytree(paths.root, copy)
    (copy / "gold/revenue_by_product_5m/_delta_log/00000000000000000000.json").write_text("oops\n")
    page = run_page(monkeypatch, copy)
    assert "Could not read the lakehouse" in page.warning[0].value
