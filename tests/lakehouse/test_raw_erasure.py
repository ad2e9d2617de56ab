"""Erasing a user from raw files: no line of theirs is left, landed or archived, and the adjusted
ledger still agrees with an independent recount of the files."""

from __future__ import annotations

import json
import shutil
from collections import Counter

from clickstream.generator.faults import FaultSettings
from clickstream.generator.inspect_raw import inspect_raw
from clickstream.generator.ledger import load_ledger
from clickstream.lakehouse.raw_erasure import forget_raw
from tests.generator.helpers import backfill, read_lines

FAULTS = FaultSettings(
    duplicate_rate=0.05, malformed_rate=0.05, field_error_rate=0.05, out_of_order_rate=0.05
)


def test_a_user_leaves_every_raw_file_and_the_ledger_still_adds_up(tmp_path):
    raw, archive = tmp_path / "raw", tmp_path / "archive"
    backfill(raw, minutes=6, rate=20, seed=11, faults=FAULTS)
    lines = read_lines(raw)
    # The user with the most lines among those with a quarantined line and a field error.
    quarantined = {user_of(line.raw) for line in lines if line.kind is not None}
    flawed = {
        line.event["user_id"] for line in lines if line.event and line.event["__field_errors__"]
    }
    per_user = Counter(line.event["user_id"] for line in lines if line.event is not None)
    user = max((quarantined & flawed) or per_user, key=lambda name: per_user[name])
    # Half the files archived the way Spark's cleanSource does: under the source's full path.
    files = sorted(raw.glob("*.json"))
    for path in files[: len(files) // 2]:
        target = archive / str(path.parent).lstrip("/") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    times = {
        path.name: path.stat().st_mtime_ns
        for path in [*raw.glob("*.json"), *archive.rglob("*.json")]
    }

    erased = forget_raw(raw, archive, user)

    assert erased.files_scanned == len(files)
    assert erased.lines_removed >= per_user[user] > 0
    assert erased.sidecars_rewritten == erased.files_rewritten > 0
    every_file = [*raw.glob("*.json"), *archive.rglob("*.json")]
    assert len(every_file) == len(files) and not list(tmp_path.rglob(".*.tmp"))
    assert {path.name: path.stat().st_mtime_ns for path in every_file} == times
    for path in every_file:
        for line in path.read_bytes().splitlines():
            assert user_of(line) != user, path
            assert f'"user_id":"{user}"'.encode() not in line.replace(b" ", b""), path

    # The files back in one folder: the ledger must agree with a recount that knows nothing of it.
    for path in archive.rglob("*.json"):
        shutil.move(path, raw / path.name)
    report, _ = inspect_raw(raw)
    ledger = load_ledger(raw)
    assert report.lines == ledger.lines
    assert report.valid_event_ids == ledger.valid_event_ids
    assert report.events_by_type == ledger.events_by_type
    assert report.duplicates == ledger.duplicates
    found = sorted((line.file, line.line_number, line.kind) for line in report.malformed)
    recorded = sorted((line.file, line.line_number, line.kind) for line in ledger.malformed)
    assert found == recorded
    assert set(report.field_errors) == set(ledger.field_errors)
    assert user not in ledger.bot_user_ids


def _loads(line: bytes):
    try:
        value = json.loads(line.decode("utf-8", "replace").strip().removeprefix("\ufeff"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def user_of(line: bytes) -> str | None:
    value = (_loads(line) or {}).get("user_id")
    return value if isinstance(value, str) else None
