"""The gold metrics recomputed in plain Python from the raw files: the independent oracle.

Input: a raw folder and its ledger (which lines are valid events). Output: the rows each shipped
model must hold, keyed by its grain. Windows follow Spark's rules: tumbling windows are aligned to
the epoch, and a session closes after ``gap`` without events.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CENT = Decimal("0.01")
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    user_id: str
    session_id: str | None
    time: datetime
    product_id: str | None
    category: str | None
    price: Decimal | None
    quantity: int | None

    @property
    def revenue(self) -> Decimal:
        if self.event_type != "purchase":
            return Decimal("0.00")
        return (self.price * self.quantity).quantize(CENT)


def load_valid_events(raw_dir: Path, valid_ids: set[str]) -> list[Event]:
    """Each valid event once (its first copy), parsed from the raw JSON lines."""
    events: dict[str, Event] = {}
    for path in sorted(raw_dir.glob("*.json")):
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if not isinstance(record, dict) or record.get("event_id") not in valid_ids:
                continue
            if record["event_id"] in events:
                continue
            # a wrong optional value is null in silver (a field error): so it is here
            price, quantity = record.get("price"), record.get("quantity")
            if not isinstance(price, int | float) or isinstance(price, bool) or price <= 0:
                price = None
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                quantity = None
            events[record["event_id"]] = Event(
                event_id=record["event_id"],
                event_type=record["event_type"],
                user_id=record["user_id"],
                session_id=record.get("session_id"),
                time=datetime.fromisoformat(record["timestamp"]).replace(tzinfo=None),
                product_id=record.get("product_id"),
                category=record.get("category"),
                price=None if price is None else Decimal(str(price)).quantize(CENT),
                quantity=quantity,
            )
    assert set(events) == valid_ids
    return list(events.values())


def window_start(moment: datetime, size: timedelta) -> datetime:
    return EPOCH + ((moment - EPOCH) // size) * size


def revenue_by_product(events: list[Event]) -> dict[tuple, dict]:
    """(window_start, product_id) -> total_revenue, purchase_count, units, avg_order_value."""
    groups: dict[tuple, list[Event]] = defaultdict(list)
    for event in events:
        if event.event_type == "purchase":
            groups[(window_start(event.time, timedelta(minutes=5)), event.product_id)].append(event)
    rows = {}
    for key, purchases in groups.items():
        total = sum((event.revenue for event in purchases), Decimal("0.00"))
        rows[key] = {
            "total_revenue": total,
            "purchase_count": len(purchases),
            "units": sum(event.quantity for event in purchases),
            "avg_order_value": (total / len(purchases)).quantize(CENT, ROUND_HALF_UP),
        }
    return rows


def bot_anomalies(events: list[Event], threshold: int) -> dict[tuple, dict]:
    """(window_start, user_id) -> event_count, distinct_event_types, first_seen, last_seen."""
    groups: dict[tuple, list[Event]] = defaultdict(list)
    for event in events:
        groups[(window_start(event.time, timedelta(minutes=1)), event.user_id)].append(event)
    return {
        key: {
            "event_count": len(group),
            "distinct_event_types": len({event.event_type for event in group}),
            "first_seen": min(event.time for event in group),
            "last_seen": max(event.time for event in group),
        }
        for key, group in groups.items()
        if len(group) > threshold
    }


def sessions(events: list[Event], gap: timedelta, threshold: int) -> dict[tuple, dict]:
    """(session_id, session_start) -> funnel counts, revenue, is_bot, and the session's close time."""
    by_session: dict[tuple, list[Event]] = defaultdict(list)
    for event in events:
        if event.session_id is not None:  # optional: an event without one is in no session
            by_session[(event.session_id, event.user_id)].append(event)
    rows = {}
    for (session_id, user_id), group in by_session.items():
        group.sort(key=lambda event: event.time)
        run: list[Event] = []
        for event in group:
            if run and event.time >= run[-1].time + gap:
                rows.update(_session_row(session_id, user_id, run, gap, threshold))
                run = []
            run.append(event)
        rows.update(_session_row(session_id, user_id, run, gap, threshold))
    return rows


def _session_row(session_id, user_id, run, gap, threshold) -> dict[tuple, dict]:
    start, end = run[0].time, run[-1].time
    active_minutes = (end - start) / timedelta(minutes=1)
    counts = defaultdict(int)
    for event in run:
        counts[event.event_type] += 1
    return {
        (session_id, start): {
            "user_id": user_id,
            "session_end": end,
            "closes_at": end + gap,
            "page_views": counts["page_view"],
            "searches": counts["search"],
            "add_to_carts": counts["add_to_cart"],
            "purchases": counts["purchase"],
            "revenue": sum((event.revenue for event in run), Decimal("0.00")),
            "event_count": len(run),
            "is_bot": len(run) / max(active_minutes, 1) > threshold,
        }
    }


def funnel_summary(session_rows: dict[tuple, dict]) -> dict[datetime, dict]:
    """window_start (10 minutes of session_end) -> sessions, ..., conversion_rate (humans only)."""
    groups: dict[datetime, list[dict]] = defaultdict(list)
    for row in session_rows.values():
        if not row["is_bot"]:
            groups[window_start(row["session_end"], timedelta(minutes=10))].append(row)
    summary = {}
    for start, rows in groups.items():
        with_cart = sum(row["add_to_carts"] > 0 for row in rows)
        with_view = sum(row["page_views"] > 0 for row in rows)
        summary[start] = {
            "sessions": len(rows),
            "sessions_with_cart": with_cart,
            "sessions_with_purchase": sum(row["purchases"] > 0 for row in rows),
            "conversion_rate": sum(row["purchases"] > 0 for row in rows) / len(rows),
            "view_to_cart_rate": (
                sum(row["page_views"] > 0 and row["add_to_carts"] > 0 for row in rows) / with_view
                if with_view
                else None
            ),
        }
    return summary
