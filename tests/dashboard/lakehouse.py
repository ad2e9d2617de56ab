"""A small fixture lakehouse for the dashboard tests, written with deltalake (no JVM), and its oracle.

The gold tables have the schemas Spark gives the shipped models (``GOLD_SCHEMAS``; that they match
is checked against Spark-written tables in ``tests/gold/test_sql_runner.py``). Rows span 90 minutes
before ``END``, so the dashboard's last hour leaves the first 30 out. ``expected_figures`` computes
what the dashboard must show in plain Python, from the same rows, without pandas.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
from deltalake import write_deltalake

from clickstream.core.config import LakehousePaths
from clickstream.core.metrics_store import append_batch

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TS = pa.timestamp("us", tz="UTC")

GOLD_SCHEMAS = {
    "revenue_by_product_5m": pa.schema(
        [
            ("window_start", TS),
            ("window_end", TS),
            ("product_id", pa.string()),
            ("category", pa.string()),
            ("total_revenue", pa.decimal128(28, 2)),
            ("purchase_count", pa.int64()),
            ("units", pa.int64()),
            ("avg_order_value", pa.decimal128(18, 2)),
            ("window_date", pa.date32()),
        ]
    ),
    "funnel_summary_10m": pa.schema(
        [
            ("window_start", TS),
            ("window_end", TS),
            ("sessions", pa.int64()),
            ("sessions_with_view", pa.int64()),
            ("sessions_with_cart", pa.int64()),
            ("sessions_with_purchase", pa.int64()),
            ("view_to_cart_rate", pa.float64()),
            ("cart_to_purchase_rate", pa.float64()),
            ("conversion_rate", pa.float64()),
            ("window_date", pa.date32()),
        ]
    ),
    "session_funnel": pa.schema(
        [
            ("session_start", TS),
            ("session_end", TS),
            ("session_id", pa.string()),
            ("user_id", pa.string()),
            ("page_views", pa.int64()),
            ("searches", pa.int64()),
            ("add_to_carts", pa.int64()),
            ("purchases", pa.int64()),
            ("revenue", pa.decimal128(28, 2)),
            ("event_count", pa.int64()),
            ("converted", pa.bool_()),
            ("is_bot", pa.bool_()),
            ("session_date", pa.date32()),
        ]
    ),
    "bot_anomalies": pa.schema(
        [
            ("window_start", TS),
            ("window_end", TS),
            ("user_id", pa.string()),
            ("event_count", pa.int64()),
            ("distinct_event_types", pa.int32()),
            ("first_seen", TS),
            ("last_seen", TS),
            ("window_date", pa.date32()),
        ]
    ),
}
PARTITIONS = {
    "revenue_by_product_5m": "window_date",
    "funnel_summary_10m": "window_date",
    "session_funnel": "session_date",
    "bot_anomalies": "window_date",
}
QUARANTINE_SCHEMA = pa.schema(
    [
        ("rejection_reasons", pa.list_(pa.string())),
        ("raw_line", pa.string()),
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("source_file", pa.string()),
        ("ingestion_timestamp", TS),
        ("quarantined_at", TS),
        ("ingestion_date", pa.date32()),
    ]
)
CATEGORIES = {"P001": "books", "P002": "toys", "P003": "home", "P004": "books", "P005": "garden"}


@dataclass
class FixtureRows:
    """The rows written per table (plus the funnel numerators the table does not keep)."""

    gold: dict[str, list[dict]]
    funnel_numerators: list[
        tuple[int, int]
    ]  # per funnel row: viewers who carted, carters who bought
    quarantined: int
    metrics: dict[str, list[dict]]


def revenue_rows(rng: random.Random) -> list[dict]:
    rows = []
    for k in range(18, 0, -1):  # 5-minute windows over the 90 minutes before END
        start = END - k * timedelta(minutes=5)
        for product in rng.sample(sorted(CATEGORIES), 3):
            count = rng.randint(1, 4)
            total = sum(Decimal(rng.randint(199, 9999)) / 100 for _ in range(count))
            rows.append(
                {
                    "window_start": start,
                    "window_end": start + timedelta(minutes=5),
                    "product_id": product,
                    "category": CATEGORIES[product],
                    "total_revenue": total,
                    "purchase_count": count,
                    "units": count + rng.randint(0, 2),
                    "avg_order_value": round(total / count, 2),
                    "window_date": start.date(),
                }
            )
    return rows


def funnel_rows(rng: random.Random) -> tuple[list[dict], list[tuple[int, int]]]:
    rows, numerators = [], []
    for k in range(9, 0, -1):  # 10-minute windows
        start = END - k * timedelta(minutes=10)
        sessions = rng.randint(20, 40)
        views = rng.randint(10, sessions)
        carts = 0 if k == 2 else rng.randint(3, views)  # one window where nobody carted
        viewing_with_cart = rng.randint(0, carts)
        bought = rng.randint(0, carts)
        rows.append(
            {
                "window_start": start,
                "window_end": start + timedelta(minutes=10),
                "sessions": sessions,
                "sessions_with_view": views,
                "sessions_with_cart": carts,
                "sessions_with_purchase": bought,
                "view_to_cart_rate": viewing_with_cart / views,
                "cart_to_purchase_rate": bought / carts if carts else None,
                "conversion_rate": bought / sessions,
                "window_date": start.date(),
            }
        )
        numerators.append((viewing_with_cart, bought))
    return rows, numerators


def session_rows(rng: random.Random) -> list[dict]:
    rows = []
    for number in range(30):
        end = END - timedelta(seconds=rng.randint(0, 90 * 60))
        start = end - timedelta(seconds=rng.randint(0, 900))
        views, carts, bought = rng.randint(1, 9), rng.randint(0, 3), rng.randint(0, 1)
        rows.append(
            {
                "session_start": start,
                "session_end": end,
                "session_id": f"s{number:03d}",
                "user_id": f"u{number % 17:03d}",
                "page_views": views,
                "searches": 1,
                "add_to_carts": carts,
                "purchases": bought,
                "revenue": Decimal("12.50") * bought,
                "event_count": views + 1 + carts + bought,
                "converted": bought > 0,
                "is_bot": number % 10 == 0,
                "session_date": start.date(),
            }
        )
    return rows


def bot_rows() -> list[dict]:
    rows = []
    for minutes_before, user, events in [
        (85, "bot-a", 300),
        (50, "bot-b", 120),
        (20, "bot-b", 90),
        (3, "bot-c", 400),
    ]:
        start = END - timedelta(minutes=minutes_before)
        rows.append(
            {
                "window_start": start,
                "window_end": start + timedelta(minutes=1),
                "user_id": user,
                "event_count": events,
                "distinct_event_types": 2,
                "first_seen": start,
                "last_seen": start + timedelta(seconds=59),
                "window_date": start.date(),
            }
        )
    return rows


def metrics_records(now: datetime) -> dict[str, list[dict]]:
    records = {}
    for query, dropped in [("silver", [0, 0, 0]), ("gold_revenue_by_product_5m", [0, 4, 3])]:
        records[query] = [
            {
                "timestamp": (now - timedelta(seconds=30 * (3 - batch)))
                .isoformat()
                .replace("+00:00", "Z"),
                "query": query,
                "batch_id": batch,
                "rows_in": 100 * (batch + 1),
                "rows_out": 90 * (batch + 1),
                "batch_duration_ms": 1500 + batch,
                "state_rows": 0,
                "rows_dropped_by_watermark": dropped[batch],
                "duplicates_dropped": 0,
                "watermark": None,
            }
            for batch in range(3)
        ]
    return records


def write_lakehouse(paths: LakehousePaths, now: datetime, seed: int = 3) -> FixtureRows:
    """Write the four gold tables, a quarantine table in two commits, and metrics files."""
    rng = random.Random(seed)
    funnel, numerators = funnel_rows(rng)
    gold = {
        "revenue_by_product_5m": revenue_rows(rng),
        "funnel_summary_10m": funnel,
        "session_funnel": session_rows(rng),
        "bot_anomalies": bot_rows(),
    }
    for model, rows in gold.items():
        table = pa.Table.from_pylist(rows, schema=GOLD_SCHEMAS[model])
        write_deltalake(paths.gold_table(model), table, partition_by=[PARTITIONS[model]])
    quarantined = 0
    for batch in range(2):
        rows = [
            {
                "rejection_reasons": ["malformed_json"],
                "raw_line": "{oops",
                "event_id": None,
                "event_type": None,
                "source_file": f"events_{batch}.json",
                "ingestion_timestamp": END,
                "quarantined_at": END,
                "ingestion_date": END.date(),
            }
            for _ in range(3 + batch)
        ]
        write_deltalake(
            paths.quarantine,
            pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA),
            partition_by=["ingestion_date"],
            mode="append",
        )
        quarantined += len(rows)
    metrics = metrics_records(now)
    for records in metrics.values():
        for record in records:
            append_batch(paths.metrics, record)
    return FixtureRows(gold, numerators, quarantined, metrics)


def expected_figures(rows: FixtureRows) -> dict:
    """What the dashboard must show for the last hour before the newest row, in plain Python."""
    gold = rows.gold
    until = max(
        [
            r["window_end"]
            for name in ("revenue_by_product_5m", "funnel_summary_10m", "bot_anomalies")
            for r in gold[name]
        ]
        + [r["session_end"] for r in gold["session_funnel"]]
    )
    since = until - HOUR
    revenue = [r for r in gold["revenue_by_product_5m"] if r["window_start"] >= since]
    funnel = [
        (r, numerators)
        for r, numerators in zip(gold["funnel_summary_10m"], rows.funnel_numerators, strict=True)
        if r["window_start"] >= since
    ]
    sessions = sum(r["sessions"] for r, _ in funnel)
    views = sum(r["sessions_with_view"] for r, _ in funnel)
    carts = sum(r["sessions_with_cart"] for r, _ in funnel)
    purchases = sum(r["sessions_with_purchase"] for r, _ in funnel)
    by_product: dict[str, Decimal] = {}
    for r in revenue:
        by_product[r["product_id"]] = (
            by_product.get(r["product_id"], Decimal(0)) + r["total_revenue"]
        )
    by_window: dict[datetime, Decimal] = {}
    for r in revenue:
        by_window[r["window_start"]] = (
            by_window.get(r["window_start"], Decimal(0)) + r["total_revenue"]
        )
    bots = [r for r in gold["bot_anomalies"] if r["window_start"] >= since]
    return {
        "until": until,
        "revenue": sum((r["total_revenue"] for r in revenue), Decimal(0)),
        "orders": sum(r["purchase_count"] for r in revenue),
        "conversion_rate": purchases / sessions,
        "active_sessions": len(
            {r["session_id"] for r in gold["session_funnel"] if r["session_end"] >= since}
        ),
        "bots_flagged": len({r["user_id"] for r in bots}),
        "bot_alerts": len(bots),
        "revenue_by_window": dict(sorted(by_window.items())),
        "top_products": sorted(by_product.items(), key=lambda item: (-item[1], item[0])),
        "funnel": {
            "sessions": sessions,
            "views": views,
            "carts": carts,
            "purchases": purchases,
            "view_to_cart_rate": sum(n[0] for _, n in funnel) / views,
            "cart_to_purchase_rate": sum(n[1] for _, n in funnel) / carts,
        },
        "quarantined": rows.quarantined,
        "rows_dropped_by_watermark": {
            query: sum(r["rows_dropped_by_watermark"] for r in records)
            for query, records in rows.metrics.items()
        },
    }
