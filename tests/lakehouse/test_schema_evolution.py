"""A lakehouse of the release before the event contract (bronze without ``raw_bytes``, silver with
``session_id`` NOT NULL and no ``field_errors``, quarantine without ``raw_bytes``) is evolved in place
by the next run: nothing rebuilt, old rows kept, new rows written, streams crossing the change."""

from __future__ import annotations

import json

from clickstream.transforms.bronze_transform import BRONZE_PARTITION_COLUMN
from clickstream.transforms.silver_transform import SILVER_COLUMNS, SILVER_PARTITION_COLUMN
from tests.support.backlog import drain, recent_hour

OLD_SILVER_COLUMNS = [
    (name, kind, False if name == "session_id" else nullable)
    for name, kind, nullable in SILVER_COLUMNS
    if name != "field_errors"
]


def event(number: int, **fields) -> str:
    record = {
        "event_id": f"e{number}",
        "event_type": "page_view",
        "user_id": "u1",
        "session_id": "s1",
        "timestamp": recent_hour().isoformat(),
        "page_url": "/",
    }
    return json.dumps({**record, **fields})


NOT_UTF8 = event(2).replace('"/"', '"/caf\xe9"').encode("latin-1")  # an old bronze kept it as is


def create_old_lakehouse(spark, lake, tmp_path) -> None:
    """The three tables as the previous release wrote them, bronze with two old lines in it."""
    old_raw = tmp_path / "old_raw"
    old_raw.mkdir()
    (old_raw / "old.json").write_bytes(event(1).encode() + b"\n" + NOT_UTF8 + b"\n")
    lines = spark.read.text(str(old_raw)).selectExpr(
        "value as raw_line",
        "'old.json' as source_file",
        "current_timestamp() as source_modified_at",
        "current_timestamp() as ingestion_timestamp",
        f"current_date() as {BRONZE_PARTITION_COLUMN}",
    )
    lines.write.format("delta").partitionBy(BRONZE_PARTITION_COLUMN).save(str(lake.bronze))
    columns = ", ".join(
        f"{name} {kind}{'' if nullable else ' not null'}"
        for name, kind, nullable in OLD_SILVER_COLUMNS
    )
    spark.sql(
        f"create table delta.`{lake.silver}` ({columns}) using delta "
        f"partitioned by ({SILVER_PARTITION_COLUMN})"
    )
    spark.sql(
        f"create table delta.`{lake.quarantine}` (rejection_reasons array<string>, raw_line string,"
        " event_id string, event_type string, source_file string, ingestion_timestamp timestamp,"
        " quarantined_at timestamp, ingestion_date date) using delta partitioned by (ingestion_date)"
    )


def test_an_older_lakehouse_gains_the_new_columns_and_keeps_flowing(spark, lake, tmp_path):
    create_old_lakehouse(spark, lake, tmp_path)
    lake.raw.mkdir(parents=True, exist_ok=True)
    (lake.raw / "new.json").write_text(
        "\n".join([event(3, session_id=None), event(4, price="abc")]) + "\n"
    )

    drain(spark, lake)

    read = spark.read.format("delta")
    bronze, silver, quarantine = (
        read.load(str(path)) for path in (lake.bronze, lake.silver, lake.quarantine)
    )
    assert "raw_bytes" in bronze.columns and "raw_bytes" in quarantine.columns
    assert {field.name: field.nullable for field in silver.schema}["session_id"]
    rows = {row.event_id: row for row in silver.collect()}
    assert sorted(rows) == ["e1", "e3", "e4"]
    assert (rows["e3"].session_id, rows["e3"].field_errors) == (None, [])
    assert rows["e4"].field_errors == ["price:wrong_type"]
    [rejected] = quarantine.collect()
    assert rejected.rejection_reasons == ["invalid_utf8"]
    assert bytes(rejected.raw_bytes) == NOT_UTF8
    assert "\ufffd" in rejected.raw_line
