"""``clickstream``: the product's command line.

Input: ``sys.argv``. Output: the chosen subcommand's exit code (docs/cli.md: 0 done, 1 a data check
failed, 2 a usage error, 3 a configuration or input error). Every subcommand takes the lakehouse
path flags it uses (``--data-dir`` and the rest, see ``clickstream.core.config``); the top-level
parser takes ``--version``, ``--log-level`` and ``-v``. Heavy modules (pyspark, the generator) are
imported by the subcommand that needs them, so ``clickstream --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from rich_argparse import RichHelpFormatter

from clickstream.core import config
from clickstream.core.errors import run_entry_point
from clickstream.core.logs import configure_logging

Handler = Callable[[argparse.Namespace], int]
FORGET_HELP = (
    "erase one user from raw files, archive and every table (DELETE, then VACUUM), with a record"
)
LOG_LEVELS = ("debug", "info", "warning", "error")
RAW_PATHS = ("raw",)  # the generator's commands read or write the raw folder only


def package_version() -> str:
    """The installed distribution's version (``clickstream.__version__`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clickstream")
    except PackageNotFoundError:
        import clickstream

        return getattr(clickstream, "__version__", "unknown")


def show_config(args: argparse.Namespace) -> int:
    """Print every resolved path and Spark setting with the flag or variable that overrides it:
    a table, or with ``--json`` one JSON document
    (``{"paths": {name: {value, flag, env}}, "spark": {name: {value, env}}}``)."""
    paths = config.paths_from_args(args)
    spark = config.SparkSettings.from_env()
    document = {
        "paths": {
            "root": {"value": str(paths.root), "flag": "--data-dir", "env": config.DATA_DIR_ENV},
            **{
                setting.name: {
                    "value": str(getattr(paths, setting.name)),
                    "flag": setting.flag,
                    "env": setting.env,
                }
                for setting in config.PATH_SETTINGS
            },
        },
        "spark": {
            "master": {"value": spark.master, "env": "CLICKSTREAM_SPARK_MASTER"},
            "shuffle_partitions": {
                "value": spark.shuffle_partitions,
                "env": "CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS",
            },
        },
    }
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="clickstream settings", title_justify="left")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("override")
    for name, entry in document["paths"].items():
        label = "data root" if name == "root" else name
        table.add_row(label, entry["value"], f"{entry['flag']} / {entry['env']}")
    for name, entry in document["spark"].items():
        label = "spark master" if name == "master" else name.replace("_", " ")
        table.add_row(label, str(entry["value"]), entry["env"])
    Console().print(table)
    return 0


def check_job_arguments(job: str, job_args: Sequence[str]) -> None:
    """Parse ``job_args`` with the job's own ``parse_args``: a wrong job flag is a usage error
    (exit 2) here, before any JVM starts; an unknown job is one line (exit 3)."""
    import importlib

    from clickstream.spark.submit import JOB_SUFFIX, job_application

    job_application(job)  # an unknown job: one line naming the known ones
    module = importlib.import_module(f"clickstream.spark_jobs.{job}{JOB_SUFFIX}")
    module.parse_args(list(job_args), prog=f"clickstream submit {job}")


def submit_job(args: argparse.Namespace) -> int:
    """Run (or with --print, show) spark-submit for one job of ``clickstream/spark_jobs/``: the
    path flags of ``submit`` and every token it does not know, in order, go to the job."""
    from clickstream.spark.submit import spark_submit_command, spark_submit_env

    job_args = [*config.path_flags_given(args), *args.job_args]
    check_job_arguments(args.job, job_args)
    command = spark_submit_command(args.job, job_args)
    if args.print:
        import shlex

        print(shlex.join(command))
        return 0
    import subprocess

    return subprocess.call(command, env=spark_submit_env())


def run_pipeline(args: argparse.Namespace) -> int:
    from clickstream.pipeline import pipeline_run

    return pipeline_run.run_command(args)


def run_demo(args: argparse.Namespace) -> int:
    from clickstream.pipeline import local_demo

    return local_demo.run_command(args)


def run_gold(args: argparse.Namespace) -> int:
    from clickstream.gold.run_options import (
        gold_checkpoints,
        gold_options_from_args,
        gold_stages,
    )
    from clickstream.streaming.job_runner import run_streaming_job
    from clickstream.streaming.trigger import trigger_from_args

    paths = config.paths_from_args(args)
    options = gold_options_from_args(args)
    stages = gold_stages(paths, trigger_from_args(args), options)
    run_streaming_job("clickstream-gold", paths, gold_checkpoints(options), stages).stop()
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from clickstream.lakehouse import erasure

    return erasure.run_command(args)


def run_bench(args: argparse.Namespace) -> int:
    from clickstream.bench import run

    return run.run_command(args)


def run_model_tests(args: argparse.Namespace) -> int:
    from clickstream.gold import model_checks

    return model_checks.run_command(args)


def add_inspect_commands(inspect: argparse.ArgumentParser) -> None:
    """``inspect raw`` (the landed files) and ``inspect tables`` (the Delta tables)."""
    from clickstream.commands import generate_command as generator_cli
    from clickstream.commands.inspect_command import add_inspect_tables

    children = generator_cli.add_inspect_group(inspect)
    generator_cli.add_inspect_raw(children)
    add_inspect_tables(children)


def add_bench_command(commands) -> None:
    """``clickstream bench``: it builds its own lakehouses in a work folder, so no path flags."""
    from clickstream.bench.run import add_arguments

    help_text = "measure throughput, freshness and resource use of every stage; write a report"
    bench = commands.add_parser(
        "bench", help=help_text, description=help_text, formatter_class=RichHelpFormatter
    )
    bench.set_defaults(handler=run_bench)
    add_arguments(bench)


def add_sql_commands(sql_commands, add_command) -> None:
    """``clickstream sql ...``: the models' commands (no JVM), then ``run`` and ``test``."""

    def sql_handler(name: str) -> Handler:
        def handler(args: argparse.Namespace) -> int:
            from clickstream.commands import sql_command as sql_cli

            return getattr(sql_cli, name)(args)

        return handler

    def add_sql_command(name: str, handler: str, help_text: str) -> argparse.ArgumentParser:
        """One of the models' commands (no JVM): ``--project-dir`` and ``--vars``."""
        sub = add_command(name, sql_handler(handler), help_text, under=sql_commands)
        sub.add_argument(
            "--project-dir",
            metavar="DIR",
            help="the SQL project: project.yml and gold/*.sql (env CLICKSTREAM_SQL_DIR, default <repo>/sql)",
        )
        sub.add_argument(
            "--vars",
            metavar="JSON",
            help="override vars of project.yml, e.g. '{\"bot_events_per_minute\": 80}'",
        )
        return sub

    listing = add_sql_command(
        "list", "list_models", "list the models: materialization, watermark, key, deps"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document, not a table")
    compile_sql = add_sql_command("compile", "compile_models", "print the SQL Spark runs per model")
    compile_sql.add_argument("models", nargs="*", metavar="MODEL", help="models (default: all)")
    compile_sql.add_argument("--tests", action="store_true", help="also print the tests' SQL")
    add_sql_command(
        "validate", "validate_project", "check every model; print N models OK or the error"
    )
    lineage = add_sql_command("lineage", "show_lineage", "show the models as a tree from sources")
    lineage.add_argument("model", nargs="?", metavar="MODEL", help="only what it reads and feeds")

    from clickstream.gold.run_options import add_full_refresh_argument, add_gold_arguments
    from clickstream.streaming.trigger import add_trigger_arguments

    sql_run = add_command(
        "run",
        run_gold,
        "run the models as streaming queries (one Spark app) until Ctrl-C, or available-now",
        under=sql_commands,
    )
    add_trigger_arguments(sql_run)
    add_gold_arguments(sql_run)
    add_full_refresh_argument(sql_run)
    sql_test = add_command(
        "test", run_model_tests, "run the models' YAML tests on their tables", under=sql_commands
    )
    add_gold_arguments(sql_test)  # no --full-refresh: the tests read the tables, never rebuild


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one sub-parser per command, each with the shared path flags."""
    parser = argparse.ArgumentParser(
        prog="clickstream",
        description="Real-time clickstream lakehouse: generate, stream into Delta, inspect.",
        formatter_class=RichHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"clickstream {package_version()}")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="how much the command logs on stderr (default: info)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        dest="log_level",
        action="store_const",
        const="debug",
        help="the same as --log-level debug",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_command(
        name: str,
        handler: Handler,
        help_text: str,
        under=commands,
        paths: Sequence[str] | None = None,
        **parser_options,
    ) -> argparse.ArgumentParser:
        """One command with the path flags it uses: ``--data-dir`` and, with ``paths`` (names of
        ``config.PATH_SETTINGS``), only those ``--<name>-dir`` flags (default: all of them)."""
        sub = under.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=RichHelpFormatter,
            **parser_options,
        )
        config.add_path_arguments(sub, only=paths)
        sub.set_defaults(handler=handler)
        return sub

    def add_group(name: str, help_text: str):
        group = commands.add_parser(name, help=help_text, formatter_class=RichHelpFormatter)
        return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")

    add_command(
        "config", show_config, "show the resolved lakehouse paths and Spark settings"
    ).add_argument("--json", action="store_true", help="print one JSON document, not a table")
    add_command(
        "dashboard",
        run_dashboard,
        "the live Streamlit dashboard (no Spark); Streamlit options such as --server.port pass through",
    ).set_defaults(streamlit_options=[])

    from clickstream.commands import generate_command as generator_cli

    generator_cli.add_generate_arguments(
        add_command(
            "generate",
            generator_cli.run_generate,
            "land synthetic clickstream files",
            paths=RAW_PATHS,
        )
    )
    add_inspect_commands(
        add_command(
            "inspect", generator_cli.inspect_group_handler, "inspect what the pipeline holds"
        )
    )
    submit = add_command(
        "submit",
        submit_job,
        "spark-submit a job of clickstream/spark_jobs/ with the Delta jars and shared conf",
        allow_abbrev=False,  # a job flag is never taken for an abbreviation of submit's own
    )
    submit.description = (
        f"{submit.description}. Every argument submit does not know goes to the job, in order, "
        "checked by the job's own parser before anything starts."
    )
    submit.add_argument("job", help="job name: clickstream/spark_jobs/<job>_job.py")
    submit.add_argument("--print", action="store_true", help="print the command, do not run it")
    submit.set_defaults(job_args=[])

    from clickstream.pipeline.local_demo import add_arguments as add_demo_arguments

    add_demo_arguments(
        add_command(
            "demo", run_demo, "generate a backlog with faults, drain the pipeline, print results"
        )
    )

    from clickstream.orchestration import local_airflow

    airflow_commands = add_group("airflow", "Airflow on this machine (standalone, SQLite)")
    local_airflow.add_demo_arguments(
        add_command(
            "demo",
            local_airflow.run_demo,
            "start Airflow, run clickstream_streaming once, print the tables, stop Airflow",
            under=airflow_commands,
        )
    )
    local_airflow.add_arguments(
        add_command(
            "up",
            local_airflow.run_up,
            "Airflow standalone (UI, scheduler, DAG processor, triggerer) until Ctrl-C",
            under=airflow_commands,
        )
    )

    add_bench_command(commands)

    from clickstream.lakehouse.erasure import add_arguments as add_forget_arguments

    add_forget_arguments(add_command("forget", run_forget, FORGET_HELP))

    pipeline_commands = add_group("pipeline", "run the streaming pipeline")
    from clickstream.pipeline.pipeline_run import add_arguments as add_pipeline_arguments

    add_pipeline_arguments(
        add_command(
            "run",
            run_pipeline,
            "run bronze, silver and gold in one Spark application until Ctrl-C, or drain them once "
            "(--trigger available-now)",
            under=pipeline_commands,
        )
    )

    add_sql_commands(
        add_group("sql", "the gold SQL models: list, compile, validate, lineage (no JVM)"),
        add_command,
    )
    return parser


def run_dashboard(args: argparse.Namespace) -> int:
    from clickstream.dashboard import launch

    return launch.run_command(args)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as the subcommand's namespace; ``dashboard`` keeps what it does not know
    as ``streamlit_options``, ``submit`` as ``job_args`` (in order, for the job); anything else
    unknown is a usage error (exit 2)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if hasattr(args, "streamlit_options"):  # `dashboard` hands what it does not know to Streamlit
        args.streamlit_options = unknown
    elif hasattr(args, "job_args"):  # `submit` hands what it does not know to the job
        args.job_args = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    configure_logging(getattr(logging, args.log_level.upper()))
    return run_entry_point(lambda: args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
