"""The one Spark session builder for every job, test and tool.

Input: an app name, ``SparkSettings`` (master, shuffle partitions, memory, UI) and optional extra
Spark conf. Output: a ``SparkSession`` with Delta Lake (extension + catalog, jars from the local
jars folder through ``spark.jars``), UTC session time, RocksDB state store and quiet logs.

Under ``spark-submit`` the JVM already runs with ``--master`` and ``--jars`` (see ``clickstream.spark.submit``);
the builder then leaves master, jars and JVM options to spark-submit and sets the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from clickstream.core.config import SparkSettings
from clickstream.spark.jars import required_jars
from clickstream.spark.spark_conf import launch_conf, session_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def launched_by_spark_submit() -> bool:
    """True inside a Python driver that spark-submit started (its JVM is already up)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_spark_session(
    app_name: str,
    settings: SparkSettings | None = None,
    extra_conf: Mapping[str, str] | None = None,
    java_options: str = "",
) -> SparkSession:
    """Build (or return the running) Spark session named ``app_name``; see the module docstring."""
    from pyspark.sql import SparkSession

    required_jars()  # fail in one line, before any JVM starts, if setup has not run
    settings = settings or SparkSettings.from_env()
    conf = session_conf(settings)
    if not launched_by_spark_submit():
        conf |= launch_conf(settings, java_options)
        if settings.master.startswith("local"):
            # A local JVM talks only to itself: bind to loopback, not to the first interface.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers (Arrow functions such as IP privacy's) run this venv's Python, as a
        # spark-submit job's do (``job_conf``), not the first python3 on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf |= dict(extra_conf or {})
    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
