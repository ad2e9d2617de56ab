"""Validation rules: each broken rule gives its code; valid rows get none."""

from __future__ import annotations

import json

import pytest

from clickstream.bronze import to_bronze
from clickstream.validation import ValidationSettings, with_rejection_reasons

VALID = {
    "event_id": "e1",
    "event_type": "purchase",
    "user_id": "u1",
    "session_id": "s1",
    "timestamp": "2026-11-25T10:00:00.123Z",
    "product_id": "p1",
    "price": 19.99,
    "quantity": 1,
}


def reasons_for(spark, *lines: str) -> list[list[str]]:
    raw = spark.createDataFrame(
        [(line, "f", None) for line in lines],
        "raw_line string, source_file string, source_modified_at timestamp",
    )
    validated = with_rejection_reasons(to_bronze(raw), ValidationSettings())
    return [row.rejection_reasons for row in validated.collect()]


def event(**changes) -> str:
    fields = {**VALID, **changes}
    return json.dumps({key: value for key, value in fields.items() if value is not None})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (event(), []),
        (event(timestamp="2026-11-25T10:00:00"), []),
        (event(timestamp="2026-11-25T15:30:00+05:30"), []),
        (event(event_type="page_view", page_url="/", price=None, quantity=None), []),
        ("", ["empty_line"]),
        ("   ", ["empty_line"]),
        ('{"event_id": "e1", "event_t', ["malformed_json"]),
        ("[1, 2]", ["malformed_json"]),
        (event(price="abc"), ["wrong_type"]),
        (event(quantity="two"), ["wrong_type"]),
        (event(user_id=None), ["missing_field:user_id"]),
        (event(session_id=""), ["missing_field:session_id"]),
        (event(quantity=None), ["missing_field:quantity"]),
        (event(event_type="search"), ["missing_field:search_query"]),
        (event(event_type="refund"), ["unknown_event_type"]),
        (event(timestamp="not a time"), ["invalid_timestamp"]),
        (event(timestamp="1970-01-01T00:00:00Z"), ["timestamp_too_old"]),
        (event(timestamp="2999-01-01T00:00:00Z"), ["timestamp_in_future"]),
        (event(price=-5.0), ["non_positive_price"]),
        (event(price=0), ["non_positive_price"]),
        (event(price=1e12), ["price_out_of_range"]),
        (event(quantity=0), ["invalid_quantity"]),
    ],
)
def test_rule(spark, line, expected):
    assert reasons_for(spark, line) == [expected]


def test_non_utf8_bytes_are_caught_even_when_the_json_parses(spark, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    line = event(event_type="page_view", page_url="/", quantity=None).encode()
    (raw / "bad.json").write_bytes(line.replace(b'"/"', b'"/\xff\xfe"') + b"\n")
    lines = spark.read.text(str(raw)).withColumnRenamed("value", "raw_line")
    frame = lines.selectExpr("raw_line", "'f' as source_file", "null as source_modified_at")
    validated = with_rejection_reasons(to_bronze(frame), ValidationSettings())

    assert [row.rejection_reasons for row in validated.collect()] == [["invalid_utf8"]]
