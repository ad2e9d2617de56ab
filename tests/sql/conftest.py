"""Fixtures for the SQL model tests: a throwaway copy of the shipped project to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clickstream.core.config import DEFAULT_SQL_DIR

# A config() header every hand-written test model can start with.
CONFIG = (
    "{{ config(materialized='append', watermark={'column': 'event_time', 'delay': '1 minute'}) }}"
)


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """A copy of the shipped ``sql/`` folder, as ``<tmp>/sql``."""
    return Path(shutil.copytree(DEFAULT_SQL_DIR, tmp_path / "sql"))


@pytest.fixture
def config_header() -> str:
    return CONFIG
