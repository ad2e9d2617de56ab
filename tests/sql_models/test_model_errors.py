"""A broken model, YAML or project.yml fails loading with one line: ``<file>:<line>: <message>``."""

from __future__ import annotations

import re

import pytest

from clickstream.core.errors import ClickstreamError
from clickstream.sql_models import ModelError, load_project

CONFIG = (
    "{{ config(materialized='append', watermark={'column': 'event_time', 'delay': '1 minute'}) }}"
)
FUNNEL_SUMMARY = "gold/funnel_summary_10m.sql"


def load_error(project_dir, files: dict[str, str]) -> str:
    for path, text in files.items():
        (project_dir / path).write_text(text)
    with pytest.raises(ModelError) as raised:
        load_project(project_dir)
    message = str(raised.value)
    assert "\n" not in message
    return message


def model(*lines: str) -> str:
    return "\n".join(lines) + "\n"


CASES = {
    "cycle": (
        {
            "gold/a.sql": model(CONFIG, "select event_time", "from {{ ref('b') }}"),
            "gold/b.sql": model(CONFIG, "select event_time from {{ ref('a') }}"),
        },
        "sql/gold/a.sql:3: dependency cycle: a -> b -> a",
    ),
    "self reference": (
        {"gold/a.sql": model(CONFIG, "select event_time from {{ ref('a') }}")},
        "sql/gold/a.sql:2: dependency cycle: a -> a",
    ),
    "unknown ref": (
        {"gold/a.sql": model("-- a", CONFIG, "select event_time", "from {{ ref('nope') }}")},
        "sql/gold/a.sql:4: unknown ref 'nope': neither a model nor a source",
    ),
    "table read without ref": (
        {"gold/a.sql": model(CONFIG, "select event_time", "from silver_events")},
        "sql/gold/a.sql:3: 'silver_events' is read without ref()",
    ),
    "unknown table": (
        {"gold/a.sql": model(CONFIG, "select event_time", "from somewhere")},
        "sql/gold/a.sql:3: unknown table 'somewhere'",
    ),
    "DDL": (
        {"gold/a.sql": model("-- a", CONFIG, "drop table x")},
        "sql/gold/a.sql:3: DDL statement 'drop table': a model is exactly one select",
    ),
    "DML": (
        {"gold/a.sql": model(CONFIG, "", "insert into t select * from {{ ref('silver_events') }}")},
        "sql/gold/a.sql:3: DML statement 'insert': a model is exactly one select",
    ),
    "two statements": (
        {
            "gold/a.sql": model(
                CONFIG, "select event_time from {{ ref('silver_events') }};", "", "select 1;"
            )
        },
        "sql/gold/a.sql:4: 2 statements: a model is exactly one select",
    ),
    "no statement": (
        {"gold/a.sql": model(CONFIG, "-- nothing yet")},
        "sql/gold/a.sql:1: no SQL statement",
    ),
    "unknown materialization": (
        {
            "gold/a.sql": model(
                CONFIG.replace("'append'", "'table'"),
                "select 1 as x from {{ ref('silver_events') }}",
            )
        },
        "sql/gold/a.sql:1: config materialized='table': expected one of append, upsert",
    ),
    "missing materialization": (
        {"gold/a.sql": model("", CONFIG.replace("materialized='append', ", ""), "select 1 as x")},
        "sql/gold/a.sql:2: config materialized is missing",
    ),
    "unknown config key": (
        {"gold/a.sql": model(CONFIG.replace(") }}", ", tags=['x']) }}"), "select 1 as x")},
        "sql/gold/a.sql:1: unknown config key 'tags'",
    ),
    "upsert without unique_key": (
        {"gold/a.sql": model(CONFIG.replace("'append'", "'upsert'"), "select 1 as x")},
        "sql/gold/a.sql:1: materialized='upsert' needs unique_key",
    ),
    "missing watermark": (
        {"gold/a.sql": model("{{ config(materialized='append') }}", "select 1 as x")},
        "sql/gold/a.sql:1: config watermark is missing",
    ),
    "bad watermark delay": (
        {"gold/a.sql": model(CONFIG.replace("1 minute", "soon"), "select 1 as x")},
        "sql/gold/a.sql:1: config watermark delay must be like '10 minutes'",
    ),
    "no config": (
        {"gold/a.sql": model("select 1 as x")},
        "sql/gold/a.sql:1: no {{ config(...) }}",
    ),
    "config twice": (
        {"gold/a.sql": model(CONFIG, CONFIG, "select 1 as x")},
        "sql/gold/a.sql:2: config() is called twice",
    ),
    "unique_key not an output column": (
        {
            "gold/a.sql": model(
                CONFIG.replace(") }}", ", unique_key=['y']) }}"),
                "select event_time as x from {{ ref('silver_events') }}",
            )
        },
        "sql/gold/a.sql:1: config unique_key column 'y' is not an output column of the model (x)",
    ),
    "partition_by not an output column": (
        {
            "gold/a.sql": model(
                CONFIG.replace(") }}", ", partition_by=['day']) }}"), "select 1 as x, 2 as y"
            )
        },
        "sql/gold/a.sql:1: config partition_by column 'day' is not an output column",
    ),
    "watermark column not in the upstream model": (
        {
            FUNNEL_SUMMARY: model(
                "{{ config(materialized='append', watermark={'column': 'event_time', 'delay': '1 minute'}) }}",
                "select session_end from {{ ref('session_funnel') }}",
            )
        },
        "sql/gold/funnel_summary_10m.sql:1: config watermark column 'event_time' is not a column of session_funnel",
    ),
    "unknown var": (
        {
            "gold/a.sql": model(
                CONFIG,
                "select event_time from {{ ref('silver_events') }}",
                "where quantity > {{ var('nope') }}",
            )
        },
        "sql/gold/a.sql:3: unknown var 'nope'",
    ),
    "undefined Jinja name": (
        {"gold/a.sql": model(CONFIG, "", "select {{ nope }} as x")},
        "sql/gold/a.sql:3: Jinja error: 'nope' is undefined",
    ),
    "Jinja syntax error": (
        {"gold/a.sql": model(CONFIG, "select 1 as x", "from {{ ref('silver_events' }}")},
        "sql/gold/a.sql:3: Jinja syntax error:",
    ),
    "SQL syntax error": (
        {
            "gold/a.sql": model(
                CONFIG,
                "select event_time",
                "from {{ ref('silver_events') }}",
                "where (quantity > 1",
            )
        },
        "sql/gold/a.sql:4: SQL syntax error: Expecting )",
    ),
    "unterminated string": (
        {"gold/a.sql": model(CONFIG, "select 'abc as x", "from {{ ref('silver_events') }}")},
        "sql/gold/a.sql:2: SQL syntax error: ' is opened and never closed",
    ),
    "unknown test kind": (
        {
            "gold/bot_anomalies.yml": model(
                "columns:", "  - name: user_id", "    tests: [not_null, is_positive]"
            )
        },
        "sql/gold/bot_anomalies.yml:3: unknown test kind 'is_positive'",
    ),
    "documented column not in the model": (
        {"gold/bot_anomalies.yml": model("columns:", "  - name: user_id", "  - name: nope")},
        "sql/gold/bot_anomalies.yml:3: column 'nope' is not in the model",
    ),
    "tested column not in the model": (
        {"gold/bot_anomalies.yml": model("tests:", "  - not_null: {column: nope}")},
        "sql/gold/bot_anomalies.yml:2: not_null: column 'nope' is not in the model",
    ),
    "expression on a column not in the model": (
        {
            "gold/bot_anomalies.yml": model(
                "tests:", "  - unique", "  - expression_is_true: {expression: 'nope > 1'}"
            )
        },
        "sql/gold/bot_anomalies.yml:3: expression_is_true: column 'nope' is not in the model",
    ),
    "unparsable expression": (
        {"gold/bot_anomalies.yml": model("tests:", "  - expression_is_true: {expression: 'a >'}")},
        "sql/gold/bot_anomalies.yml:2: expression_is_true: cannot parse 'a >'",
    ),
    "test parameter missing": (
        {
            "gold/bot_anomalies.yml": model(
                "columns:", "  - name: user_id", "    tests: [accepted_values]"
            )
        },
        "sql/gold/bot_anomalies.yml:3: accepted_values needs values:",
    ),
    "unknown test parameter": (
        {"gold/bot_anomalies.yml": model("tests:", "  - unique: {colums: [user_id]}")},
        "sql/gold/bot_anomalies.yml:2: unique takes no parameter 'colums'",
    ),
    "unknown YAML key": (
        {"gold/bot_anomalies.yml": model("description: x", "colums: []")},
        "sql/gold/bot_anomalies.yml:2: unknown key 'colums' in a model's YAML",
    ),
    "YAML syntax error": (
        {"gold/bot_anomalies.yml": model("description: x", "tests: [unclosed")},
        "sql/gold/bot_anomalies.yml:3: YAML error:",
    ),
    "YAML without a model": (
        {"gold/orphan.yml": model("description: x")},
        "sql/gold/orphan.yml:1: no model orphan.sql beside this file",
    ),
    "source to an unknown lakehouse path": (
        {"project.yml": model("sources:", "  silver_events: silverr")},
        "sql/project.yml:2: source 'silver_events' -> 'silverr': not a lakehouse path",
    ),
    "unknown project key": (
        {"project.yml": model("sources: {silver_events: silver}", "variables: {}")},
        "sql/project.yml:2: unknown key 'variables' in project.yml",
    ),
    "model named like a source": (
        {"gold/silver_events.sql": model(CONFIG, "select 1 as x")},
        "sql/gold/silver_events.sql:1: model 'silver_events' has the name of a source",
    ),
}


@pytest.mark.parametrize(("files", "expected"), CASES.values(), ids=CASES.keys())
def test_error_names_file_line_and_problem(project_dir, files, expected):
    assert load_error(project_dir, files).startswith(expected)


def test_line_numbers_count_the_lines_of_a_multi_line_config(project_dir):
    path = project_dir / "gold" / "session_funnel.sql"
    lines = path.read_text().splitlines()
    broken = next(number for number, line in enumerate(lines) if "count(*) as event_count" in line)
    lines[broken] = "        count(*) as event_count oops nope,"
    message = load_error(project_dir, {"gold/session_funnel.sql": "\n".join(lines)})
    assert message.startswith(f"sql/gold/session_funnel.sql:{broken + 1}: SQL syntax error")


def test_multi_line_jinja_comments_keep_lines_too(project_dir):
    text = model(
        "{# a comment", "   over three", "   lines #}", CONFIG, "select {{ var('nope') }} as x"
    )
    assert load_error(project_dir, {"gold/a.sql": text}).startswith("sql/gold/a.sql:5: unknown var")


def test_a_missing_project_is_a_one_line_error(tmp_path):
    with pytest.raises(ClickstreamError, match=re.escape(f"no SQL project at {tmp_path}")):
        load_project(tmp_path)


def test_an_unknown_selected_model_is_an_error():
    with pytest.raises(ClickstreamError, match="unknown model 'nope'"):
        load_project().order(["nope"])
