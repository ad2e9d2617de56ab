"""YAML tests become SQL queries returning the failing rows, named and checked."""

from __future__ import annotations

import pytest
import sqlglot

from clickstream.sql_models import ModelError
from clickstream.sql_models.data_tests import DeclaredTest, build_tests

COLUMNS = ("window_start", "product_id", "total_revenue", "category")


def build(*entries: DeclaredTest, unique_key=("window_start", "product_id")):
    return build_tests(
        entries, model="revenue", file="m.yml", output_columns=COLUMNS, unique_key=unique_key
    )


def test_not_null():
    [test] = build(DeclaredTest("not_null", 3, "product_id"))
    assert (test.name, test.model, test.kind, test.column) == (
        "not_null_revenue_product_id",
        "revenue",
        "not_null",
        "product_id",
    )
    assert test.sql == "SELECT * FROM revenue WHERE product_id IS NULL"


def test_unique_defaults_to_the_unique_key_and_returns_duplicates_with_their_count():
    [test] = build(DeclaredTest("unique", 3, None))
    assert test.params == {"columns": ["window_start", "product_id"]}
    assert test.name == "unique_revenue_window_start__product_id"
    assert test.sql == (
        "SELECT window_start, product_id, COUNT(*) AS n_records FROM revenue "
        "GROUP BY window_start, product_id HAVING COUNT(*) > 1"
    )


def test_unique_under_a_column_is_over_that_column():
    [test] = build(DeclaredTest("unique", 3, "category"))
    assert test.params == {"columns": ["category"]}


def test_accepted_values_ignores_nulls():
    [test] = build(DeclaredTest({"accepted_values": {"values": ["books", "toys"]}}, 3, "category"))
    assert test.sql == (
        "SELECT * FROM revenue WHERE NOT category IS NULL AND NOT category IN ('books', 'toys')"
    )


def test_expression_is_true_returns_rows_where_it_is_false():
    [test] = build(
        DeclaredTest({"expression_is_true": {"expression": "total_revenue >= 0"}}, 3, None)
    )
    assert test.name == "expression_is_true_revenue_total_revenue_0"
    assert test.sql == "SELECT * FROM revenue WHERE NOT (total_revenue >= 0)"


def test_every_query_is_one_spark_select():
    tests = build(
        DeclaredTest("not_null", 1, "product_id"),
        DeclaredTest("unique", 2, None),
        DeclaredTest({"accepted_values": {"values": [1, True, "x"]}}, 3, "category"),
        DeclaredTest({"expression_is_true": {"expression": "total_revenue >= 0"}}, 4, None),
    )
    for test in tests:
        [statement] = sqlglot.parse(test.sql, read="spark")
        assert isinstance(statement, sqlglot.exp.Select)


def test_names_are_made_unique():
    tests = build(
        DeclaredTest("not_null", 1, "product_id"), DeclaredTest("not_null", 2, "product_id")
    )
    assert [test.name for test in tests] == [
        "not_null_revenue_product_id",
        "not_null_revenue_product_id_2",
    ]


def test_unique_without_columns_or_unique_key_is_an_error():
    with pytest.raises(ModelError, match=r"^m.yml:7: unique needs columns"):
        build(DeclaredTest("unique", 7, None), unique_key=())


def test_columns_are_not_checked_when_the_model_output_is_unknown():
    [test] = build_tests(
        [DeclaredTest("not_null", 1, "anything")],
        model="m",
        file="m.yml",
        output_columns=None,
        unique_key=(),
    )
    assert test.column == "anything"


def test_identifiers_are_quoted_when_needed():
    tests = build_tests(
        [
            DeclaredTest("not_null", 1, "end"),
            DeclaredTest({"unique": {"columns": ["end"]}}, 2, None),
        ],
        model="my-model",
        file="m.yml",
        output_columns=("end",),
        unique_key=(),
    )
    assert [test.sql for test in tests] == [
        "SELECT * FROM `my-model` WHERE `end` IS NULL",
        "SELECT `end`, COUNT(*) AS n_records FROM `my-model` GROUP BY `end` HAVING COUNT(*) > 1",
    ]
