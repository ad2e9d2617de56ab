"""Secrets of the Airflow worker stay in the worker: a sentinel variable in its environment reaches
no spark-submit command line, task log, Spark conf, event log or job environment.

The operator and the provider's hook are the real ones: the connection comes from
``AIRFLOW_CONN_SPARK_DEFAULT``; the command line is the hook's own ``_build_spark_submit_command``
(the line it logs, masked, is built from it). One real spark-submit on a local master runs a tiny
driver that writes its environment and its Spark conf, with the event log on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from clickstream.orchestration.operators import ClickstreamSparkSubmitOperator
from clickstream.spark.submit import launcher_env, spark_submit_env

SENTINEL = "sentinel-7d1c0b5e-do-not-leak"
MASTERS = {
    "local": "local[1]",
    "standalone": "spark://127.0.0.1:7077",
    "yarn": "yarn",
}
DRIVER = """
import json, os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
seen = {"env": dict(os.environ), "conf": dict(spark.sparkContext.getConf().getAll())}
with open(sys.argv[1], "w") as out:
    json.dump(seen, out)
spark.stop()
"""


@pytest.fixture
def worker(monkeypatch, tmp_path):
    """A worker environment holding a secret, with a Hadoop config folder for YARN."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SENTINEL)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{SENTINEL}@db/app")
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path / "hadoop"))
    monkeypatch.setenv("CLICKSTREAM_DATA_DIR", str(tmp_path / "data"))
    # The venv's bin first: spark-submit is found there, as on the embedded setup's workers.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")

    def connect(master: str) -> None:
        connection = json.dumps({"conn_type": "spark", "host": master})
        monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", connection)

    return connect


def prepared(job: str = "bronze", **kwargs) -> ClickstreamSparkSubmitOperator:
    operator = ClickstreamSparkSubmitOperator(
        task_id=job, job=job, env_vars={"ADDED_ON_PURPOSE": "1"}, **kwargs
    )
    operator.prepare()
    return operator


def test_the_child_environment_is_the_allow_list_only():
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/airflow",
        "AWS_SECRET_ACCESS_KEY": SENTINEL,
        "AIRFLOW__CORE__FERNET_KEY": SENTINEL,
        "CLICKSTREAM_DATA_DIR": "/lake",
        "JAVA_HOME": "/opt/java",
        "HADOOP_CONF_DIR": "/etc/hadoop",
    }
    for master in MASTERS.values():
        env = spark_submit_env(master=master, environ=environ)
        assert SENTINEL not in json.dumps(env), master
        assert env["CLICKSTREAM_DATA_DIR"] == "/lake"
        assert env["JAVA_HOME"] == "/opt/java"
        assert env["PATH"] == "/usr/bin"
        assert ("SPARK_LOCAL_IP" in env) == master.startswith("local"), master
    assert launcher_env(environ) == {
        "PATH": "/usr/bin",
        "HOME": "/home/airflow",
        "HADOOP_CONF_DIR": "/etc/hadoop",
    }


@pytest.mark.parametrize("kind", sorted(MASTERS))
def test_no_secret_on_the_command_line_or_in_the_conf(worker, kind, capfd):
    worker(MASTERS[kind])
    operator = prepared()
    hook = operator._get_hook()
    command = hook._build_spark_submit_command(operator.application)
    text = " ".join(command)
    assert SENTINEL not in text
    assert SENTINEL not in json.dumps(operator.conf)
    assert SENTINEL not in json.dumps(hook.launcher_env)
    assert "AWS_SECRET_ACCESS_KEY" not in text
    out, err = capfd.readouterr()
    assert SENTINEL not in out + err  # the hook logs the command line it built

    passed = {"CLICKSTREAM_DATA_DIR", "SPARK_HOME", "PYSPARK_PYTHON", "ADDED_ON_PURPOSE"}
    assert passed <= operator.env_vars.keys()
    assert {"PATH", "HOME", "HADOOP_CONF_DIR", "DATABASE_URL"}.isdisjoint(operator.env_vars)
    if kind == "yarn":  # the provider hands env_vars to the application master as conf
        for name in passed:
            assert any(arg.startswith(f"spark.yarn.appMasterEnv.{name}=") for arg in command)
        assert not any(
            "appMasterEnv.PATH=" in arg or "appMasterEnv.HOME=" in arg for arg in command
        )
    else:
        assert "appMasterEnv" not in text and "driverEnv" not in text


@pytest.mark.slow
def test_a_local_job_sees_no_secret_in_its_environment_conf_or_event_log(worker, tmp_path, capfd):
    worker("local[1]")
    events = tmp_path / "events"
    events.mkdir()
    conf = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": f"file://{events}",
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
    }
    operator = prepared(conf=conf)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    seen_file = tmp_path / "seen.json"
    hook = operator._get_hook()
    hook._application_args = [str(seen_file)]
    hook.submit(str(driver))

    seen = json.loads(seen_file.read_text())
    assert SENTINEL not in json.dumps(seen)
    assert "AWS_SECRET_ACCESS_KEY" not in seen["env"]
    assert seen["env"]["ADDED_ON_PURPOSE"] == "1"
    assert seen["env"]["CLICKSTREAM_DATA_DIR"] == str(tmp_path / "data")
    [event_log] = [path.read_text() for path in events.iterdir()]
    assert "SparkListenerEnvironmentUpdate" in event_log  # what the UI's environment tab shows
    assert SENTINEL not in event_log
    out, err = capfd.readouterr()
    assert SENTINEL not in out + err
