"""Gold: the streaming SQL runner. Each model of ``sql/gold/`` becomes one streaming query.

Input: a loaded ``Project`` (``clickstream.sql_models``), the lakehouse paths, a trigger, the models
selected. Output: one Delta table per model at ``<gold>/<model>``, written through its own
checkpoint ``<checkpoints>/gold/<model>``:

- each ref of a model is streamed from its Delta table (silver for ``silver_events``, the upstream
  model's table for a model) with the model's watermark, and registered as a temp view of that name;
  the compiled SQL then runs through Spark SQL;
- ``append`` models write each window once, after the watermark has passed it;
- ``upsert`` models emit updated windows every trigger (output mode update) and MERGE them into the
  table by the model's unique key: re-running a batch writes the same values again (idempotent).
  A MERGE that conflicts with a concurrent OPTIMIZE (maintenance compacting the files it read) is
  retried on the new snapshot, up to ``MERGE_ATTEMPTS`` times, instead of failing the query.

State safety: the checkpoint holds ``clickstream_model.json`` with the model's fingerprint (compiled
SQL + config). A model whose fingerprint changed is refused with a pointer to ``--full-refresh``;
the full refresh rebuilds the table and checkpoint in a staging folder, then swaps them in, so
readers see the old table until the new one is complete. Downstream models are refreshed with it.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.atomic_files import write_atomically
from clickstream.core.config import LakehousePaths
from clickstream.core.errors import ClickstreamError
from clickstream.lakehouse.table_setup import (
    create_empty_table,
    ensure_silver_exists,
    ensure_table,
)
from clickstream.sql_models import Model, Project
from clickstream.streaming.query_loop import first_line
from clickstream.streaming.sinks import upsert_delta_stream, write_delta_stream
from clickstream.streaming.trigger import Trigger

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

log = logging.getLogger("clickstream.gold")

FINGERPRINT_FILE = "clickstream_model.json"
STAGING_PREFIX = ".rebuild_"


@dataclass(frozen=True)
class ModelLocation:
    """Where one model writes: its table and its checkpoint."""

    table: Path
    checkpoint: Path


def checkpoint_name(model: str) -> str:
    """Name of a model's checkpoint under the checkpoints folder (also its lock)."""
    return f"gold/{model}"


def query_name(model: str) -> str:
    return f"gold_{model}"


def location(paths: LakehousePaths, model: str) -> ModelLocation:
    return ModelLocation(paths.gold_table(model), paths.checkpoint(checkpoint_name(model)))


def staging_location(paths: LakehousePaths, model: str) -> ModelLocation:
    final = location(paths, model)
    return ModelLocation(
        final.table.with_name(STAGING_PREFIX + model),
        final.checkpoint.with_name(STAGING_PREFIX + model),
    )


def input_path(project: Project, paths: LakehousePaths, ref: str) -> Path:
    """The Delta table a ref reads: an upstream model's table, or a source's lakehouse path."""
    if ref in project.models:
        return paths.gold_table(ref)
    return getattr(paths, project.sources[ref])


def model_frame(spark: SparkSession, project: Project, model: Model, paths: LakehousePaths):
    """Register every ref of ``model`` as a watermarked streaming view; return the model's frame."""
    for ref in model.depends_on:
        stream = (
            spark.readStream.format("delta")
            # Deleting rows (``clickstream forget``) is not new input: skipped, not an error.
            .option("skipChangeCommits", "true")
            .load(str(input_path(project, paths, ref)))
        )
        column = model.config.watermark_column
        if column in stream.columns:
            stream = stream.withWatermark(column, model.config.watermark_delay)
        stream.createOrReplaceTempView(ref)
    # spark.sql analyses now: re-registering a view for the next model leaves this frame as is.
    return spark.sql(model.compiled_sql)


def stored_fingerprint(checkpoint: Path) -> str | None:
    path = checkpoint / FINGERPRINT_FILE
    return json.loads(path.read_text())["fingerprint"] if path.exists() else None


def record_fingerprint(checkpoint: Path, model: Model) -> None:
    """Write the model's fingerprint into its checkpoint, atomically: a job killed meanwhile
    leaves the old file or the new one, never a half-written one that blocks every restart."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    document = {"model": model.name, "fingerprint": model.fingerprint, **model.config.as_dict()}
    write_atomically(
        checkpoint / FINGERPRINT_FILE, (json.dumps(document, indent=2) + "\n").encode()
    )


def check_fingerprints(paths: LakehousePaths, models: Sequence[Model]) -> None:
    """Refuse to resume any model whose SQL or config changed since its checkpoint was written."""
    changed = []
    for model in models:
        checkpoint = location(paths, model.name).checkpoint
        stored = stored_fingerprint(checkpoint)
        if stored is not None and stored != model.fingerprint:
            changed.append(model.name)
    if changed:
        names = " ".join(changed)
        raise ClickstreamError(
            f"model(s) {', '.join(changed)} changed since their checkpoint was written; resuming "
            f"could corrupt their state: run `clickstream sql run --select {names} --full-refresh`"
        )


def ensure_model_table(spark: SparkSession, frame: DataFrame, model: Model, table: Path) -> None:
    """Create the model's empty Delta table from the frame's schema, so downstream can stream it."""
    partitions = model.config.partition_by
    ensure_table(
        str(table), lambda: create_empty_table(spark, str(table), frame.schema, partitions)
    )


def start_model(
    spark: SparkSession,
    project: Project,
    model: Model,
    paths: LakehousePaths,
    trigger: Trigger,
    where: ModelLocation,
) -> StreamingQuery:
    """Start the streaming query of one model, writing ``where``."""
    if any(ref in project.sources for ref in model.depends_on):
        # Started before silver ever ran (or killed while creating it): stream an empty table
        # rather than fail on a folder without a Delta log.
        ensure_silver_exists(spark, paths)
    frame = model_frame(spark, project, model, paths)
    ensure_model_table(spark, frame, model, where.table)
    record_fingerprint(where.checkpoint, model)
    name = query_name(model.name)
    if model.config.materialized == "append":
        return write_delta_stream(
            frame,
            name=name,
            table_path=where.table,
            checkpoint=where.checkpoint,
            trigger=trigger,
            partition_by=model.config.partition_by,
        )
    return upsert_delta_stream(
        frame,
        name=name,
        table_path=where.table,
        checkpoint=where.checkpoint,
        trigger=trigger,
        unique_key=model.config.unique_key,
    )


def with_downstream(project: Project, names: Sequence[str]) -> list[str]:
    """``names`` and every model downstream of them, in dependency order."""
    wanted = set(names)
    for name in names:
        wanted |= project.downstream(name)
    return [model.name for model in project.order(sorted(wanted))]


def full_refresh(
    spark: SparkSession, project: Project, paths: LakehousePaths, names: Sequence[str]
) -> None:
    """Rebuild ``names`` and their downstream models from scratch, swapping each in when done.

    A model whose rebuild fails raises ``ClickstreamError`` (one line); its final table stays.
    """
    from pyspark.errors import StreamingQueryException

    for name in with_downstream(project, names):
        model = project.models[name]
        staging, final = staging_location(paths, name), location(paths, name)
        for folder in (staging.table, staging.checkpoint):
            shutil.rmtree(folder, ignore_errors=True)
        log.info("full refresh of %s: rebuilding into %s", name, staging.table)
        query = start_model(spark, project, model, paths, Trigger(available_now=True), staging)
        try:
            query.awaitTermination()
        except StreamingQueryException as error:
            raise ClickstreamError(f"full refresh of {name} failed: {first_line(error)}") from None
        swap_in(staging, final)
        log.info("full refresh of %s: swapped in", name)


def swap_in(staging: ModelLocation, final: ModelLocation) -> None:
    """Replace the final table and checkpoint by the staged ones (old ones removed after)."""
    for new, old in ((staging.table, final.table), (staging.checkpoint, final.checkpoint)):
        retired = old.with_name(old.name + ".retired")
        shutil.rmtree(retired, ignore_errors=True)
        if old.exists():
            old.rename(retired)
        old.parent.mkdir(parents=True, exist_ok=True)
        new.rename(old)
        shutil.rmtree(retired, ignore_errors=True)


def start_models(
    spark: SparkSession,
    project: Project,
    paths: LakehousePaths,
    names: Sequence[str],
    trigger: Trigger,
) -> list[StreamingQuery]:
    """Start the queries of ``names`` (dependency order) on their normal tables and checkpoints."""
    return [
        start_model(spark, project, project.models[name], paths, trigger, location(paths, name))
        for name in names
    ]
