"""Delta sinks, one writer per materialization: append (each batch exactly once) and upsert (MERGE
by a unique key, retried on a conflict with a concurrent commit)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core import metrics_store
from clickstream.lakehouse import delta_log

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.streaming import StreamingQuery

    from clickstream.streaming.trigger import Trigger

log = logging.getLogger("clickstream.streaming")

MERGE_ATTEMPTS = 5


def append_batches(table_path: Path, checkpoint: Path, partition_by: Sequence[str] = ()):
    """foreachBatch function: append each batch to the Delta table at ``table_path`` exactly once.

    Each append is tagged with the query's id and batch id (``batch_commits``). Spark replays the
    last batch after a crash between the Delta commit and the checkpoint's, as the restarted
    query's first batch (the only one checked: later batches skip reading the log). When the table
    already holds it, it runs into the ``noop`` sink instead, so that stateful operators commit that
    batch's state as Spark requires, and nothing is appended. Input: the batch DataFrame and its id.
    Output: one Delta commit (none for a replayed batch).
    """
    query: list[str] = []  # its id, read from the checkpoint on the first batch

    def append(batch: DataFrame, batch_id: int) -> None:
        if not query:  # only a query's first batch since it started can be a replay
            query.append(delta_log.query_id(checkpoint))
            last = delta_log.last_batch(table_path, query[0])
            if last is not None and last >= batch_id:
                log.warning(
                    "%s already holds batch %d (replayed after a crash): not appended again",
                    table_path,
                    batch_id,
                )
                batch.write.format("noop").mode("overwrite").save()
                return
        writer = batch.write.format("delta").mode("append")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        tag = delta_log.batch_tag(query[0], batch_id)
        writer.option("userMetadata", tag).save(str(table_path))

    return append


def write_delta_stream(
    df: DataFrame,
    *,
    name: str,
    table_path: Path,
    checkpoint: Path,
    trigger: Trigger,
    partition_by: Sequence[str] = (),
    observe: Sequence[Column] = (),
) -> StreamingQuery:
    """Start a query that appends ``df`` to the Delta table at ``table_path``, exactly once
    (``append_batches``).

    The row count written per batch is observed as ``rows_out`` for the metrics store, beside the
    aggregates in ``observe`` (named by their aliases).
    """
    from pyspark.sql import functions as F

    observed = df.observe(name, F.count(F.lit(1)).alias(metrics_store.ROWS_OUT_METRIC), *observe)
    log.info("starting %s -> %s (%s)", name, table_path, trigger)
    return (
        observed.writeStream.queryName(name)
        .outputMode("append")
        .option("checkpointLocation", str(checkpoint))
        .trigger(**trigger.writer_kwargs())
        .foreachBatch(append_batches(table_path, checkpoint, partition_by))
        .start()
    )


def merge_batches(table_path: Path, unique_key: Sequence[str], name: str):
    """foreachBatch function: MERGE each batch of updated rows into the Delta table at
    ``table_path`` by ``unique_key``, retried when a concurrent commit (OPTIMIZE) changed the files
    it read. A replayed batch MERGEs the same rows again: the result is the same."""

    def merge(batch: DataFrame, batch_id: int) -> None:
        from delta.exceptions import (
            ConcurrentAppendException,
            ConcurrentDeleteDeleteException,
            ConcurrentDeleteReadException,
        )
        from delta.tables import DeltaTable

        keys = list(unique_key)
        condition = " and ".join(f"target.`{key}` <=> source.`{key}`" for key in keys)
        source = batch.dropDuplicates(keys).alias("source")
        for attempt in range(1, MERGE_ATTEMPTS + 1):
            try:
                (
                    DeltaTable.forPath(batch.sparkSession, str(table_path))
                    .alias("target")
                    .merge(source, condition)
                    .whenMatchedUpdateAll()
                    .whenNotMatchedInsertAll()
                    .execute()
                )
                return
            except (
                ConcurrentAppendException,
                ConcurrentDeleteReadException,
                ConcurrentDeleteDeleteException,
            ) as conflict:
                if attempt == MERGE_ATTEMPTS:
                    raise
                log.warning(
                    "%s batch %d: MERGE conflicted with a concurrent commit (%s); attempt %d of %d",
                    name,
                    batch_id,
                    type(conflict).__name__,
                    attempt + 1,
                    MERGE_ATTEMPTS,
                )

    return merge


def upsert_delta_stream(
    df: DataFrame,
    *,
    name: str,
    table_path: Path,
    checkpoint: Path,
    trigger: Trigger,
    unique_key: Sequence[str],
) -> StreamingQuery:
    """Start a query that MERGEs each batch of ``df`` (update mode) into the Delta table at
    ``table_path`` by ``unique_key`` (``merge_batches``); rows written observed as ``rows_out``."""
    from pyspark.sql import functions as F

    observed = df.observe(name, F.count(F.lit(1)).alias(metrics_store.ROWS_OUT_METRIC))
    log.info("starting %s -> %s (upsert, %s)", name, table_path, trigger)
    return (
        observed.writeStream.queryName(name)
        .outputMode("update")
        .option("checkpointLocation", str(checkpoint))
        .trigger(**trigger.writer_kwargs())
        .foreachBatch(merge_batches(table_path, unique_key, name))
        .start()
    )
