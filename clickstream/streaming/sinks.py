"""Delta sinks: append writers that commit each batch exactly once."""

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
