"""to_bronze keeps every raw line as it arrived; parse_events (silver's first step) types it."""

from __future__ import annotations

import datetime as dt

from clickstream.core.event_schema import EVENT_FIELDS
from clickstream.lakehouse.table_setup import create_bronze_table
from clickstream.transforms.bronze_transform import (
    BRONZE_COLUMNS,
    BRONZE_STATS_COLUMNS,
    to_bronze,
)
from clickstream.transforms.event_parsing import parse_events

MODIFIED = dt.datetime(2026, 11, 25, 10, 0, 0)
LINES = [
    '{"event_id": "e1", "event_type": "purchase", "price": 19.99, "quantity": 2}',
    '{"event_id": "e2", "price": "abc"}',
    '{"event_id": "e3", "event_ty',
    "",
    "\ufeff" + '{"event_id": "e4"}',
]


def raw_lines(spark, *lines: str):
    rows = [(line, "file:/raw/events_1.json", MODIFIED) for line in lines]
    return spark.createDataFrame(
        rows, "raw_line string, source_file string, source_modified_at timestamp"
    )


def test_every_line_becomes_exactly_one_row_with_its_raw_text(spark):
    bronze = to_bronze(raw_lines(spark, *LINES))
    rows = bronze.collect()

    assert bronze.columns == list(BRONZE_COLUMNS)
    assert [row.raw_line for row in rows] == LINES
    assert {row.source_file for row in rows} == {"file:/raw/events_1.json"}
    assert all(row.ingestion_date == row.ingestion_timestamp.date() for row in rows)


def test_parsing_types_the_fields_where_a_line_parses(spark):
    parsed = parse_events(to_bronze(raw_lines(spark, *LINES)))
    rows = parsed.collect()

    assert parsed.columns == [*EVENT_FIELDS, "parsed_ok", *BRONZE_COLUMNS]
    assert [row.raw_line for row in rows] == LINES
    assert [row.parsed_ok for row in rows] == [True, False, False, False, True]
    assert [row.event_id for row in rows] == ["e1", "e2", None, None, "e4"]
    assert (rows[0].price, rows[0].quantity) == (19.99, 2)
    assert rows[1].price is None  # the wrong-typed field only


def test_parsing_reads_an_older_bronze_that_also_held_parsed_columns(spark):
    older = to_bronze(raw_lines(spark, LINES[0])).selectExpr("'stale' as event_id", "*")

    [row] = parse_events(older).collect()

    assert row.event_id == "e1"


def test_bronze_table_collects_statistics_of_its_metadata_columns_only(spark, tmp_path):
    path = str(tmp_path / "bronze")
    create_bronze_table(spark, path)
    to_bronze(raw_lines(spark, *LINES)).write.format("delta").mode("append").save(path)

    properties = spark.sql(f"show tblproperties delta.`{path}`").collect()
    stats = [
        row.stats
        for row in spark.read.json(str(tmp_path / "bronze" / "_delta_log" / "*.json"))
        .where("add is not null")
        .select("add.stats")
        .collect()
    ]
    assert {row.key: row.value for row in properties}["delta.dataSkippingStatsColumns"] == (
        BRONZE_STATS_COLUMNS
    )
    assert stats and all('"raw_line"' not in text and '"source_file"' in text for text in stats)
