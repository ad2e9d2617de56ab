"""The validation rules of silver, all in one place.

Input: bronze rows (``clickstream.transforms.bronze_transform``). Output: the rows parsed (``clickstream.transforms.event_parsing``) with
``event_time``, ``rejection_reasons`` (an array of rule codes the row broke: empty when the row is
valid) and ``field_errors`` (an array of ``field:rule`` codes of optional fields that are present
but wrong). A row with any reason goes to quarantine; the others go on to silver, where the fields
named in ``field_errors`` are null (``clickstream.transforms.silver_transform``).

The contract is ``clickstream.core.event_schema``'s: a required field (of every event, or of the row's event
type) that is missing or wrong rejects the row; an optional field that is wrong is a field error.

Rejection codes (the quarantine's vocabulary):

| code | the row ... |
| --- | --- |
| ``empty_line`` | is an empty or blank line |
| ``invalid_utf8`` | has bytes that are not UTF-8 |
| ``malformed_json`` | is not one JSON object (truncated, garbage, an array, ...) |
| ``wrong_type`` | has a required field of the wrong JSON type (a purchase's ``"price": "abc"``) |
| ``missing_field:<name>`` | lacks a field required for every event or for its event type |
| ``unknown_event_type`` | has an event type outside ``EVENT_TYPES`` |
| ``invalid_timestamp`` | has a timestamp that is not ISO-8601 |
| ``timestamp_too_old`` | happened before ``ValidationSettings.min_event_time`` |
| ``timestamp_in_future`` | happened more than ``max_future_minutes`` after the batch ran |
| ``non_positive_price`` | is a purchase with a price <= 0 |
| ``price_out_of_range`` | is a purchase with a price that does not fit ``decimal(12,2)`` |
| ``invalid_quantity`` | is a purchase with quantity < 1 or beyond an int |

Field error codes (``FIELD_ERROR_CODES``): ``price:wrong_type``, ``quantity:wrong_type`` (a string
where a number belongs), ``price:non_positive``, ``price:out_of_range``, ``quantity:out_of_range``
(below 1 or beyond an int), ``ip_address:invalid`` (neither IPv4 nor IPv6), ``user_agent:invalid``
(control characters, or longer than ``MAX_USER_AGENT_LENGTH``), ``country:invalid`` (not two
capital letters).

Field rules only run on rows that are JSON objects: a line that is not gets its parse reason alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from clickstream.core.event_schema import (
    CORRUPT_RECORD_COLUMN,
    EVENT_FIELDS,
    EVENT_TYPES,
    REQUIRED_BY_EVENT_TYPE,
    REQUIRED_FIELDS,
)
from clickstream.transforms.event_parsing import (
    json_text,
    parse_events,
    with_column_computed_once,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MAX_PRICE = 10**10  # decimal(12,2) holds up to 9,999,999,999.99
MAX_QUANTITY = 2**31 - 1
MAX_USER_AGENT_LENGTH = 1024

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4_PATTERN = rf"{_OCTET}(\.{_OCTET}){{3}}"
_H = "[0-9a-fA-F]{1,4}"
# RFC 4291 text forms: full, compressed (::), IPv4-embedded, and a zone index (fe80::1%eth0).
IPV6_PATTERN = (
    rf"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}"
    rf"|({_H}:){{1,4}}(:{_H}){{1,3}}|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}"
    rf"|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:)|({_H}:){{6}}{IPV4_PATTERN}"
    rf"|({_H}:){{1,5}}:{IPV4_PATTERN}|::({_H}:){{0,5}}{IPV4_PATTERN})(%[0-9a-zA-Z._-]+)?"
)
COUNTRY_PATTERN = "^[A-Z]{2}$"

NUMERIC_FIELDS: tuple[str, ...] = tuple(
    name for name, (kind, _) in EVENT_FIELDS.items() if kind != "string"
)
# (field, rule): the rules of a present value's domain; on a field the row's type requires, a
# broken one rejects the row (under the code in ``REJECTION_CODE_OF``), otherwise it is a field error.
DOMAIN_RULES: tuple[tuple[str, str], ...] = (
    ("price", "non_positive"),
    ("price", "out_of_range"),
    ("quantity", "out_of_range"),
    ("ip_address", "invalid"),
    ("user_agent", "invalid"),
    ("country", "invalid"),
)
REJECTION_CODE_OF: dict[tuple[str, str], str] = {
    ("price", "non_positive"): "non_positive_price",
    ("price", "out_of_range"): "price_out_of_range",
    ("quantity", "out_of_range"): "invalid_quantity",
}


def _codes_by_field() -> dict[str, tuple[str, ...]]:
    codes: dict[str, tuple[str, ...]] = {}
    for name, rule in [*((name, "wrong_type") for name in NUMERIC_FIELDS), *DOMAIN_RULES]:
        codes[name] = (*codes.get(name, ()), f"{name}:{rule}")
    return codes


# field -> every field error code it can carry: silver nulls the field when its row has one.
FIELD_ERROR_CODES: dict[str, tuple[str, ...]] = _codes_by_field()


@dataclass(frozen=True)
class ValidationSettings:
    """Bounds of a plausible event time."""

    min_event_time: str = "2000-01-01 00:00:00"
    max_future_minutes: int = 60


def loosely_parsed() -> Column:
    """A line that did not parse into the schema, re-read with every field as a string (null for
    lines that parsed): it parses if the line is a JSON object whose only fault is a type."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    as_strings = StructType(
        [StructField(name, StringType()) for name in EVENT_FIELDS]
        + [StructField(CORRUPT_RECORD_COLUMN, StringType())]
    )
    loose = F.from_json(
        json_text(), as_strings, {"columnNameOfCorruptRecord": CORRUPT_RECORD_COLUMN}
    )
    return F.when(~F.col("parsed_ok"), loose)


def required_for_row(name: str) -> Column:
    """Whether the row's event type requires field ``name``."""
    from pyspark.sql import functions as F

    if name in REQUIRED_FIELDS:
        return F.lit(True)
    kinds = [kind for kind, required in REQUIRED_BY_EVENT_TYPE.items() if name in required]
    return F.col("event_type").isin(*kinds) if kinds else F.lit(False)


def wrong_type(name: str) -> Column:
    """A value is there (read as a string) that the typed parse could not take."""
    from pyspark.sql import functions as F

    return F.col("loose")[name].isNotNull() & F.col(name).isNull()


def domain_broken(name: str, rule: str) -> Column:
    """Whether a present value of ``name`` breaks ``rule`` (null when the value is absent)."""
    from pyspark.sql import functions as F

    value = F.col(name)
    checks = {
        ("price", "non_positive"): lambda: value <= 0,
        ("price", "out_of_range"): lambda: value >= MAX_PRICE,  # NaN and Infinity too
        ("quantity", "out_of_range"): lambda: (value < 1) | (value > MAX_QUANTITY),
        ("ip_address", "invalid"): lambda: (
            ~(value.rlike(f"^{IPV4_PATTERN}$") | value.rlike(f"^{IPV6_PATTERN}$"))
        ),
        ("user_agent", "invalid"): lambda: (
            value.rlike(r"[\x00-\x1f\x7f]") | (F.length(value) > MAX_USER_AGENT_LENGTH)
        ),
        ("country", "invalid"): lambda: ~value.rlike(COUNTRY_PATTERN),
    }
    return checks[(name, rule)]()


def parse_rules() -> list[tuple[str, Column]]:
    """(code, broken-if) of the line as a whole (``json_object``: it is one JSON object)."""
    from pyspark.sql import functions as F

    blank = F.trim(F.col("raw_line")) == ""
    unparsed = ~F.col("parsed_ok")
    return [
        ("empty_line", unparsed & blank),
        ("malformed_json", unparsed & ~blank & ~F.col("json_object")),
        ("invalid_utf8", F.col("raw_bytes").isNotNull()),
    ]


def field_rules(settings: ValidationSettings) -> list[tuple[str, Column]]:
    """(code, broken-if) for JSON objects: required fields, domains, plausible times."""
    from pyspark.sql import functions as F

    event_type = F.col("event_type")
    event_time = F.col("event_time")
    wrong = {name: wrong_type(name) for name in NUMERIC_FIELDS}

    def missing(name: str) -> Column:
        absent = F.col(name).isNull()
        if name in wrong:
            return absent & ~wrong[name]
        return absent | (F.trim(F.col(name)) == "")

    rules = [(f"missing_field:{name}", missing(name)) for name in REQUIRED_FIELDS]
    for kind, required in REQUIRED_BY_EVENT_TYPE.items():
        rules += [
            (f"missing_field:{name}", (event_type == kind) & missing(name)) for name in required
        ]
    typed = [wrong[name] & required_for_row(name) for name in NUMERIC_FIELDS]
    # a JSON object that failed the typed parse with no field to blame: rejected, never guessed at
    unexplained = ~F.col("parsed_ok") & ~reduce(or_, wrong.values())
    latest = F.current_timestamp() + F.make_interval(mins=F.lit(settings.max_future_minutes))
    rules += [
        ("wrong_type", reduce(or_, [*typed, unexplained])),
        ("unknown_event_type", ~event_type.isin(*EVENT_TYPES)),
        ("invalid_timestamp", F.col("timestamp").isNotNull() & event_time.isNull()),
        ("timestamp_too_old", event_time < F.lit(settings.min_event_time).cast("timestamp")),
        ("timestamp_in_future", event_time > latest),
    ]
    rules += [
        (code, required_for_row(name) & domain_broken(name, rule))
        for (name, rule), code in REJECTION_CODE_OF.items()
    ]
    return rules


def field_error_rules() -> list[tuple[str, Column]]:
    """(``field:rule``, broken-if) of optional fields: present but wrong, the row kept."""
    optional = {name: ~required_for_row(name) for name in FIELD_ERROR_CODES}
    rules = [(f"{name}:wrong_type", optional[name] & wrong_type(name)) for name in NUMERIC_FIELDS]
    rules += [
        (f"{name}:{rule}", optional[name] & domain_broken(name, rule))
        for name, rule in DOMAIN_RULES
    ]
    return rules


def codes_broken(rules: list[tuple[str, Column]], applies: Column | None = None) -> Column:
    """The codes of ``rules`` broken (where ``applies``), as an array without nulls."""
    from pyspark.sql import functions as F

    checks = [
        F.when(broken if applies is None else applies & broken, F.lit(code))
        for code, broken in rules
    ]
    # array_except drops the nulls of rules not broken (codes are distinct): unlike a ``filter``
    # lambda, it compiles to Java code with the rest of the row's expressions.
    return F.array_except(F.array(*checks), F.array(F.lit(None).cast("string")))


def with_rejection_reasons(bronze: DataFrame, settings: ValidationSettings) -> DataFrame:
    """bronze rows -> parsed rows + ``event_time``, ``rejection_reasons``, ``field_errors``."""
    from pyspark.sql import functions as F

    parsed_events = with_column_computed_once(parse_events(bronze), "loose", loosely_parsed())
    loose = F.col("loose")
    json_object = F.col("parsed_ok") | (loose.isNotNull() & loose[CORRUPT_RECORD_COLUMN].isNull())
    with_time = parsed_events.withColumn("json_object", json_object).withColumn(
        "event_time", F.try_to_timestamp(F.col("timestamp"))
    )
    is_object = F.col("json_object")
    reasons = F.concat(codes_broken(parse_rules()), codes_broken(field_rules(settings), is_object))
    return (
        with_time.withColumn("rejection_reasons", reasons)
        .withColumn("field_errors", codes_broken(field_error_rules(), is_object))
        .drop("json_object", "loose")
    )
