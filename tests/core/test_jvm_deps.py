"""The Delta jars: pinned to what the installed packages need, and a one-line error when absent."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clickstream import jvm_deps
from clickstream.errors import SetupError
from clickstream.spark import build_spark_session


def test_lock_pins_the_coordinate_delta_spark_computes():
    pinned = [spec.coordinate for spec in jvm_deps.load_lock()]
    assert jvm_deps.delta_coordinate_for_installed_packages() in pinned


def test_installed_jars_match_their_checksums():
    for spec in jvm_deps.load_lock():
        assert jvm_deps.is_verified(spec, jvm_deps.jars_dir()), spec.filename


def test_missing_jars_stop_the_session_builder_before_any_jvm(tmp_path, monkeypatch):
    monkeypatch.setenv(jvm_deps.JARS_DIR_ENV, str(tmp_path))
    with pytest.raises(SetupError, match=r"run `make setup`"):
        build_spark_session("never-started")


def test_missing_jars_give_one_line_and_exit_2(tmp_path):
    code = "from clickstream.spark import build_spark_session; build_spark_session('x')"
    wrapped = (
        "import sys; from clickstream.errors import run_entry_point; "
        f"sys.exit(run_entry_point(lambda: exec({code!r})))"
    )
    env = {"CLICKSTREAM_JARS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, env=env, check=False
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: Delta Lake jars missing")
    assert "make setup" in result.stderr
