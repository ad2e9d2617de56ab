"""``clickstream bench``: run the chosen parts, then write the JSON report and the PNG plot.

Input: ``--quick`` (every part smaller: minutes, not a quarter of an hour), ``--parts``, ``--out``,
``--name``, ``--work``. Output: ``<out>/<name>.json`` and ``<out>/<name>.png``, and one line per
part on the terminal. Work data (backlog, lakehouses, logs) goes to a temporary folder, removed
afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from clickstream.bench import machine, report
from clickstream.core.config import home_dir

PARTS = ("generator", "bronze", "pipeline", "freshness")
# (full, quick): generator events and runs, backlog events and files, freshness minutes.
SIZES = {
    "generator_events": (2_000_000, 200_000),
    "generator_runs": (3, 2),
    "backlog_events": (1_000_000, 200_000),
    "backlog_files": (100, 20),
    "freshness_minutes": (5.0, 1.0),
    "maintenance_timeout_seconds": (1800, 300),
}
FRESHNESS_RATE = 2000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="every part at a smaller size")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default: all: {','.join(PARTS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=home_dir() / "bench" / "results",
        help="folder of the report (default: bench/results)",
    )
    parser.add_argument("--name", help="report name (default: bench-<UTC time>)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--trigger-interval",
        help="freshness: the pipeline's processing-time interval (default: the pipeline's own)",
    )


def parse_parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown parts {unknown}; known: {', '.join(PARTS)}")
    return [part for part in PARTS if part in parts]


def size(name: str, quick: bool) -> float:
    return SIZES[name][1 if quick else 0]


def run_parts(parts: list[str], quick: bool, work: Path, interval: str | None) -> dict:
    """Run ``parts`` in order in ``work``; their results by name (a failed part: its error)."""
    from clickstream.bench import catchup, freshness, throughput
    from clickstream.bench.job_commands import write_backlog

    events = int(size("backlog_events", quick))
    backlog = work / "backlog"
    runners = {
        "generator": lambda: throughput.run_generator(
            int(size("generator_events", quick)), int(size("generator_runs", quick))
        ),
        "bronze": lambda: catchup.run_bronze(backlog, work, events),
        "pipeline": lambda: catchup.run_pipeline(backlog, work, events),
        "freshness": lambda: freshness.run_freshness(
            work,
            size("freshness_minutes", quick),
            FRESHNESS_RATE,
            interval,
            size("maintenance_timeout_seconds", quick),
        ),
    }
    if {"bronze", "pipeline"} & set(parts):
        write_backlog(backlog, events, int(size("backlog_files", quick)))
    results = {}
    for part in parts:
        try:
            results[part] = runners[part]()
        except Exception as error:  # one failed part must not lose the others
            results[part] = {"error": f"{type(error).__name__}: {error}"}
        _say(part, results[part])
    return results


def _say(part: str, result: dict) -> None:
    if "error" in result:
        print(f"{part}: FAILED: {result['error']}", flush=True)
        return
    if part == "generator":
        from clickstream.bench.throughput import describe

        print(f"{part}: {describe(result)}", flush=True)
        return
    if part == "freshness":
        figures = ", ".join(
            f"{layer} p50 {f['p50']} s p95 {f['p95']} s max {f['max']} s"
            for layer, f in result["latency_seconds"].items()
        )
    elif part == "pipeline":
        figures = f"{result['query_seconds']} s ({result['process_seconds']} s process)"
    else:
        figures = f"{result['events_per_second']:,} events/s"
    print(f"{part}: {figures}; goal {'met' if result['goal_met'] else 'NOT met'}", flush=True)


def run_command(args: argparse.Namespace) -> int:
    parts = parse_parts(args.parts)
    name = args.name or f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    work = args.work or Path(tempfile.mkdtemp(prefix="clickstream-bench-"))
    load_start = machine.load()
    try:
        results = run_parts(parts, args.quick, work, args.trigger_interval)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "name": name,
        "quick": args.quick,
        "machine": machine.machine_facts(),
        "load_start": load_start,
        "load_end": machine.load(),
        "goal_ratios": report.goal_ratios(results),
        "parts": results,
    }
    json_path = args.out / f"{name}.json"
    report.write_json(result, json_path)
    report.plot(result, json_path.with_suffix(".png"))
    print(f"report: {json_path} and {json_path.with_suffix('.png')}")
    return 0
