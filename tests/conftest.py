"""Shared fixtures: one local Spark session with Delta for the whole run, offline by construction;
quick-starting JVMs for the Spark jobs the tests start as separate processes; the reliability
summary at the end of the run (also when ``make test`` runs the tests on two xdist workers)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from clickstream.core.config import SparkSettings
from tests.reliability import report as reliability

# Fixtures every folder uses: a fresh lakehouse, a copy of the SQL project, a model header.
pytest_plugins = ["tests.support.fixtures"]

# The Spark jobs the tests start as separate processes (clickstream/spark_jobs/*.py, spark-submit, Airflow
# tasks) live seconds to minutes: with the C1 compiler alone and the serial collector they start
# with ~35% less CPU (bronze then silver, available-now, on 3,000 events: 61-71 -> 38-45 CPU s).
# C1 alone also shrinks the JVM's default code cache from 240 to 48 MB, which a long catch-up
# filled ("VirtualMachineError: Out of space in CodeCache for adapters" in test_downtime): the
# default size is kept. The session of the test process itself keeps the JVM's defaults.
CHILD_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=240m"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CLICKSTREAM_SPARK_JAVA_OPTIONS", CHILD_JVM_OPTIONS)


# The everyday lane (``make test-fast``: ``-m "not slow"``) leaves out every test that starts
# Airflow, starts Spark jobs as processes or kills them, drives a browser, or drains a backlog for
# minutes. Marked here by file (a folder ends with "/"), so that a new test in one of them cannot
# slip into the fast lane by forgetting a marker; ``make test`` runs both lanes.
TESTS_DIR = Path(__file__).parent
SLOW_FILES = (
    "reliability/",
    "orchestration/test_incremental_dags_test.py",
    "orchestration/test_stock_airflow.py",
    "orchestration/test_streaming_standalone.py",
    "orchestration/test_spark_env.py",
    "dashboard/test_browser.py",
    "pipeline/test_pipeline_process.py",
    "spark/test_standalone_cluster.py",
    "lakehouse/test_erasure.py",
    "spark_jobs/test_bronze_silver_jobs.py",
    "pipeline/test_seed_format.py",
    "lakehouse/test_schema_evolution.py",
    "gold/test_sql_runner.py",
    "gold/test_merge_conflicts.py",
    "bench/test_throughput.py",
    "bench/test_warm.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS_DIR).as_posix().startswith(SLOW_FILES):
            item.add_marker(pytest.mark.slow)


RELIABILITY_OUTCOMES: list[reliability.Outcome] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the reliability outcomes (in the main process too: xdist forwards every report)."""
    RELIABILITY_OUTCOMES.extend(reliability.outcomes_of(report))


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """The reliability summary table, on the terminal and in ``SUMMARY_FILE``."""
    if not RELIABILITY_OUTCOMES:
        return
    text = reliability.render(RELIABILITY_OUTCOMES)
    reliability.SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    reliability.SUMMARY_FILE.write_text(text)
    terminalreporter.section("reliability summary")
    terminalreporter.write(text)
    terminalreporter.write_line(f"written to {reliability.SUMMARY_FILE}")


def closed_local_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def offline_proxy_port() -> int:
    """Every HTTP(S) request of the test JVM goes to this closed port: anything that tried to
    download (Ivy, Maven) fails instead of silently reaching the network."""
    return closed_local_port()


@pytest.fixture(scope="session")
def spark_settings() -> SparkSettings:
    return SparkSettings(master="local[2]", shuffle_partitions=2, driver_memory="2g")


@pytest.fixture(scope="session")
def spark(offline_proxy_port, spark_settings):
    """The one SparkSession of the test run, built by the product's own session builder."""
    from clickstream.spark.session import build_spark_session

    java_options = " ".join(
        f"-D{scheme}.proxyHost=127.0.0.1 -D{scheme}.proxyPort={offline_proxy_port}"
        for scheme in ("http", "https")
    )
    session = build_spark_session("clickstream-tests", spark_settings, java_options=java_options)
    yield session
    session.stop()
