"""sqlglot parsing: one select only, dependencies from the AST, output columns."""

from __future__ import annotations

import pytest

from clickstream.sql_models import ModelError
from clickstream.sql_models.parse import parse_model


def parse(sql: str):
    return parse_model(sql, "m.sql")


def test_dependencies_skip_ctes_and_include_subqueries_joins_and_unions():
    parsed = parse(
        """
        with events as (select user_id from silver_events as s),
        buyers as (select user_id from events where user_id in (select user_id from purchases))
        select b.user_id from buyers as b join users on users.id = b.user_id
        union all
        select user_id from `odd-name`
        """
    )
    assert set(parsed.reads) == {"silver_events", "purchases", "users", "odd-name"}
    assert parsed.reads["silver_events"] == 2


def test_a_cte_named_like_a_table_is_not_a_dependency():
    assert set(parse("with t as (select 1 as x) select x from t").reads) == set()


def test_table_functions_are_not_dependencies():
    assert parse("select id from range(10)").reads == {}


def test_comments_mentioning_tables_are_not_dependencies():
    assert set(parse("-- from old_table\nselect x from new_table").reads) == {"new_table"}


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        ("select a, b.c, d as e, window.start as s from t", ("a", "c", "e", "s")),
        ("select a from t union all select b from u", ("a",)),
        ("select * from t", None),
        ("select a, count(*) from t group by a", None),
        ("with x as (select 1 as a) select a from x", ("a",)),
    ],
)
def test_output_columns(sql, columns):
    assert parse(sql).output_columns == columns


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("drop table x", "m.sql:1: DDL statement 'drop table'"),
        ("\ncreate table t as select 1", "m.sql:2: DDL statement 'create table'"),
        ("insert into t select 1", "m.sql:1: DML statement 'insert'"),
        ("delete from t", "m.sql:1: DML statement 'delete'"),
        (
            "merge into t using s on t.a = s.a when matched then delete",
            "m.sql:1: DML statement 'merge'",
        ),
        ("set x = 1", "m.sql:1: statement 'set'"),
        ("select 1;\nselect 2;\nselect 3", "m.sql:2: 3 statements"),
        ("-- nothing", "m.sql:1: no SQL statement"),
        ("select (a from t", "m.sql:1: SQL syntax error: Expecting )"),
    ],
)
def test_anything_but_one_select_is_an_error(sql, message):
    with pytest.raises(ModelError) as raised:
        parse(sql)
    assert str(raised.value).startswith(message)


def test_a_trailing_semicolon_is_fine():
    assert set(parse("select x from t;\n").reads) == {"t"}
