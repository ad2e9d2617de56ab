"""Bronze and silver on generated backlogs, reconciled exactly against the generator's ledger."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from deltalake import DeltaTable

from clickstream.generator.ledger import FIELD_ERROR_KINDS, load_ledger
from clickstream.transforms.validation import FIELD_ERROR_CODES
from tests.support.backlog import drain, generate_backlog, recent_hour

# The quarantine reason each malformed kind of the generator must be filed under.
REASON_OF_KIND = {
    "truncated_json": "malformed_json",
    "wrong_type": "wrong_type",
    "missing_field": "missing_field:",
    "unknown_event_type": "unknown_event_type",
    "negative_price": "non_positive_price",
    "non_utf8": "invalid_utf8",
    "empty_line": "empty_line",
}


def table(spark, path: Path):
    return spark.read.format("delta").load(str(path))


def raw_line_count(raw_dir: Path) -> int:
    """Lines as a line reader sees them: the trailing newline closes the last line."""
    return sum(len(path.read_bytes().splitlines()) for path in raw_dir.glob("*.json"))


def expected_quarantine(ledger) -> Counter:
    return Counter((line.file, REASON_OF_KIND[line.kind]) for line in ledger.malformed)


def actual_quarantine(spark, path: Path) -> Counter:
    found = Counter()
    for row in table(spark, path).select("source_file", "rejection_reasons").collect():
        reasons = row.rejection_reasons
        primary = next(
            (
                expected
                for expected in REASON_OF_KIND.values()
                if any(r.startswith(expected) for r in reasons)
            ),
            ",".join(reasons),
        )
        found[(os.path.basename(row.source_file), primary)] += 1
    return found


def test_every_fault_kind_reconciles_with_the_ledger(spark, lake):
    generate_backlog(lake, recent_hour(), minutes=4, seed=11)
    ledger = load_ledger(lake.raw)
    assert all(ledger.malformed_by_kind[kind] > 0 for kind in REASON_OF_KIND)
    assert ledger.duplicates > 0 and ledger.late_events > 0
    assert set(ledger.field_errors.values()) == {
        code for codes in FIELD_ERROR_KINDS.values() for code in codes
    }

    drain(spark, lake)
    bronze = table(spark, lake.bronze)
    silver = table(spark, lake.silver).select("event_id", "field_errors", *FIELD_ERROR_CODES)
    silver_rows = silver.collect()
    silver_ids = [row.event_id for row in silver_rows]

    assert bronze.count() == raw_line_count(lake.raw) == ledger.lines
    assert len(silver_ids) == len(set(silver_ids))
    assert set(silver_ids) == ledger.valid_event_ids
    assert ledger.late_event_ids <= set(silver_ids)
    assert actual_quarantine(spark, lake.quarantine) == expected_quarantine(ledger)
    with_errors = {row.event_id: row for row in silver_rows if row.field_errors}
    assert {event_id: row.field_errors for event_id, row in with_errors.items()} == {
        event_id: [code] for event_id, code in ledger.field_errors.items()
    }
    assert all(
        row[code.split(":")[0]] is None for row in with_errors.values() for code in row.field_errors
    )
    for path in (lake.bronze, lake.silver, lake.quarantine):  # readable by a reader not Spark's
        assert len(DeltaTable(str(path)).to_pandas()) == table(spark, path).count()
    quarantined = DeltaTable(str(lake.quarantine)).to_pandas()
    raw_bytes = list(quarantined["raw_bytes"].dropna())
    assert len(raw_bytes) == ledger.malformed_by_kind["non_utf8"]
    raw_data = b"".join(path.read_bytes() for path in lake.raw.glob("*.json"))
    assert all(bytes(line) in raw_data for line in raw_bytes)


def test_restart_on_the_same_checkpoints_adds_only_the_new_files(spark, lake):
    start = recent_hour(hours_ago=4)
    generate_backlog(lake, start, minutes=2, seed=21)
    drain(spark, lake)
    first_version_rows = table(spark, lake.bronze).count()

    generate_backlog(lake, start.replace(minute=30), minutes=2, seed=22)
    drain(spark, lake)
    ledger = load_ledger(lake.raw)
    silver_ids = [row.event_id for row in table(spark, lake.silver).select("event_id").collect()]

    assert first_version_rows < ledger.lines
    assert table(spark, lake.bronze).count() == ledger.lines
    assert sorted(silver_ids) == sorted(ledger.valid_event_ids)
    assert table(spark, lake.quarantine).count() == ledger.malformed_lines
