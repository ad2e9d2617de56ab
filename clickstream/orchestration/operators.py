"""Building blocks of the Airflow DAGs in ``clickstream/dags/``: the Spark job operator, forms, locks, models.

Input: the lakehouse settings of the environment (``CLICKSTREAM_*``). Output: operators and helpers
the DAG files wire together. Importing this module is cheap (no pyspark, no Spark conf, no jar
check): the DAG processor parses the DAG files often. Everything expensive happens in ``execute``.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from clickstream.core import config
from clickstream.spark.submit import job_application

SPARK_CONN_ID = "spark_default"
OWNER = "data-platform"
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
}
CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))
LOCK_NOTE = (
    "Only one writer per checkpoint: every Spark job holds an exclusive lock beside each checkpoint "
    "it writes (`<checkpoint>.lock`). A job started while another holds it stops at once without "
    "touching the checkpoint; clickstream_incremental checks the locks first and skips its run "
    "while clickstream_streaming (or a manual job) is running."
)

SPARK_NOTE = (
    "Spark connection: `spark_default` (`AIRFLOW_CONN_SPARK_DEFAULT`). Absent, or YARN/Kubernetes "
    "without their configuration on the worker, the first Spark task fails at once, without "
    "retries, in one line naming the connection, its master and the fix: "
    """`AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "local[*]"}'` or a cluster URL. """
    "Each job gets only `SPARK_HOME`, `PYSPARK_PYTHON`, `PYTHONUNBUFFERED`, `JAVA_HOME`, "
    "`CLICKSTREAM_*` and (local masters) `SPARK_LOCAL_IP` of the worker's environment, plus what "
    "the operator's own `env_vars` add; nothing else reaches a command line, log or Spark conf."
)


def lakehouse_paths() -> config.LakehousePaths:
    """The lakehouse of this environment (``CLICKSTREAM_DATA_DIR`` and friends)."""
    return config.resolve_paths({}, environ=os.environ)


def gold_model_names(project_dir: Path | None = None) -> list[str]:
    """Names of the SQL models (file stems under the project folder), without parsing them."""
    root = config.sql_project_dir(project_dir)
    return sorted(path.stem for path in root.rglob("*.sql"))


def busy_checkpoints(paths: config.LakehousePaths) -> list[str]:
    """Checkpoints whose lock a running job holds right now (probed without blocking)."""
    from clickstream.core.errors import ClickstreamError
    from clickstream.streaming.checkpoint_lock import CheckpointLock

    root = paths.checkpoints
    locks = sorted(root.rglob("*.lock")) if root.is_dir() else []
    busy = []
    for lock in locks:
        checkpoint = lock.with_name(lock.name.removesuffix(".lock"))
        try:
            with CheckpointLock(checkpoint):
                pass
        except ClickstreamError:
            busy.append(str(checkpoint.relative_to(root)))
    return busy


def stop_at(duration_minutes: float, now: datetime | None = None) -> str | None:
    """The ISO time a run of ``duration_minutes`` ends (None: 0 means until stopped)."""
    if not duration_minutes:
        return None
    now = now or datetime.now(UTC)
    return (now + timedelta(minutes=duration_minutes)).isoformat(timespec="seconds")


class ClickstreamSparkSubmitOperator(SparkSubmitOperator):
    """``spark-submit clickstream/spark_jobs/<job>.py <job_args>`` through the Spark connection.

    The master comes from the connection ``spark_default`` (``AIRFLOW_CONN_SPARK_DEFAULT``). If it
    is not defined, or points at YARN or Kubernetes without their configuration on this worker,
    the task fails at once, without retries, with one line naming the connection, its master and
    the fix. At run time the operator adds what ``clickstream submit`` adds: the Delta jars (a
    one-line error if they are missing), the shared Spark conf and the venv's Python for the
    driver and executors. The job gets only the allow-listed variables of ``clickstream.spark.session``
    (``SPARK_HOME``, ``PYSPARK_PYTHON``, ``PYTHONUNBUFFERED``, ``JAVA_HOME``, ``CLICKSTREAM_*``,
    ``SPARK_LOCAL_IP`` on a local master) and what ``env_vars`` adds on purpose, on every master;
    the spark-submit process also gets ``LAUNCHER_VARIABLES`` (``PATH``, ``HOME``, the site's
    Spark/Hadoop/Kubernetes config), never as conf. ``spark-submit`` must be on the ``PATH`` of
    the Airflow workers (the venv's ``bin``; the provider only runs binaries found there).
    """

    def __init__(self, *, job: str, job_args: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("conn_id", SPARK_CONN_ID)
        kwargs.setdefault("name", f"clickstream-{job}")
        super().__init__(
            application=str(job_application(job)),
            application_args=job_args or [],
            **kwargs,
        )
        self.job = job

    def _get_hook(self):
        from clickstream.orchestration.spark_connection import AllowListSparkSubmitHook
        from clickstream.spark.submit import launcher_env

        return AllowListSparkSubmitHook.adopt(super()._get_hook(), launcher_env())

    def check_connection(self) -> str:
        """The connection's master, or ``AirflowFailException`` (no retries) with the one line
        of ``connection_problem``: a configuration error does not get better by retrying."""
        from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
        from airflow.sdk.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowNotFoundException,
        )

        from clickstream.orchestration.spark_connection import connection_problem

        try:
            SparkSubmitHook.get_connection(self._conn_id)
            defined = True
        except AirflowNotFoundException:
            defined = False
        try:
            master = SparkSubmitHook(conn_id=self._conn_id)._connection["master"]
        except AirflowException as error:  # e.g. a k8s:// master without the cncf provider
            raise AirflowFailException(f"Spark connection {self._conn_id!r}: {error}") from None
        problem = connection_problem(self._conn_id, master, defined, os.environ)
        if problem:
            raise AirflowFailException(problem)
        return master

    def prepare(self) -> None:
        """Jars, conf, the allow-listed ``env_vars`` and the job arguments, for the connection's
        master (checked first)."""
        from clickstream.spark.spark_conf import job_conf
        from clickstream.spark.submit import job_env

        master = self.check_connection()
        settings = config.SparkSettings.from_env()
        conf = job_conf(settings)
        conf.pop("spark.master")  # the connection's
        self.jars = conf.pop("spark.jars")
        self.conf = conf | (self.conf or {})
        env = job_env(master)
        # Unbuffered: the driver's prints reach the task log as they happen, not at exit.
        env |= {"PYSPARK_PYTHON": sys.executable, "PYTHONUNBUFFERED": "1"}
        self.env_vars = env | (self.env_vars or {})
        self.application_args = [str(arg) for arg in self.application_args or []]

    def execute(self, context: Any) -> None:
        self.prepare()
        super().execute(context)


def layer_assets() -> dict[str, Any]:
    """One Asset per layer of the lakehouse (gold: the folder of the model tables)."""
    from airflow.sdk import Asset

    paths = lakehouse_paths()
    return {
        layer: Asset(name=f"clickstream_{layer}", uri=f"file://{getattr(paths, layer)}")
        for layer in ("bronze", "silver", "gold")
    }


def drain_tasks(gold_args: Any = None) -> list[ClickstreamSparkSubmitOperator]:
    """Bronze -> silver -> gold, each an available-now run through the streaming checkpoints (so
    exactly once with the streaming jobs), chained, each updating its layer's Asset."""
    assets = layer_assets()
    tasks = [
        ClickstreamSparkSubmitOperator(
            task_id=layer,
            job=layer,
            job_args=["--trigger", "available-now"] if layer != "gold" else gold_args,
            outlets=[assets[layer]],
        )
        for layer in ("bronze", "silver", "gold")
    ]
    tasks[0] >> tasks[1] >> tasks[2]
    return tasks


def generator_command(params: dict[str, Any], until: str | None) -> list[str]:
    """``clickstream generate`` for a streaming run's form values, ending at ``until`` (ISO)."""
    command = [CLICKSTREAM, "generate", "--rate", str(params["events_per_second"])]
    if until:
        seconds = (datetime.fromisoformat(until) - datetime.now(UTC)).total_seconds()
        command += ["--duration", f"{max(seconds, 1):.0f}"]
    rates = ("bot_rate", "duplicate_rate", "late_rate", "out_of_order_rate", "malformed_rate")
    for name in (*rates, "field_error_rate"):
        command += [f"--{name.replace('_', '-')}", str(params.get(name, 0.0))]
    return command
