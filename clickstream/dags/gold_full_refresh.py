"""gold_full_refresh: rebuild chosen gold models (and the models downstream of them) from silver.

Each chosen model's table is rebuilt from scratch in a staging folder and swapped in, and its
checkpoint restarted, so a changed SQL file or late data missed by a watermark is brought in.
The form lists the models found in ``sql/`` when the DAG file was parsed.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from clickstream.orchestration.operators import (
    DEFAULT_ARGS,
    LOCK_NOTE,
    SPARK_NOTE,
    ClickstreamSparkSubmitOperator,
    gold_model_names,
)

MODELS = gold_model_names()

with DAG(
    dag_id="gold_full_refresh",
    description="Rebuild chosen gold models from silver",
    doc_md=__doc__ + "\n\n" + LOCK_NOTE + "\n\n" + SPARK_NOTE,
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clickstream", "gold", "maintenance"],
    params={
        "models": Param(
            MODELS[:1],
            type="array",
            items={"type": "string", "enum": MODELS},
            uniqueItems=True,
            minItems=1,
            title="Models to rebuild",
            description="Models downstream of a chosen one are rebuilt too.",
        ),
    },
) as dag:

    @task
    def refresh_args(params=None) -> list[str]:
        return ["--trigger", "available-now", "--full-refresh", "--select", *params["models"]]

    ClickstreamSparkSubmitOperator(task_id="rebuild", job="gold", job_args=refresh_args())
