"""Events from producers this project did not write reach silver and every gold model: the seed's
own data-flow examples, and a file written the way the seed's generator writes (naive timestamps
with microseconds, no page URL, user agent and IP, no search events, page-view-only bot bursts)."""

from __future__ import annotations

import datetime as dt
import json
import random

from faker import Faker

from clickstream.sql_models import load_project
from tests.support.backlog import drain, recent_hour

# The seed's three examples (its "data flow" section), each given the event_id the contract needs.
SEED_EXAMPLES = [
    {
        "event_type": "page_view",
        "user_id": "user_1234",
        "session_id": "sess_abc",
        "product_id": "prod_42",
        "timestamp": "2025-02-07T17:25:01",
    },
    {
        "event_type": "add_to_cart",
        "user_id": "user_1234",
        "session_id": "sess_abc",
        "product_id": "prod_42",
        "timestamp": "2025-02-07T17:25:16",
    },
    {
        "event_type": "purchase",
        "user_id": "user_1234",
        "product_id": "prod_42",
        "price": 199.99,
        "quantity": 1,
        "timestamp": "2025-02-07T17:25:31",
    },
]
BOTS = ("bot_0001", "bot_0002")
BOT_EVENTS = 70  # in one minute: above the rule's 50


def seed_style_events(start: dt.datetime) -> list[dict]:
    """Shoppers' sessions and two bots' page-view bursts, in the seed generator's format."""
    rng, fake = random.Random(5), Faker()
    fake.seed_instance(5)
    events = []

    def add(kind: str, user: str, session: str, moment: dt.datetime, **fields) -> None:
        events.append(
            {
                "event_id": str(fake.uuid4()),
                "user_id": user,
                "session_id": session,
                "event_type": kind,
                "timestamp": moment.replace(microsecond=rng.randrange(1, 10**6)).isoformat(),
                "product_id": f"prod_{rng.randrange(100)}",
                "category": rng.choice(["electronics", "books", "home"]),
                "user_agent": fake.user_agent(),
                "ip_address": fake.ipv4(),
                **fields,
            }
        )

    for number in range(120):
        user, session = f"user_{number:04d}", f"sess_{number:04d}"
        moment = start + dt.timedelta(seconds=rng.randrange(3000))
        for _ in range(rng.randint(1, 4)):
            moment += dt.timedelta(seconds=rng.randint(5, 60))
            add("page_view", user, session, moment)
        if rng.random() < 0.4:
            add("add_to_cart", user, session, moment + dt.timedelta(seconds=20))
            if rng.random() < 0.5:
                price = round(rng.uniform(5, 500), 2)
                add("purchase", user, session, moment + dt.timedelta(seconds=40), price=price,
                    quantity=rng.randint(1, 3))  # fmt: skip
    for number, bot in enumerate(BOTS):
        burst = start + dt.timedelta(minutes=10 + 5 * number)
        for second in range(BOT_EVENTS):
            add("page_view", bot, f"sess_{bot}", burst + dt.timedelta(seconds=second * 50 / 70))
    return events


def gold_outputs(spark, silver) -> dict[str, list]:
    """Every shipped model over ``silver`` as a static frame, in dependency order."""
    project = load_project()
    silver.createOrReplaceTempView("silver_events")
    outputs = {}
    try:
        for model in project.order():
            frame = spark.sql(model.compiled_sql)
            frame.createOrReplaceTempView(model.name)
            outputs[model.name] = frame.collect()
    finally:
        for view in ["silver_events", *project.models]:
            spark.catalog.dropTempView(view)
    return outputs


def land(lake, name: str, events: list[dict]) -> None:
    lake.raw.mkdir(parents=True, exist_ok=True)
    (lake.raw / name).write_text("".join(json.dumps(event) + "\n" for event in events))


def silver_and_quarantine(spark, lake):
    read = spark.read.format("delta")
    return read.load(str(lake.silver)), read.load(str(lake.quarantine))


def test_the_seeds_data_flow_examples_reach_silver(spark, lake):
    examples = [{"event_id": f"seed-{n}", **event} for n, event in enumerate(SEED_EXAMPLES)]
    land(lake, "events_20250207_172501.json", examples)
    drain(spark, lake)
    silver, quarantine = silver_and_quarantine(spark, lake)

    rows = {row.event_id: row for row in silver.collect()}
    assert quarantine.count() == 0
    assert sorted(rows) == ["seed-0", "seed-1", "seed-2"]
    purchase = rows["seed-2"]
    assert (purchase.session_id, purchase.is_purchase, str(purchase.revenue)) == (
        None,
        True,
        "199.99",
    )
    assert all(row.field_errors == [] for row in rows.values())


def test_a_seed_style_file_reaches_silver_whole_and_every_gold_model(spark, lake):
    events = seed_style_events(recent_hour())
    land(lake, "events_seed_style.json", events)
    drain(spark, lake)
    silver, quarantine = silver_and_quarantine(spark, lake)

    assert quarantine.count() == 0
    assert silver.count() == len(events)
    assert {row.event_id for row in silver.select("event_id").collect()} == {
        event["event_id"] for event in events
    }
    outputs = gold_outputs(spark, silver)
    assert all(outputs[name] for name in outputs), {
        name: len(rows) for name, rows in outputs.items()
    }
    assert {row.user_id for row in outputs["bot_anomalies"]} == set(BOTS)
    assert all(row.distinct_event_types == 1 for row in outputs["bot_anomalies"])
    sessions = {row.session_id: row for row in outputs["session_funnel"]}
    assert all(sessions[f"sess_{bot}"].is_bot for bot in BOTS)
    purchases = [event for event in events if event["event_type"] == "purchase"]
    assert sum(row.purchase_count for row in outputs["revenue_by_product_5m"]) == len(purchases)
    page_views = sum(event["event_type"] == "page_view" for event in events)
    assert sum(row.page_views for row in outputs["session_funnel"]) == page_views
