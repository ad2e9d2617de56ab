"""Parts 4 and 5, freshness and stability under steady load.

Input: a fresh lakehouse, ``clickstream pipeline run`` on processing-time triggers (one Spark
application: bronze, silver, quarantine, every gold model) and, once its queries run, ``clickstream
generate`` at ``rate`` events/s in 10-second files for ``minutes``. Output:

- freshness: per raw file, seconds from landing to being visible in bronze, silver and the upsert
  gold table; p50, p95 and max per layer;
- stability: batch durations of each query, first fifth against last fifth; state rows; live Delta
  files per table before and after ``clickstream submit maintenance`` (OPTIMIZE, VACUUM).

How visibility is observed, after the run, from what the pipeline itself wrote (no polling error):

- landing: the raw file's mtime (written, fsynced, then renamed into the raw folder: the rename
  follows within milliseconds, so latencies are, if anything, overstated by that much);
- bronze: the file-source log of bronze's checkpoint names the batch that read the file; that
  batch's Delta commit (tagged with bronze's query id and batch id, ``batch_commits``) is when its
  rows became readable: the mtime of that log file;
- silver: the first silver batch whose Delta-source end offset has consumed that bronze version
  completely, and the mtime of its Delta commit;
- gold: the first batch of the upsert model whose offset has consumed that silver version; its
  MERGE commits inside the batch, so the checkpoint's ``commits/<id>`` (written right after) is
  when its rows were visible.

A file whose rows never became visible before the pipeline stopped is counted, not dropped.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

from clickstream.bench.job_commands import lakehouse, run, start, stop, wait_for
from clickstream.bench.latency_stats import summarize_latencies
from clickstream.bench.resources import ResourceSampler
from clickstream.core import metrics_store
from clickstream.core.config import LakehousePaths
from clickstream.core.errors import ClickstreamError
from clickstream.gold.sql_runner import checkpoint_name
from clickstream.lakehouse.delta_log import (
    commit_times,
    delta_source_offsets,
    file_source_batches,
    first_batch_covering,
    query_id,
    tagged_commits,
)

UPSERT_MODEL = "revenue_by_product_5m"
FILE_SECONDS = 10
GOAL_P95_SECONDS = {"bronze": 5.0, "gold": 15.0}
LAYERS = ("bronze", "silver", "gold")


def file_latencies(paths: LakehousePaths, model: str = UPSERT_MODEL) -> list[dict]:
    """Per raw file: landing time and seconds until visible in each layer (None: not yet)."""
    bronze_ck, silver_ck = paths.checkpoint("bronze"), paths.checkpoint("silver")
    gold_ck = paths.checkpoint(checkpoint_name(model))
    read_in = file_source_batches(bronze_ck)
    bronze = tagged_commits(paths.bronze, query_id(bronze_ck)) if read_in else {}
    silver_offsets, silver_commits = delta_source_offsets(silver_ck), commit_times(silver_ck)
    silver = tagged_commits(paths.silver, query_id(silver_ck)) if silver_commits else {}
    gold_offsets, gold_commits = delta_source_offsets(gold_ck), commit_times(gold_ck)
    rows = []
    for raw in sorted(paths.raw.glob("*.json")):
        landed = raw.stat().st_mtime
        row = {"file": raw.name, "landed": landed, "bronze": None, "silver": None, "gold": None}
        rows.append(row)
        if read_in.get(raw.name) not in bronze:
            continue
        bronze_version, row["bronze"] = bronze[read_in[raw.name]]
        batch = first_batch_covering(silver_offsets, silver_commits, bronze_version)
        if batch is None:
            continue
        committed = [b for b in silver if b <= batch]
        if not committed:
            continue
        silver_version = silver[max(committed)][0]
        row["silver"] = silver[batch][1] if batch in silver else silver_commits[batch]
        batch = first_batch_covering(gold_offsets, gold_commits, silver_version)
        if batch is not None:
            row["gold"] = gold_commits[batch]
    for row in rows:
        for layer in LAYERS:
            if row[layer] is not None:
                row[layer] = round(row[layer] - row["landed"], 3)
    return rows


def freshness_summary(rows: list[dict]) -> dict:
    summary = {}
    for layer in LAYERS:
        seen = [row[layer] for row in rows if row[layer] is not None]
        summary[layer] = summarize_latencies(seen) | {"not_visible": len(rows) - len(seen)}
    return summary


def fifths(durations: list[float]) -> dict:
    """Median batch duration of the first and the last fifth of the run (at least one batch each)."""
    size = max(1, len(durations) // 5)
    first, last = durations[:size], durations[-size:]
    return {
        "batches": len(durations),
        "first_fifth_median_ms": statistics.median(first) if first else None,
        "last_fifth_median_ms": statistics.median(last) if last else None,
    }


def stability(paths: LakehousePaths) -> dict:
    """Per query: batch durations (first vs last fifth), the series, state rows at the end."""
    queries = {}
    for path in sorted((paths.metrics / "streaming").glob("*.jsonl")):
        batches = metrics_store.read_batches(paths.metrics, path.stem)
        durations = [batch["batch_duration_ms"] for batch in batches]
        queries[path.stem] = fifths(durations) | {
            "state_rows_last": batches[-1]["state_rows"] if batches else 0,
            "state_rows_max": max((batch["state_rows"] for batch in batches), default=0),
            "series": [[batch["timestamp"], batch["batch_duration_ms"]] for batch in batches],
        }
    return queries


MAINTENANCE_ROW = re.compile(
    r"^(?P<table>\S+)\s+\d+->\d+\s+(?P<before>\d+)->(?P<after>\d+)\s+"
    r"(?P<mb_before>[\d.]+)->(?P<mb_after>[\d.]+)\s+(?P<disk_before>\d+)->(?P<disk_after>\d+)"
)


def parse_maintenance(output: str) -> dict:
    """``clickstream submit maintenance`` output -> {table: live files and disk files, before/after}."""
    tables = {}
    for line in output.splitlines():
        match = MAINTENANCE_ROW.match(line.strip())
        if match:
            found = match.groupdict()
            table = found.pop("table")
            tables[table] = {
                key: float(value) if key.startswith("mb") else int(value)
                for key, value in found.items()
            }
    return tables


def delta_files(flags: list[str], log: Path, timeout: float) -> dict:
    """Live and on-disk files per table before and after ``clickstream submit maintenance``, or
    its error (it can take long on a busy machine: bounded by ``timeout`` seconds)."""
    try:
        run(["submit", *flags, "maintenance"], log, timeout=timeout)
    except ClickstreamError as error:
        return {"error": str(error).splitlines()[0]}
    return parse_maintenance(log.read_text())


def run_freshness(
    work: Path, minutes: float, rate: float, interval: str | None, maintenance_timeout: float
) -> dict:
    paths = lakehouse(work / "freshness")
    flags = ["--data-dir", str(paths.root)]
    trigger = ["--interval", interval] if interval else []
    log = work / "freshness.log"
    with ResourceSampler() as sampler:
        pipeline = start(["pipeline", "run", *flags, *trigger], log)
        try:
            wait_for(
                lambda: _running(pipeline) and _started(paths),
                timeout=900,  # a JVM and seven queries: minutes on a busy 2-core machine
                what="the pipeline's queries to start",
            )
            generator = [
                "generate",
                *flags,
                "--rate",
                str(rate),
                "--seconds-per-file",
                str(FILE_SECONDS),
            ]
            run([*generator, "--duration", str(minutes * 60)], work / "generator.log")
            _drain(paths)
        finally:
            stop(pipeline, timeout=300)
    rows = file_latencies(paths)
    summary = freshness_summary(rows)
    return {
        "minutes": minutes,
        "rate": rate,
        "trigger_interval": interval or "pipeline default",
        "files": len(rows),
        "latency_seconds": summary,
        "goal_p95_seconds": GOAL_P95_SECONDS,
        "goal_met": all(
            summary[layer]["p95"] is not None and summary[layer]["p95"] <= goal
            for layer, goal in GOAL_P95_SECONDS.items()
        ),
        "per_file": rows,
        "stability": {
            "queries": stability(paths),
            "delta_files": delta_files(flags, work / "maintenance.log", maintenance_timeout),
        },
        "resources": sampler.report(),
    }


def _running(process) -> bool:
    if process.poll() is not None:
        raise ClickstreamError(f"the pipeline exited early with code {process.returncode}")
    return True


def _started(paths: LakehousePaths) -> bool:
    """True once every query the latencies follow has started (its checkpoint has metadata)."""
    names = ("bronze", "silver", checkpoint_name(UPSERT_MODEL))
    return all((paths.checkpoint(name) / "metadata").is_file() for name in names)


def _drain(paths: LakehousePaths, timeout: float = 90) -> None:
    """Wait until every landed file is visible in gold (or ``timeout``: then some stay unseen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(row["gold"] is not None for row in file_latencies(paths)):
            return
        time.sleep(2)
