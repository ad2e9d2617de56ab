"""Bad input: every malformed kind of the generator plus hand-made files. None stops the pipeline,
each lands where docs/bronze-and-silver.md says, and the counts reconcile:
raw lines = bronze rows = silver + quarantine + removed duplicates."""

from __future__ import annotations

import json
import random
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clickstream.core.config import resolve_paths
from clickstream.generator.ledger import MALFORMED_KINDS, Ledger, load_ledger
from clickstream.lakehouse.delta_log import committed_raw_files
from clickstream.streaming.layer_streams import (
    BronzeOptions,
    SilverOptions,
    start_bronze,
    start_silver,
)
from clickstream.streaming.trigger import Trigger
from tests.reliability import report
from tests.support.backlog import generate_backlog, recent_hour

NOW = datetime.now(UTC).replace(microsecond=0)


def event(kind: str = "page_view", when: datetime | None = None, **fields) -> dict:
    """A valid event of ``kind`` (override or add any field)."""
    record = {
        "event_id": str(uuid.uuid4()),
        "event_type": kind,
        "user_id": "u-hand",
        "session_id": "s-hand",
        "timestamp": (when or NOW - timedelta(hours=2)).isoformat(),
        "page_url": "/home",
    }
    if kind == "purchase":
        record |= {"product_id": "p-hand", "price": 12.5, "quantity": 2}
    return record | fields


def lines(*records: dict) -> list[bytes]:
    return [json.dumps(record).encode() for record in records]


# Valid events with one optional field wrong, and the field error silver must record for each.
WRONG_OPTIONAL_FIELDS = [
    (event(price="abc"), "price:wrong_type"),
    (event("add_to_cart", product_id="p-hand", quantity=-1), "quantity:out_of_range"),
    (event("search", search_query="lamp", price=0), "price:non_positive"),
    (event(ip_address="999.1.1.1"), "ip_address:invalid"),
    (event(user_agent="Mozilla/5.0\u0000"), "user_agent:invalid"),
    (event(country="germany"), "country:invalid"),
]


def hand_made_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, where its lines land: "silver", "skipped" or a quarantine reason)."""
    rng = random.Random(3)  # bytes without CR: line ends are the CRLF file's subject
    garbage = bytes(rng.choice([*range(0, 13), *range(14, 256)]) for _ in range(4096))
    big = event("search", search_query="x" * 10_000_000)
    return {
        "empty.json": (b"", "skipped"),
        "ten_megabyte_line.json": (b"\n".join(lines(big)) + b"\n", "silver"),
        "binary_garbage.json": (garbage, "garbage"),
        "byte_order_mark.json": (b"\xef\xbb\xbf" + b"\n".join(lines(event(), event())), "silver"),
        "crlf.json": (b"\r\n".join(lines(event(), event("purchase"), event())) + b"\r\n", "silver"),
        "wrong_types.json": (
            b"\n".join(lines(event("purchase", price="abc"), event("purchase", quantity="two"))),
            "wrong_type",
        ),
        "wrong_optional_fields.json": (
            b"\n".join(lines(*(record for record, _ in WRONG_OPTIONAL_FIELDS))),
            "silver",
        ),
        "unknown_fields.json": (
            b"\n".join(lines(event(utm="x", nested={"a": [1, 2]}), event(extra=None))),
            "silver",
        ),
        "far_past.json": (
            b"\n".join(lines(event(when=datetime(1971, 1, 1, tzinfo=UTC)))),
            "timestamp_too_old",
        ),
        "far_future.json": (
            b"\n".join(lines(event(when=NOW + timedelta(days=3650)))),
            "timestamp_in_future",
        ),
    }


def delete_when_first_batch_commits(spark, doomed: Path):
    """A listener that deletes ``doomed`` after bronze's first batch: listed, not yet read."""
    from pyspark.sql.streaming import StreamingQueryListener

    class Deleter(StreamingQueryListener):
        def onQueryStarted(self, event):
            pass

        def onQueryProgress(self, event):
            doomed.unlink(missing_ok=True)

        def onQueryIdle(self, event):
            pass

        def onQueryTerminated(self, event):
            pass

    listener = Deleter()
    spark.streams.addListener(listener)
    return listener


@dataclass
class Landed:
    """The lake after the drain, grouped by source file name, and what went into it."""

    files: dict[str, tuple[bytes, str]]
    ledger: Ledger
    raw_lines: dict[str, int]
    bronze: dict[str, list]
    silver: dict[str, list]
    quarantine: dict[str, list]
    original: str
    copy: str


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory) -> Landed:
    """A generated backlog with every malformed kind, the hand-made files, a copy of a file under
    a new name and a file deleted after bronze listed it, drained through bronze and silver."""
    lake = resolve_paths({"root": tmp_path_factory.mktemp("bad") / "data"}, environ={})
    generate_backlog(lake, recent_hour(), minutes=2, seed=17, rate=20)
    generated = sorted(lake.raw.glob("events_*.json"))
    files = hand_made_files()
    for name, (data, _) in files.items():
        (lake.raw / name).write_bytes(data)
    copy = lake.raw / "same_file_new_name.json"
    shutil.copyfile(generated[0], copy)
    doomed = lake.raw / "zz_deleted_before_read.json"
    doomed.write_bytes(b"\n".join(lines(event(), event())))  # the newest file: read last

    listener = delete_when_first_batch_commits(spark, doomed)
    try:
        [bronze] = start_bronze(spark, lake, Trigger(available_now=True), BronzeOptions(5))
        bronze.awaitTermination()
    finally:
        spark.streams.removeListener(listener)
    for query in start_silver(spark, lake, Trigger(available_now=True), SilverOptions()):
        query.awaitTermination()
    assert not doomed.exists()
    assert doomed in committed_raw_files(lake.checkpoint("bronze"))  # listed, then gone

    def by_file(path: Path, *columns: str) -> dict[str, list]:
        rows = spark.read.format("delta").load(str(path)).select("source_file", *columns).collect()
        grouped: dict[str, list] = {}
        for row in rows:
            grouped.setdefault(Path(row.source_file).name, []).append(row)
        return grouped

    return Landed(
        files=files,
        ledger=load_ledger(lake.raw),
        # counted in plain Python the way Spark's text source splits lines (LF, CR, CRLF)
        raw_lines={
            path.name: len(path.read_bytes().splitlines()) for path in lake.raw.glob("*.json")
        },
        bronze=by_file(lake.bronze, "raw_line"),
        silver=by_file(
            lake.silver, "event_id", "search_query", "field_errors", "price", "quantity"
        ),
        quarantine=by_file(lake.quarantine, "rejection_reasons"),
        original=generated[0].name,
        copy=copy.name,
    )


@pytest.mark.slow
def test_every_malformed_kind_of_the_generator_is_in_the_backlog(landed):
    assert set(landed.ledger.malformed_by_kind) == set(MALFORMED_KINDS)
    assert landed.ledger.duplicates > 0


@pytest.mark.slow
def test_bronze_holds_every_raw_line_of_every_file_read(landed):
    assert {name: len(rows) for name, rows in landed.bronze.items()} == {
        name: n for name, n in landed.raw_lines.items() if n
    }


@pytest.mark.slow
def test_each_hand_made_file_lands_where_the_readme_says(landed):
    silver, quarantine, raw_lines = landed.silver, landed.quarantine, landed.raw_lines
    for name, (_, lands) in landed.files.items():
        if lands == "skipped":
            assert name not in landed.bronze
        elif lands == "silver":
            assert len(silver.get(name, [])) == raw_lines[name] and name not in quarantine, name
        elif lands == "garbage":
            reasons = Counter(r for row in quarantine[name] for r in row.rejection_reasons)
            assert len(quarantine[name]) == raw_lines[name] and name not in silver
            assert set(reasons) <= {"invalid_utf8", "malformed_json", "empty_line"}, reasons
        else:
            reasons = [row.rejection_reasons for row in quarantine[name]]
            assert reasons == [[lands]] * raw_lines[name], name
    [big] = silver["ten_megabyte_line.json"]
    assert len(big.search_query) == 10_000_000


@pytest.mark.slow
def test_a_wrong_optional_field_is_kept_null_and_recorded(landed):
    rows = {row.event_id: row for row in landed.silver["wrong_optional_fields.json"]}
    expected = {record["event_id"]: [code] for record, code in WRONG_OPTIONAL_FIELDS}
    assert {event_id: row.field_errors for event_id, row in rows.items()} == expected
    price_errors = [row for row in rows.values() if row.field_errors[0].startswith("price")]
    assert price_errors and all(row.price is None for row in price_errors)
    [cart] = [row for row in rows.values() if row.field_errors == ["quantity:out_of_range"]]
    assert cart.quantity is None


@pytest.mark.slow
def test_a_copied_file_is_deduplicated_and_silver_holds_each_valid_event_once(landed):
    bronze, quarantine = landed.bronze, landed.quarantine
    assert len(bronze[landed.copy]) == len(bronze[landed.original])
    assert len(quarantine.get(landed.copy, [])) == len(quarantine.get(landed.original, []))
    assert silver_ids(landed) == Counter(landed.ledger.valid_event_ids | hand_made_ids(landed))


def silver_ids(landed: Landed) -> Counter:
    return Counter(row.event_id for rows in landed.silver.values() for row in rows)


def hand_made_ids(landed: Landed) -> set[str]:
    return {
        json.loads(line)["event_id"]
        for data, lands in landed.files.values()
        if lands == "silver"
        for line in data.removeprefix(b"\xef\xbb\xbf").splitlines()
    }


@pytest.mark.slow
def test_raw_lines_equal_bronze_equal_silver_quarantine_and_removed_duplicates(
    landed, record_outcome
):
    bronze_rows = sum(map(len, landed.bronze.values()))
    silver_rows = sum(map(len, landed.silver.values()))
    quarantine_rows = sum(map(len, landed.quarantine.values()))
    copied_valid = len(landed.bronze[landed.copy]) - len(landed.quarantine.get(landed.copy, []))
    removed = landed.ledger.duplicates + copied_valid
    assert sum(landed.raw_lines.values()) == bronze_rows
    assert bronze_rows == silver_rows + quarantine_rows + removed

    expected = Counter(landed.ledger.valid_event_ids | hand_made_ids(landed))
    lost, repeated = report.lost_and_repeated(expected, silver_ids(landed))
    record_outcome(
        report.Outcome(
            "bad input",
            {
                **{f"malformed {k}": n for k, n in sorted(landed.ledger.malformed_by_kind.items())},
                "duplicate events": landed.ledger.duplicates,
                **{f"file {name} (lines)": landed.raw_lines[name] for name in landed.files},
                "file copied under a new name (lines)": landed.raw_lines[landed.copy],
                "file deleted before read": 1,
            },
            rows_lost=lost,
            duplicates=repeated,
        )
    )
