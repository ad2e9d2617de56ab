"""The Delta jars: pinned to what the installed packages need, and a one-line error when absent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clickstream.core.errors import SetupError
from clickstream.spark import jars
from clickstream.spark.session import build_spark_session

REPO = Path(__file__).resolve().parents[2]


def test_lock_pins_the_coordinate_delta_spark_computes():
    pinned = [spec.coordinate for spec in jars.load_lock()]
    assert jars.delta_coordinate_for_installed_packages() in pinned


def test_installed_jars_match_their_checksums():
    for spec in jars.load_lock():
        assert jars.is_verified(spec, jars.jars_dir()), spec.filename


def test_missing_jars_stop_the_session_builder_before_any_jvm(tmp_path, monkeypatch):
    monkeypatch.setenv(jars.JARS_DIR_ENV, str(tmp_path))
    with pytest.raises(SetupError, match=r"run `make setup`"):
        build_spark_session("never-started")


ENTRY_POINTS = [
    ["clickstream/spark_jobs/bronze_job.py", "--trigger", "available-now"],
    ["clickstream/spark_jobs/silver_job.py", "--trigger", "available-now"],
    ["clickstream/spark_jobs/gold_job.py", "--trigger", "available-now"],
    ["-m", "clickstream.cli", "pipeline", "run", "--trigger", "available-now"],
    ["-m", "clickstream.cli", "sql", "test"],
    ["-m", "clickstream.cli", "demo"],
    ["-m", "clickstream.cli", "submit", "bronze"],
]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda args: " ".join(args[:4]))
def test_missing_jars_stop_every_entry_point_with_one_line(entry_point, tmp_path):
    env = {
        **os.environ,
        jars.JARS_DIR_ENV: str(tmp_path / "no-jars"),
        "CLICKSTREAM_DATA_DIR": str(tmp_path / "data"),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *entry_point],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )

    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error: Delta Lake jars missing")
    assert result.stderr.count("\n") == 1
    assert "make setup" in result.stderr
    assert time.monotonic() - started < 10  # no JVM was started
    assert not (tmp_path / "data" / "raw").exists()  # nothing was generated first
