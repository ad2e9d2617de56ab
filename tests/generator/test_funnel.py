"""Shopper sessions follow the funnel, rates match the settings, only bots burst."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from itertools import pairwise

import jsonschema
import pytest

from clickstream.core.event_schema import EVENT_JSON_SCHEMA
from clickstream.generator.ledger import load_ledger
from clickstream.generator.sessions import FunnelSettings
from tests.generator.helpers import START, backfill, epoch_ms, valid_events

MINUTES = 90
TYPE_LETTER = {"page_view": "V", "search": "S", "add_to_cart": "A", "purchase": "P"}


def complete_before(minutes: int) -> int:
    """Sessions that start in the last half hour of a run may be cut by its end: rates skip them."""
    return epoch_ms((START + timedelta(minutes=minutes - 30)).isoformat())


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """90 minutes of shoppers and bots, no faults: (events, sessions by id, bot user ids)."""
    out = tmp_path_factory.mktemp("funnel")
    backfill(out, minutes=MINUTES, rate=20, seed=11)
    events = valid_events(out)
    sessions = defaultdict(list)
    for event in events:  # files are in time order and faults are off: file order is time order
        sessions[event["session_id"]].append(event)
    return events, sessions, load_ledger(out).bot_user_ids


def shopper_sessions(sessions, bots, minutes=None):
    """Sessions of shoppers; of a run of ``minutes``, only those sure to be whole."""
    before = complete_before(minutes) if minutes else None
    return [
        session
        for session in sessions.values()
        if session[0]["user_id"] not in bots
        and (before is None or epoch_ms(session[0]["timestamp"]) < before)
    ]


def rates(sessions):
    """(share of sessions that add to cart, share of those that buy)."""
    carting = [s for s in sessions if any(e["event_type"] == "add_to_cart" for e in s)]
    buying = [s for s in carting if any(e["event_type"] == "purchase" for e in s)]
    return len(carting) / len(sessions), len(buying) / len(carting)


def test_valid_events_match_the_json_schema(history):
    events, _, _ = history
    validator = jsonschema.Draft202012Validator(
        EVENT_JSON_SCHEMA, format_checker=jsonschema.FormatChecker()
    )
    by_type = defaultdict(list)
    for event in events:
        by_type[event["event_type"]].append(event)
    assert set(by_type) == set(TYPE_LETTER)
    for same_type in by_type.values():
        for event in same_type[:500]:
            validator.validate(event)


def test_timestamps_are_utc_with_milliseconds(history):
    events, _, _ = history
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    assert all(pattern.match(event["timestamp"]) for event in events)


def test_sessions_arrive_browse_add_to_cart_then_buy_in_time_order(history):
    _, sessions, _ = history
    for session in sessions.values():
        letters = "".join(TYPE_LETTER[event["event_type"]] for event in session)
        assert re.fullmatch(r"[VS]+A*P*", letters), letters
        times = [epoch_ms(event["timestamp"]) for event in session]
        assert times == sorted(times) and len(set(times)) == len(times)
        carted = set()
        for event in session:
            if event["event_type"] == "add_to_cart":
                carted.add(event["product_id"])
            if event["event_type"] == "purchase":
                assert event["product_id"] in carted


def test_cart_and_purchase_rates_are_the_defaults(history):
    _, sessions, bots = history
    complete = shopper_sessions(sessions, bots, MINUTES)
    assert len(complete) > 5000
    cart_rate, purchase_rate = rates(complete)
    assert cart_rate == pytest.approx(0.30, abs=0.025)
    assert purchase_rate == pytest.approx(0.40, abs=0.04)


def test_cart_and_purchase_rates_follow_the_settings(tmp_path):
    funnel = FunnelSettings(cart_rate=0.6, purchase_rate=0.8, bot_rate=0.0)
    backfill(tmp_path, minutes=60, rate=10, seed=5, funnel=funnel)
    sessions = defaultdict(list)
    for event in valid_events(tmp_path):
        sessions[event["session_id"]].append(event)
    cart_rate, purchase_rate = rates(shopper_sessions(sessions, set(), minutes=60))
    assert cart_rate == pytest.approx(0.6, abs=0.04)
    assert purchase_rate == pytest.approx(0.8, abs=0.04)


def test_shoppers_come_back_and_never_run_two_sessions_at_once(history):
    _, sessions, bots = history
    by_user = defaultdict(list)
    for session in shopper_sessions(sessions, bots):
        first, last = (epoch_ms(session[i]["timestamp"]) for i in (0, -1))
        by_user[session[0]["user_id"]].append((first, last))
    returning = [spans for spans in by_user.values() if len(spans) > 1]
    assert len(returning) > len(by_user) * 0.2
    for spans in returning:
        spans.sort()
        assert all(earlier[1] < later[0] for earlier, later in pairwise(spans))


def test_only_bots_exceed_fifty_events_a_minute(history):
    events, _, bots = history
    per_minute = Counter(
        (event["user_id"], epoch_ms(event["timestamp"]) // 60_000) for event in events
    )
    busiest = defaultdict(int)
    for (user, _), count in per_minute.items():
        busiest[user] = max(busiest[user], count)
    assert bots, "the default bot rate should produce bot bursts in 90 minutes"
    assert {user for user, count in busiest.items() if count > 50} <= bots
    bursting = [user for user in bots if busiest[user] > 50]
    assert len(bursting) >= 0.8 * len(bots)
    assert max(busiest[user] for user in bots) > 150


def test_each_product_keeps_its_category_and_price(history):
    events, _, _ = history
    facts = defaultdict(set)
    for event in events:
        if "product_id" in event:
            facts[event["product_id"]].add(event["category"])
        if "price" in event:
            facts[(event["product_id"], "price")].add(event["price"])
    assert all(len(values) == 1 for values in facts.values())
    assert all(event["quantity"] >= 1 for event in events if event["event_type"] == "purchase")
