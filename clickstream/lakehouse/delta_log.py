"""The one reader of Delta logs and streaming checkpoints: which tables have committed, which
batches a table holds, which raw files bronze's committed batches read.

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


BRONZE_SOURCE_LOG = Path("sources") / "0"  # bronze has one source: the raw folder


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
    """Raw files that bronze's committed batches read, from its file-source log (no JVM needed).

    The log holds one file per batch (``<batch>``) or a compaction of all earlier ones
    (``<batch>.compact``): a ``v1`` line, then one JSON entry per file with its ``batchId``.
    """
    log_dir, commits = checkpoint / BRONZE_SOURCE_LOG, checkpoint / "commits"
    committed = [int(entry.name) for entry in commits.glob("*") if entry.name.isdigit()]
    if not committed or not log_dir.is_dir():
        return []
    last_commit = max(committed)
    files: set[Path] = set()
    for entry in log_dir.iterdir():
        if entry.name.startswith(".") or not entry.name.split(".")[0].isdigit():
            continue
        for line in entry.read_text().splitlines()[1:]:
            if not line.strip():
                continue
            record = json.loads(line)
            if record["batchId"] <= last_commit:
                files.add(Path(unquote(urlparse(record["path"]).path)))
    return sorted(files)
