"""The building blocks: ids, timestamps, the line layout, the ledger's arithmetic, the classifier."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter

import jsonschema
import numpy as np
import pytest

from clickstream.core.event_schema import EVENT_JSON_SCHEMA
from clickstream.generator.catalog import build_world
from clickstream.generator.formatting import (
    EVENT_ID,
    EVENT_TYPE_BY_PREFIX,
    EVENT_TYPE_PREFIX,
    USER_ID,
    TimestampCache,
    UuidSource,
    WindowGrid,
    format_timestamp,
    uuid4_heads,
)
from clickstream.generator.inspect_raw import classify_line, parse_timestamp_ms
from clickstream.generator.ledger import (
    FileLedger,
    Ledger,
    data_file_order,
    ledger_path,
    load_ledger,
)
from clickstream.generator.sessions import FunnelSettings, SessionSimulator
from tests.generator.helpers import START, epoch_ms

START_MS = epoch_ms(START.isoformat())


def test_ids_are_distinct_uuid4_strings_from_the_seed():
    source = UuidSource(random.Random(1), batch_size=100)
    ids = [source.next_id() for _ in range(250)] + source.batch(1000)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(set(ids)) == len(ids)
    again = UuidSource(random.Random(1), batch_size=100)
    assert [again.next_id() for _ in range(250)] + again.batch(1000) == ids


def test_bulk_ids_are_distinct_uuid4_strings_after_their_prefix_from_the_seed():
    heads, ids = uuid4_heads(np.random.default_rng(1), 1000, b'{"event_id":"')
    assert len(heads) == len(ids) == len(set(ids)) == 1000
    for head, text in zip(heads, ids, strict=True):
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert head == b'{"event_id":"' + text.encode()
    assert uuid4_heads(np.random.default_rng(1), 1000, b"")[1] == ids
    assert uuid4_heads(np.random.default_rng(1), 0, b"") == ([], [])


def test_timestamps_are_iso_utc_with_milliseconds():
    assert format_timestamp(START_MS + 5_123) == "2026-11-25T10:00:05.123Z"
    cache = TimestampCache(START_MS // 1000)
    assert cache.prefix(65) == "2026-11-25T10:01:05."
    assert parse_timestamp_ms("2026-11-25T10:00:05.123Z") == START_MS + 5_123
    assert parse_timestamp_ms("2026-11-25T11:00:05.123+01:00") == START_MS + 5_123
    assert parse_timestamp_ms("yesterday") is None


def test_the_line_layout_is_what_the_ledger_reads_back():
    world = build_world(seed=1, users=1000, products=50, bots=5)
    rng = random.Random(1)
    grid = WindowGrid.starting_at(START_MS, 10_000)
    funnel = FunnelSettings(cart_rate=1.0, purchase_rate=1.0, bot_rate=0.2)
    simulator = SessionSimulator(world, funnel, rng, UuidSource(rng), grid)
    simulator.fill(0, 10_000, target=3000)
    events = simulator.take(0)
    times, lines = events.times(), events.lines()
    assert times == sorted(times) and len(lines) > 100
    assert events.text() == "".join(lines)
    validator = jsonschema.Draft202012Validator(EVENT_JSON_SCHEMA)
    for line in lines:
        event = json.loads(line)
        validator.validate(event)
        assert EVENT_ID(line) == event["event_id"]
        assert USER_ID(line) == event["user_id"]
        assert EVENT_TYPE_BY_PREFIX[EVENT_TYPE_PREFIX(line)] == event["event_type"]
    assert events.events_by_type() == Counter(json.loads(line)["event_type"] for line in lines)
    text = events.text()
    assert text.count("\n") == len(lines) and text.isascii()
    assert events.event_ids == [json.loads(line)["event_id"] for line in lines]


def test_a_bad_line_is_classified_by_what_is_wrong_with_it():
    good = {
        "event_id": str(uuid.UUID(int=1, version=4)),
        "event_type": "purchase",
        "user_id": "u000000001",
        "session_id": "s",
        "timestamp": "2026-11-25T10:00:05.123Z",
        "product_id": "P000001",
        "price": 9.99,
        "quantity": 1,
    }

    def kind(**changes) -> str | None:
        event = {key: value for key, value in (good | changes).items() if value is not ...}
        return classify_line(json.dumps(event).encode())[0]

    assert kind() is None
    assert kind(price="abc") == kind(quantity="two") == kind(quantity=True) == "wrong_type"
    assert kind(timestamp="soon") == "wrong_type"
    assert kind(user_id=...) == kind(quantity=...) == kind(price=None) == "missing_field"
    assert kind(event_type="video_play") == "unknown_event_type"
    assert kind(price=-9.99) == kind(price=0) == "negative_price"
    assert classify_line(b"") == classify_line(b"  ") == ("empty_line", None)
    assert classify_line(b'{"event_id": "x", "pri')[0] == "truncated_json"
    assert classify_line(b"[1, 2]")[0] == "truncated_json"
    assert classify_line('{"search_query": "caf\xe9"}'.encode("latin-1"))[0] == "non_utf8"


def test_data_files_sort_by_time_then_suffix():
    names = ["events_20261125_100000_10.json", "events_20261125_100001.json"]
    names += ["events_20261125_100000_2.json", "events_20261125_100000.json"]
    assert sorted(names, key=data_file_order) == [
        "events_20261125_100000.json",
        "events_20261125_100000_2.json",
        "events_20261125_100000_10.json",
        "events_20261125_100001.json",
    ]


def sidecar(name: str, valid: list[str], duplicates: list[str] = ()) -> FileLedger:
    return FileLedger(
        file=name,
        seed=1,
        window_start="2026-11-25T10:00:00.000Z",
        window_end="2026-11-25T10:00:10.000Z",
        lines=len(valid) + len(duplicates) + 1,
        valid_event_ids=valid,
        events_by_type={"page_view": len(valid)},
        duplicate_event_ids=list(duplicates),
        late_event_ids=valid[:1],
        malformed=[{"line_number": 1, "kind": "empty_line"}],
        bot_user_ids=["u000000009"],
    )


def test_load_ledger_adds_up_the_sidecars_of_a_folder(tmp_path):
    (tmp_path / "_ledger").mkdir()
    first = sidecar("events_20261125_100000.json", ["a", "b"])
    later = sidecar("events_20261125_100010.json", ["c", "a"], duplicates=["b"])
    for document in (later, first):
        ledger_path(tmp_path, document.file).write_bytes(document.to_bytes())
    ledger = load_ledger(tmp_path)
    assert ledger.files == [first.file, later.file]
    assert ledger.valid_event_ids == {"a", "b", "c"}
    assert sorted(ledger.duplicate_event_ids) == ["a", "b"]  # "a" landed as valid twice
    assert ledger.lines == 7
    assert ledger.malformed_by_kind == {"empty_line": 2}
    assert [(line.file, line.line_number) for line in ledger.malformed] == [
        (first.file, 1),
        (later.file, 1),
    ]
    assert ledger.late_event_ids == {"a", "c"} and ledger.bot_user_ids == {"u000000009"}
    assert load_ledger(tmp_path, [first.file]).valid_event_ids == {"a", "b"}
    assert load_ledger(tmp_path / "nothing") == Ledger()


def test_a_sidecar_lists_counts_then_ids():
    document = json.loads(sidecar("events_20261125_100000.json", ["a", "b"]).to_bytes())
    assert list(document)[:5] == ["file", "seed", "window_start", "window_end", "lines"]
    assert document["events_by_type"] == {
        "page_view": 2,
        "search": 0,
        "add_to_cart": 0,
        "purchase": 0,
    }
    assert document["unique_valid_events"] == 2 and document["malformed_lines"] == 1
    assert document["valid_event_ids"] == ["a", "b"]


@pytest.mark.parametrize("users", [10, 100_000])
def test_user_ids_are_distinct_and_fixed_width(users):
    world = build_world(seed=3, users=users, products=10, bots=5)
    ids = world.users.all_ids() + world.bots.all_ids()
    assert len(set(ids)) == len(ids)
    assert {len(user_id) for user_id in ids} == {10}
    assert world.bot_ids == frozenset(world.bots.all_ids())
