"""Shared fixtures: one local Spark session with Delta for the whole run, offline by construction."""

from __future__ import annotations

import socket

import pytest

from clickstream.config import SparkSettings


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
    from clickstream.spark import build_spark_session

    java_options = " ".join(
        f"-D{scheme}.proxyHost=127.0.0.1 -D{scheme}.proxyPort={offline_proxy_port}"
        for scheme in ("http", "https")
    )
    session = build_spark_session("clickstream-tests", spark_settings, java_options=java_options)
    yield session
    session.stop()
