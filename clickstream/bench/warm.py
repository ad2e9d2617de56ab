"""How much of the pipeline's catch-up is the JVM warming up: the same catch-up, run after run, in
one Spark application.

Input: a backlog folder (``commands.write_backlog``), a work folder and a number of runs. Output, for
each run (into a fresh lakehouse under the work folder, through this process's one Spark session,
exactly what ``clickstream pipeline run --trigger available-now`` does): the catch-up seconds measured as
``clickstream bench --parts pipeline`` measures them (first batch start to last commit,
``catchup.pipeline_window``), each query's window, the run's wall seconds and the CPU seconds of
the JVM during it. The first run pays for class loading, code generation and the JIT compiler of
every query; later runs pay for the data and the per-query fixed costs only: the floor that tuning
a cold catch-up can approach on this machine without doing less work.

Each run adds the metrics listener (``runner.run_streaming_job``) and takes it off when its
records are in, so no run records into another's lakehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from clickstream.bench.catchup import pipeline_queries, pipeline_window
from clickstream.bench.job_commands import lakehouse, wait_for
from clickstream.core import metrics_store
from clickstream.core.config import LakehousePaths
from clickstream.gold.run_options import GoldOptions
from clickstream.lakehouse.delta_log import commit_times
from clickstream.pipeline.pipeline_run import run_pipeline
from clickstream.streaming.layer_streams import BronzeOptions, SilverOptions
from clickstream.streaming.trigger import Trigger

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def jvm_cpu_seconds() -> float:
    """CPU seconds (user + system) so far of this process's descendants: the Spark JVM."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def every_batch_recorded(paths: LakehousePaths) -> bool:
    """Whether the metrics store holds a record of every batch each query committed (the
    listener runs asynchronously, after the query's own commit)."""
    for query, checkpoint in pipeline_queries(paths):
        committed = len(commit_times(paths.checkpoint(checkpoint)))
        if len(metrics_store.read_batches(paths.metrics, query)) < committed:
            return False
    return True


def remove_python_listeners(spark: SparkSession) -> None:
    """Take every Python streaming listener (the metrics listener) off ``spark``'s queries.

    pyspark lists no listeners, so this asks the JVM's query manager (``_jsqm``) directly."""
    manager = spark.streams._jsqm
    for listener in manager.listListeners():
        if "PythonStreamingQueryListener" in listener.getClass().getName():
            manager.removeListener(listener)


def measure_one_run(backlog: Path, folder: Path) -> dict:
    """One available-now catch-up of ``backlog`` into a fresh lakehouse at ``folder``."""
    paths = lakehouse(folder, raw=backlog)
    cpu_before, started = jvm_cpu_seconds(), time.monotonic()
    spark = run_pipeline(
        paths, Trigger(available_now=True), BronzeOptions(), SilverOptions(), GoldOptions()
    )
    wall, cpu = time.monotonic() - started, jvm_cpu_seconds() - cpu_before
    wait_for(lambda: every_batch_recorded(paths), timeout=30, what="the last batches' records")
    remove_python_listeners(spark)
    seconds, stages = pipeline_window(paths)
    return {
        "query_seconds": round(seconds, 2),
        "wall_seconds": round(wall, 2),
        "jvm_cpu_seconds": round(cpu, 1),
        "stages": {name: stage["seconds"] for name, stage in stages.items()},
    }


def measure_warm_runs(
    backlog: Path,
    work: Path,
    events: int,
    runs: int,
    on_run: Callable[[int, dict], None] | None = None,
) -> dict:
    """``runs`` catch-ups of ``backlog`` (``events`` events) in this process's Spark session."""
    measured = []
    for number in range(1, runs + 1):
        result = measure_one_run(backlog, work / f"run{number}")
        measured.append(result)
        if on_run:
            on_run(number, result)
    warm = measured[1:] or measured
    return {
        "events": events,
        "runs": measured,
        "cold_query_seconds": measured[0]["query_seconds"],
        "best_warm_query_seconds": min(run["query_seconds"] for run in warm),
        "best_warm_jvm_cpu_seconds": min(run["jvm_cpu_seconds"] for run in warm),
    }


def describe_run(number: int, result: dict) -> str:
    stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result["stages"].items())
    return (
        f"run {number}{' (cold JVM)' if number == 1 else ''}: catch-up {result['query_seconds']:.1f} s"
        f" (wall {result['wall_seconds']:.1f} s), JVM CPU {result['jvm_cpu_seconds']:.1f} s; {stages}"
    )
