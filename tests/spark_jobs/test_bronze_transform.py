"""to_bronze: one row per raw line, parsed where it parses, raw text always kept."""

from __future__ import annotations

import datetime as dt

from clickstream.bronze import to_bronze
from clickstream.schema import EVENT_FIELDS

MODIFIED = dt.datetime(2026, 11, 25, 10, 0, 0)


def raw_lines(spark, *lines: str):
    rows = [(line, "file:/raw/events_1.json", MODIFIED) for line in lines]
    return spark.createDataFrame(
        rows, "raw_line string, source_file string, source_modified_at timestamp"
    )


def test_every_line_becomes_exactly_one_row_with_its_raw_text(spark):
    lines = [
        '{"event_id": "e1", "event_type": "purchase", "price": 19.99, "quantity": 2}',
        '{"event_id": "e2", "price": "abc"}',
        '{"event_id": "e3", "event_ty',
        "",
        "\ufeff" + '{"event_id": "e4"}',
    ]
    bronze = to_bronze(raw_lines(spark, *lines)).collect()

    assert [row.raw_line for row in bronze] == lines
    assert [row.parsed_ok for row in bronze] == [True, False, False, False, True]
    assert [row.event_id for row in bronze] == ["e1", "e2", None, None, "e4"]
    assert (bronze[0].price, bronze[0].quantity) == (19.99, 2)
    assert bronze[1].price is None  # the wrong-typed field only


def test_columns_and_ingestion_metadata(spark):
    bronze = to_bronze(raw_lines(spark, '{"event_id": "e1"}'))
    row = bronze.collect()[0]

    assert bronze.columns[: len(EVENT_FIELDS)] == list(EVENT_FIELDS)
    assert bronze.columns[len(EVENT_FIELDS) :] == [
        "parsed_ok",
        "raw_line",
        "source_file",
        "source_modified_at",
        "ingestion_timestamp",
        "ingestion_date",
    ]
    assert row.source_file == "file:/raw/events_1.json"
    assert row.ingestion_date == row.ingestion_timestamp.date()
