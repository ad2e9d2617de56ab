"""Part 1, generator: events per second written as JSON lines, backfill on one core, no faults.

Input: an event count. Output: events/s (wall clock), MB/s and events per CPU second of the
best of ``runs`` runs into a temporary folder (``clickstream.generator.engine.generate``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from clickstream.generator.engine import GeneratorSettings, generate

from .commands import BACKLOG_START

GOAL_EVENTS_PER_SECOND = 300_000


def run_generator(events: int, runs: int = 2) -> dict:
    results = []
    for seed in range(1, runs + 1):
        folder = Path(tempfile.mkdtemp(prefix="bench-generator-"))
        try:
            settings = GeneratorSettings(
                out=folder, rate=2000, interval=10, start=BACKLOG_START,
                duration=events / 2000, seed=seed,
            )  # fmt: skip
            wall, cpu = time.perf_counter(), time.process_time()
            summary = generate(settings)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        results.append(
            {
                "events": summary.events,
                "seconds": round(wall, 2),
                "events_per_second": round(summary.events / wall),
                "mb_per_second": round(summary.bytes / 1e6 / wall, 1),
                "events_per_cpu_second": round(summary.events / cpu),
            }
        )
    best = max(results, key=lambda result: result["events_per_second"])
    return {
        "runs": results,
        "events_per_second": best["events_per_second"],
        "goal_events_per_second": GOAL_EVENTS_PER_SECOND,
        "goal_met": best["events_per_second"] >= GOAL_EVENTS_PER_SECOND,
    }
