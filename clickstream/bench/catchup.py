"""Parts 2 and 3, catch-up: a backlog of raw files drained into bronze, then through every layer.

Input: a backlog folder (``commands.write_backlog``: N events in 100 files). Output, each from a
fresh lakehouse reading that folder:

- bronze: ``clickstream submit bronze --trigger available-now``; events/s from the query's first
  batch start (its metrics record) to its last commit (``commits/<id>`` of its checkpoint);
- pipeline: ``clickstream pipeline run --trigger available-now`` (bronze, silver and quarantine, then every
  gold model, in one Spark application); wall seconds from the first query's first batch to the
  last commit of any query, and of the whole process (JVM start and final table counts included).

Both also report events per CPU second of all their processes, steadier on a shared machine.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from clickstream.bench.job_commands import lakehouse, path_flags, run
from clickstream.bench.resources import ResourceSampler
from clickstream.core import metrics_store
from clickstream.core.config import LakehousePaths
from clickstream.gold.sql_runner import checkpoint_name, query_name
from clickstream.lakehouse.delta_log import commit_times

GOAL_BRONZE_EVENTS_PER_SECOND = 200_000
GOAL_PIPELINE_SECONDS = 25.0


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def query_window(paths: LakehousePaths, query: str, checkpoint: str) -> tuple[float, float, int]:
    """(first batch start, last commit time, rows written) of one query of a finished run."""
    batches = metrics_store.read_batches(paths.metrics, query)
    start = min(epoch(batch["timestamp"]) for batch in batches)
    end = max(commit_times(paths.checkpoint(checkpoint)).values())
    return start, end, sum(batch["rows_out"] for batch in batches)


def gold_queries(paths: LakehousePaths) -> list[tuple[str, str]]:
    """(query name, checkpoint name) of every gold model that ran."""
    folder = paths.checkpoints / "gold"
    models = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [(query_name(model), checkpoint_name(model)) for model in models]


def per_cpu_second(events: int, sampler: ResourceSampler) -> int:
    """Events per CPU second of every process of the run: steadier than per wall second on a
    busy machine."""
    return round(events / max(sampler.cpu_seconds, 0.001))


def run_bronze(backlog: Path, work: Path, events: int) -> dict:
    paths = lakehouse(work / "bronze", raw=backlog)
    args = ["submit", *path_flags(paths), "bronze", "--trigger", "available-now"]
    with ResourceSampler() as sampler:
        process_seconds = run(args, work / "bronze.log")
    start, end, rows = query_window(paths, "bronze", "bronze")
    rate = rows / (end - start)
    return {
        "events": events,
        "bronze_rows": rows,
        "query_seconds": round(end - start, 2),
        "process_seconds": round(process_seconds, 2),
        "events_per_second": round(rate),
        "events_per_cpu_second": per_cpu_second(events, sampler),
        "goal_events_per_second": GOAL_BRONZE_EVENTS_PER_SECOND,
        "goal_met": rate >= GOAL_BRONZE_EVENTS_PER_SECOND,
        "resources": sampler.report(),
    }


def pipeline_queries(paths: LakehousePaths) -> list[tuple[str, str]]:
    """(query name, checkpoint name) of every query a pipeline run on ``paths`` started."""
    layers = [("bronze", "bronze"), ("silver", "silver"), ("quarantine", "quarantine")]
    return [*layers, *gold_queries(paths)]


def pipeline_window(paths: LakehousePaths) -> tuple[float, dict[str, dict]]:
    """(seconds from the first query's first batch start to the last commit of any query, each
    query's window relative to that first start) of a finished pipeline run on ``paths``."""
    stages = {}
    for query, checkpoint in pipeline_queries(paths):
        if metrics_store.read_batches(paths.metrics, query):
            start, end, rows = query_window(paths, query, checkpoint)
            stages[query] = {"start": start, "end": end, "rows_out": rows}
    first = min(stage["start"] for stage in stages.values())
    last = max(stage["end"] for stage in stages.values())
    for stage in stages.values():
        stage["seconds"] = round(stage["end"] - stage["start"], 2)
        stage["start"], stage["end"] = (
            round(stage["start"] - first, 2),
            round(stage["end"] - first, 2),
        )
    return last - first, stages


def run_pipeline(backlog: Path, work: Path, events: int) -> dict:
    paths = lakehouse(work / "pipeline", raw=backlog)
    args = ["pipeline", "run", *path_flags(paths), "--trigger", "available-now"]
    with ResourceSampler() as sampler:
        process_seconds = run(args, work / "pipeline.log")
    seconds, stages = pipeline_window(paths)
    return {
        "events": events,
        "query_seconds": round(seconds, 2),
        "process_seconds": round(process_seconds, 2),
        "events_per_second": round(events / seconds),
        "events_per_cpu_second": per_cpu_second(events, sampler),
        "stages": stages,
        "goal_seconds": GOAL_PIPELINE_SECONDS,
        "goal_met": seconds <= GOAL_PIPELINE_SECONDS,
        "resources": sampler.report(),
    }
