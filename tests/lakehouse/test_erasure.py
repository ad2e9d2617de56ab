"""``clickstream forget`` end to end: after a pipeline run, one user is erased from raw files (landed
and archived), bronze, quarantine, silver and gold; VACUUM takes the old files (time travel to the
version before fails); the erasure is recorded without the id; the tables still reconcile with the
ledger, and the pipeline carries on over the DELETE commits."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from clickstream import cli
from clickstream.generator.ledger import load_ledger
from clickstream.lakehouse.delta_log import delta_tables
from clickstream.lakehouse.maintenance import archive_raw_files
from clickstream.pipeline.reconcile import reconcile, summarize
from tests.support.backlog import generate_backlog, recent_hour

CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))


def clickstream(lake, *args: str) -> subprocess.CompletedProcess:
    command = [CLICKSTREAM, *args, "--data-dir", str(lake.root)]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args} failed:\n{result.stderr[-3000:]}"
    return result


def users_rows(spark, path: Path, user: str):
    """The user's rows of one table, found without the product's matcher: the ``user_id`` column,
    or in a raw line its JSON field or its text."""
    table = spark.read.format("delta").load(str(path))
    if "raw_line" in table.columns:
        return table.where(
            (F.get_json_object("raw_line", "$.user_id") == user)
            | F.regexp_replace("raw_line", r"\s", "").contains(f'"user_id":"{user}"')
        )
    return table.where(F.col("user_id") == user) if "user_id" in table.columns else None


def all_hold(spark, lake) -> list[str]:
    checks = reconcile(summarize(spark, lake), load_ledger(lake.raw))
    return [str(check) for check in checks if not check.holds]


def test_a_user_is_erased_everywhere_and_the_pipeline_carries_on(spark, lake):
    generate_backlog(lake, recent_hour(3), minutes=6, seed=47, rate=20)
    generate_backlog(lake, recent_hour(2), minutes=1, seed=48, rate=20)  # closes the sessions
    clickstream(lake, "pipeline", "run", "--trigger", "available-now")
    assert archive_raw_files(lake) > 0
    generate_backlog(lake, recent_hour(1), minutes=1, seed=49, rate=20)  # landed, not read yet
    assert list(lake.raw.glob("*.json")) and list(lake.archive.rglob("*.json"))

    # The user with the most events among those with a quarantined line and a session in gold.
    quarantined = {
        row.user
        for row in spark.read.format("delta").load(str(lake.quarantine))
        .select(F.get_json_object("raw_line", "$.user_id").alias("user")).collect()
        if row.user
    }  # fmt: skip
    silver = spark.read.format("delta").load(str(lake.silver))
    ranked = [
        row.user_id for row in silver.groupBy("user_id").count().orderBy(F.desc("count")).collect()
    ]
    sessions = spark.read.format("delta").load(str(lake.gold_table("session_funnel")))
    in_gold = {row.user_id for row in sessions.select("user_id").distinct().collect()}
    user = next(name for name in ranked if name in quarantined and name in in_gold)
    tables = delta_tables(lake)
    before = {name: users_rows(spark, path, user) for name, path in tables.items()}
    counts = {name: rows.count() for name, rows in before.items() if rows is not None}
    assert counts["bronze"] > counts["silver"] > 0 and counts["quarantine"] > 0
    assert counts["gold.session_funnel"] > 0
    silver_version = spark.sql(f"DESCRIBE HISTORY delta.`{lake.silver}` LIMIT 1").first().version

    refused = subprocess.run(
        [CLICKSTREAM, "forget", "--user", user, "--retain-hours", "0", "--data-dir", str(lake.root)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and "add --yes to confirm" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    result = clickstream(lake, "forget", "--user", user, "--retain-hours", "0", "--yes")

    for name, count in counts.items():
        assert f"{name}: {count:,} rows deleted" in result.stdout, result.stdout
        assert users_rows(spark, tables[name], user).count() == 0, name
    for path in [*lake.raw.glob("*.json"), *lake.archive.rglob("*.json")]:
        text = path.read_bytes().decode("utf-8", "replace").replace(" ", "")
        assert f'"user_id":"{user}"' not in text, path
    old_silver = spark.read.format("delta").option("versionAsOf", silver_version)
    with pytest.raises(Exception, match=r"(?i)not (exist|found)|FileNotFound"):
        old_silver.load(str(lake.silver)).where(F.col("user_id") == user).collect()

    [record] = (lake.root / "erasures.jsonl").read_text().splitlines()
    assert user not in record
    record = json.loads(record)
    assert record["user_sha256"] == hashlib.sha256(user.encode()).hexdigest()
    assert {table["name"]: table["rows_deleted"] for table in record["tables"]} == counts
    assert record["vacuum_retain_hours"] == 0

    # The landed files (the user's lines gone from them too) go through every layer; the streams
    # skip the DELETE commits. Every identity then holds against the adjusted ledger.
    clickstream(lake, "pipeline", "run", "--trigger", "available-now")
    assert all_hold(spark, lake) == []
    for name, path in delta_tables(lake).items():
        rows = users_rows(spark, path, user)
        assert rows is None or rows.count() == 0, name


def test_a_bad_user_argument_is_one_line(capsys, tmp_path):
    code = cli.main(["forget", "--user", " ", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "--user must not be empty" in err and len(err.splitlines()) == 1
