"""The shipped models run in Spark SQL: once on static DataFrames (results and YAML tests checked),
once as streaming queries (Spark accepts them with their watermark and output mode)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from clickstream.sql_models import Model, load_project
from clickstream.transforms.silver_transform import SILVER_COLUMNS

SILVER_DDL = ", ".join(f"{name} {kind}" for name, kind, _ in SILVER_COLUMNS)
DAY = dt.datetime(2025, 11, 24, tzinfo=dt.UTC)


def at(minute: int, second: int = 0) -> dt.datetime:
    """10:mm:ss UTC on DAY, as the naive local time Spark hands back."""
    moment = DAY + dt.timedelta(hours=10, minutes=minute, seconds=second)
    return moment.astimezone().replace(tzinfo=None)


def event(number, kind, user, session, time, product=None, price=None, quantity=None) -> dict:
    is_purchase = kind == "purchase"
    revenue = price * quantity if is_purchase else Decimal("0.00")
    return {
        **{name: None for name, _, _ in SILVER_COLUMNS},
        "event_id": f"e{number}",
        "event_type": kind,
        "user_id": user,
        "session_id": session,
        "event_time": time,
        "product_id": product,
        "category": "books" if product else None,
        "price": price,
        "quantity": quantity,
        "is_purchase": is_purchase,
        "revenue": revenue,
        "event_hour": time.hour,
        "ingestion_timestamp": time,
        "source_file": "f.json",
        "event_date": time.date(),
    }


def silver_rows() -> list[dict]:
    """A bot (60 views in a minute) and three shoppers, two of whom buy product p1."""
    price = Decimal("10.00")
    bot = [event(n, "page_view", "bot", "sb", at(0, n)) for n in range(60)]
    shoppers = [
        event(100, "page_view", "u1", "s1", at(1, 0), "p1"),
        event(101, "add_to_cart", "u1", "s1", at(1, 30), "p1"),
        event(102, "purchase", "u1", "s1", at(2, 0), "p1", price, 2),
        event(200, "page_view", "u2", "s2", at(3, 0)),
        event(201, "search", "u2", "s2", at(3, 20)),
        event(300, "add_to_cart", "u3", "s3", at(3, 30), "p1"),
        event(301, "purchase", "u3", "s3", at(4, 0), "p1", price, 1),
    ]
    return bot + shoppers


@pytest.fixture(scope="module")
def project():
    return load_project()


@pytest.fixture(scope="module")
def outputs(spark, project) -> Iterator[dict[str, list]]:
    """Every model run in dependency order over static views; each output becomes a view too."""
    silver = spark.createDataFrame(
        [tuple(row[name] for name, _, _ in SILVER_COLUMNS) for row in silver_rows()], SILVER_DDL
    )
    silver.createOrReplaceTempView("silver_events")
    results = {}
    for model in project.order():
        frame = spark.sql(model.compiled_sql)
        frame.createOrReplaceTempView(model.name)
        results[model.name] = sorted(frame.collect(), key=str)
    yield results
    for view in [
        "silver_events",
        *project.models,
        *(f"streamed_{name}" for name in project.models),
    ]:
        spark.catalog.dropTempView(view)


def test_bot_anomalies_finds_the_bot(outputs):
    [row] = outputs["bot_anomalies"]
    assert (row.user_id, row.event_count, row.distinct_event_types) == ("bot", 60, 1)
    assert (row.window_start, row.window_end) == (at(0), at(1))
    assert (row.first_seen, row.last_seen) == (at(0), at(0, 59))
    assert row.window_date == DAY.date()


def test_revenue_by_product_sums_purchases(outputs):
    [row] = outputs["revenue_by_product_5m"]
    assert (row.window_start, row.window_end, row.product_id, row.category) == (
        at(0),
        at(5),
        "p1",
        "books",
    )
    assert (row.total_revenue, row.purchase_count, row.units) == (Decimal("30.00"), 2, 3)
    assert row.avg_order_value == Decimal("15.00")


def test_session_funnel_counts_steps_and_flags_the_bot(outputs):
    sessions = {row.session_id: row for row in outputs["session_funnel"]}
    assert sessions["sb"].is_bot and sessions["sb"].event_count == 60
    first = sessions["s1"]
    assert (first.session_start, first.session_end) == (at(1), at(2))
    assert (first.page_views, first.add_to_carts, first.purchases) == (1, 1, 1)
    assert (first.revenue, first.converted, first.is_bot) == (Decimal("20.00"), True, False)
    assert (sessions["s2"].searches, sessions["s2"].converted) == (1, False)


def test_funnel_summary_excludes_bots(outputs):
    [row] = outputs["funnel_summary_10m"]
    assert (row.window_start, row.window_end) == (at(0), at(10))
    assert (row.sessions, row.sessions_with_view, row.sessions_with_cart) == (3, 2, 2)
    assert row.sessions_with_purchase == 2
    assert (row.view_to_cart_rate, row.cart_to_purchase_rate) == (0.5, 1.0)
    assert row.conversion_rate == pytest.approx(2 / 3)


def test_every_yaml_test_passes_on_the_outputs(spark, project, outputs):
    failing = {
        test.name: rows
        for model in project.models.values()
        for test in model.tests
        if (rows := spark.sql(test.sql).collect())
    }
    assert failing == {}


def start_stream(spark, model: Model, rows_path, checkpoint):
    """Start ``model`` as a streaming query over parquet files at ``rows_path``, like the runner:
    watermark on the input view, append or (for upserts) update mode, until the input is drained."""
    [source] = model.depends_on
    (
        spark.readStream.schema(spark.read.parquet(str(rows_path)).schema)
        .parquet(str(rows_path))
        .withWatermark(model.config.watermark_column, model.config.watermark_delay)
        .createOrReplaceTempView(source)
    )
    return (
        spark.sql(model.compiled_sql)
        .writeStream.format("memory")
        .queryName(f"streamed_{model.name}")
        .outputMode("update" if model.config.materialized == "upsert" else "append")
        .option("checkpointLocation", str(checkpoint))
        .trigger(availableNow=True)
        .start()
    )


def test_models_run_as_streaming_queries(spark, project, outputs, tmp_path):
    """Last in this file: it replaces the static input views by streaming ones."""
    for view in ("silver_events", "session_funnel"):
        spark.table(view).write.parquet(str(tmp_path / view))
    queries = [
        start_stream(
            spark, model, tmp_path / model.depends_on[0], tmp_path / "checkpoints" / model.name
        )
        for model in project.order()
    ]
    for query in queries:
        query.awaitTermination()
    written = {model: spark.table(f"streamed_{model}").count() for model in project.models}
    # Upserts emit every updated row. Append emits a window once the watermark (latest event time
    # minus the delay) passes its end: only the bot's minute, 10:00-10:01 < 10:04 - 2 minutes.
    assert written == {
        "bot_anomalies": 1,
        "revenue_by_product_5m": 1,
        "session_funnel": 0,
        "funnel_summary_10m": 0,
    }
