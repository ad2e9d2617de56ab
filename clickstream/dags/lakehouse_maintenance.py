"""lakehouse_maintenance: daily OPTIMIZE and VACUUM of every Delta table, raw file archiving,
metrics pruning, and a report of table sizes and file counts.

Safe while the streaming jobs run: see ``clickstream.lakehouse.maintenance``.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from clickstream.orchestration.operators import (
    DEFAULT_ARGS,
    SPARK_NOTE,
    ClickstreamSparkSubmitOperator,
)

with DAG(
    dag_id="lakehouse_maintenance",
    description="OPTIMIZE, VACUUM, archive raw files, prune metrics, report sizes",
    doc_md=__doc__ + "\n\n" + SPARK_NOTE,
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clickstream", "maintenance"],
    params={
        "metrics_days": Param(
            7, type="integer", minimum=1, maximum=365, title="Keep metrics (days)"
        ),
    },
) as dag:
    ClickstreamSparkSubmitOperator(
        task_id="maintain",
        job="maintenance",
        job_args=[
            "--metrics-days",
            "{{ params.metrics_days }}",
        ],
    )
