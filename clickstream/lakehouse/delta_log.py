"""The one reader of Delta logs and streaming checkpoints: which tables have committed, which
batches a table holds, which raw files bronze's committed batches read, when each batch of a query
was planned and committed, what a Delta-source batch consumed. Nothing else opens ``_delta_log/``
or a checkpoint's ``offsets/``, ``commits/`` and ``sources/``; ``tests/lakehouse/test_delta_log_commits.py``
and ``tests/lakehouse/test_delta_log_checkpoints.py`` pin the layouts it relies on (Delta 4.4, Spark 4.2).

Input: a Delta table folder and a writer id (a streaming query's id). Output: the last batch that
writer committed (``last_batch``), or every batch with its table version (``tagged_commits``).

Every append of a streaming batch (``streaming.append_batches``) carries a tag in its commit's
``commitInfo.userMetadata``: ``{"clickstream_writer": <query id>, "batch": <batch id>}``. A batch
replayed after a crash (Spark re-runs the last batch whose checkpoint commit is missing) is skipped
when the table already holds it, which makes the append exactly-once. Delta's own streaming sink
does the same with a ``SetTransaction`` action, but Delta 4.4.0 looks it up in
``Snapshot.setTransactions``, which reconstructs the whole table state with a Spark job on every
batch (the checksum file's copy is not used): a third of a small batch's time, measured in the
docs/performance-log.md. Reading the newest commit file costs a millisecond.

The scan starts at the newest version (found from ``_last_checkpoint`` forward, without listing the
log folder) and walks back to the writer's newest tag: one file in steady state, a few after
maintenance commits. It assumes one running writer per query id, which the checkpoint lock ensures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from clickstream.core.config import LakehousePaths

WRITER_KEY = "clickstream_writer"


def batch_tag(writer_id: str, batch_id: int) -> str:
    """The ``userMetadata`` of the commit of ``batch_id`` by ``writer_id``."""
    return json.dumps({WRITER_KEY: writer_id, "batch": batch_id})


def tagged_batch(commit_info: dict, writer_id: str) -> int | None:
    """The batch id a commit's ``commitInfo`` is tagged with by ``writer_id``, else None."""
    try:
        tag = json.loads(commit_info.get("userMetadata") or "")
    except ValueError:
        return None
    if isinstance(tag, dict) and tag.get(WRITER_KEY) == writer_id:
        return int(tag["batch"])
    return None


def query_id(checkpoint: Path) -> str:
    """The id of the streaming query of ``checkpoint`` (Spark writes it when the query starts)."""
    return json.loads((checkpoint / "metadata").read_text())["id"]


def commit_file(table: Path, version: int) -> Path:
    return table / "_delta_log" / f"{version:020}.json"


def committed_batch(path: Path, writer_id: str) -> int | None:
    """The batch of ``writer_id`` that one commit file holds, else None: its ``commitInfo`` tag,
    or the ``txn`` action of Delta's own streaming sink (tables written before the tags)."""
    with path.open() as lines:
        for line in lines:
            if line.startswith('{"commitInfo"'):
                batch = tagged_batch(json.loads(line)["commitInfo"], writer_id)
            elif line.startswith('{"txn"'):
                txn = json.loads(line)["txn"]
                batch = int(txn["version"]) if txn.get("appId") == writer_id else None
            else:
                continue
            if batch is not None:
                return batch
    return None


def last_checkpoint_version(table: Path) -> int:
    """The version of the newest checkpoint (``_last_checkpoint``), or -1 without one."""
    try:
        return int(json.loads((table / "_delta_log" / "_last_checkpoint").read_text())["version"])
    except (FileNotFoundError, ValueError, KeyError):
        return -1


def latest_version(table: Path, start: int = -1) -> int:
    """The newest committed version, probing forward from the newest checkpoint (or ``start``);
    -1 for a table without commits."""
    version = max(start, last_checkpoint_version(table), -1)
    while version >= 0 and not commit_file(table, version).exists():
        version -= 1  # ``start`` ahead of the table (recreated), or a checkpoint without its json
    while commit_file(table, version + 1).exists():
        version += 1
    return version


def last_batch(table: Path, writer_id: str) -> int | None:
    """The newest batch ``writer_id`` committed to ``table``, None if none is in the log.

    Commit files removed by Delta's log cleanup end the scan: a batch is only ever in doubt right
    after a crash, and its commit is then among the newest.
    """
    version = latest_version(table)
    while version >= 0:
        path = commit_file(table, version)
        if not path.exists():
            return None
        batch = committed_batch(path, writer_id)
        if batch is not None:
            return batch
        version -= 1
    return None


def tagged_commits(table: Path, writer_id: str) -> dict[int, tuple[int, float]]:
    """Batch id -> (table version, commit file time) of every batch ``writer_id`` committed."""
    commits = {}
    for path in (table / "_delta_log").glob("*.json"):
        if path.stem.isdigit():
            batch = committed_batch(path, writer_id)
            if batch is not None:
                commits[batch] = (int(path.stem), path.stat().st_mtime)
    return commits


def has_commit(table: Path) -> bool:
    """Whether ``table`` has committed a version: a commit, checksum or checkpoint file named by
    its version in ``_delta_log`` (a job creating the table has the folder before its first commit
    lands; the commit is written under a hidden temporary name, then renamed)."""
    return holds_commit(table / "_delta_log")


def holds_commit(delta_log: Path) -> bool:
    """Whether the log folder ``delta_log`` holds a file named by a version (see ``has_commit``)."""
    return delta_log.is_dir() and any(entry.name[:20].isdigit() for entry in delta_log.iterdir())


def delta_tables(paths: LakehousePaths) -> dict[str, Path]:
    """Every committed Delta table of the lakehouse by name: bronze, silver, quarantine, one per
    gold model (a table still being created is left out: nothing to maintain or inspect yet)."""
    tables = {"bronze": paths.bronze, "silver": paths.silver, "quarantine": paths.quarantine}
    if paths.gold.is_dir():
        for folder in sorted(paths.gold.iterdir()):
            if not folder.name.startswith("."):  # a full refresh's staging table, in flight
                tables[f"gold.{folder.name}"] = folder
    return {name: path for name, path in tables.items() if has_commit(path)}


def committed_raw_files(checkpoint: Path) -> list[Path]:
    """Raw files that bronze's committed batches read, from its file-source log (no JVM needed)."""
    committed = _numbered(checkpoint / "commits")
    if not committed:
        return []
    last_commit = max(committed)
    entries = file_source_entries(checkpoint)
    return sorted(path for path, batch in entries.items() if batch <= last_commit)


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


def file_source_entries(checkpoint: Path, source: int = 0) -> dict[Path, int]:
    """Every file a file-source query read -> the id of its batch. The log (``sources/<n>/``) holds
    one file per batch (``<batch>``) or a compaction of all earlier ones (``<batch>.compact``): a
    ``v1`` line, then one JSON entry per file with its ``path`` (a URI) and ``batchId``."""
    entries = {}
    for path in _numbered(checkpoint / "sources" / str(source)).values():
        for line in path.read_text().splitlines()[1:]:
            if line.strip():
                entry = json.loads(line)
                entries[Path(unquote(urlparse(entry["path"]).path))] = entry["batchId"]
    return entries


def file_source_batches(checkpoint: Path, source: int = 0) -> dict[str, int]:
    """File name -> id of the batch of a file-source query that read it (compact files included)."""
    return {path.name: batch for path, batch in file_source_entries(checkpoint, source).items()}


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
