"""The benchmark report: one JSON file and one PNG plot per run.

Input: the results of each part, the machine facts and the load before and after. Output:
``<out>/<name>.json`` (every figure, per-file latencies and batch series included) and
``<out>/<name>.png`` (goals, freshness per layer, batch durations over the run, peak memory).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def goal_ratios(parts: dict) -> dict[str, float]:
    """Each goal as measured/goal, oriented so that 1 or more means the goal is met."""
    ratios = {}
    parts = {name: part for name, part in parts.items() if "error" not in part}
    if "generator" in parts:
        part = parts["generator"]
        ratios["generator events/s"] = part["events_per_second"] / part["goal_events_per_second"]
    if "bronze" in parts:
        part = parts["bronze"]
        ratios["bronze events/s"] = part["events_per_second"] / part["goal_events_per_second"]
    if "pipeline" in parts:
        part = parts["pipeline"]
        ratios["pipeline wall s"] = part["goal_seconds"] / part["query_seconds"]
    if "freshness" in parts:
        part = parts["freshness"]
        for layer, goal in part["goal_p95_seconds"].items():
            p95 = part["latency_seconds"][layer]["p95"]
            ratios[f"{layer} p95 s"] = goal / p95 if p95 else 0.0
    return {name: round(ratio, 3) for name, ratio in ratios.items()}


def write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


def plot(report: dict, path: Path) -> None:
    """Four panels; a panel whose part did not run says so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = {name: part for name, part in report["parts"].items() if "error" not in part}
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    figure.suptitle(
        f"clickstream bench {report['name']} ({'quick' if report['quick'] else 'full'}), "
        f"{report['machine']['cores']} cores, load {report['load_start']['loadavg'][0]:.1f}"
        f"->{report['load_end']['loadavg'][0]:.1f}, commit {report['machine']['git_commit']}"
    )
    _goals(axes[0][0], report["goal_ratios"])
    _freshness(axes[0][1], parts.get("freshness"))
    _batches(axes[1][0], parts.get("freshness"))
    _memory(axes[1][1], parts)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _goals(ax, ratios: dict) -> None:
    names = list(ratios)
    ax.barh(
        names, [ratios[n] for n in names], color=["C2" if ratios[n] >= 1 else "C3" for n in names]
    )
    ax.axvline(1, color="black", linewidth=1)
    ax.set_title("measured against goal (>= 1: met)")
    ax.invert_yaxis()


def _freshness(ax, part: dict | None) -> None:
    ax.set_title("freshness: seconds from landing to visible")
    if not part:
        ax.text(0.5, 0.5, "not run", ha="center")
        return
    layers = ["bronze", "silver", "gold"]
    data = [[row[layer] for row in part["per_file"] if row[layer] is not None] for layer in layers]
    ax.boxplot(data, tick_labels=layers, whis=(5, 95))
    for x, (layer, goal) in enumerate(part["goal_p95_seconds"].items()):
        ax.hlines(
            goal,
            layers.index(layer) + 0.6,
            layers.index(layer) + 1.4,
            colors="C3",
            label="p95 goal" if x == 0 else None,
        )
    ax.set_ylabel("seconds")
    ax.legend()


def _batches(ax, part: dict | None) -> None:
    ax.set_title("batch duration over the freshness run")
    if not part:
        ax.text(0.5, 0.5, "not run", ha="center")
        return
    for query, figures in part["stability"]["queries"].items():
        series = figures["series"]
        if not series:
            continue
        start = datetime.fromisoformat(series[0][0].replace("Z", "+00:00"))
        times = [
            (datetime.fromisoformat(t.replace("Z", "+00:00")) - start).total_seconds()
            for t, _ in series
        ]
        ax.plot(times, [ms / 1000 for _, ms in series], label=query, linewidth=1)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("batch seconds")
    ax.legend(fontsize=7)


def _memory(ax, parts: dict) -> None:
    ax.set_title("peak RSS per process (MB)")
    labels, values = [], []
    for name, part in parts.items():
        for process in part.get("resources", {}).get("processes", []):
            if process["peak_rss_mb"] >= 50:
                labels.append(f"{name}: {process['command'][:40]}")
                values.append(process["peak_rss_mb"])
    if not values:
        ax.text(0.5, 0.5, "no child processes", ha="center")
        return
    ax.barh(labels, values)
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
