"""Every DAG file loads, follows the house rules, validates its forms, and stays cheap to parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clickstream.core import config
from clickstream.spark.submit import job_application
from tests.orchestration.conftest import DAGS_FOLDER
from tests.support import models

EXPECTED_DAGS = {
    "clickstream_streaming",
    "clickstream_incremental",
    "lakehouse_maintenance",
    "gold_full_refresh",
}
PARSE_BUDGET_SECONDS = 2.0


def test_every_dag_file_loads_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED_DAGS
    files = {Path(dag.fileloc).name for dag in dagbag.dags.values()}
    assert files == {p.name for p in DAGS_FOLDER.glob("*.py") if p.name != "__init__.py"}, (
        "one DAG per file"
    )


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_house_rules(dagbag, dag_id):
    from airflow.utils.dag_cycle_tester import check_cycle

    dag = dagbag.dags[dag_id]
    check_cycle(dag)  # raises on a cycle
    assert dag.tags and "clickstream" in dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.doc_md, "the UI shows what the DAG does"
    for task in dag.tasks:
        assert task.owner == "data-platform", task.task_id
        assert task.retries >= 2, task.task_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_every_spark_application_exists(dagbag, dag_id):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    spark_tasks = [t for t in dagbag.dags[dag_id].tasks if isinstance(t, SparkSubmitOperator)]
    assert spark_tasks
    for task in spark_tasks:
        assert Path(task.application).is_file(), f"{task.task_id}: {task.application}"
        assert task._conn_id == "spark_default"


def test_streaming_runs_every_job_at_once_between_prepare_and_report(dagbag):
    dag = dagbag.dags["clickstream_streaming"]
    streams = {"generator", "bronze", "silver", "gold"}
    for task_id in streams:
        task = dag.get_task(task_id)
        assert task.upstream_task_ids == {"plan"}
        assert task.downstream_task_ids == {"drain"}
    assert dag.get_task("plan").upstream_task_ids == {"prepare_lakehouse"}
    drain = dag.get_task("drain")
    assert drain.trigger_rule == "all_done"
    assert Path(drain.application) == job_application("pipeline")
    assert [a.name for a in drain.outlets] == [
        "clickstream_bronze",
        "clickstream_silver",
        "clickstream_gold",
    ]
    assert dag.get_task("report").upstream_task_ids == {"drain", "plan"}  # plan: its args


def test_incremental_checks_the_locks_first_and_links_the_layers_by_assets(dagbag):
    dag = dagbag.dags["clickstream_incremental"]
    assert dag.get_task("bronze").upstream_task_ids == {"checkpoints_free"}
    assert dag.get_task("silver").upstream_task_ids == {"bronze"}
    assert dag.get_task("gold").upstream_task_ids == {"silver"}
    outlets = {t: [a.name for a in dag.get_task(t).outlets] for t in ("bronze", "silver", "gold")}
    assert outlets == {
        "bronze": ["clickstream_bronze"],
        "silver": ["clickstream_silver"],
        "gold": ["clickstream_gold"],
    }
    assert "lock" in dag.doc_md


GOOD_AND_BAD_FORM_VALUES = [
    ("clickstream_streaming", "duration_minutes", 0, -1),
    ("clickstream_streaming", "duration_minutes", 30, "ten"),
    ("clickstream_streaming", "events_per_second", 500, 0),
    ("clickstream_streaming", "bot_rate", 0.01, 1.5),
    ("clickstream_streaming", "malformed_rate", 0.001, -0.1),
    ("clickstream_streaming", "trigger_interval_seconds", 5, 0),
    ("clickstream_streaming", "gold_models", [models.APPEND_READING_SILVER], ["no_such_model"]),
    ("clickstream_streaming", "gold_models", [models.APPEND_READING_SILVER], []),
    ("gold_full_refresh", "models", [models.ALL[-1]], ["no_such_model"]),
    ("lakehouse_maintenance", "metrics_days", 30, 0),
]


@pytest.mark.parametrize(("dag_id", "param", "good", "bad"), GOOD_AND_BAD_FORM_VALUES)
def test_forms_accept_good_and_reject_bad_input(dagbag, dag_id, param, good, bad):
    from airflow.sdk.definitions.param import ParamValidationError

    field = dagbag.dags[dag_id].params.get_param(param)
    assert field.resolve(good) == good
    with pytest.raises(ParamValidationError):
        field.resolve(bad)


def test_model_forms_list_the_models_of_the_sql_folder(dagbag):
    shipped = sorted(path.stem for path in config.DEFAULT_SQL_DIR.rglob("*.sql"))
    form = dagbag.dags["gold_full_refresh"].params.get_param("models")
    assert form.schema["items"]["enum"] == shipped


PARSE_PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
DagBag(dag_folder=sys.argv[1])  # warm up: airflow itself, as in a running DAG processor
timings = {}
for path in sys.argv[2:]:
    start = time.perf_counter()
    bag = DagBag(dag_folder=path)
    timings[path] = time.perf_counter() - start
    assert not bag.import_errors, bag.import_errors
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"pyspark", "py4j", "delta", "faker"})
print(json.dumps({"timings": timings, "heavy": heavy}))
"""


def test_dag_files_parse_fast_without_pyspark():
    """In a fresh interpreter: no pyspark (or other heavy module) imported, each file < 2 s."""
    files = [str(path) for path in sorted(DAGS_FOLDER.glob("*.py"))]
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, files[0], *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    slow = {path: t for path, t in report["timings"].items() if t >= PARSE_BUDGET_SECONDS}
    assert slow == {}
