"""The streaming SQL runner on a generated backlog, checked against the plain-Python oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from clickstream import cli
from clickstream.core.config import DEFAULT_SQL_DIR, resolve_paths
from clickstream.core.errors import ClickstreamError
from clickstream.generator.ledger import load_ledger
from clickstream.gold import model_checks, sql_runner
from clickstream.sql_models import load_project
from clickstream.streaming.trigger import Trigger
from tests.support import oracle
from tests.support.backlog import drain, generate_backlog, recent_hour
from tests.support.gold_check import GAP, THRESHOLD, rows_by


def run_models(spark, project, paths, names) -> dict[str, datetime]:
    """Drain ``names`` in order; return each model's final watermark."""
    watermarks = {}
    for name in names:
        [query] = sql_runner.start_models(
            spark, project, paths, [name], Trigger(available_now=True)
        )
        query.awaitTermination()
        mark = query.lastProgress["eventTime"]["watermark"]
        watermarks[name] = datetime.fromisoformat(mark).replace(tzinfo=None)
    return watermarks


@pytest.fixture(scope="module")
def backlog(spark, tmp_path_factory):
    """An hour of events with every fault and bots, drained to silver, all models run once."""
    root = tmp_path_factory.mktemp("gold")
    paths = resolve_paths({"root": root / "data"}, environ={})
    generate_backlog(paths, recent_hour(hours_ago=3), minutes=60, seed=5, rate=10)
    drain(spark, paths)
    ledger = load_ledger(paths.raw)
    events = oracle.load_valid_events(paths.raw, ledger.valid_event_ids)
    project = load_project()
    watermarks = run_models(spark, project, paths, [m.name for m in project.order()])
    return paths, ledger, events, project, watermarks


def test_revenue_upsert_equals_the_oracle_to_the_cent(spark, backlog):
    paths, _, events, _, _ = backlog
    actual = rows_by(spark, paths.gold_table("revenue_by_product_5m"), "window_start", "product_id")
    expected = oracle.revenue_by_product(events)

    assert actual.keys() == expected.keys()
    for key, row in expected.items():
        assert {name: actual[key][name] for name in row} == row, key


def test_bot_anomalies_equal_the_oracle_and_flag_only_bots(spark, backlog):
    paths, ledger, events, _, watermarks = backlog
    actual = rows_by(spark, paths.gold_table("bot_anomalies"), "window_start", "user_id")
    closed = watermarks["bot_anomalies"]
    expected = {
        key: row
        for key, row in oracle.bot_anomalies(events, THRESHOLD).items()
        if key[0] + timedelta(minutes=1) <= closed
    }

    assert expected, "the backlog must hold bot bursts"
    assert actual.keys() == expected.keys()
    for key, row in expected.items():
        assert {name: actual[key][name] for name in row} == row, key
    assert {user for _, user in actual} <= ledger.bot_user_ids


def test_session_funnel_equals_the_oracle(spark, backlog):
    paths, _, events, _, watermarks = backlog
    actual = rows_by(spark, paths.gold_table("session_funnel"), "session_id", "session_start")
    expected = {
        key: row
        for key, row in oracle.sessions(events, GAP, THRESHOLD).items()
        if row["closes_at"] <= watermarks["session_funnel"]
    }

    assert len(expected) > 100
    assert actual.keys() == expected.keys()
    for key, row in expected.items():
        compared = {name: value for name, value in row.items() if name != "closes_at"}
        assert {name: actual[key][name] for name in compared} == compared, key


def test_funnel_summary_equals_the_oracle_without_bot_sessions(spark, backlog):
    paths, ledger, events, _, watermarks = backlog
    emitted = {
        key: row
        for key, row in oracle.sessions(events, GAP, THRESHOLD).items()
        if row["closes_at"] <= watermarks["session_funnel"]
    }
    expected = {
        start: row
        for start, row in oracle.funnel_summary(emitted).items()
        if start + timedelta(minutes=10) <= watermarks["funnel_summary_10m"]
    }
    actual = rows_by(spark, paths.gold_table("funnel_summary_10m"), "window_start")

    assert expected
    assert {start for (start,) in actual} == set(expected)
    for start, row in expected.items():
        for name, value in row.items():
            assert actual[(start,)][name] == pytest.approx(value), (start, name)
    bot_sessions = [row for row in emitted.values() if row["is_bot"]]
    assert bot_sessions and {row["user_id"] for row in bot_sessions} <= ledger.bot_user_ids


def project_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEFAULT_SQL_DIR, tmp_path / "sql"))


def separate_gold(paths, tmp_path: Path):
    """Same silver, but gold tables and checkpoints of the test's own."""
    return resolve_paths(
        {
            "root": paths.root,
            "gold": tmp_path / "gold",
            "checkpoints": tmp_path / "checkpoints",
        },
        environ={},
    )


def test_revenue_in_append_mode_equals_the_oracle_for_closed_windows(spark, backlog, tmp_path):
    paths, _, events, _, _ = backlog
    sql_dir = project_copy(tmp_path)
    model_file = sql_dir / "gold" / "revenue_by_product_5m.sql"
    model_file.write_text(model_file.read_text().replace("'upsert'", "'append'"))
    project = load_project(sql_dir)
    own = separate_gold(paths, tmp_path)
    watermark = run_models(spark, project, own, ["revenue_by_product_5m"])["revenue_by_product_5m"]

    actual = rows_by(spark, own.gold_table("revenue_by_product_5m"), "window_start", "product_id")
    expected = {
        key: row
        for key, row in oracle.revenue_by_product(events).items()
        if key[0] + timedelta(minutes=5) <= watermark
    }
    assert expected and actual.keys() == expected.keys()
    for key, row in expected.items():
        assert {name: actual[key][name] for name in row} == row, key


def test_changed_model_is_refused_until_full_refresh(spark, backlog, tmp_path):
    paths, _, events, _, _ = backlog
    sql_dir = project_copy(tmp_path)
    own = separate_gold(paths, tmp_path)
    run_models(spark, load_project(sql_dir), own, ["bot_anomalies", "revenue_by_product_5m"])

    project_file = sql_dir / "project.yml"
    project_file.write_text(
        project_file.read_text().replace("bot_events_per_minute: 50", "bot_events_per_minute: 200")
    )
    changed = load_project(sql_dir)
    models = [changed.models["bot_anomalies"], changed.models["revenue_by_product_5m"]]
    with pytest.raises(ClickstreamError, match=r"bot_anomalies changed.*--full-refresh"):
        sql_runner.check_fingerprints(own, models)
    sql_runner.check_fingerprints(own, [changed.models["revenue_by_product_5m"]])  # unchanged: fine

    sql_runner.full_refresh(spark, changed, own, ["bot_anomalies"])
    sql_runner.check_fingerprints(own, models)
    actual = rows_by(spark, own.gold_table("bot_anomalies"), "window_start", "user_id")
    assert set(actual) <= set(oracle.bot_anomalies(events, 200))
    assert all(row["event_count"] > 200 for row in actual.values())


def test_full_refresh_takes_downstream_models_along(backlog):
    project = backlog[3]
    assert sql_runner.with_downstream(project, ["session_funnel"]) == [
        "session_funnel",
        "funnel_summary_10m",
    ]


def test_a_new_metric_is_a_new_file(spark, backlog, tmp_path):
    paths, _, events, _, _ = backlog
    sql_dir = project_copy(tmp_path)
    (sql_dir / "gold" / "events_per_type_1h.sql").write_text(
        """-- Events per type per hour.
{{ config(materialized='upsert', watermark={'column': 'event_time', 'delay': '1 minute'},
          unique_key=['window_start', 'event_type'], partition_by=['window_date']) }}
with events as (
    select event_type, event_time from {{ ref('silver_events') }}
)
select
    hour_window.start as window_start,
    event_type,
    event_count,
    to_date(hour_window.start) as window_date
from (
    select window(event_time, '1 hour') as hour_window, event_type, count(*) as event_count
    from events
    group by hour_window, event_type
) as counted
"""
    )
    own = separate_gold(paths, tmp_path)
    run_models(spark, load_project(sql_dir), own, ["events_per_type_1h"])

    actual = rows_by(spark, own.gold_table("events_per_type_1h"), "window_start", "event_type")
    expected: dict = {}
    for event in events:
        key = (oracle.window_start(event.time, timedelta(hours=1)), event.event_type)
        expected[key] = expected.get(key, 0) + 1
    assert {key: row["event_count"] for key, row in actual.items()} == expected


def test_a_failing_full_refresh_is_one_line_and_keeps_the_old_table(spark, backlog, tmp_path):
    paths = backlog[0]
    sql_dir = project_copy(tmp_path)
    own = separate_gold(paths, tmp_path)
    run_models(spark, load_project(sql_dir), own, ["bot_anomalies"])
    before = rows_by(spark, own.gold_table("bot_anomalies"), "window_start", "user_id")
    model_file = sql_dir / "gold" / "bot_anomalies.sql"
    # Valid SQL that fails at run time: ANSI mode refuses to cast an event type to a number.
    model_file.write_text(
        model_file.read_text().replace("count(*)", "count(*) + sum(cast(event_type as int))", 1)
    )

    with pytest.raises(ClickstreamError, match=r"^full refresh of bot_anomalies failed: .*CAST"):
        sql_runner.full_refresh(spark, load_project(sql_dir), own, ["bot_anomalies"])
    after = rows_by(spark, own.gold_table("bot_anomalies"), "window_start", "user_id")
    assert after == before


def test_model_tests_pass_on_the_runner_output(spark, backlog):
    paths, _, _, project, _ = backlog
    results = model_checks.run_model_tests(spark, project, paths, list(project.models))

    assert len(results) == sum(len(model.tests) for model in project.models.values())
    assert [r for r in results if not r.passed] == []


def test_sql_test_command_shows_failing_rows_and_exits_1(spark, backlog, tmp_path):
    paths, _, _, project, _ = backlog
    own = separate_gold(paths, tmp_path)
    run_models(spark, project, own, ["bot_anomalies"])
    table = str(own.gold_table("bot_anomalies"))
    spark.read.format("delta").load(table).limit(1).write.format("delta").mode("append").save(table)

    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("clickstream")),
            "sql", "test", "--select", "bot_anomalies",
            "--data-dir", str(own.root), "--gold-dir", str(own.gold),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip

    assert result.returncode == 1, result.stderr[-2000:]
    assert "FAIL: 1 rows" in result.stdout
    assert "unique_bot_anomalies" in result.stdout and "failing row" in result.stdout


# Reading the Spark-written lakehouse without a JVM: `clickstream inspect tables` and the dashboard.


def test_inspect_tables_reads_the_spark_written_lakehouse(spark, backlog, capsys):
    paths, project_models = backlog[0], backlog[3].models

    def inspect(*flags: str) -> list[dict]:
        assert cli.main(["inspect", "tables", "--data-dir", str(paths.root), "--json", *flags]) == 0
        return json.loads(capsys.readouterr().out)["tables"]

    tables = {table["table"]: table for table in inspect()}
    assert set(tables) == {
        "bronze",
        "silver",
        "quarantine",
        *(f"gold.{m}" for m in project_models),
    }
    # silver has CHECK constraints (a writer feature); the upserted gold table has removed files
    for name in ("silver", "gold.revenue_by_product_5m"):
        table = tables[name]
        detail = spark.sql(f"describe detail delta.`{table['path']}`").first()
        history = spark.sql(f"describe history delta.`{table['path']}`").collect()
        expected = {
            "rows": spark.read.format("delta").load(table["path"]).count(),
            "files": detail["numFiles"],
            "bytes": detail["sizeInBytes"],
            "version": history[0]["version"],
            "partition_columns": list(detail["partitionColumns"]),
        }
        assert {key: table[key] for key in expected} == expected, name
    assert any(
        key.startswith("delta.constraints.")
        for key in spark.sql(f"describe detail delta.`{paths.silver}`").first()["properties"]
    )

    # time travel to silver's first version with rows, as Spark reads it
    history = spark.sql(f"describe history delta.`{paths.silver}`").collect()
    first = min(
        row["version"]
        for row in history
        if int((row["operationMetrics"] or {}).get("numOutputRows", 0)) > 0
    )
    [past] = inspect("silver", "--as-of", str(first))
    by_spark = spark.read.format("delta").option("versionAsOf", first).load(str(paths.silver))
    assert (past["version"], past["rows"]) == (first, by_spark.count())
    assert past["rows"] > 0


def test_dashboard_fixtures_have_the_schemas_spark_writes(backlog):
    from deltalake import DeltaTable

    from tests.dashboard.lakehouse import GOLD_SCHEMAS

    for model, schema in GOLD_SCHEMAS.items():
        written = pa.schema(DeltaTable(backlog[0].gold_table(model)).schema().to_arrow())
        assert [(f.name, f.type) for f in written] == [(f.name, f.type) for f in schema], model


def test_dashboard_reads_the_spark_written_gold_tables(spark, backlog):
    """The dashboard's revenue and orders of the last hour equal Spark's sums over the same rows."""
    from clickstream.dashboard import figures
    from clickstream.dashboard.sources import load_snapshot

    paths = backlog[0]
    snapshot = load_snapshot(paths)
    newest = " union all ".join(
        f"select max({column}) as end from delta.`{paths.gold_table(model)}`"
        for model, column in [
            ("revenue_by_product_5m", "window_end"),
            ("funnel_summary_10m", "window_end"),
            ("bot_anomalies", "window_end"),
            ("session_funnel", "session_end"),
        ]
    )
    ends = [row["end"] for row in spark.sql(newest).collect()]
    until = max(end for end in ends if end is not None)  # naive UTC: the session's time zone
    assert snapshot.until == until.replace(tzinfo=UTC)
    since = until - timedelta(hours=1)
    revenue = spark.read.format("delta").load(str(paths.gold_table("revenue_by_product_5m")))
    recent = revenue.where(revenue.window_start >= since).collect()
    assert recent, "the backlog has purchases in its last hour"
    kpis = figures.headline(snapshot.gold)
    assert round(kpis.revenue, 2) == float(sum(row["total_revenue"] for row in recent))
    assert kpis.orders == sum(row["purchase_count"] for row in recent)
