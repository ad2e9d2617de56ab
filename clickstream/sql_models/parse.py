"""sqlglot parsing of a rendered model: exactly one select, what it reads, what it outputs.

Input: the rendered SQL text of one model (line-aligned with its file) and the file as shown in
errors. Output: ``ParsedModel``: the statement's AST, the tables it reads with the line of their
first reference (from the AST and its scopes: every ``exp.Table`` that is not a CTE), and its output
columns when the final select names all of them. Everything uses sqlglot's ``spark`` dialect.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokens import Token, TokenType

from clickstream.sql_models.model_errors import ModelError

DIALECT = "spark"
_DDL = (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)
_DML = (exp.Insert, exp.Update, exp.Delete, exp.Merge)
# sqlglot's tokenizer reports an unterminated string as "Missing ' from <line>:<offset of start>".
_UNTERMINATED = re.compile(r"^Missing (.+) from \d+:(\d+)$")


@dataclass(frozen=True)
class ParsedModel:
    """One parsed model: its select, the tables it reads and its output columns."""

    statement: exp.Query
    reads: dict[str, int]  # table name -> line of its first reference, in order of appearance
    output_columns: tuple[str, ...] | None  # None when the final select has * or unnamed columns


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """Silence sqlglot's "falling back to parsing as a Command" warnings: we report errors."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _token_error(sql: str, error: TokenError) -> tuple[int, str]:
    """Line and message of a tokenizer error."""
    match = _UNTERMINATED.match(str(error.__cause__ or ""))
    if match:
        line = sql.count("\n", 0, int(match.group(2))) + 1
        return line, f"{match.group(1)} is opened and never closed"
    return sql.count("\n", 0, error.start or 0) + 1, str(error)


def _statement_lines(tokens: list[Token]) -> list[int]:
    """The line where each non-empty statement starts, statements being split at semicolons."""
    lines: list[int] = []
    at_start = True
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            at_start = True
        elif at_start:
            lines.append(token.line)
            at_start = False
    return lines


def _statement_kind(statement: exp.Expression) -> str:
    if isinstance(statement, exp.Command):
        return str(statement.this).lower()
    kind = statement.args.get("kind")
    return f"{statement.key} {kind}".lower() if isinstance(kind, str) else statement.key


def _single_select(sql: str, file: str) -> exp.Query:
    """The one select statement of ``sql``; a ``ModelError`` for anything else."""
    dialect = Dialect.get_or_raise(DIALECT)
    try:
        with _quiet_sqlglot():
            tokens = dialect.tokenize(sql)
            statements = [s for s in dialect.parser().parse(tokens, sql) if s is not None]
    except TokenError as error:
        line, message = _token_error(sql, error)
        raise ModelError(file, line, f"SQL syntax error: {message}") from None
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        where = f" near {first['highlight']!r}" if first.get("highlight") else ""
        message = first.get("description", str(error))
        raise ModelError(
            file, first.get("line") or 1, f"SQL syntax error: {message}{where}"
        ) from None
    lines = _statement_lines(tokens)
    if not statements:
        raise ModelError(file, 1, "no SQL statement: a model is exactly one select")
    if len(statements) > 1:
        raise ModelError(
            file,
            lines[1] if len(lines) > 1 else 1,
            f"{len(statements)} statements: a model is exactly one select (remove the extra ones)",
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        family = (
            "DDL " if isinstance(statement, _DDL) else "DML " if isinstance(statement, _DML) else ""
        )
        raise ModelError(
            file,
            lines[0] if lines else 1,
            f"{family}statement {_statement_kind(statement)!r}: a model is exactly one select",
        )
    return statement


def _table_name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def tables_read(statement: exp.Query) -> dict[str, int]:
    """Every table the statement reads that is not one of its CTEs, with its first line."""
    reads: dict[str, int] = {}
    for scope in traverse_scope(statement):
        for source in scope.sources.values():
            # CTEs and subqueries are Scope objects; table functions (range(10)) have no name.
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                reads.setdefault(_table_name(source), source.this.meta.get("line", 1))
    return dict(sorted(reads.items(), key=lambda item: item[1]))


def output_columns(statement: exp.Query) -> tuple[str, ...] | None:
    """The final select's column names, or None when one is ``*`` or an unnamed expression."""
    while isinstance(statement, exp.SetOperation):
        statement = statement.left
    if not isinstance(statement, exp.Select):
        return None
    names = []
    for projection in statement.selects:
        if projection.is_star or not isinstance(projection, exp.Alias | exp.Column):
            return None
        names.append(projection.alias_or_name)
    return tuple(names)


def parse_model(sql: str, file: str) -> ParsedModel:
    """Parse a rendered model; ``ModelError`` unless it is exactly one valid select."""
    statement = _single_select(sql, file)
    try:
        reads = tables_read(statement)
    except OptimizeError as error:  # e.g. a CTE name used twice
        raise ModelError(file, 1, f"cannot resolve what the select reads: {error}") from None
    return ParsedModel(statement, reads, output_columns(statement))


def parse_condition(expression: str) -> exp.Expression:
    """A boolean SQL expression (from a YAML test); ``ValueError`` when it does not parse."""
    try:
        with _quiet_sqlglot():
            return sqlglot.parse_one(expression, read=DIALECT)
    except (ParseError, TokenError) as error:
        raise ValueError(f"cannot parse {expression!r}: {error}".splitlines()[0]) from None
