"""Fixtures every test folder may use: a fresh lakehouse, a throwaway copy of the shipped SQL
project to break, a config() header for hand-written models. Registered by ``tests/conftest.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clickstream.core.config import DEFAULT_SQL_DIR, LakehousePaths, resolve_paths

# A config() header every hand-written test model can start with.
CONFIG = (
    "{{ config(materialized='append', watermark={'column': 'event_time', 'delay': '1 minute'}) }}"
)


@pytest.fixture
def lake(tmp_path) -> LakehousePaths:
    """A fresh, empty lakehouse under the test's temporary folder."""
    return resolve_paths({"root": tmp_path / "data"}, environ={})


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """A copy of the shipped SQL project, as ``<tmp>/sql``."""
    return Path(shutil.copytree(DEFAULT_SQL_DIR, tmp_path / "sql"))


@pytest.fixture
def config_header() -> str:
    return CONFIG
