"""The gold job: arguments and stages shared by ``clickstream/spark_jobs/gold_job.py``, ``clickstream sql run`` and
``clickstream pipeline run``.

Input: parsed arguments (``--select``, ``--full-refresh``, ``--vars``, ``--project-dir``, trigger).
Output: the checkpoint names to lock and the stages to run (see ``clickstream.streaming.job_runner``): the full
refresh first, then the selected models, one stage per model when draining (so a downstream model
sees everything its upstream wrote), all at once when running continuously.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clickstream.core.config import LakehousePaths
from clickstream.sql_models.project import parse_vars
from clickstream.streaming.trigger import Trigger


@dataclass(frozen=True)
class GoldOptions:
    """Which models, how, and with which vars."""

    select: tuple[str, ...] = ()
    full_refresh: bool = False
    vars: dict | None = None
    project_dir: str | None = None


def add_gold_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select",
        nargs="+",
        default=[],
        metavar="MODEL",
        help="run only these models (default: every model in the project)",
    )
    parser.add_argument(
        "--vars", help="override project vars, JSON or YAML: '{\"bot_events_per_minute\": 60}'"
    )
    parser.add_argument("--project-dir", help="the SQL project folder (default: <repo>/sql)")


def add_full_refresh_argument(parser: argparse.ArgumentParser) -> None:
    """``--full-refresh``, only on the commands that run models (not on ``sql test``, ``report``)."""
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the selected models (and their downstream models) from scratch",
    )


def gold_options_from_args(args: argparse.Namespace) -> GoldOptions:
    return GoldOptions(
        select=tuple(args.select),
        full_refresh=getattr(args, "full_refresh", False),
        vars=parse_vars(args.vars),
        project_dir=args.project_dir,
    )


def load_selected(options: GoldOptions):
    """The project and the names of the selected models, in dependency order."""
    from pathlib import Path

    from clickstream.sql_models import load_project

    root = Path(options.project_dir) if options.project_dir else None
    project = load_project(root, options.vars)
    selected = list(options.select) or None
    return project, [model.name for model in project.order(selected)]


def gold_checkpoints(options: GoldOptions) -> list[str]:
    """Checkpoint names the gold job writes (for its locks): the selection, plus its downstream
    models when refreshing."""
    from clickstream.gold.sql_runner import checkpoint_name, with_downstream

    project, names = load_selected(options)
    if options.full_refresh:
        names = with_downstream(project, names)
    return [checkpoint_name(name) for name in names]


def gold_stages(
    paths: LakehousePaths, trigger: Trigger, options: GoldOptions
) -> list[Callable[..., Sequence]]:
    """Stages for ``run_streaming_job``."""
    from clickstream.gold import sql_runner

    project, names = load_selected(options)

    def refresh_then_check(spark):
        if options.full_refresh:
            sql_runner.full_refresh(spark, project, paths, names)
        sql_runner.check_fingerprints(paths, [project.models[name] for name in names])
        return []

    def start(selection):
        return lambda spark: sql_runner.start_models(spark, project, paths, selection, trigger)

    if trigger.available_now:
        # Models of one dependency level drain side by side: one model's driver-side work (plans,
        # state and Delta commits) leaves the cores to the others' tasks.
        levels = project.levels(names)
        return [refresh_then_check, *(start([model.name for model in level]) for level in levels)]
    return [refresh_then_check, start(names)]
