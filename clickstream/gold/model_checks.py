"""``clickstream sql test``: run the YAML tests of the gold models against their Delta tables.

Input: a loaded project, the lakehouse paths, the models to check. Output: one ``CheckResult`` per
test (how many rows fail it, a sample of them), printed as a table; the command exits 1 if any
test fails or a model's table is missing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clickstream.core import config
from clickstream.sql_models import Project

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class CheckResult:
    """One test on one model: failing row count (-1: the table is missing) and a sample."""

    model: str
    test: str
    failing: int
    sample: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failing == 0


def run_model_tests(
    spark: SparkSession, project: Project, paths: config.LakehousePaths, names: list[str]
) -> list[CheckResult]:
    """Run every test of ``names`` on the model tables (registered as views named after them)."""
    from clickstream.lakehouse.table_setup import is_delta_table

    results = []
    for name in names:
        model = project.models[name]
        table = str(paths.gold_table(name))
        if not is_delta_table(spark, table):
            results.append(CheckResult(name, "table exists", -1))
            continue
        spark.read.format("delta").load(table).createOrReplaceTempView(name)
        for test in model.tests:
            failing = spark.sql(test.sql)
            count = failing.count()
            sample = [row.asDict() for row in failing.limit(SAMPLE_ROWS).collect()] if count else []
            results.append(CheckResult(name, test.name, count, sample))
    return results


def print_results(results: list[CheckResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="gold model tests", title_justify="left")
    for column in ("model", "test", "result"):
        table.add_column(column)
    for result in results:
        if result.passed:
            verdict = "[green]pass[/green]"
        elif result.failing < 0:
            verdict = "[red]table missing: run the model first[/red]"
        else:
            verdict = f"[red]FAIL: {result.failing:,} rows[/red]"
        table.add_row(result.model, result.test, verdict)
    console.print(table)
    for result in results:
        for row in result.sample:
            console.print(f"  {result.model}.{result.test} failing row: {row}")
    failed = sum(not result.passed for result in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")


def run_command(args: argparse.Namespace) -> int:
    """CLI handler of ``clickstream sql test``."""
    from clickstream.gold.run_options import gold_options_from_args, load_selected
    from clickstream.spark.session import build_spark_session

    paths = config.paths_from_args(args)
    project, names = load_selected(gold_options_from_args(args))
    spark = build_spark_session("clickstream-sql-test")
    try:
        results = run_model_tests(spark, project, paths, names)
    finally:
        spark.stop()
    print_results(results)
    return 0 if all(result.passed for result in results) else 1
