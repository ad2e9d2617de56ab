"""The fixture lakehouse of the dashboard tests, written once per module (deltalake, no JVM)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clickstream.core.config import resolve_paths
from tests.dashboard.lakehouse import write_lakehouse


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory):
    """(paths, rows written, the time the metrics were written against)."""
    paths = resolve_paths({"root": tmp_path_factory.mktemp("lake") / "data"}, environ={})
    now = datetime.now(UTC)
    return paths, write_lakehouse(paths, now), now


@pytest.fixture
def empty_lake(tmp_path):
    return resolve_paths({"root": tmp_path / "data"}, environ={})
