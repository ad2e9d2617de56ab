"""Validation rules: each broken rule gives its code; valid rows get none; a wrong optional field
is a field error, not a rejection."""

from __future__ import annotations

import ipaddress
import json

import pytest

from clickstream.transforms.bronze_transform import to_bronze
from clickstream.transforms.validation import ValidationSettings, with_rejection_reasons

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
PAGE_VIEW = {"event_type": "page_view", "price": None, "quantity": None, "product_id": None}


def validated(spark, *lines: str) -> list[tuple[list[str], list[str]]]:
    raw = spark.createDataFrame(
        [(line, "f", None) for line in lines],
        "raw_line string, source_file string, source_modified_at timestamp",
    )
    rows = with_rejection_reasons(to_bronze(raw), ValidationSettings()).collect()
    return [(row.rejection_reasons, row.field_errors) for row in rows]


def reasons_for(spark, *lines: str) -> list[list[str]]:
    return [reasons for reasons, _ in validated(spark, *lines)]


def event(**changes) -> str:
    fields = {**VALID, **changes}
    return json.dumps({key: value for key, value in fields.items() if value is not None})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (event(), []),
        (event(timestamp="2026-11-25T10:00:00"), []),
        (event(timestamp="2026-11-25T10:00:00.123456"), []),
        (event(timestamp="2026-11-25T15:30:00+05:30"), []),
        (event(**PAGE_VIEW), []),
        (event(**PAGE_VIEW, session_id=None), []),
        (event(event_type="search", price=None, quantity=None), []),
        (event(event_type="add_to_cart", price=None, quantity=None), []),
        ("", ["empty_line"]),
        ("   ", ["empty_line"]),
        ('{"event_id": "e1", "event_t', ["malformed_json"]),
        ("[1, 2]", ["malformed_json"]),
        (event(price="abc"), ["wrong_type"]),
        (event(quantity="two"), ["wrong_type"]),
        (event(user_id=None), ["missing_field:user_id"]),
        (event(event_id=" "), ["missing_field:event_id"]),
        (event(quantity=None), ["missing_field:quantity"]),
        (event(price=None), ["missing_field:price"]),
        (event(product_id=None), ["missing_field:product_id"]),
        (event(event_type="add_to_cart", product_id=None), ["missing_field:product_id"]),
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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (event(), []),
        (event(**{**PAGE_VIEW, "price": "abc"}), ["price:wrong_type"]),
        (event(event_type="add_to_cart", quantity="two"), ["quantity:wrong_type"]),
        (event(event_type="add_to_cart", quantity=-1), ["quantity:out_of_range"]),
        (event(event_type="add_to_cart", price=-5), ["price:non_positive"]),
        (event(event_type="search", price=1e12, quantity=None), ["price:out_of_range"]),
        (event(ip_address="999.1.1.1"), ["ip_address:invalid"]),
        (event(ip_address="2001:db8::1"), []),
        (event(user_agent="Mozilla/5.0\u0007"), ["user_agent:invalid"]),
        (event(user_agent="M" * 1025), ["user_agent:invalid"]),
        (event(country="usa"), ["country:invalid"]),
        (event(country="DE"), []),
        (
            event(**{**PAGE_VIEW, "price": "abc", "quantity": "x"}, country="de"),
            ["price:wrong_type", "quantity:wrong_type", "country:invalid"],
        ),
    ],
)
def test_wrong_optional_field_is_a_field_error_not_a_rejection(spark, line, expected):
    assert validated(spark, line) == [([], expected)]


def test_a_wrong_required_field_is_no_field_error_too(spark):
    [(reasons, errors)] = validated(spark, event(price="abc", country="usa"))
    assert reasons == ["wrong_type"]
    assert errors == ["country:invalid"]


IP_TEXTS = [
    "192.168.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "01.2.3.4",
    "1.2.3.4 ",
    "::",
    "::1",
    "2001:db8::8a2e:370:7334",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "fe80::1%eth0",
    "::ffff:192.0.2.128",
    "64:ff9b::192.0.2.33",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "12345::1",
    "gggg::1",
    "localhost",
    "",
]


def test_ip_addresses_are_judged_as_pythons_ipaddress_judges_them(spark):
    lines = [event(event_id=f"e{n}", ip_address=text) for n, text in enumerate(IP_TEXTS)]
    results = validated(spark, *lines)

    def valid(text: str) -> bool:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
        return True

    judged = {text: errors == [] for text, (_, errors) in zip(IP_TEXTS, results, strict=True)}
    assert judged == {text: valid(text) for text in IP_TEXTS}


def test_non_utf8_bytes_are_caught_even_when_the_json_parses(spark, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    line = event(**PAGE_VIEW, page_url="/").encode()
    (raw / "bad.json").write_bytes(line.replace(b'"/"', b'"/\xff\xfe"') + b"\n")
    lines = spark.read.text(str(raw)).withColumnRenamed("value", "raw_line")
    frame = lines.selectExpr("raw_line", "'f' as source_file", "null as source_modified_at")
    bronze = to_bronze(frame)
    validated_rows = with_rejection_reasons(bronze, ValidationSettings()).collect()

    assert [row.rejection_reasons for row in validated_rows] == [["invalid_utf8"]]
    [row] = bronze.collect()
    assert bytes(row.raw_bytes) == line.replace(b'"/"', b'"/\xff\xfe"')
    assert row.raw_line == line.decode().replace('"/"', '"/\ufffd\ufffd"')
