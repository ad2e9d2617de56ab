"""Silver and quarantine: validated, typed, deduplicated events, and every row that failed.

Input: bronze rows with ``rejection_reasons`` (``clickstream.transforms.validation``). Output:

- silver rows (``SILVER_COLUMNS``): ``event_time`` timestamp, ``price`` decimal(12,2), ``quantity``
  int, ``event_date``, ``event_hour``, ``is_purchase``, ``revenue`` (price x quantity on purchases,
  0 otherwise), ``field_errors`` (optional fields that arrived wrong, null in the row),
  deduplicated by ``event_id``;
- quarantine rows: the rules broken, the raw line as text, its exact bytes when they are not
  UTF-8 (``raw_bytes``), and where it came from.

Deduplication keeps the first copy of an ``event_id`` seen within ``dedup_window`` of *arrival*
(``ingestion_timestamp``, the watermark column), not of event time: a late event is never dropped
for being late, state stays bounded, and a replay from bronze deduplicates exactly as live did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clickstream.core.event_schema import EVENT_TYPES
from clickstream.core.metrics_store import FIELD_ERROR_ROWS_METRIC
from clickstream.transforms.ip_privacy import IpPrivacy, protected_ip
from clickstream.transforms.validation import FIELD_ERROR_CODES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SILVER_PARTITION_COLUMN = "event_date"
QUARANTINE_PARTITION_COLUMN = "ingestion_date"
DEFAULT_DEDUP_WINDOW = "1 hour"

# name, SQL type, nullable: the silver table's DDL and the order of its columns.
SILVER_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("event_id", "string", False),
    ("event_type", "string", False),
    ("user_id", "string", False),
    ("session_id", "string", True),
    ("event_time", "timestamp", False),
    ("product_id", "string", True),
    ("category", "string", True),
    ("price", "decimal(12,2)", True),
    ("quantity", "int", True),
    ("search_query", "string", True),
    ("page_url", "string", True),
    ("referrer", "string", True),
    ("device", "string", True),
    ("user_agent", "string", True),
    ("ip_address", "string", True),
    ("country", "string", True),
    # field:rule codes of optional fields that arrived wrong (and are null here); null on rows
    # written before the column existed
    ("field_errors", "array<string>", True),
    ("is_purchase", "boolean", False),
    ("revenue", "decimal(18,2)", False),
    ("event_hour", "int", False),
    ("ingestion_timestamp", "timestamp", False),
    ("source_file", "string", False),
    ("event_date", "date", False),
)

# Delta collects min/max statistics of these columns only (the ones queries filter on), not of
# every column: user agents, URLs and ids cost time on each write and skip nothing.
SILVER_STATS_COLUMNS = "event_type,user_id,event_time,product_id,event_hour,ingestion_timestamp"

_event_types = ", ".join(f"'{kind}'" for kind in EVENT_TYPES)
# Enforced by Delta on every write: an upstream bug fails the batch instead of landing bad rows.
SILVER_CONSTRAINTS: dict[str, str] = {
    "known_event_type": f"event_type in ({_event_types})",
    "positive_price": "price is null or price > 0",
    "cart_names_product": "event_type <> 'add_to_cart' or product_id is not null",
    "purchase_is_complete": (
        "event_type <> 'purchase' or (product_id is not null and price is not null "
        "and quantity >= 1)"
    ),
    "revenue_matches": "revenue = case when is_purchase then price * quantity else 0 end",
    "event_date_matches": "event_date = to_date(event_time)",
}


def without_field_errors(name: str) -> Column:
    """Field ``name``, null on a row whose ``field_errors`` name it."""
    from pyspark.sql import functions as F

    codes = FIELD_ERROR_CODES.get(name)
    if not codes:
        return F.col(name)
    wrong = F.arrays_overlap(F.col("field_errors"), F.array(*map(F.lit, codes)))
    return F.when(~wrong, F.col(name))


def to_silver(validated: DataFrame, ip_privacy: IpPrivacy | None = None) -> DataFrame:
    """Validated bronze rows -> typed silver rows (valid rows only, duplicates still in), the
    fields named in ``field_errors`` null, ``ip_address`` as ``ip_privacy`` says (default: kept)."""
    from pyspark.sql import functions as F

    price = without_field_errors("price").cast("decimal(12,2)")
    quantity = without_field_errors("quantity").cast("int")
    is_purchase = F.col("event_type") == "purchase"
    revenue = F.when(is_purchase, price * quantity).otherwise(F.lit(0)).cast("decimal(18,2)")
    derived = {
        "price": price,
        "quantity": quantity,
        "is_purchase": is_purchase,
        "revenue": revenue,
        "event_hour": F.hour("event_time"),
        "event_date": F.to_date("event_time"),
        "ip_address": protected_ip(without_field_errors("ip_address"), ip_privacy or IpPrivacy()),
    }
    return validated.filter(F.size("rejection_reasons") == 0).select(
        *(
            derived.get(name, without_field_errors(name)).alias(name)
            for name, _, _ in SILVER_COLUMNS
        )
    )


def field_error_rows() -> Column:
    """Aggregate: the silver rows with a field error (observed per batch, see ``metrics``)."""
    from pyspark.sql import functions as F

    return F.count_if(F.size("field_errors") > 0).alias(FIELD_ERROR_ROWS_METRIC)


def drop_duplicate_events(silver_rows: DataFrame, dedup_window: str) -> DataFrame:
    """Silver rows -> the first copy of each ``event_id`` within ``dedup_window`` of arrival.

    A static frame (a test, a full rebuild) is one window: plain ``dropDuplicates``.
    """
    if not silver_rows.isStreaming:
        return silver_rows.dropDuplicates(["event_id"])
    return silver_rows.withWatermark(
        "ingestion_timestamp", dedup_window
    ).dropDuplicatesWithinWatermark(["event_id"])


def to_quarantine(validated: DataFrame) -> DataFrame:
    """Validated bronze rows -> quarantine rows (rejected rows only), raw text and reasons."""
    from pyspark.sql import functions as F

    return validated.filter(F.size("rejection_reasons") > 0).select(
        "rejection_reasons",
        "raw_line",
        "raw_bytes",
        "event_id",
        "event_type",
        "source_file",
        "ingestion_timestamp",
        F.current_timestamp().alias("quarantined_at"),
        QUARANTINE_PARTITION_COLUMN,
    )


def sql_string(text: str) -> str:
    """``text`` as a Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_silver_table(spark: SparkSession, path: str) -> None:
    """Create the silver Delta table, NOT NULL columns and CHECK constraints, unless it exists.

    Its constraints are table properties of its one creating commit (what ``add constraint`` would
    write, without five more commits); Delta enforces them the same way.
    """
    columns = ",\n    ".join(
        f"{name} {sql_type}{'' if nullable else ' not null'}"
        for name, sql_type, nullable in SILVER_COLUMNS
    )
    properties_sql = ",\n    ".join(
        f"'{key}' = {sql_string(value)}"
        for key, value in {
            "delta.dataSkippingStatsColumns": SILVER_STATS_COLUMNS,
            **{f"delta.constraints.{name}": check for name, check in SILVER_CONSTRAINTS.items()},
        }.items()
    )
    spark.sql(
        f"create table if not exists delta.`{path}` (\n    {columns}\n) using delta "
        f"partitioned by ({SILVER_PARTITION_COLUMN})\ntblproperties (\n    {properties_sql}\n)"
    )


def add_missing_constraints(spark: SparkSession, path: str) -> None:
    """Add the ``SILVER_CONSTRAINTS`` an older silver table lacks (another job may race to)."""

    def properties() -> set[str]:
        return {row.key for row in spark.sql(f"show tblproperties delta.`{path}`").collect()}

    present = properties()
    for name, condition in SILVER_CONSTRAINTS.items():
        if f"delta.constraints.{name}" not in present:
            try:
                spark.sql(f"alter table delta.`{path}` add constraint {name} check ({condition})")
            except Exception:
                if f"delta.constraints.{name}" not in properties():  # not added by another job
                    raise
