"""clickstream_incremental: every 10 minutes, bronze -> silver -> gold as available-now runs.

Each job drains what arrived since the last run through the same checkpoints as the streaming
jobs, so each event is processed exactly once whichever DAG ran it. The layers are Assets:
bronze updates ``clickstream_bronze``, silver ``clickstream_silver``, gold ``clickstream_gold``.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, task

from clickstream.orchestration.operators import (
    DEFAULT_ARGS,
    LOCK_NOTE,
    SPARK_NOTE,
    busy_checkpoints,
    drain_tasks,
    lakehouse_paths,
)

with DAG(
    dag_id="clickstream_incremental",
    description="Scheduled available-now runs of bronze, silver and gold (exactly once)",
    doc_md=__doc__ + "\n\n" + LOCK_NOTE + "\n\n" + SPARK_NOTE,
    schedule=timedelta(minutes=10),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clickstream", "batch"],
) as dag:

    @task
    def checkpoints_free() -> None:
        """Skip the run (and say why) while another job holds a checkpoint lock."""
        from airflow.sdk.exceptions import AirflowSkipException

        busy = busy_checkpoints(lakehouse_paths())
        if busy:
            raise AirflowSkipException(
                "skipping: checkpoints in use by a running job (clickstream_streaming or a manual "
                f"run): {', '.join(busy)}; the next scheduled run catches up"
            )
        print("no job holds a checkpoint: draining bronze -> silver -> gold")

    layers = drain_tasks(gold_args=["--trigger", "available-now"])
    checkpoints_free() >> layers[0]
