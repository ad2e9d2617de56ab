"""Backfill throughput of the generator, the same measurement as ``clickstream bench --parts generator``.

Run: ``.venv/bin/python bench/generator_bench.py [--events N] [--runs K] [--rate R] [--seconds-per-file S]``
Output: one line per run (events/s and MB/s on the wall clock, CPU microseconds an event for the
process and for the generating thread alone, setup seconds), then the median and the best and the
load average before and after. Each run is a whole backfill into a temporary folder, checked on
disk afterwards (``clickstream/bench/throughput.py``). The machine may be busy: CPU time an event
varies less than events per wall second; compare versions by it.
"""

from __future__ import annotations

import argparse

from clickstream.bench.throughput import INTERVAL, RATE, describe, describe_run, measure_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="events a run")
    parser.add_argument("--runs", type=int, default=3, help="runs (seeds 1, 2, ...)")
    parser.add_argument("--rate", type=float, default=RATE, help="events per simulated second")
    parser.add_argument(
        "--seconds-per-file", type=float, default=INTERVAL, help="simulated s per file"
    )
    args = parser.parse_args()
    measured = measure_runs(
        args.events,
        args.runs,
        args.rate,
        args.seconds_per_file,
        on_run=lambda number, result: print(describe_run(number, result), flush=True),
    )
    print(describe(measured))


if __name__ == "__main__":
    main()
