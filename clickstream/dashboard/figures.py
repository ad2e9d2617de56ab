"""The dashboard's numbers, computed from the gold rows and metrics of a ``Snapshot``: pure functions.

Input: pandas DataFrames in the shape of the gold tables (``sql/gold/*.yml`` documents their
columns), already cut to the last hour of data, and the metrics records per query. Output: the
headline KPIs, revenue per 5-minute window, top products, the funnel with its rates, the anomaly
alerts and the health of each stream. An empty or missing table gives zeros, empty frames or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Headline:
    """The KPIs of the last hour of data."""

    revenue: float  # sum of total_revenue of the 5-minute windows
    orders: int  # purchase events (one per product bought)
    conversion_rate: float | None  # human sessions that bought / human sessions
    active_sessions: int  # sessions with events in the hour (closed sessions of session_funnel)
    bots_flagged: int  # distinct users over the bot threshold in some minute


@dataclass(frozen=True)
class Funnel:
    """Human sessions of the hour by how far they went, and the rates between the steps."""

    sessions: int
    views: int
    carts: int
    purchases: int
    view_to_cart_rate: float | None
    cart_to_purchase_rate: float | None
    conversion_rate: float | None


def is_empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def revenue_total(revenue: pd.DataFrame | None) -> float:
    return 0.0 if is_empty(revenue) else float(sum(revenue["total_revenue"].map(float)))


def headline(gold: dict[str, pd.DataFrame | None]) -> Headline:
    """KPIs from the hour's rows of every gold model."""
    revenue, sessions = gold.get("revenue_by_product_5m"), gold.get("session_funnel")
    bots = gold.get("bot_anomalies")
    return Headline(
        revenue=revenue_total(revenue),
        orders=0 if is_empty(revenue) else int(revenue["purchase_count"].sum()),
        conversion_rate=funnel(gold.get("funnel_summary_10m")).conversion_rate,
        active_sessions=0 if is_empty(sessions) else int(sessions["session_id"].nunique()),
        bots_flagged=0 if is_empty(bots) else int(bots["user_id"].nunique()),
    )


def revenue_per_window(revenue: pd.DataFrame | None) -> pd.DataFrame:
    """One row per 5-minute window, oldest first: ``window_start``, ``revenue``, ``orders``."""
    if is_empty(revenue):
        return pd.DataFrame({"window_start": [], "revenue": [], "orders": []})
    frame = revenue.assign(revenue=revenue["total_revenue"].map(float))
    return (
        frame.groupby("window_start", as_index=False)
        .agg(revenue=("revenue", "sum"), orders=("purchase_count", "sum"))
        .sort_values("window_start")
        .reset_index(drop=True)
    )


def top_products(revenue: pd.DataFrame | None, count: int = 10) -> pd.DataFrame:
    """The ``count`` products with the most revenue: product, category, revenue, orders, units."""
    columns = ["product_id", "category", "revenue", "orders", "units"]
    if is_empty(revenue):
        return pd.DataFrame({column: [] for column in columns})
    frame = revenue.assign(revenue=revenue["total_revenue"].map(float))
    return (
        frame.groupby("product_id", as_index=False)
        .agg(
            category=("category", "max"),
            revenue=("revenue", "sum"),
            orders=("purchase_count", "sum"),
            units=("units", "sum"),
        )
        .sort_values(["revenue", "product_id"], ascending=[False, True])
        .head(count)
        .reset_index(drop=True)[columns]
    )


def funnel(summary: pd.DataFrame | None) -> Funnel:
    """The funnel over the hour's 10-minute windows of ``funnel_summary_10m``.

    The table keeps each window's rates, not their numerators; rate x denominator gives them back.
    """
    if is_empty(summary):
        return Funnel(0, 0, 0, 0, None, None, None)
    views, carts = (
        int(summary["sessions_with_view"].sum()),
        int(summary["sessions_with_cart"].sum()),
    )
    viewing_with_cart = (
        summary["view_to_cart_rate"].fillna(0) * summary["sessions_with_view"]
    ).sum()
    carting_with_purchase = (
        summary["cart_to_purchase_rate"].fillna(0) * summary["sessions_with_cart"]
    ).sum()
    sessions, purchases = (
        int(summary["sessions"].sum()),
        int(summary["sessions_with_purchase"].sum()),
    )
    return Funnel(
        sessions=sessions,
        views=views,
        carts=carts,
        purchases=purchases,
        view_to_cart_rate=ratio(round(viewing_with_cart), views),
        cart_to_purchase_rate=ratio(round(carting_with_purchase), carts),
        conversion_rate=ratio(purchases, sessions),
    )


def anomaly_alerts(bots: pd.DataFrame | None) -> pd.DataFrame:
    """Users over the bot threshold, newest minute first: minute, user, events, event types."""
    columns = ["window_start", "user_id", "event_count", "distinct_event_types"]
    if is_empty(bots):
        return pd.DataFrame({column: [] for column in columns})
    return bots.sort_values(["window_start", "event_count"], ascending=[False, False]).reset_index(
        drop=True
    )[columns]


def pipeline_health(metrics: dict[str, list[dict[str, Any]]], now: datetime) -> pd.DataFrame:
    """One row per stream: its last batch, when, how long ago (s), rows in and out, rows dropped
    by the watermark over every recorded batch."""
    rows = []
    for query, batches in sorted(metrics.items()):
        if not batches:
            continue
        last = batches[-1]
        at = pd.Timestamp(last["timestamp"]).to_pydatetime() if last.get("timestamp") else None
        rows.append(
            {
                "stream": query,
                "last_batch": last.get("batch_id"),
                "last_batch_at": at,
                "freshness_s": None if at is None else round((now - at).total_seconds()),
                "rows_in": last.get("rows_in", 0),
                "rows_out": last.get("rows_out", 0),
                "batch_ms": last.get("batch_duration_ms", 0),
                "rows_dropped_by_watermark": sum(
                    batch.get("rows_dropped_by_watermark") or 0 for batch in batches
                ),
            }
        )
    return pd.DataFrame(rows)
