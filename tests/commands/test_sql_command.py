"""``clickstream sql list|compile|validate|lineage``: fast, no JVM, one-line errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from clickstream.cli import main

CLICKSTREAM = Path(sys.executable).with_name("clickstream")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["sql", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_every_model_with_its_config(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for row in (
        (
            "bot_anomalies",
            "append",
            "event_time - 2 minutes",
            "window_start, user_id",
            "silver_events",
        ),
        ("revenue_by_product_5m", "upsert", "event_time - 10 minutes", "window_start, product_id"),
        (
            "funnel_summary_10m",
            "append",
            "session_end - 10 minutes",
            "window_start",
            "session_funnel",
        ),
    ):
        [line] = [line for line in out.splitlines() if f" {row[0]} " in line]
        assert all(cell in line for cell in row)
    assert out.index("session_funnel ") < out.index("funnel_summary_10m")


def test_compile_prints_the_sql_with_a_header_in_dependency_order(capsys):
    code, out, _ = run(capsys, "compile", "funnel_summary_10m", "session_funnel")
    assert code == 0
    assert out.startswith("-- model: session_funnel\n")
    assert out.index("-- model: session_funnel") < out.index("-- model: funnel_summary_10m")
    assert "from session_funnel" in out and "{{" not in out


def test_compile_takes_vars_and_prints_tests(capsys):
    code, out, _ = run(
        capsys, "compile", "bot_anomalies", "--vars", '{"bot_events_per_minute": 99}', "--tests"
    )
    assert code == 0
    assert "having count(*) > 99" in out
    assert "-- test: unique_bot_anomalies_window_start__user_id" in out


def test_compile_of_an_unknown_model_is_a_one_line_error(capsys):
    code, out, err = run(capsys, "compile", "nope")
    assert (code, out) == (3, "")
    assert err.startswith("error: unknown model 'nope'") and err.count("\n") == 1


def test_bad_vars_are_a_one_line_error(capsys):
    code, _, err = run(capsys, "validate", "--vars", "[1, 2]")
    assert code == 3 and err.startswith("error: --vars must be a mapping")


def test_validate_ok(capsys):
    assert run(capsys, "validate") == (0, "4 models OK\n", "")


def test_validate_a_broken_project_exits_3_with_one_line(capsys, project_dir):
    path = project_dir / "gold" / "session_funnel.sql"
    path.write_text(path.read_text().replace("{{ ref('silver_events') }}", "{{ ref('silver') }}"))
    code, out, err = run(capsys, "validate", "--project-dir", str(project_dir))
    assert (code, out) == (3, "")
    assert err.startswith("error: sql/gold/session_funnel.sql:")
    assert "unknown ref 'silver'" in err
    assert err.count("\n") == 1


def test_validate_reads_the_project_dir_from_the_environment(capsys, project_dir, monkeypatch):
    (project_dir / "gold" / "bot_anomalies.sql").write_text("drop table silver_events\n")
    monkeypatch.setenv("CLICKSTREAM_SQL_DIR", str(project_dir))
    code, _, err = run(capsys, "validate")
    assert code == 3 and "sql/gold/bot_anomalies.sql:1: DDL statement 'drop table'" in err


def test_lineage_is_a_tree_from_the_source(capsys, tmp_path):
    code, out, _ = run(capsys, "lineage", "--data-dir", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    [source] = [line for line in lines if "silver_events" in line]
    assert f"source: silver ({tmp_path / 'silver' / 'events'})" in source
    depth = {
        name: next(line.index(name) for line in lines if f"{name} " in line)
        for name in ("silver_events", "bot_anomalies", "session_funnel", "funnel_summary_10m")
    }
    assert depth["silver_events"] < depth["bot_anomalies"] == depth["session_funnel"]
    assert depth["session_funnel"] < depth["funnel_summary_10m"]


def test_lineage_of_one_model_shows_only_its_line(capsys):
    code, out, _ = run(capsys, "lineage", "funnel_summary_10m")
    assert code == 0
    assert "session_funnel" in out and "silver_events" in out
    assert "bot_anomalies" not in out and "revenue_by_product_5m" not in out


@pytest.mark.skipif(not CLICKSTREAM.exists(), reason="console script not installed")
def test_sql_list_is_fast_and_starts_no_jvm():
    started = time.perf_counter()
    result = subprocess.run(
        [str(CLICKSTREAM), "sql", "list"], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    assert "bot_anomalies" in result.stdout
    assert elapsed < 2, f"clickstream sql list took {elapsed:.2f} s"


def test_sql_commands_do_not_import_pyspark():
    code = (
        "import sys\n"
        "from clickstream.cli import main\n"
        "for command in (['list'], ['validate'], ['compile'], ['lineage']):\n"
        "    assert main(['sql', *command]) == 0\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'pyspark', 'py4j'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
