"""Backfill throughput of the generator: about 2,000,000 events into a temporary folder, no faults.

Run: ``.venv/bin/python bench/generator_bench.py [--events N] [--rate R] [--interval S] [--runs K]``
Output: one line per run with events/s and MB/s (wall clock, data files only) and events per
second of process CPU time (main thread plus the writer thread), then the best and the median of
both (the machine may be busy: events per CPU second vary less than events per wall second).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from clickstream.generator.engine import GeneratorSettings, generate

START = datetime(2026, 1, 1, tzinfo=UTC)


def run_once(events: int, rate: float, interval: float, seed: int) -> tuple[int, int, float, float]:
    """One backfill in a fresh temporary folder: (events, bytes, wall seconds, CPU seconds)."""
    folder = Path(tempfile.mkdtemp(prefix="generator-bench-"))
    try:
        settings = GeneratorSettings(
            out=folder,
            rate=rate,
            interval=interval,
            start=START,
            duration=events / rate,
            seed=seed,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        summary = generate(settings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return summary.events, summary.bytes, wall, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="events to generate")
    parser.add_argument("--rate", type=float, default=2000, help="events per simulated second")
    parser.add_argument("--interval", type=float, default=10, help="simulated seconds per file")
    parser.add_argument("--runs", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    speeds, cpu_speeds = [], []
    for run in range(1, args.runs + 1):
        events, size, wall, cpu = run_once(args.events, args.rate, args.interval, seed=run)
        speeds.append(events / wall)
        cpu_speeds.append(events / cpu)
        print(
            f"run {run}: {events:,} events, {size / 1e6:,.0f} MB in {wall:.2f} s: "
            f"{events / wall:,.0f} events/s, {size / 1e6 / wall:,.1f} MB/s; "
            f"{events / cpu:,.0f} events per CPU second"
        )
    print(f"best: {max(speeds):,.0f} events/s, median: {statistics.median(speeds):,.0f} events/s")
    print(
        f"per CPU second: best {max(cpu_speeds):,.0f}, median {statistics.median(cpu_speeds):,.0f}"
    )


if __name__ == "__main__":
    main()
