"""Running a set of streaming queries as one job: session, locks, metrics, graceful stop.

Input: a job name, the lakehouse paths, the checkpoint names it writes and a function that starts
its queries. Output: the queries ran to completion (available-now) or until SIGTERM / Ctrl-C, under
exclusive checkpoint locks, with every batch recorded in the metrics store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING

from clickstream.core.config import LakehousePaths
from clickstream.core.logs import configure_logging
from clickstream.spark.session import build_spark_session
from clickstream.streaming.checkpoint_lock import lock_checkpoints
from clickstream.streaming.progress_listener import install_metrics_listener
from clickstream.streaming.query_loop import StopRequest, run_until_done

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import StreamingQuery

StartQueries = Callable[["SparkSession"], Sequence["StreamingQuery"]]


def run_streaming_job(
    app_name: str,
    paths: LakehousePaths,
    query_names: Sequence[str],
    stages: Sequence[StartQueries],
    stop_at: datetime | None = None,
) -> SparkSession:
    """Lock the checkpoints of ``query_names``, then run ``stages`` one after another.

    Each stage starts some queries and runs them until they finish or a stop is requested; the
    stages run in order, so an available-now silver stage sees everything bronze wrote. With
    processing-time triggers pass one stage that starts every query; ``stop_at`` then ends it
    (after the batch running at that time) as SIGTERM would.
    Returns the (still running) session so a caller can summarise the tables.
    """
    configure_logging()
    stop = StopRequest(stop_at)
    with ExitStack() as locks:
        lock_checkpoints(locks, [paths.checkpoint(name) for name in query_names])
        spark = build_spark_session(app_name)
        install_metrics_listener(spark, paths.metrics)
        for start in stages:
            if stop.requested:
                break
            run_until_done(start(spark), stop)
    return spark
