"""clickstream_streaming: the live pipeline, started from a form, supervised until it ends.

prepare_lakehouse -> plan (the stop time) -> (generator | bronze | silver | gold, all at once, until the run's
stop time) -> drain (bronze -> silver -> gold, available-now, in one Spark application) -> report (ledger reconciliation and
gold model tests). Marking the run failed or a task failed/success stops the jobs: Airflow signals
each task's process group, so spark-submit, its JVM and the Python driver all end.
"""

from __future__ import annotations

import subprocess

from airflow.sdk import DAG, Param, task

from clickstream.orchestration.operators import (
    DEFAULT_ARGS,
    LOCK_NOTE,
    SPARK_NOTE,
    ClickstreamSparkSubmitOperator,
    generator_command,
    gold_model_names,
    layer_assets,
    stop_at,
)

MODELS = gold_model_names()


def rate(default: float, title: str) -> Param:
    return Param(default, type="number", minimum=0, maximum=1, title=title)


with DAG(
    dag_id="clickstream_streaming",
    description="Generator, bronze, silver and gold streaming jobs for a chosen duration",
    doc_md=__doc__ + "\n\n" + LOCK_NOTE + "\n\n" + SPARK_NOTE,
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clickstream", "streaming"],
    params={
        "duration_minutes": Param(
            5,
            type="integer",
            minimum=0,
            maximum=24 * 60,
            title="Duration (minutes, 0 = until stopped)",
        ),
        "events_per_second": Param(
            200, type="integer", minimum=1, maximum=100_000, title="Events per second"
        ),
        "bot_rate": rate(0.002, "Share of sessions that are bot bursts"),
        "duplicate_rate": rate(0.0, "Duplicate events (rate per event)"),
        "late_rate": rate(0.0, "Late events (rate per event)"),
        "out_of_order_rate": rate(0.0, "Out-of-order events (rate per event)"),
        "malformed_rate": rate(0.0, "Malformed lines (rate per event)"),
        "field_error_rate": rate(0.0, "Valid events with a wrong optional field (rate per event)"),
        "trigger_interval_seconds": Param(
            2, type="integer", minimum=1, maximum=3600, title="Micro-batch trigger interval (s)"
        ),
        "gold_models": Param(
            MODELS,
            type="array",
            items={"type": "string", "enum": MODELS},
            uniqueItems=True,
            minItems=1,
            title="Gold models to run",
        ),
    },
) as dag:

    @task(multiple_outputs=True)
    def plan(params=None) -> dict:
        """The stop time shared by every job, and each Spark job's arguments."""
        until = stop_at(params["duration_minutes"])
        stream = ["--trigger", "processing-time"]
        stream += ["--interval", f"{params['trigger_interval_seconds']} seconds"]
        if until:
            stream += ["--stop-at", until]
        models = ["--select", *params["gold_models"]]
        drain = ["--trigger", "available-now"]
        return {
            "until": until,
            "stream": stream,
            "gold": stream + models,
            "drain_gold": drain + models,
            "models": models,
        }

    @task
    def generator(until: str | None, params=None) -> None:
        """``clickstream generate`` until the stop time (SIGTERM ends it early, after a flush)."""
        subprocess.run(generator_command(params, until), check=True)

    planned = plan()
    prepare = ClickstreamSparkSubmitOperator(task_id="prepare_lakehouse", job="prepare")
    streams = [
        generator(planned["until"]),
        ClickstreamSparkSubmitOperator(task_id="bronze", job="bronze", job_args=planned["stream"]),
        ClickstreamSparkSubmitOperator(task_id="silver", job="silver", job_args=planned["stream"]),
        ClickstreamSparkSubmitOperator(task_id="gold", job="gold", job_args=planned["gold"]),
    ]
    drain = ClickstreamSparkSubmitOperator(
        task_id="drain",
        job="pipeline",
        job_args=planned["drain_gold"],
        trigger_rule="all_done",  # drain what landed, even after a stream was stopped
        outlets=list(layer_assets().values()),
    )
    report = ClickstreamSparkSubmitOperator(
        task_id="report", job="report", job_args=planned["models"]
    )
    prepare >> planned >> streams
    streams >> drain >> report
