"""Late data: events behind a gold watermark are counted as dropped (the exposed
``rows_dropped_by_watermark`` equals what was injected), stay in silver, and the documented full
refresh brings them into sql_runner."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from clickstream.core.config import resolve_paths
from clickstream.generator.ledger import load_ledger
from clickstream.gold import sql_runner
from clickstream.sql_models import load_project
from tests.reliability import report
from tests.reliability.lakehouse import backfill, drain_everything
from tests.support import models, oracle
from tests.support.backlog import recent_hour
from tests.support.gold_check import assert_gold_equals_oracle, committed_watermark, rows_by

LATE_EVENTS = 12
# Models that read silver directly; the models downstream of them get nothing new.
SILVER_MODELS = models.READING_SILVER


def late_purchases(latest, count: int) -> list[dict]:
    """``count`` purchases 30-40 minutes before ``latest``: behind every model's watermark (10
    minutes at most). Each has its own user, session and product, so that no two share a group of
    any model (Spark counts dropped rows after partial aggregation)."""
    return [
        {
            "event_id": str(uuid.uuid4()),
            "event_type": "purchase",
            "user_id": f"late-user-{n}",
            "session_id": f"late-session-{n}",
            "timestamp": (latest - timedelta(minutes=30 + n)).isoformat() + "Z",
            "product_id": f"late-product-{n}",
            "price": 10.0 + n,
            "quantity": 1,
        }
        for n in range(count)
    ]


@pytest.mark.slow
def test_late_events_are_counted_kept_in_silver_and_refreshed_into_gold(
    spark, tmp_path, record_outcome
):
    lake = resolve_paths({"root": tmp_path / "data"}, environ={})
    backfill(
        lake,
        recent_hour(),
        timedelta(minutes=40),
        5,
        23,
        "--bot-rate",
        "0.05",
        "--duplicate-rate",
        "0.02",
    )
    drain_everything(spark, lake)
    ledger = load_ledger(lake.raw)
    latest = max(oracle.load_valid_events(lake.raw, ledger.valid_event_ids), key=lambda e: e.time)

    late = late_purchases(latest.time, LATE_EVENTS)
    (lake.raw / "late_arrivals.json").write_text("".join(json.dumps(e) + "\n" for e in late))
    batches = drain_everything(spark, lake)

    dropped = {
        model: sum(batch["rows_dropped_by_watermark"] for batch in batches[model])
        for model in SILVER_MODELS
    }
    assert dropped == dict.fromkeys(SILVER_MODELS, LATE_EVENTS)
    silver = spark.read.format("delta").load(str(lake.silver))
    late_ids = {event["event_id"] for event in late}
    assert {
        row.event_id for row in silver.where(silver.user_id.startswith("late-user-")).collect()
    } == late_ids
    revenue = rows_by(spark, lake.gold_table(models.UPSERT), "window_start", "product_id")
    assert not {product for _, product in revenue if product.startswith("late-product-")}

    sql_runner.full_refresh(
        spark, load_project(), lake, list(SILVER_MODELS)
    )  # = `clickstream sql run --full-refresh`

    events = oracle.load_valid_events(lake.raw, ledger.valid_event_ids | late_ids)
    watermarks = {
        model: committed_watermark(lake.checkpoint(f"gold/{model}")) for model in models.APPEND
    }
    assert_gold_equals_oracle(spark, lake, events, watermarks)
    revenue = rows_by(spark, lake.gold_table(models.UPSERT), "window_start", "product_id")
    assert (
        len({product for _, product in revenue if product.startswith("late-product-")})
        == LATE_EVENTS
    )
    record_outcome(
        report.Outcome(
            "late data",
            {
                "late events injected": LATE_EVENTS,
                **{f"dropped by watermark: {model}": n for model, n in dropped.items()},
            },
            rows_lost=len(late_ids - {row.event_id for row in silver.collect()}),
            duplicates=silver.count() - silver.select("event_id").distinct().count(),
        )
    )
