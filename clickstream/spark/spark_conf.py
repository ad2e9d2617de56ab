"""The Spark conf of every job and session, in one place: Delta, state store, time zone, memory, JVM options.

Input: ``SparkSettings``. Output: conf dictionaries. Nothing here starts a JVM or imports pyspark.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.config import SparkSettings
from clickstream.spark.jars import required_jars

if TYPE_CHECKING:
    pass


LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")


ROCKSDB_PROVIDER = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"


# The throughput collector: on 2 cores the pipeline's catch-up of 1,000,000 events took 50.8-51.9 s
# with it against 59.7-62.7 s with G1, Java 17's default, and 110 against 127-136 CPU seconds (G1's
# write barriers and concurrent threads compete with the tasks for the cores; docs/performance-log.md).
DEFAULT_GARBAGE_COLLECTOR = "-XX:+UseParallelGC"


def session_conf(settings: SparkSettings) -> dict[str, str]:
    """Spark conf every session gets, whoever started the JVM."""
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.streaming.stateStore.providerClass": ROCKSDB_PROVIDER,
        # Delta replays its log with this many tasks; the default 50 dominates on small tables.
        "spark.databricks.delta.snapshotPartitions": "2",
        # VACUUM lists a table's files with this many tasks (default 10,000): on small tables
        # that took 28-43 s a table; with 4 tasks, 4-17 s.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(
            settings.shuffle_partitions
        ),
        # Partitioned writes keep up to this many files open per task instead of sorting each
        # batch by its partition column first (a batch spans one or two dates): bronze catch-up of
        # 1,000,000 lines 6.6-7.9 s -> 5.4-5.5 s (docs/performance-log.md).
        "spark.sql.maxConcurrentOutputFileWriters": "8",
        "spark.ui.enabled": str(settings.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
    }


def with_default_collector(java_options: str) -> str:
    """JVM options -> the same options, led by ``DEFAULT_GARBAGE_COLLECTOR`` unless they choose a
    collector themselves (a JVM given two refuses to start)."""
    if re.search(r"-XX:\+Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC\b", java_options):
        return java_options
    return f"{DEFAULT_GARBAGE_COLLECTOR} {java_options}".strip()


def launch_conf(settings: SparkSettings, java_options: str = "") -> dict[str, str]:
    """Conf that only takes effect when the JVM starts: jars, master, memory, JVM options."""
    jars = ",".join(str(path) for path in required_jars())
    chosen = " ".join(part for part in (settings.java_options, java_options) if part)
    options = f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG} {with_default_collector(chosen)}"
    return {
        "spark.master": settings.master,
        "spark.jars": jars,
        "spark.driver.memory": settings.driver_memory,
        "spark.driver.extraJavaOptions": options,
        "spark.executor.extraJavaOptions": options,
    }


def job_conf(settings: SparkSettings) -> dict[str, str]:
    """Everything a spark-submit job is launched with (master and jars included): the launch and
    session conf, and this venv's Python for the driver and the executors."""
    python = sys.executable
    return (
        launch_conf(settings)
        | session_conf(settings)
        | {"spark.pyspark.python": python, "spark.pyspark.driver.python": python}
    )
