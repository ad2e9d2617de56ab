"""Reading what the streaming queries wrote, without a JVM: checkpoints, Delta logs, metrics.

Input: a query's checkpoint folder or a Delta table folder. Output: per micro-batch, the time it
became visible (its commit), the raw files it read (file source) or the Delta versions it consumed
(Delta source); ``clickstream.lakehouse.delta_log`` gives the table version each batch committed. ``latency`` chains these to time
one raw file from landing to bronze, silver and gold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

# Delta source offset index meaning "every file of reservoirVersion consumed" (Long.MAX_VALUE).
END_INDEX = 2**63 - 1


def _numbered(folder: Path) -> dict[int, Path]:
    """Files named by a batch id (``7``, ``9.compact``) -> {id: path}; temp files ignored."""
    found = {}
    if folder.is_dir():
        for path in folder.iterdir():
            stem = path.name.removesuffix(".compact")
            if stem.isdigit():
                found[int(stem)] = path
    return found


def commit_times(checkpoint: Path) -> dict[int, float]:
    """Batch id -> when the query committed it (mtime of ``commits/<id>``, written after the sink's
    output was committed)."""
    return {
        batch: path.stat().st_mtime for batch, path in _numbered(checkpoint / "commits").items()
    }


def batch_start_times(checkpoint: Path) -> dict[int, float]:
    """Batch id -> when the query planned it (``batchTimestampMs`` of ``offsets/<id>``)."""
    starts = {}
    for batch, path in _numbered(checkpoint / "offsets").items():
        metadata = json.loads(path.read_text().splitlines()[1])
        starts[batch] = metadata["batchTimestampMs"] / 1000
    return starts


def file_source_batches(checkpoint: Path, source: int = 0) -> dict[str, int]:
    """File name -> id of the batch of a file-source query that read it (compact files included)."""
    batches = {}
    for path in _numbered(checkpoint / "sources" / str(source)).values():
        for line in path.read_text().splitlines()[1:]:
            if line.strip():
                entry = json.loads(line)
                batches[Path(unquote(urlparse(entry["path"]).path)).name] = entry["batchId"]
    return batches


def delta_source_offsets(checkpoint: Path, source: int = 0) -> dict[int, dict]:
    """Batch id -> the end offset of a Delta-source query's batch (``reservoirVersion``, ``index``)."""
    offsets = {}
    for batch, path in _numbered(checkpoint / "offsets").items():
        lines = path.read_text().splitlines()
        offsets[batch] = json.loads(lines[2 + source])
    return offsets


def consumed_through(offset: Mapping) -> int:
    """Last Delta version a batch ending at ``offset`` has read completely.

    Index -1 at version v means nothing of v yet (so v - 1); ``END_INDEX`` means all of v; any
    other index may be part of v, so v counts only once a later offset passes it (conservative).
    """
    version = int(offset["reservoirVersion"])
    return version if int(offset["index"]) == END_INDEX else version - 1


def first_batch_covering(
    offsets: Mapping[int, Mapping], committed: Mapping[int, float], version: int
) -> int | None:
    """The first committed batch whose offset consumed Delta ``version`` completely, or None."""
    for batch in sorted(committed):
        if batch in offsets and consumed_through(offsets[batch]) >= version:
            return batch
    return None


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
