"""Each fault appears at its rate, and the ledger agrees with an independent re-count of the files."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from clickstream.generator.faults import FaultSettings, sample_indices
from clickstream.generator.inspect_raw import file_time_ms, inspect_raw
from clickstream.generator.ledger import MALFORMED_KINDS, load_ledger
from tests.generator.helpers import backfill, epoch_ms, ledger_documents, read_lines

RATE = 0.02
FAULTS = FaultSettings(
    duplicate_rate=RATE,
    late_rate=RATE,
    out_of_order_rate=RATE,
    malformed_rate=RATE,
    late_delay=(120.0, 180.0),
)
EVENT_ID = re.compile(rb'"event_id":"([0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """30 minutes at 60 events/s with every fault at 2%: (folder, ledger, lines)."""
    out = tmp_path_factory.mktemp("faults")
    backfill(out, minutes=30, rate=60, seed=3, faults=FAULTS)
    return out, load_ledger(out), read_lines(out)


def test_each_fault_appears_at_its_rate(raw):
    _, ledger, _ = raw
    valid = ledger.unique_valid_events
    assert valid > 80_000
    assert ledger.duplicates / valid == pytest.approx(RATE, rel=0.1)
    assert ledger.malformed_lines / valid == pytest.approx(RATE, rel=0.1)
    assert len(ledger.out_of_order_event_ids) / valid == pytest.approx(RATE, rel=0.1)
    # Events due after the end of the run are never delivered: about 150 s of 30 min.
    assert ledger.late_events / valid == pytest.approx(RATE * (1 - 150 / 1800), rel=0.12)
    for kind in MALFORMED_KINDS:
        assert ledger.malformed_by_kind[kind] / valid == pytest.approx(RATE / 7, rel=0.25)


def test_ledger_agrees_with_an_independent_recount(raw):
    out, ledger, _ = raw
    report, _ = inspect_raw(out)
    assert report.lines == ledger.lines
    assert report.valid_event_ids == ledger.valid_event_ids
    assert report.events_by_type == ledger.events_by_type
    assert report.duplicates == ledger.duplicates
    assert report.late_events == ledger.late_events
    assert report.malformed_by_kind == ledger.malformed_by_kind
    found = sorted((line.file, line.line_number, line.kind) for line in report.malformed)
    recorded = sorted((line.file, line.line_number, line.kind) for line in ledger.malformed)
    assert found == recorded
    assert report.out_of_order_events == len(ledger.out_of_order_event_ids)
    assert report.bot_user_ids <= ledger.bot_user_ids


def test_each_sidecar_adds_up(raw):
    out, _, _ = raw
    for document in ledger_documents(out):
        assert document["lines"] == (
            document["unique_valid_events"] + document["duplicates"] + document["malformed_lines"]
        )
        assert sum(document["events_by_type"].values()) == document["unique_valid_events"]
        assert set(document["late_event_ids"]) <= set(document["valid_event_ids"])
        assert sorted(document["malformed_by_kind"]) == sorted(MALFORMED_KINDS)
        data = (out / document["file"]).read_bytes()
        assert len(data.splitlines()) == document["lines"]


def test_duplicates_are_identical_lines_in_the_same_and_later_files(raw):
    _, _, lines = raw
    first: dict[str, tuple[str, bytes]] = {}
    same_file = later_file = 0
    for line in lines:
        if line.event is None:
            continue
        event_id = line.event["event_id"]
        if event_id not in first:
            first[event_id] = (line.file, line.raw)
            continue
        assert line.raw == first[event_id][1]
        if line.file == first[event_id][0]:
            same_file += 1
        else:
            later_file += 1
    assert same_file > 100 and later_file > 100


def test_malformed_lines_have_fresh_event_ids(raw):
    _, ledger, lines = raw
    malformed_ids = [
        match.group(1).decode()
        for line in lines
        if line.event is None
        for match in [EVENT_ID.search(line.raw)]
        if match
    ]
    assert len(malformed_ids) > 0.5 * ledger.malformed_lines
    assert len(set(malformed_ids)) == len(malformed_ids)
    assert not set(malformed_ids) & ledger.valid_event_ids


def test_malformed_lines_are_of_the_promised_shapes(raw):
    _, _, lines = raw
    by_kind = {}
    for line in lines:
        if line.kind is not None:
            by_kind.setdefault(line.kind, line.raw)
    assert by_kind["empty_line"] == b""
    assert b'"price":"abc"' in by_kind["wrong_type"] or b'"quantity":"two"' in by_kind["wrong_type"]
    assert b'"price":-' in by_kind["negative_price"]
    assert not by_kind["truncated_json"].endswith(b"}")


def test_late_events_are_minutes_behind_their_file(raw):
    _, ledger, lines = raw
    late = [
        line for line in lines if line.event and line.event["event_id"] in ledger.late_event_ids
    ]
    assert late
    for line in late:
        behind_ms = file_time_ms(line.file) - epoch_ms(line.event["timestamp"])
        assert behind_ms >= 119_000


def test_out_of_order_events_come_after_later_events_of_their_file(raw):
    _, ledger, lines = raw
    latest: dict[str, int] = {}
    late_or_moved = ledger.late_event_ids | ledger.out_of_order_event_ids
    for line in lines:
        if line.event is None:
            continue
        time_ms = epoch_ms(line.event["timestamp"])
        if line.event["event_id"] in ledger.out_of_order_event_ids:
            assert time_ms < latest.get(line.file, 0)
        elif line.event["event_id"] not in late_or_moved:
            latest[line.file] = max(latest.get(line.file, 0), time_ms)


def test_malformed_kinds_can_be_chosen(tmp_path):
    faults = FaultSettings(malformed_rate=0.05, malformed_kinds=("non_utf8", "empty_line"))
    backfill(tmp_path, minutes=2, rate=100, seed=1, faults=faults)
    kinds = load_ledger(tmp_path).malformed_by_kind
    assert set(kinds) == {"non_utf8", "empty_line"}
    assert kinds["non_utf8"] == pytest.approx(kinds["empty_line"], rel=0.3)


def test_faults_are_off_by_default(tmp_path):
    backfill(tmp_path, minutes=2, rate=100, seed=1)
    ledger = load_ledger(tmp_path)
    assert ledger.lines == ledger.unique_valid_events > 0
    assert not (ledger.duplicates or ledger.late_events or ledger.malformed_lines)


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.3, 1.0])
def test_sample_indices_keeps_each_index_at_the_rate(rate):
    import random

    chosen = sample_indices(random.Random(1), 100_000, rate)
    assert chosen == sorted(set(chosen))
    assert len(chosen) == pytest.approx(100_000 * rate, rel=0.05, abs=1)
    assert Counter(index // 50_000 for index in chosen).get(1, 0) == pytest.approx(
        len(chosen) / 2, rel=0.1, abs=1
    )


def test_each_sidecar_names_the_bots_with_events_in_its_file(tmp_path):
    # No faults: the ledger takes the bots from the simulator's bookkeeping, not from the lines.
    backfill(tmp_path, minutes=10, rate=50, seed=8, interval=2)
    lines = read_lines(tmp_path)
    every_bot = load_ledger(tmp_path).bot_user_ids
    assert every_bot
    users_by_file: dict[str, set[str]] = {}
    for line in lines:
        users_by_file.setdefault(line.file, set()).add(line.event["user_id"])
    for document in ledger_documents(tmp_path):
        assert set(document["bot_user_ids"]) == users_by_file[document["file"]] & every_bot
