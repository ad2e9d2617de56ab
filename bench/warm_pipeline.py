"""The pipeline catch-up in a cold JVM, then again in the same, warm one: what warm-up costs.

Run: ``.venv/bin/python bench/warm_pipeline.py [--events N] [--runs K] [--name NAME] [--out DIR]``
Output: one line per run (catch-up seconds measured as ``clickstream bench --parts pipeline`` does,
wall seconds, JVM CPU seconds, each query's seconds), then ``<out>/<name>.json`` with every figure,
the machine facts and the load before and after (``clickstream/bench/warm.py``). Run 1 is the cold
catch-up the bench measures; the best later run is what the same work costs once the JIT compiler,
class loading and code generation are paid for: the floor of tuning a cold catch-up without doing
less work.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from clickstream.bench import machine, report
from clickstream.bench.job_commands import write_backlog
from clickstream.bench.warm import describe_run, measure_warm_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="backlog events (100 files)")
    parser.add_argument("--runs", type=int, default=3, help="catch-ups in the one JVM")
    parser.add_argument("--name", default=f"warm-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="report folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clickstream-warm-"))
    load_start = machine.load()
    try:
        write_backlog(work / "backlog", args.events, files=100)
        measured = measure_warm_runs(
            work / "backlog",
            work,
            args.events,
            args.runs,
            on_run=lambda number, result: print(describe_run(number, result), flush=True),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"cold {measured['cold_query_seconds']:.1f} s; best warm {measured['best_warm_query_seconds']:.1f} s,"
        f" {measured['best_warm_jvm_cpu_seconds']:.1f} JVM CPU s"
    )
    document = {
        "name": args.name,
        "machine": machine.machine_facts(),
        "load_start": load_start,
        "load_end": machine.load(),
        "warm_pipeline": measured,
    }
    report.write_json(document, args.out / f"{args.name}.json")
    print(f"report: {args.out / args.name}.json")


if __name__ == "__main__":
    main()
