"""Silver: typed and derived columns, deduplication, quarantine rows, table constraints."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from clickstream.core.config import resolve_paths
from clickstream.lakehouse.table_setup import ensure_silver_tables
from clickstream.transforms.bronze_transform import to_bronze
from clickstream.transforms.silver_transform import (
    SILVER_COLUMNS,
    SILVER_CONSTRAINTS,
    drop_duplicate_events,
    to_quarantine,
    to_silver,
)
from clickstream.transforms.validation import ValidationSettings, with_rejection_reasons


def validated(spark, *events: dict | str):
    lines = [event if isinstance(event, str) else json.dumps(event) for event in events]
    raw = spark.createDataFrame(
        [(line, "file:/raw/f.json", None) for line in lines],
        "raw_line string, source_file string, source_modified_at timestamp",
    )
    return with_rejection_reasons(to_bronze(raw), ValidationSettings())


def purchase(event_id: str, price: float = 19.99, quantity: int = 3) -> dict:
    return {
        "event_id": event_id,
        "event_type": "purchase",
        "user_id": "u1",
        "session_id": "s1",
        "timestamp": "2025-11-24T23:59:59.999Z",
        "product_id": "p1",
        "price": price,
        "quantity": quantity,
    }


def test_types_and_derived_columns(spark):
    view = {**purchase("e2"), "event_type": "page_view", "page_url": "/p/1"}
    del view["quantity"]
    rows = to_silver(validated(spark, purchase("e1", price=0.1, quantity=3), view))

    expected = spark.createDataFrame(
        [
            ("e1", dt.datetime(2025, 11, 24, 23, 59, 59, 999000), Decimal("0.10"), 3, True, Decimal("0.30"), 23, dt.date(2025, 11, 24)),
            ("e2", dt.datetime(2025, 11, 24, 23, 59, 59, 999000), Decimal("19.99"), None, False, Decimal("0.00"), 23, dt.date(2025, 11, 24)),
        ],
        "event_id string, event_time timestamp, price decimal(12,2), quantity int, "
        "is_purchase boolean, revenue decimal(18,2), event_hour int, event_date date",
    )  # fmt: skip
    assertDataFrameEqual(rows.select(*expected.columns), expected)
    assert rows.columns == [name for name, _, _ in SILVER_COLUMNS]


def test_invalid_rows_never_reach_silver_and_all_reach_quarantine(spark):
    frame = validated(spark, purchase("ok"), purchase("neg", price=-1.0), "", "{oops")
    silver_ids = [row.event_id for row in to_silver(frame).collect()]
    quarantined = to_quarantine(frame).collect()

    assert silver_ids == ["ok"]
    assert sorted((row.raw_line, row.rejection_reasons) for row in quarantined) == [
        ("", ["empty_line"]),
        (json.dumps(purchase("neg", price=-1.0)), ["non_positive_price"]),
        ("{oops", ["malformed_json"]),
    ]


def test_duplicates_keep_one_row_per_event_id(spark):
    frame = validated(spark, purchase("a"), purchase("b"), purchase("a"), purchase("a"))
    deduplicated = drop_duplicate_events(to_silver(frame), "1 hour")

    assert sorted(row.event_id for row in deduplicated.collect()) == ["a", "b"]


def test_silver_table_constraints_reject_bad_rows(spark, tmp_path):
    paths = resolve_paths({"root": tmp_path}, environ={})
    path = str(paths.silver)
    ensure_silver_tables(spark, paths)
    ensure_silver_tables(spark, paths)  # idempotent
    good = to_silver(validated(spark, purchase("e1")))
    good.write.format("delta").mode("append").save(path)

    wrong_revenue = good.withColumn("revenue", good.revenue + 1)
    with pytest.raises(Exception, match="revenue_matches"):
        wrong_revenue.write.format("delta").mode("append").save(path)
    no_user = good.withColumn("user_id", F.lit(None).cast("string"))
    with pytest.raises(Exception, match="NOT NULL"):
        no_user.write.format("delta").mode("append").save(path)
    assert spark.read.format("delta").load(path).count() == 1


def test_an_older_silver_table_gets_the_constraints_it_lacks(spark, tmp_path):
    paths = resolve_paths({"root": tmp_path}, environ={})
    path = str(paths.silver)
    to_silver(validated(spark, purchase("e1"))).write.format("delta").save(path)  # none

    ensure_silver_tables(spark, paths)

    properties = {row.key for row in spark.sql(f"show tblproperties delta.`{path}`").collect()}
    assert {f"delta.constraints.{name}" for name in SILVER_CONSTRAINTS} <= properties
    assert spark.read.format("delta").load(path).count() == 1
