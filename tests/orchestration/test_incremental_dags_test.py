"""``airflow dags test clickstream_incremental``: real Airflow, real spark-submit, real tables.

A generated backlog (every fault kind) goes through the DAG's bronze -> silver -> gold tasks;
the tables must reconcile with the generator's ledger. With a checkpoint held by another job,
the run skips its Spark tasks and says why. A secret in the worker's environment appears in no
task output, task log or Spark event log.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clickstream.core.config import resolve_paths
from clickstream.generator.ledger import load_ledger
from clickstream.orchestration.local_airflow import airflow_env
from clickstream.sql_models import load_project
from clickstream.streaming.checkpoint_lock import CheckpointLock
from tests.support.backlog import generate_backlog, recent_hour

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "clickstream_incremental"
SENTINEL = "sentinel-51e2-do-not-leak"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """Run an ``airflow`` command against a migrated throwaway metadata DB and lakehouse."""
    root = tmp_path_factory.mktemp("incremental")
    lake = resolve_paths({"root": root / "data"}, environ={})
    # Spark's site settings turn the event log on (what the UI's environment tab shows).
    spark_conf, events = root / "spark-conf", root / "spark-events"
    spark_conf.mkdir()
    events.mkdir()
    (spark_conf / "spark-defaults.conf").write_text(
        f"spark.eventLog.enabled true\nspark.eventLog.dir file://{events}\n"
        "spark.eventLog.compress false\nspark.eventLog.rolling.enabled false\n"
    )
    env = airflow_env(lake, port=0) | {
        "AIRFLOW_HOME": str(root / "airflow"),
        "SPARK_CONF_DIR": str(spark_conf),
        "AWS_SECRET_ACCESS_KEY": SENTINEL,
    }
    run = subprocess.run(
        [AIRFLOW, "db", "migrate"], check=False, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]

    def airflow_command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [AIRFLOW, *args], check=False, env=env, capture_output=True, text=True, timeout=900
        )

    airflow_command.lake = lake
    airflow_command.written = [root / "airflow" / "logs", events]
    return airflow_command


def test_incremental_run_skips_while_a_checkpoint_is_held(airflow):
    with CheckpointLock(airflow.lake.checkpoint("silver")):
        result = airflow("dags", "test", DAG_ID)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "checkpoints in use by a running job" in output
    assert "spark-submit" not in output.lower().replace("spark_submit", "")
    assert not airflow.lake.bronze.exists()


def test_incremental_run_drains_a_backlog_into_every_table(airflow, spark):
    lake = airflow.lake
    # An hour of event time: enough for the funnel summary's windows to close behind two watermarks.
    generate_backlog(lake, recent_hour(), minutes=60, seed=23, rate=3)
    ledger = load_ledger(lake.raw)

    result = airflow("dags", "test", DAG_ID)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    def read(path):
        return spark.read.format("delta").load(str(path))

    silver_ids = [row.event_id for row in read(lake.silver).select("event_id").collect()]
    assert sorted(silver_ids) == sorted(ledger.valid_event_ids)
    assert read(lake.bronze).count() == ledger.lines
    assert read(lake.quarantine).count() == ledger.malformed_lines
    for model in load_project().order():
        assert read(lake.gold_table(model.name)).count() > 0, model.name

    assert SENTINEL not in result.stdout + result.stderr
    written = [path for folder in airflow.written for path in folder.rglob("*") if path.is_file()]
    assert any(path.parent == airflow.written[1] for path in written), "no Spark event log"
    for path in written:
        assert SENTINEL not in path.read_text(errors="replace"), path
