"""Parsing bronze's raw lines into typed event fields: the first step of silver.

Input: bronze rows (``clickstream.transforms.bronze_transform.BRONZE_COLUMNS``; older bronze tables that also hold
parsed columns are read the same way). Output: the event fields typed as in ``clickstream.core.event_schema``
(null where a line did not parse; partial where one field had the wrong type), ``parsed_ok``, then
the bronze columns. Rows of bronze tables from before ``raw_bytes`` (a line that is not UTF-8 kept
in ``raw_line`` as is) are read as new ones are written: readable text, the exact bytes beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clickstream.core.event_schema import (
    CORRUPT_RECORD_COLUMN,
    EVENT_FIELDS,
)
from clickstream.transforms.bronze_transform import BRONZE_COLUMNS, readable_text

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructType


def event_spark_schema() -> StructType:
    """Spark schema of a raw line: every event field typed as in the JSON Schema, plus the
    corrupt-record column that keeps the text of a line that did not parse."""
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    spark_types = {"string": StringType(), "number": DoubleType(), "integer": LongType()}
    fields = [StructField(name, spark_types[kind]) for name, (kind, _) in EVENT_FIELDS.items()]
    return StructType([*fields, StructField(CORRUPT_RECORD_COLUMN, StringType())])


def json_text() -> Column:
    """``raw_line`` without a UTF-8 byte-order mark at its start (encoding, not content)."""
    from pyspark.sql import functions as F

    return F.regexp_replace("raw_line", "^\ufeff", "")


def with_column_computed_once(df: DataFrame, name: str, column: Column) -> DataFrame:
    """``df`` plus ``column`` as ``name``, evaluated once per row however often it is read later.

    It goes through a one-element ``explode`` (a Generate), which Spark's optimizer neither inlines
    into later expressions nor pushes filters through. A plain ``withColumn`` of an expensive
    expression is copied into every filter pushed through the projection: silver's filter on a
    static frame held 87 ``from_json`` calls and ran 20 times slower (docs/performance-log.md).
    """
    from pyspark.sql import functions as F

    return df.select("*", F.explode(F.array(column)).alias(name))


def readable_bronze(bronze: DataFrame) -> DataFrame:
    """Bronze rows, ``BRONZE_COLUMNS``, with ``raw_line`` valid UTF-8 and ``raw_bytes`` filled
    for lines that were not, also in rows written before bronze had ``raw_bytes``."""
    from pyspark.sql import functions as F

    if "raw_bytes" not in bronze.columns:
        bronze = bronze.withColumn("raw_bytes", F.lit(None).cast("binary"))
    text, raw_bytes = readable_text(F.col("raw_line"))
    return bronze.withColumns(
        {"raw_line": text, "raw_bytes": F.coalesce(F.col("raw_bytes"), raw_bytes)}
    ).select(*BRONZE_COLUMNS)


def parse_events(bronze: DataFrame) -> DataFrame:
    """Bronze rows -> event fields + ``parsed_ok`` + the bronze columns (see the module docstring)."""
    from pyspark.sql import functions as F

    parsed = F.from_json(
        json_text(),
        event_spark_schema(),
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD_COLUMN},
    )
    return with_column_computed_once(readable_bronze(bronze), "parsed", parsed).select(
        *(F.col(f"parsed.{name}").alias(name) for name in EVENT_FIELDS),
        (F.col("parsed").isNotNull() & F.col(f"parsed.{CORRUPT_RECORD_COLUMN}").isNull()).alias(
            "parsed_ok"
        ),
        *BRONZE_COLUMNS,
    )
