"""Handlers of ``clickstream sql list|compile|validate|lineage``: the gold SQL project, no JVM.

Input: parsed arguments: ``--project-dir`` (else ``$CLICKSTREAM_SQL_DIR``, else ``<repo>/sql``),
``--vars`` (JSON or YAML mapping), model names, the lakehouse path flags. Output on stdout: a table
of the models, their compiled SQL, ``N models OK``, or their lineage as a tree; exit code 0. A
broken project raises ``ModelError``, which the CLI prints as one line with exit code 3.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from clickstream.core import config as lakehouse
from clickstream.sql_models.project import Model, Project, load_project, parse_vars


def load(args: argparse.Namespace) -> Project:
    """The project the arguments point at, with their vars."""
    return load_project(args.project_dir, parse_vars(args.vars))


def _console() -> Console:
    """Rich console; when not a terminal (a pipe, a test), wide enough not to fold the table."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _watermark(model: Model) -> str:
    return f"{model.config.watermark_column} - {model.config.watermark_delay}"


def model_summary(model: Model) -> dict:
    """One model as ``sql list --json`` shows it."""
    return {
        "model": model.name,
        "materialized": model.config.materialized,
        "watermark": {
            "column": model.config.watermark_column,
            "delay": model.config.watermark_delay,
        },
        "unique_key": list(model.config.unique_key),
        "depends_on": list(model.depends_on),
        "tests": len(model.tests),
    }


def list_models(args: argparse.Namespace) -> int:
    """A table of the models in dependency order, or with ``--json`` one JSON document
    (``{"project": DIR, "models": [...]}``)."""
    project = load(args)
    if getattr(args, "json", False):
        models = [model_summary(model) for model in project.order()]
        print(json.dumps({"project": str(project.root), "models": models}, indent=2))
        return 0
    table = Table(title=f"{len(project.models)} models in {project.root}", title_justify="left")
    table.add_column("model", no_wrap=True)
    table.add_column("materialized")
    table.add_column("watermark")
    table.add_column("unique key")
    table.add_column("depends on")
    table.add_column("tests", justify="right")
    for model in project.order():
        table.add_row(
            model.name,
            model.config.materialized,
            _watermark(model),
            ", ".join(model.config.unique_key),
            ", ".join(model.depends_on),
            str(len(model.tests)),
        )
    _console().print(table)
    return 0


def compile_models(args: argparse.Namespace) -> int:
    """Print the SQL Spark runs for each chosen model (all by default), dependencies first."""
    project = load(args)
    blocks = []
    for model in project.order(args.models or None):
        blocks.append(f"-- model: {model.name}\n{model.compiled_sql}")
        if args.tests:
            blocks += [f"-- test: {test.name}\n{test.sql};\n" for test in model.tests]
    print("\n".join(blocks), end="")
    return 0


def validate_project(args: argparse.Namespace) -> int:
    """Load everything; print ``N models OK`` (a problem raises and prints one line)."""
    project = load(args)
    count = len(project.models)
    print(f"{count} model{'' if count == 1 else 's'} OK")
    return 0


def _model_label(model: Model) -> Text:
    details = f"  {model.config.materialized}, watermark {_watermark(model)}"
    return Text.assemble((model.name, "bold"), (details, "dim"))


def _source_label(name: str, path_name: str, args: argparse.Namespace) -> Text:
    path = getattr(lakehouse.paths_from_args(args), path_name)
    return Text.assemble((name, "bold cyan"), (f"  source: {path_name} ({path})", "dim"))


def show_lineage(args: argparse.Namespace) -> int:
    """The graph as a tree from the sources down to the models that read them, transitively."""
    project = load(args)
    keep = set(project.sources) | set(project.models)
    if args.model:
        project.order([args.model])  # fails in one line on an unknown model
        keep = {args.model} | project.upstream(args.model) | project.downstream(args.model)
    readers: dict[str, list[str]] = {}
    for model in project.order():
        for dependency in model.depends_on:
            readers.setdefault(dependency, []).append(model.name)

    def grow(branch: Tree, name: str) -> None:
        for reader in readers.get(name, []):
            if reader in keep:
                grow(branch.add(_model_label(project.models[reader])), reader)

    tree = Tree(Text(f"lineage of {args.model or project.root}"))
    for name, path_name in project.sources.items():
        if name in keep:
            grow(tree.add(_source_label(name, path_name, args)), name)
    for model in project.order():
        if not model.depends_on and model.name in keep:
            grow(tree.add(_model_label(model)), model.name)
    _console().print(tree)
    return 0
