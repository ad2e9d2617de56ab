"""Data tests of a model, from its YAML, as SQL queries that return the failing rows.

Input: the ``tests:`` entries of a model's YAML (model-level, or under one of its ``columns:``), the
model's output columns when known and its config's ``unique_key``. Output: one ``ModelTest`` per
entry whose ``sql`` selects from the model's table (an identifier named after the model) the rows
that break the test: none means it passes. Kinds (as in dbt):

- ``not_null``: rows where the column is null;
- ``unique`` (``columns:``, default the column, or the model's ``unique_key``): each duplicated key
  with ``n_records``, its number of rows;
- ``accepted_values`` (``values:``): rows whose non-null column is not one of the values;
- ``expression_is_true`` (``expression:``): rows where the expression is false.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from clickstream.sql_models.model_errors import ModelError
from clickstream.sql_models.parse import DIALECT, parse_condition
from clickstream.sql_models.render import quote_identifier
from clickstream.sql_models.yamlfile import line_of, plain

# kind -> parameters it takes (at model level; under a column, "column" is implied).
KINDS: dict[str, tuple[str, ...]] = {
    "not_null": ("column",),
    "unique": ("columns",),
    "accepted_values": ("column", "values"),
    "expression_is_true": ("expression",),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "not_null": ("column",),
    "accepted_values": ("column", "values"),
    "expression_is_true": ("expression",),
}


@dataclass(frozen=True)
class ModelTest:
    """One data test: a query over the model's table that returns the failing rows."""

    name: str
    model: str
    kind: str
    column: str | None
    params: dict[str, Any] = field(hash=False)
    sql: str


@dataclass(frozen=True)
class DeclaredTest:
    """One ``tests:`` item as written in YAML, with where it was written."""

    value: Any  # "not_null" or {"accepted_values": {"values": [...]}}
    line: int
    column: str | None  # the column it sits under; None for model-level tests


def _kind_and_params(entry: DeclaredTest, fail) -> tuple[str, dict[str, Any]]:
    value = entry.value
    if isinstance(value, str):
        kind, params = value, {}
    elif isinstance(value, dict) and len(value) == 1:
        kind, params = next(iter(value.items()))
        params = {} if params is None else params
    else:
        fail(f"a test is a kind or {{kind: {{params}}}}, got {plain(value)!r}")
    if kind not in KINDS:
        fail(f"unknown test kind {kind!r} (expected: {', '.join(KINDS)})")
    if not isinstance(params, dict):
        fail(f"{kind} parameters must be a mapping, got {plain(params)!r}")
    allowed = [name for name in KINDS[kind] if not (entry.column and name == "column")]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        fail(f"{kind} takes no parameter {unknown[0]!r} (expected: {', '.join(allowed) or 'none'})")
    params = plain(params)
    if entry.column:
        params["column"] = entry.column
        if kind == "unique":
            params.setdefault("columns", [entry.column])
            del params["column"]
    missing = [name for name in REQUIRED.get(kind, ()) if name not in params]
    if missing:
        fail(f"{kind} needs {missing[0]}:")
    return kind, params


def _check_columns(columns: Sequence[str], output_columns: Sequence[str] | None, kind: str, fail):
    if output_columns is None:
        return
    known = {name.lower() for name in output_columns}
    for column in columns:
        if not isinstance(column, str) or column.lower() not in known:
            fail(f"{kind}: column {column!r} is not in the model ({', '.join(output_columns)})")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:48]


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=quote_identifier(name) != name))


def _sql(kind: str, table: exp.Table, params: dict[str, Any], condition: exp.Expression | None):
    """The failing-rows query of one test."""
    if kind == "unique":
        keys = [_column(name) for name in params["columns"]]
        count = exp.Count(this=exp.Star())
        query = (
            exp.select(*keys, exp.alias_(count, "n_records"))
            .from_(table)
            .group_by(*keys)
            .having(count.copy() > 1)
        )
        return query.sql(dialect=DIALECT)
    column = _column(params["column"]) if "column" in params else None
    if kind == "not_null":
        failing = column.is_(exp.null())
    elif kind == "accepted_values":
        values = [exp.convert(value) for value in params["values"]]
        failing = exp.and_(exp.not_(column.is_(exp.null())), exp.not_(column.isin(*values)))
    else:  # expression_is_true
        failing = exp.not_(exp.paren(condition))
    return exp.select("*").from_(table).where(failing).sql(dialect=DIALECT)


def build_test(
    entry: DeclaredTest,
    *,
    model: str,
    file: str,
    output_columns: Sequence[str] | None,
    unique_key: Sequence[str],
) -> ModelTest:
    """Check one YAML test entry and build its ``ModelTest`` (named later, see ``build_tests``)."""

    def fail(message: str):
        raise ModelError(file, entry.line, message)

    kind, params = _kind_and_params(entry, fail)
    condition = None
    if kind == "unique":
        params.setdefault("columns", list(unique_key))
        columns = params["columns"]
        if isinstance(columns, str):
            columns = params["columns"] = [columns]
        if not isinstance(columns, list) or not columns:
            fail("unique needs columns: [...] (or a unique_key in the model's config)")
        _check_columns(columns, output_columns, kind, fail)
    elif kind == "expression_is_true":
        if not isinstance(params["expression"], str):
            fail(f"expression_is_true expression must be text, got {params['expression']!r}")
        try:
            condition = parse_condition(params["expression"])
        except ValueError as error:
            fail(f"expression_is_true: {error}")
        referenced = sorted({column.name for column in condition.find_all(exp.Column)})
        _check_columns(referenced, output_columns, kind, fail)
    if "column" in params:
        _check_columns([params["column"]], output_columns, kind, fail)
    if kind == "accepted_values" and (
        not isinstance(params["values"], list) or not params["values"]
    ):
        fail("accepted_values needs values: [a list of values]")
    table = exp.to_table(quote_identifier(model), dialect=DIALECT)
    sql = _sql(kind, table, params, condition)
    suffix = params.get("column") or "__".join(params.get("columns", ()))
    if kind == "expression_is_true":
        suffix = _slug(params["expression"])
    return ModelTest(f"{kind}_{model}_{suffix}", model, kind, entry.column, params, sql)


def build_tests(
    entries: Sequence[DeclaredTest],
    *,
    model: str,
    file: str,
    output_columns: Sequence[str] | None,
    unique_key: Sequence[str],
) -> tuple[ModelTest, ...]:
    """Every test of a model, each named ``<kind>_<model>_<column or slug>``, made unique."""
    tests: list[ModelTest] = []
    names: set[str] = set()
    for entry in entries:
        test = build_test(
            entry, model=model, file=file, output_columns=output_columns, unique_key=unique_key
        )
        name, number = test.name, 1
        while name in names:
            number += 1
            name = f"{test.name}_{number}"
        names.add(name)
        tests.append(ModelTest(name, test.model, test.kind, test.column, test.params, test.sql))
    return tuple(tests)


def declared_tests(items: Any, column: str | None, file: str) -> list[DeclaredTest]:
    """The ``tests:`` list of a model or of one of its columns, each item with its line."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ModelError(file, line_of(items), f"tests must be a list, got {plain(items)!r}")
    lines = getattr(items, "item_lines", ()) or (line_of(items),) * len(items)
    return [DeclaredTest(item, line, column) for item, line in zip(items, lines, strict=True)]
