"""Progress: every batch logged and recorded in the metrics store."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from clickstream.core import metrics_store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger("clickstream.streaming")


def record_progress(metrics_dir: Path, progress: dict[str, Any]) -> None:
    """Append one batch's progress (Spark's JSON, parsed) to the metrics store; log it if it
    moved rows."""
    record = metrics_store.batch_record(progress)
    metrics_store.append_batch(metrics_dir, record)
    if record["rows_in"] or record["rows_out"]:
        log.info(
            "%s batch %s: %s rows in, %s out, %s ms, state %s, dropped late %s, dup %s",
            record["query"],
            record["batch_id"],
            record["rows_in"],
            record["rows_out"],
            record["batch_duration_ms"],
            record["state_rows"],
            record["rows_dropped_by_watermark"],
            record["duplicates_dropped"],
        )


class ProgressJsonCallback:
    """The JVM's Python-listener interface, answered with one py4j call a batch: the progress JSON.

    pyspark's own callback first rebuilds every event as Python objects, field by field, dozens of
    py4j calls each (each a reflective lookup in the JVM): 5-8% of the pipeline JVM's CPU in a
    profile of the freshness benchmark. Idle, start and end events are ignored.
    """

    def __init__(self, on_progress: Callable[[dict[str, Any]], None]) -> None:
        self.on_progress = on_progress

    def onQueryStarted(self, jevent: Any) -> None:
        pass

    def onQueryProgress(self, jevent: Any) -> None:
        self.on_progress(json.loads(jevent.progress().json()))

    def onQueryIdle(self, jevent: Any) -> None:
        pass

    def onQueryTerminated(self, jevent: Any) -> None:
        pass

    class Java:
        implements: ClassVar[list[str]] = [
            "org.apache.spark.sql.streaming.PythonStreamingQueryListener"
        ]


def install_metrics_listener(spark: SparkSession, metrics_dir: Path) -> Any:
    """Record every batch of every query of ``spark`` in the metrics store (``record_progress``).

    Returns the listener (``spark.streams.removeListener`` takes it off again).
    """
    from pyspark import SparkContext
    from pyspark.sql.streaming import StreamingQueryListener

    class MetricsListener(StreamingQueryListener):
        """Registered through the public API; the JVM talks to ``ProgressJsonCallback``.

        ``_jlistener`` is the one private hook used: pyspark 4.2 (pinned) hands the JVM whatever it
        returns. ``test_every_batch_reaches_the_metrics_store_with_its_phases`` guards it.
        """

        @property
        def _jlistener(self) -> Any:
            if not hasattr(self, "_json_listener"):
                callback = ProgressJsonCallback(lambda p: record_progress(metrics_dir, p))
                wrapper = SparkContext._jvm.PythonStreamingQueryListenerWrapper  # type: ignore[union-attr]
                self._json_listener = wrapper(callback)
            return self._json_listener

        def onQueryStarted(self, event: Any) -> None:
            pass

        def onQueryProgress(self, event: Any) -> None:
            pass

        def onQueryIdle(self, event: Any) -> None:
            pass

        def onQueryTerminated(self, event: Any) -> None:
            pass

    listener = MetricsListener()
    spark.streams.addListener(listener)
    return listener
