"""Load a SQL project: find the models, render, parse and check them, read their YAML.

Input: the project folder (``--project-dir``, else ``$CLICKSTREAM_SQL_DIR``, else ``<repo>/sql``)
holding ``project.yml`` (``sources:``, ``vars:``) and ``gold/<model>.sql`` with an optional
``gold/<model>.yml`` beside each, plus vars that override ``project.yml``'s. Output: a ``Project``
whose ``Model`` objects carry the compiled SQL, config, dependencies, tests and fingerprint; or the
first problem found as a one-line ``ModelError`` (``<file>:<line>: <message>``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clickstream.core import config as lakehouse
from clickstream.core.config import SQL_DIR_ENV as PROJECT_DIR_ENV
from clickstream.core.config import sql_project_dir as project_dir
from clickstream.core.errors import ClickstreamError
from clickstream.sql_models import graph
from clickstream.sql_models.data_tests import (
    DeclaredTest,
    ModelTest,
    build_tests,
    declared_tests,
)
from clickstream.sql_models.model_config import ModelConfig, build_config
from clickstream.sql_models.model_errors import ModelError
from clickstream.sql_models.parse import ParsedModel, parse_model
from clickstream.sql_models.render import RenderedModel, render_model, render_text
from clickstream.sql_models.yamlfile import LineDict, line_of, load_yaml, plain

PROJECT_FILE = "project.yml"
MODELS_DIR = "gold"
PROJECT_KEYS = ("sources", "vars")
MODEL_YAML_KEYS = ("description", "columns", "tests")
COLUMN_KEYS = ("name", "description", "tests")


@dataclass(frozen=True)
class Model:
    """One gold model: a SELECT whose result is the Delta table named after the file."""

    name: str
    path: Path
    raw_sql: str
    compiled_sql: str
    config: ModelConfig
    depends_on: tuple[str, ...]  # from the SQL AST: each a model or a source, sorted
    columns: dict[str, str] = field(hash=False)  # name -> description, from the YAML
    tests: tuple[ModelTest, ...]
    fingerprint: str  # sha256 hex of compiled_sql and the config, see ``fingerprint``
    description: str = ""


@dataclass(frozen=True)
class Project:
    """Every model of a project, its sources (name -> lakehouse path name) and its vars."""

    root: Path
    sources: dict[str, str] = field(hash=False)
    vars: dict[str, Any] = field(hash=False)
    models: dict[str, Model] = field(hash=False)

    @property
    def graph(self) -> dict[str, tuple[str, ...]]:
        """model -> what it reads (models and sources)."""
        return {name: model.depends_on for name, model in self.models.items()}

    def order(self, selected: list[str] | None = None) -> list[Model]:
        """Models, dependencies first; with ``selected``, only those, still in dependency order."""
        return [model for level in self.levels(selected) for model in level]

    def levels(self, selected: list[str] | None = None) -> list[list[Model]]:
        """Models in dependency levels (``graph.topological_levels``): the models of one level
        read none of each other, so they can run at the same time. With ``selected``, only those."""
        if selected is not None:
            unknown = [name for name in selected if name not in self.models]
            if unknown:
                raise ClickstreamError(
                    f"unknown model {unknown[0]!r} (models: {', '.join(self.models)})"
                )
        levels = [
            [self.models[name] for name in level if selected is None or name in selected]
            for level in graph.topological_levels(self.graph)
        ]
        return [level for level in levels if level]

    def upstream(self, name: str) -> set[str]:
        """Every model and source ``name`` reads, directly or not."""
        return graph.upstream(self.graph, name)

    def downstream(self, name: str) -> set[str]:
        """Every model that reads ``name`` (a model or a source), directly or not."""
        return graph.downstream(self.graph, name)


@dataclass(frozen=True)
class _Draft:
    """A model rendered and parsed, before its config and YAML are checked."""

    name: str
    path: Path
    file: str
    raw_sql: str
    rendered: RenderedModel
    parsed: ParsedModel


def display_path(path: Path, root: Path) -> str:
    """``path`` as errors show it: relative to the current folder, else to the project's parent."""
    for base in (Path.cwd(), root.parent):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def tidy_sql(text: str) -> str:
    """Rendered SQL as it is shown and run: no trailing spaces, no runs of blank lines."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def fingerprint(compiled_sql: str, model_config: ModelConfig) -> str:
    """sha256 hex of the compiled SQL and the config as canonical JSON."""
    canonical = json.dumps(model_config.as_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{compiled_sql}\n{canonical}".encode()).hexdigest()


def _mapping(value: Any, file: str, what: str) -> LineDict:
    if not isinstance(value, dict):
        raise ModelError(file, line_of(value), f"{what} must be a mapping, got {plain(value)!r}")
    return value if isinstance(value, LineDict) else LineDict(value)


def _check_keys(value: LineDict, allowed: tuple[str, ...], file: str, what: str) -> None:
    for key in value:
        if key not in allowed:
            raise ModelError(
                file,
                value.line_of_key(key),
                f"unknown key {key!r} in {what} (expected: {', '.join(allowed)})",
            )


def _read_project_file(path: Path, file: str) -> tuple[dict[str, str], dict[str, Any]]:
    """``project.yml`` -> (sources: name -> lakehouse path name, vars)."""
    document = _mapping(load_yaml(path.read_text(), file), file, PROJECT_FILE)
    _check_keys(document, PROJECT_KEYS, file, PROJECT_FILE)
    sources = _mapping(document.get("sources") or LineDict(), file, "sources")
    path_names = [setting.name for setting in lakehouse.PATH_SETTINGS]
    for name, target in sources.items():
        if target not in path_names:
            raise ModelError(
                file,
                sources.line_of_key(name),
                f"source {name!r} -> {target!r}: not a lakehouse path (one of {', '.join(path_names)})",
            )
    variables = _mapping(document.get("vars") or LineDict(), file, "vars")
    return {str(name): str(target) for name, target in sources.items()}, plain(variables)


def _draft(path: Path, root: Path, refable: set[str], variables: Mapping[str, Any]) -> _Draft:
    """Render and parse one model; check that every table it reads is a ref()-ed model or source."""
    file = display_path(path, root)
    raw_sql = path.read_text()
    rendered = render_model(raw_sql, file=file, refable=refable, variables=variables)
    parsed = parse_model(rendered.text, file)
    for table, line in parsed.reads.items():
        if table not in refable:
            raise ModelError(
                file, line, f"unknown table {table!r}: neither a model nor a source (use ref())"
            )
        if table not in rendered.refs:
            raise ModelError(
                file, line, f"{table!r} is read without ref(): write {{{{ ref({table!r}) }}}}"
            )
    return _Draft(path.stem, path, file, raw_sql, rendered, parsed)


def _check_watermark(draft: _Draft, model_config: ModelConfig, outputs: dict[str, Any]) -> None:
    """The watermark column must be a column of every upstream model (sources are not checked)."""
    for dependency in draft.parsed.reads:
        columns = outputs.get(dependency)
        if columns is not None and model_config.watermark_column.lower() not in {
            column.lower() for column in columns
        }:
            raise ModelError(
                draft.file,
                draft.rendered.config_line,
                f"config watermark column {model_config.watermark_column!r} is not a column of "
                f"{dependency} ({', '.join(columns)})",
            )


def _read_model_yaml(
    path: Path, root: Path, variables: Mapping[str, Any], output_columns: tuple[str, ...] | None
) -> tuple[str, str, dict[str, str], list[DeclaredTest]]:
    """A model's YAML -> (its file, description, column descriptions, declared tests)."""
    file = display_path(path, root)
    if not path.is_file():
        return file, "", {}, []
    text = render_text(path.read_text(), file=file, variables=variables)
    document = _mapping(load_yaml(text, file), file, "a model's YAML")
    _check_keys(document, MODEL_YAML_KEYS, file, "a model's YAML")
    description = str(document.get("description") or "").strip()
    entries = declared_tests(document.get("tests"), None, file)
    columns: dict[str, str] = {}
    items = document.get("columns") or []
    if not isinstance(items, list):
        raise ModelError(file, line_of(items), "columns must be a list of {name: ..., ...}")
    known = {name.lower() for name in output_columns} if output_columns is not None else None
    for item in items:
        column = _mapping(item, file, "a column")
        _check_keys(column, COLUMN_KEYS, file, "a column")
        name = column.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError(file, column.line, "a column needs name:")
        if known is not None and name.lower() not in known:
            raise ModelError(
                file,
                column.line,
                f"column {name!r} is not in the model ({', '.join(output_columns or ())})",
            )
        if name in columns:
            raise ModelError(file, column.line, f"column {name!r} is listed twice")
        columns[name] = str(column.get("description") or "").strip()
        entries += declared_tests(column.get("tests"), name, file)
    return file, description, columns, entries


def _finish(
    draft: _Draft, root: Path, variables: Mapping[str, Any], outputs: dict[str, Any]
) -> Model:
    """Check the config and the YAML of a drafted model and build the ``Model``."""
    output_columns = draft.parsed.output_columns
    model_config = build_config(
        draft.rendered.config,
        file=draft.file,
        line=draft.rendered.config_line,
        output_columns=output_columns,
    )
    _check_watermark(draft, model_config, outputs)
    yaml_file, description, columns, entries = _read_model_yaml(
        draft.path.with_suffix(".yml"), root, variables, output_columns
    )
    tests = build_tests(
        entries,
        model=draft.name,
        file=yaml_file,
        output_columns=output_columns,
        unique_key=model_config.unique_key,
    )
    compiled_sql = tidy_sql(draft.rendered.compiled)
    return Model(
        name=draft.name,
        path=draft.path,
        raw_sql=draft.raw_sql,
        compiled_sql=compiled_sql,
        config=model_config,
        depends_on=tuple(sorted(draft.parsed.reads)),
        columns=columns,
        tests=tests,
        fingerprint=fingerprint(compiled_sql, model_config),
        description=description,
    )


def _model_paths(root: Path, sources: Mapping[str, str]) -> list[Path]:
    """The model files, checking names against sources and YAML files against models."""
    models_dir = root / MODELS_DIR
    paths = sorted(models_dir.glob("*.sql"))
    names = {path.stem for path in paths}
    for path in paths:
        if path.stem in sources:
            raise ModelError(
                display_path(path, root), 1, f"model {path.stem!r} has the name of a source"
            )
    for path in sorted(models_dir.glob("*.yml")):
        if path.stem not in names:
            raise ModelError(
                display_path(path, root), 1, f"no model {path.stem}.sql beside this file"
            )
    return paths


def parse_vars(text: str | None) -> dict[str, Any] | None:
    """``--vars`` as a mapping: JSON or YAML, e.g. ``'{"bot_events_per_minute": 80}'``."""
    if not text:
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        mark = getattr(error, "problem_mark", None)
        where = f" at column {mark.column + 1}" if mark is not None else ""
        raise ClickstreamError(
            f"--vars {text!r} is neither JSON nor a YAML mapping: {problem}{where}"
        ) from None
    if not isinstance(value, dict):
        raise ClickstreamError(f"--vars must be a mapping like '{{\"name\": 1}}', got {text!r}")
    return value


def load_project(root: Path | None = None, vars: dict | None = None) -> Project:
    """Load, render, parse and check every model of the project at ``root``.

    ``vars`` override the ``vars:`` of ``project.yml``. Raises ``ModelError`` on the first problem.
    """
    root = project_dir(root)
    project_file = root / PROJECT_FILE
    if not project_file.is_file():
        raise ClickstreamError(
            f"no SQL project at {root}: {PROJECT_FILE} is missing "
            f"(pass --project-dir or set {PROJECT_DIR_ENV})"
        )
    sources, defaults = _read_project_file(project_file, display_path(project_file, root))
    variables = {**defaults, **(vars or {})}
    paths = _model_paths(root, sources)
    refable = {path.stem for path in paths} | set(sources)
    drafts = {path.stem: _draft(path, root, refable, variables) for path in paths}
    dependencies = {name: tuple(draft.parsed.reads) for name, draft in drafts.items()}
    cycle = graph.find_cycle(dependencies)
    if cycle:
        first = drafts[cycle[0]]
        raise ModelError(
            first.file,
            first.parsed.reads[cycle[1]],
            f"dependency cycle: {' -> '.join(cycle)} (each reads the next)",
        )
    outputs: dict[str, Any] = {}
    models: dict[str, Model] = {}
    for name in graph.topological_order(dependencies):
        models[name] = _finish(drafts[name], root, variables, outputs)
        outputs[name] = drafts[name].parsed.output_columns
    return Project(root, sources, variables, dict(sorted(models.items())))
