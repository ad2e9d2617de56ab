"""Lakehouse paths resolve from flag, then environment, then the data root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.core import config

REPO = Path(__file__).resolve().parents[2]


def test_defaults_hang_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = config.resolve_paths(environ={})

    assert paths.root == tmp_path / "data"
    assert paths.raw == tmp_path / "data" / "raw" / "events"
    assert paths.silver == tmp_path / "data" / "silver" / "events"
    assert paths.checkpoint("bronze") == tmp_path / "data" / "checkpoints" / "bronze"
    assert paths.gold_table("revenue") == tmp_path / "data" / "gold" / "revenue"


def test_environment_moves_the_root_and_single_paths(tmp_path):
    environ = {
        "CLICKSTREAM_DATA_DIR": str(tmp_path / "lake"),
        "CLICKSTREAM_QUARANTINE_DIR": str(tmp_path / "elsewhere"),
    }
    paths = config.resolve_paths(environ=environ)

    assert paths.bronze == tmp_path / "lake" / "bronze" / "events"
    assert paths.quarantine == tmp_path / "elsewhere"


def test_flags_beat_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLICKSTREAM_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("CLICKSTREAM_METRICS_DIR", str(tmp_path / "metrics-env"))
    args = cli.build_parser().parse_args(
        ["config", "--data-dir", str(tmp_path / "from-flag"), "--metrics-dir", "m"]
    )
    paths = config.paths_from_args(args)

    assert paths.root == tmp_path / "from-flag"
    assert paths.metrics == Path("m").absolute()
    assert paths.gold == tmp_path / "from-flag" / "gold"


@pytest.mark.parametrize("setting", config.PATH_SETTINGS, ids=lambda s: s.name)
def test_every_path_has_a_flag_and_a_variable(setting, tmp_path):
    args = cli.build_parser().parse_args(["config", setting.flag, str(tmp_path / "flag")])
    from_flag = config.paths_from_args(args)
    from_env = config.resolve_paths(environ={setting.env: str(tmp_path / "env")})

    assert getattr(from_flag, setting.name) == tmp_path / "flag"
    assert getattr(from_env, setting.name) == tmp_path / "env"


def test_the_configuration_page_documents_every_setting():
    readme = (REPO / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`(CLICKSTREAM_[A-Z_]+)`", readme))

    assert {setting.env for setting in config.PATH_SETTINGS} <= documented
    assert config.DATA_DIR_ENV in documented


def test_spark_settings_from_environment():
    settings = config.SparkSettings.from_env(
        {"CLICKSTREAM_SPARK_MASTER": "spark://127.0.0.1:7077", "CLICKSTREAM_SPARK_UI": "true"}
    )
    assert settings.master == "spark://127.0.0.1:7077"
    assert settings.ui_enabled is True
    assert settings.shuffle_partitions == config.SparkSettings().shuffle_partitions
    assert settings.java_options == ""


def test_java_options_from_environment_reach_driver_and_executors():
    from clickstream.spark.spark_conf import launch_conf

    options = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    settings = config.SparkSettings.from_env({"CLICKSTREAM_SPARK_JAVA_OPTIONS": options})
    conf = launch_conf(settings, java_options="-Dhttp.proxyPort=1")

    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        assert conf[key].startswith("-Dlog4j2.configurationFile=file:")
        assert conf[key].endswith(f" {options} -Dhttp.proxyPort=1")
        assert "-XX:+UseParallelGC" not in conf[key]  # the JVM refuses two collectors


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("", "-XX:+UseParallelGC"),
        ("-Xss4m", "-XX:+UseParallelGC -Xss4m"),
        ("-XX:+UseG1GC -Xss4m", "-XX:+UseG1GC -Xss4m"),
        ("-XX:+UseZGC", "-XX:+UseZGC"),
        ("-XX:+UseStringDeduplication", "-XX:+UseParallelGC -XX:+UseStringDeduplication"),
    ],
)
def test_jvm_options_get_the_default_collector_unless_they_choose_one(options, expected):
    from clickstream.spark.spark_conf import with_default_collector

    assert with_default_collector(options) == expected
