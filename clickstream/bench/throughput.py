"""Part 1, generator: events per second of a backfill, on one core, no faults.

Input: an event count and a number of runs. Output: per run its events, bytes, wall seconds and
CPU seconds (the whole process, and the generating thread alone: the landing thread overlaps with
it), the setup seconds among them; over the runs the median and the best events/s. The goal is
judged on the median: a goal met only by the best run is not met reliably.

Both ``clickstream bench --parts generator`` and ``bench/generator_bench.py`` measure with
``measure_runs``, so the two report the same thing. Each run is a real backfill
(``clickstream generate --start ... --end ...``, through ``GeneratorSettings`` and the same
``Generator``) into a fresh temporary folder: events rendered as JSON lines, written under hidden
names, fsynced, renamed, each file with its ledger sidecar. After each run the folder is checked
against the run's summary (every file and sidecar on disk, the bytes adding up), so the benchmark
cannot skip work to look fast.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from clickstream.bench.job_commands import BACKLOG_START
from clickstream.core.errors import ClickstreamError
from clickstream.generator.engine import Generator, GeneratorSettings, RunSummary, validate
from clickstream.generator.ledger import ledger_path

GOAL_EVENTS_PER_SECOND = 300_000
RATE = 2000  # events per simulated second: files of 20,000 events, as the freshness part lands
INTERVAL = 10.0


def run_once(events: int, seed: int, rate: float = RATE, interval: float = INTERVAL) -> dict:
    """One backfill of about ``events`` events into a fresh temporary folder, timed."""
    folder = Path(tempfile.mkdtemp(prefix="bench-generator-"))
    try:
        settings = GeneratorSettings(
            out=folder,
            rate=rate,
            interval=interval,
            start=BACKLOG_START,
            duration=events / rate,
            seed=seed,
        )
        validate(settings)
        wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
        generator = Generator(settings, threading.Event())  # world and tables: the setup
        setup = time.perf_counter() - wall
        summary = generator.run()
        wall = time.perf_counter() - wall
        cpu, thread = time.process_time() - cpu, time.thread_time() - thread
        check_landed(folder, summary)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "events": summary.events,
        "bytes": summary.bytes,
        "files": len(summary.files),
        "seconds": round(wall, 3),
        "setup_seconds": round(setup, 3),
        "cpu_seconds": round(cpu, 3),
        "generating_thread_cpu_seconds": round(thread, 3),
        "events_per_second": round(summary.events / wall),
        "mb_per_second": round(summary.bytes / 1e6 / wall, 1),
        "cpu_us_per_event": round(cpu / summary.events * 1e6, 3),
        "generating_thread_cpu_us_per_event": round(thread / summary.events * 1e6, 3),
    }


def check_landed(folder: Path, summary: RunSummary) -> None:
    """Raise unless every file of the run and its sidecar are on disk, with the bytes it counted."""
    names = sorted(path.name for path in folder.iterdir() if path.is_file())
    if names != sorted(summary.files):
        raise ClickstreamError(f"{folder}: {len(names)} files, the run landed {len(summary.files)}")
    missing = [name for name in names if not ledger_path(folder, name).is_file()]
    size = sum((folder / name).stat().st_size for name in names)
    if missing or size != summary.bytes or not summary.events:
        raise ClickstreamError(
            f"{folder}: {len(missing)} sidecars missing, {size:,} bytes on disk, "
            f"{summary.bytes:,} counted, {summary.events:,} events"
        )


def measure_runs(
    events: int,
    runs: int,
    rate: float = RATE,
    interval: float = INTERVAL,
    on_run: Callable[[int, dict], None] | None = None,
) -> dict:
    """``runs`` backfills (seeds 1, 2, ...) and their median and best, with the load around them;
    ``on_run(number, result)`` after each."""
    load_before = os.getloadavg()[0]
    results = []
    for seed in range(1, runs + 1):
        results.append(run_once(events, seed, rate, interval))
        if on_run is not None:
            on_run(seed, results[-1])
    speeds = [result["events_per_second"] for result in results]

    def median(key: str) -> float:
        return round(statistics.median(result[key] for result in results), 3)

    return {
        "runs": results,
        "events_per_second": round(statistics.median(speeds)),
        "best_events_per_second": max(speeds),
        "cpu_us_per_event": median("cpu_us_per_event"),
        "generating_thread_cpu_us_per_event": median("generating_thread_cpu_us_per_event"),
        "setup_seconds": median("setup_seconds"),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "goal_events_per_second": GOAL_EVENTS_PER_SECOND,
        "goal_met": statistics.median(speeds) >= GOAL_EVENTS_PER_SECOND,
    }


def run_generator(events: int, runs: int = 3) -> dict:
    """The bench part: ``measure_runs`` at the default rate and interval."""
    return measure_runs(events, runs)


def describe_run(number: int, result: dict) -> str:
    """One line about one run (the same words in both commands)."""
    return (
        f"run {number}: {result['events']:,} events, {result['bytes'] / 1e6:,.0f} MB in "
        f"{result['seconds']:.2f} s ({result['setup_seconds']:.2f} s setup): "
        f"{result['events_per_second']:,} events/s, {result['mb_per_second']:,.1f} MB/s; "
        f"CPU {result['cpu_us_per_event']:.2f} us an event "
        f"({result['generating_thread_cpu_us_per_event']:.2f} in the generating thread)"
    )


def describe(measured: dict) -> str:
    """The summary lines of ``measure_runs``."""
    return (
        f"median {measured['events_per_second']:,} events/s, "
        f"best {measured['best_events_per_second']:,}; "
        f"CPU median {measured['cpu_us_per_event']:.2f} us an event "
        f"({measured['generating_thread_cpu_us_per_event']:.2f} in the generating thread); "
        f"load {measured['load_before']:.1f} before, {measured['load_after']:.1f} after; "
        f"goal {measured['goal_events_per_second']:,} events/s (median) "
        f"{'met' if measured['goal_met'] else 'NOT met'}"
    )
