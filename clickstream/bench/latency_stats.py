"""Latency figures of a benchmark: nearest-rank percentiles and their summary.

Input: latencies in seconds (chained from ``clickstream.lakehouse.delta_log``'s batch times by the
freshness part). Output: p50/p95/max-style summaries for the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in (0, 1]) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize_latencies(values: Sequence[float]) -> dict:
    """Seconds -> {count, p50, p95, max} rounded to milliseconds."""

    def rounded(value):
        return None if value is None else round(value, 3)

    return {
        "count": len(values),
        "p50": rounded(percentile(values, 0.50)),
        "p95": rounded(percentile(values, 0.95)),
        "max": rounded(max(values) if values else None),
    }
