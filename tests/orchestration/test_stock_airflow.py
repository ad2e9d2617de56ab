"""A stock Airflow of a new user: fresh ``AIRFLOW_HOME``, ``airflow db migrate``, the project's
``clickstream/dags/`` as the DAGs folder, no ``AIRFLOW_CONN_SPARK_DEFAULT``.

``airflow dags test clickstream_incremental`` must fail at its first Spark task, at once and
without retries, with one line naming the connection, its master and the fix; the same after
``airflow connections create-default-connections`` (its ``spark_default`` is YARN, and this machine
has no Hadoop config). No Spark job starts: the check runs before spark-submit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.orchestration.conftest import DAGS_FOLDER

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SENTINEL = "sentinel-3f9a-do-not-leak"
FIX = """set AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "local[*]"}'"""


def stock_env(tmp_path: Path) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW", "CLICKSTREAM_", "HADOOP_", "YARN_"))
    }
    return inherited | {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "CLICKSTREAM_DATA_DIR": str(tmp_path / "data"),
        "AWS_SECRET_ACCESS_KEY": SENTINEL,
    }


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AIRFLOW, *args], check=False, env=env, capture_output=True, text=True, timeout=300
    )


def failure_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "AirflowFailException: " in line]


def failed_run(env: dict[str, str]) -> tuple[str, str]:
    """Run the DAG; it must fail without retries or leaks: (its one failure line, its output)."""
    run = airflow(env, "dags", "test", "clickstream_incremental")
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    [line] = failure_lines(output)
    assert FIX in line
    assert "up_for_retry" not in output.lower()
    assert SENTINEL not in output
    return line, output


def test_a_stock_airflow_fails_at_once_and_says_why_in_one_line(tmp_path):
    env = stock_env(tmp_path)
    migrated = airflow(env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    line, output = failed_run(env)
    assert "Spark connection 'spark_default' is not defined" in line
    assert "master 'yarn'" in line
    assert "starting task_id=bronze" in output and "starting task_id=silver" not in output
    assert "spark-submit cmd" not in output.lower()  # no Spark job was started

    created = airflow(env, "connections", "create-default-connections")
    assert created.returncode == 0, created.stderr[-3000:]
    line, _ = failed_run(env)
    assert "Spark connection 'spark_default' has master 'yarn'" in line
    assert "neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set" in line
    logs = tmp_path / "airflow" / "logs"
    for log in logs.rglob("*") if logs.exists() else []:
        if log.is_file():
            assert SENTINEL not in log.read_text(errors="replace"), log
