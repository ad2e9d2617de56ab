"""The validation rules of silver, all in one place.

Input: bronze rows (``clickstream.bronze``). Output: the rows parsed (``clickstream.parsing``) with
``event_time`` and ``rejection_reasons``, an array of rule codes the row broke (empty when the row is
valid). A row with
any reason goes to quarantine; the others go on to silver.

Rule codes (also the quarantine's vocabulary):

| code | the row ... |
| --- | --- |
| ``empty_line`` | is an empty or blank line |
| ``invalid_utf8`` | has bytes that are not UTF-8 |
| ``malformed_json`` | is not one JSON object (truncated, garbage, an array, ...) |
| ``wrong_type`` | is a JSON object but a field has the wrong type (``"price": "abc"``) |
| ``missing_field:<name>`` | lacks a field required for every event or for its event type |
| ``unknown_event_type`` | has an event type outside ``EVENT_TYPES`` |
| ``invalid_timestamp`` | has a timestamp that is not ISO-8601 |
| ``timestamp_too_old`` | happened before ``ValidationSettings.min_event_time`` |
| ``timestamp_in_future`` | happened more than ``max_future_minutes`` after the batch ran |
| ``non_positive_price`` | has a price <= 0 |
| ``price_out_of_range`` | has a price that does not fit ``decimal(12,2)`` |
| ``invalid_quantity`` | is a purchase with quantity < 1 or beyond an int |

Field rules only run on rows that parsed: a line that did not parse gets its parse reason alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from clickstream.parsing import json_text, parse_events, with_column_computed_once
from clickstream.schema import (
    CORRUPT_RECORD_COLUMN,
    EVENT_FIELDS,
    EVENT_TYPES,
    REQUIRED_BY_EVENT_TYPE,
    REQUIRED_FIELDS,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MAX_PRICE = 10**10  # decimal(12,2) holds up to 9,999,999,999.99
MAX_QUANTITY = 2**31 - 1


@dataclass(frozen=True)
class ValidationSettings:
    """Bounds of a plausible event time."""

    min_event_time: str = "2000-01-01 00:00:00"
    max_future_minutes: int = 60


def is_json_object() -> Column:
    """Whether a line that did not parse into the schema is a JSON object all the same (null for
    lines that parsed): re-read with every field as a string, it parses if only a type was wrong."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    as_strings = StructType(
        [StructField(name, StringType()) for name in EVENT_FIELDS]
        + [StructField(CORRUPT_RECORD_COLUMN, StringType())]
    )
    loose = F.from_json(
        json_text(), as_strings, {"columnNameOfCorruptRecord": CORRUPT_RECORD_COLUMN}
    )
    return F.when(~F.col("parsed_ok"), loose.isNotNull() & loose[CORRUPT_RECORD_COLUMN].isNull())


def parse_rules() -> list[tuple[str, Column]]:
    """(code, broken-if) for lines that did not parse into the schema (``is_json_object`` read as
    the column ``json_object``)."""
    from pyspark.sql import functions as F

    is_object = F.col("json_object")
    blank = F.trim(F.col("raw_line")) == ""
    unparsed = ~F.col("parsed_ok")
    return [
        ("empty_line", unparsed & blank),
        ("malformed_json", unparsed & ~blank & ~is_object),
        ("wrong_type", unparsed & is_object),
    ]


def field_rules(settings: ValidationSettings) -> list[tuple[str, Column]]:
    """(code, broken-if) for rows that parsed: required fields, domains, plausible times."""
    from pyspark.sql import functions as F

    event_type = F.col("event_type")
    event_time = F.col("event_time")
    missing = {
        name: F.col(name).isNull()
        | (F.trim(F.col(name)) == "" if EVENT_FIELDS[name][0] == "string" else F.lit(False))
        for name in set(REQUIRED_FIELDS).union(*REQUIRED_BY_EVENT_TYPE.values())
    }
    rules = [(f"missing_field:{name}", missing[name]) for name in REQUIRED_FIELDS]
    for kind, required in REQUIRED_BY_EVENT_TYPE.items():
        rules += [
            (f"missing_field:{name}", (event_type == kind) & missing[name]) for name in required
        ]
    latest = F.current_timestamp() + F.make_interval(mins=F.lit(settings.max_future_minutes))
    rules += [
        ("unknown_event_type", ~event_type.isin(*EVENT_TYPES)),
        ("invalid_timestamp", F.col("timestamp").isNotNull() & event_time.isNull()),
        ("timestamp_too_old", event_time < F.lit(settings.min_event_time).cast("timestamp")),
        ("timestamp_in_future", event_time > latest),
        ("non_positive_price", F.col("price") <= 0),
        ("price_out_of_range", F.col("price") >= MAX_PRICE),
        (
            "invalid_quantity",
            (event_type == "purchase")
            & ((F.col("quantity") < 1) | (F.col("quantity") > MAX_QUANTITY)),
        ),
    ]
    return rules


def with_rejection_reasons(bronze: DataFrame, settings: ValidationSettings) -> DataFrame:
    """bronze rows -> parsed rows + ``event_time`` + ``rejection_reasons`` (array of codes)."""
    from pyspark.sql import functions as F

    parsed_events = with_column_computed_once(parse_events(bronze), "json_object", is_json_object())
    with_time = parsed_events.withColumn("event_time", F.try_to_timestamp(F.col("timestamp")))
    parsed = F.col("parsed_ok")
    checks = [F.when(broken, F.lit(code)) for code, broken in parse_rules()]
    checks.append(F.when(~F.is_valid_utf8("raw_line"), F.lit("invalid_utf8")))
    checks += [F.when(parsed & broken, F.lit(code)) for code, broken in field_rules(settings)]
    # array_except drops the nulls of rules not broken (codes are distinct): unlike a ``filter``
    # lambda, it compiles to Java code with the rest of the row's expressions.
    reasons = F.array_except(F.array(*checks), F.array(F.lit(None).cast("string")))
    return with_time.withColumn("rejection_reasons", reasons).drop("json_object")
