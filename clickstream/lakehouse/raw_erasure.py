"""Erasing one user from the raw files, the raw archive and the generator's ledger sidecars.

Input: the raw and archive folders and a user id. Output: every ``*.json`` raw file (landed or
archived) rewritten
without the lines of that user (written under a hidden temporary name beside it, fsynced, renamed
over it, its modification time kept), and each rewritten file's sidecar in ``<raw>/_ledger``
adjusted line by line (lines, event ids, counts per type, malformed lines and field errors
renumbered, the user out of the bot users), so the tables still reconcile with the ledger.

A line is the user's when it parses as JSON with ``user_id`` equal to the id, or, parsed or not
(truncated JSON, bytes that are not UTF-8), when its text holds ``"user_id": "<id>"``.
Bronze and quarantine are matched the same way (``clickstream.lakehouse.erasure``).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickstream.generator.ledger import LEDGER_DIR, FileLedger

RAW_GLOB = "*.json"
TEMP_SUFFIX = ".forget.tmp"


def user_id_pattern(user_id: str) -> str:
    """The regular expression (Python and Java alike) of ``"user_id": "<id>"`` in JSON text."""
    spellings = {json.dumps(user_id), json.dumps(user_id, ensure_ascii=False)}
    quoted = "|".join(re.escape(spelling) for spelling in sorted(spellings))
    return rf'"user_id"\s*:\s*(?:{quoted})'


def parsed(line: bytes) -> dict[str, Any] | None:
    """The JSON object of a line (a leading byte-order mark ignored), or None."""
    text = line.decode("utf-8", "replace").strip().removeprefix("\ufeff")
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def mentions_user(line: bytes, user_id: str, pattern: re.Pattern[str]) -> bool:
    event = parsed(line)
    if event is not None and event.get("user_id") == user_id:
        return True
    return pattern.search(line.decode("utf-8", "replace")) is not None


@dataclass(frozen=True)
class RemovedLine:
    number: int  # 1-based, as the ledger counts
    event_id: str | None
    event_type: str | None


def split_user_lines(data: bytes, user_id: str) -> tuple[bytes, list[RemovedLine]]:
    """A file's bytes -> (the bytes without the user's lines, the lines removed)."""
    pattern = re.compile(user_id_pattern(user_id))
    kept, removed = [], []
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        if mentions_user(line, user_id, pattern):
            event = parsed(line) or {}
            removed.append(RemovedLine(number, event.get("event_id"), event.get("event_type")))
        else:
            kept.append(line)
    return b"".join(kept), removed


def renumbered(entries: list[dict[str, Any]], removed: list[int]) -> list[dict[str, Any]]:
    """Ledger entries with a ``line_number``: those on removed lines dropped, the rest moved up
    by the removed lines before them."""
    gone = set(removed)
    return [
        {**entry, "line_number": entry["line_number"] - sum(1 for n in removed if n < entry["line_number"])}
        for entry in entries
        if entry["line_number"] not in gone
    ]  # fmt: skip


def forget_in_sidecar(
    document: dict[str, Any], removed: list[RemovedLine], user_id: str
) -> FileLedger:
    """One sidecar document -> the same file's ledger once ``removed`` lines are gone."""
    ids = {line.event_id for line in removed if line.event_id}
    numbers = [line.number for line in removed]
    valid = document["valid_event_ids"]
    types = {line.event_id: line.event_type for line in removed if line.event_id in set(valid)}
    by_type = Counter(document["events_by_type"])
    by_type.subtract(Counter(event_type for event_type in types.values() if event_type))

    def without(key: str) -> list[str]:
        return [event_id for event_id in document[key] if event_id not in ids]

    return FileLedger(
        file=document["file"],
        seed=document["seed"],
        window_start=document["window_start"],
        window_end=document["window_end"],
        lines=document["lines"] - len(removed),
        valid_event_ids=without("valid_event_ids"),
        events_by_type=dict(by_type),
        duplicate_event_ids=without("duplicate_event_ids"),
        late_event_ids=without("late_event_ids"),
        out_of_order_event_ids=without("out_of_order_event_ids"),
        malformed=renumbered(document["malformed"], numbers),
        bot_user_ids=[user for user in document["bot_user_ids"] if user != user_id],
        field_errors=[
            entry
            for entry in renumbered(document.get("field_errors", []), numbers)
            if entry.get("event_id") not in ids
        ],
    )


def replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` under a hidden name beside ``path`` (Spark and the generator's readers
    skip it), fsync, rename over ``path``; keep ``path``'s modification time."""
    stat = path.stat()
    temporary = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, stat.st_mode & 0o7777)
    os.utime(temporary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(temporary, path)


@dataclass(frozen=True)
class RawErasure:
    files_scanned: int
    files_rewritten: int
    lines_removed: int
    sidecars_rewritten: int


def raw_files(raw: Path, archive: Path) -> list[Path]:
    """The landed files (``<raw>/*.json``) and the archived ones: flat (the maintenance job)
    or under the source's full path (Spark's ``cleanSource=archive``, offered by earlier
    versions). Hidden temporary files left out."""
    landed = sorted(raw.glob(RAW_GLOB)) if raw.is_dir() else []
    archived = sorted(archive.rglob(RAW_GLOB)) if archive.is_dir() else []
    return [path for path in landed + archived if not path.name.startswith(".")]


def forget_raw(raw: Path, archive: Path, user_id: str) -> RawErasure:
    """Rewrite every landed and archived raw file without ``user_id``'s lines, and each one's
    sidecar in ``<raw>/_ledger``."""
    ledger_folder = raw / LEDGER_DIR
    files = raw_files(raw, archive)
    rewritten = lines = sidecars = 0
    for path in files:
        kept, removed = split_user_lines(path.read_bytes(), user_id)
        if not removed:
            continue
        sidecar = ledger_folder / f"{path.name}.json"
        if sidecar.is_file():  # first: a crash in between leaves a rerun the same work
            ledger = forget_in_sidecar(json.loads(sidecar.read_bytes()), removed, user_id)
            replace_atomically(sidecar, ledger.to_bytes())
            sidecars += 1
        replace_atomically(path, kept)
        rewritten += 1
        lines += len(removed)
    return RawErasure(len(files), rewritten, lines, sidecars)
