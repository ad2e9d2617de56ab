"""The running dashboard (``clickstream dashboard``) in a real headless Chromium.

Starts Streamlit on the fixture lakehouse (headless, loopback, a free port, no usage statistics),
opens the page with Debian's chromium through chromium-driver, checks the rendered headings and
figures against the oracle, and saves a screenshot under the test's tmp folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from clickstream.dashboard.sources import REFRESH_SECONDS
from tests.conftest import closed_local_port
from tests.dashboard.lakehouse import END, GOLD_SCHEMAS, expected_figures
from tests.dashboard.test_app import HEADINGS

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CONSOLE_SCRIPT = Path(sys.executable).with_name("clickstream")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="chromium and chromium-driver missing: `make chromium` installs them",
)


def wait_until_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the dashboard exited"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"no dashboard at {url} after {timeout} s")


@pytest.fixture
def dashboard(fixture_lake, tmp_path):
    """The URL of ``clickstream dashboard`` serving the fixture lakehouse; stopped afterwards."""
    paths, _, _ = fixture_lake
    port = closed_local_port()
    command = [str(CONSOLE_SCRIPT), "dashboard", "--data-dir", str(paths.root)]
    command += ["--server.port", str(port), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1"]  # also spares Streamlit's external-IP lookup
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,2600",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def test_the_rendered_page_shows_the_headings_and_figures(
    dashboard, browser, fixture_lake, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    expected = expected_figures(fixture_lake[1])
    browser.get(dashboard)

    def metrics(driver) -> dict[str, str]:
        shown = {}
        for element in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
            label = element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text
            shown[label] = element.find_element(
                By.CSS_SELECTOR, '[data-testid="stMetricValue"]'
            ).text
        return shown

    shown = WebDriverWait(browser, 60).until(
        lambda driver: (m := metrics(driver)) and "Rows dropped by watermark" in m and m
    )
    headings = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "h1, h3")]
    screenshot = tmp_path / "dashboard.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")
    assert headings == ["Clickstream live dashboard", *HEADINGS]
    assert shown["Revenue (last hour)"] == f"{expected['revenue']:,.2f}"
    assert shown["Orders"] == f"{expected['orders']:,}"
    assert shown["Conversion rate"] == f"{expected['conversion_rate']:.1%}"
    assert shown["Bots flagged"] == str(expected["bots_flagged"])
    assert shown["Quarantined rows"] == str(expected["quarantined"])
    assert screenshot.stat().st_size > 10_000

    # a new purchase lands in gold: the open page shows it at its next refresh, no reload
    new_purchase(fixture_lake)
    revenue = f"{expected_figures(fixture_lake[1])['revenue']:,.2f}"
    assert revenue != shown["Revenue (last hour)"]
    WebDriverWait(browser, 3 * REFRESH_SECONDS).until(
        lambda driver: metrics(driver).get("Revenue (last hour)") == revenue
    )


def new_purchase(fixture_lake) -> dict:
    """Append one revenue row in the newest window, to the table and to the oracle's rows."""
    paths, rows, _ = fixture_lake
    start = END - timedelta(minutes=5)
    row = {
        "window_start": start,
        "window_end": END,
        "product_id": "P099",
        "category": "toys",
        "total_revenue": Decimal("1000.00"),
        "purchase_count": 1,
        "units": 1,
        "avg_order_value": Decimal("1000.00"),
        "window_date": start.date(),
    }
    schema = GOLD_SCHEMAS["revenue_by_product_5m"]
    table = paths.gold_table("revenue_by_product_5m")
    write_deltalake(table, pa.Table.from_pylist([row], schema=schema), mode="append")
    rows.gold["revenue_by_product_5m"].append(row)
    return row
