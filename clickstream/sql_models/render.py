"""Jinja rendering of a model: ``config()``, ``ref()`` and ``var()``.

Input: a model file's text, the file as shown in errors, the names ``ref()`` accepts and the vars.
Output: ``RenderedModel``: the SQL text twice, once kept line for line aligned with the file so that
later errors (sqlglot's) point at the right line, once compact (what Spark runs: a ``{# #}`` or
``{% %}`` line leaves nothing behind), and what ``config()`` and ``ref()`` recorded.

``{{ config(...) }}`` renders to nothing; ``{{ ref('x') }}`` renders to the identifier ``x``,
backtick-quoted only when Spark needs it; ``{{ var('name') }}`` / ``{{ var('name', default) }}``
render a var. Undefined names fail (``StrictUndefined``). Every failure is a ``ModelError`` with the
template line.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from clickstream.sql_models.model_errors import ModelError

_NO_DEFAULT = object()


@dataclass(frozen=True)
class RenderedModel:
    """A rendered model file: SQL text aligned with the file, config() arguments, ref() calls."""

    text: str  # line N is line N of the file
    compiled: str  # the same SQL without the lines Jinja comments and blocks leave
    config: dict[str, Any] | None  # keyword arguments of config(); None when it is not called
    config_line: int
    refs: dict[str, int]  # name -> line of its first ref()


@cache
def _environment(compact: bool = False) -> jinja2.Environment:
    """Jinja for models; ``compact`` strips the whole line of a ``{# #}`` or ``{% %}`` tag."""
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=compact,
        lstrip_blocks=compact,
    )


def quote_identifier(name: str) -> str:
    """``name`` as a Spark SQL identifier: bare when it reads as one plain name, else in backticks."""
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Dialect.get_or_raise("spark").tokenize(name)
    except TokenError:
        tokens = []
    plain = len(tokens) == 1 and tokens[0].token_type == TokenType.VAR and tokens[0].text == name
    return name if plain else exp.to_identifier(name, quoted=True).sql(dialect="spark")


def _template_line(template: jinja2.Template) -> int:
    """The line of ``template`` being rendered, read from its frame on the call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__jinja_template__") is template:
            return template.get_corresponding_lineno(frame.f_lineno)
        frame = frame.f_back
    return 1


def _error_line(template: jinja2.Template, error: BaseException) -> int:
    """The template line of an error raised while rendering (Jinja rewrites the traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = [frame.lineno for frame in frames if frame.filename == template.filename]
    return lines[-1] if lines and lines[-1] else 1


def keep_line_breaks(source: str) -> str:
    """Move the line breaks inside ``{{ }}``, ``{% %}`` and ``{# #}`` to just after the tag.

    A multi-line ``{{ config(...) }}`` renders to nothing and would pull every later line up; with
    its line breaks moved out, line N of the output is line N of the file.
    """
    parts: list[str] = []
    pending = 0
    for _, token, value in _environment().lex(source):
        if token in {"whitespace", "comment"} and "\n" in value:
            pending += value.count("\n")
            parts.append(value.replace("\n", " "))
        else:
            parts.append(value)
        if token.endswith("_end") and pending:
            parts.append("\n" * pending)
            pending = 0
    return "".join(parts)


class _Recorder:
    """The functions a model calls while rendering, and what they recorded."""

    def __init__(self, refable: Collection[str], variables: Mapping[str, Any], file: str) -> None:
        self.refable = refable
        self.variables = variables
        self.file = file
        self.template: jinja2.Template | None = None
        self.config: dict[str, Any] | None = None
        self.config_line = 1
        self.refs: dict[str, int] = {}

    def _line(self) -> int:
        return _template_line(self.template) if self.template else 1

    def config_call(self, *args: Any, **kwargs: Any) -> str:
        line = self._line()
        if args:
            raise ModelError(self.file, line, "config() takes keyword arguments only")
        if self.config is not None:
            raise ModelError(self.file, line, "config() is called twice; call it once")
        self.config, self.config_line = dict(kwargs), line
        return ""

    def ref(self, name: Any) -> str:
        line = self._line()
        if not isinstance(name, str) or name not in self.refable:
            known = ", ".join(sorted(self.refable))
            raise ModelError(
                self.file, line, f"unknown ref {name!r}: neither a model nor a source ({known})"
            )
        self.refs.setdefault(name, line)
        return quote_identifier(name)

    def var(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        if name in self.variables:
            return self.variables[name]
        if default is not _NO_DEFAULT:
            return default
        raise ModelError(
            self.file,
            self._line(),
            f"unknown var {name!r}: set it under vars: in project.yml or pass --vars",
        )


def _functions(recorder: _Recorder) -> dict[str, Any]:
    return {"config": recorder.config_call, "ref": recorder.ref, "var": recorder.var}


def _render(source: str, file: str, recorder: _Recorder, compact: bool = False) -> str:
    """Render with ``recorder``'s functions; line-aligned with ``source`` unless ``compact``."""
    try:
        template = _environment(compact).from_string(
            source if compact else keep_line_breaks(source)
        )
    except jinja2.TemplateSyntaxError as error:
        raise ModelError(file, error.lineno, f"Jinja syntax error: {error.message}") from None
    recorder.template = template
    try:
        return template.render(**_functions(recorder))
    except ModelError:
        raise
    except jinja2.TemplateError as error:
        raise ModelError(
            file, _error_line(template, error), f"Jinja error: {error.message}"
        ) from None
    except Exception as error:  # an expression in the template failed, e.g. 1 / 0
        raise ModelError(file, _error_line(template, error), f"Jinja error: {error}") from None


def render_model(
    source: str, *, file: str, refable: Collection[str], variables: Mapping[str, Any]
) -> RenderedModel:
    """Render a model file; ``refable`` holds every model and source name ``ref()`` accepts."""
    recorder = _Recorder(refable, variables, file)
    text = _render(source, file, recorder)
    # Rendered again, compact, with fresh recorders: the first pass has raised any error already.
    compiled = _render(source, file, _Recorder(refable, variables, file), compact=True)
    return RenderedModel(text, compiled, recorder.config, recorder.config_line, recorder.refs)


def render_text(source: str, *, file: str, variables: Mapping[str, Any]) -> str:
    """Render a file that may only use ``var()`` (a model's YAML)."""
    return _render(source, file, _Recorder((), variables, file))
