"""Fixtures for the bronze/silver tests."""

from __future__ import annotations

import pytest

from clickstream.core.config import LakehousePaths, resolve_paths


@pytest.fixture
def lake(tmp_path) -> LakehousePaths:
    """A fresh, empty lakehouse under the test's temporary folder."""
    return resolve_paths({"root": tmp_path / "data"}, environ={})
