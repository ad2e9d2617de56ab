"""The one Spark session builder for every job, test and tool.

Input: an app name, ``SparkSettings`` (master, shuffle partitions, memory, UI) and optional extra
Spark conf. Output: a ``SparkSession`` with Delta Lake (extension + catalog, jars from the local
jars folder through ``spark.jars``), UTC session time, RocksDB state store and quiet logs.

Under ``spark-submit`` the JVM already runs with ``--master`` and ``--jars`` (see ``submit_args``);
the builder then leaves master, jars and JVM options to spark-submit and sets the rest.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.config import SparkSettings
from clickstream.errors import ClickstreamError
from clickstream.jvm_deps import REPO_ROOT, required_jars

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
SPARK_JOBS_DIR = REPO_ROOT / "spark_jobs"
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


def submit_args(settings: SparkSettings) -> list[str]:
    """``spark-submit`` arguments that give a job what ``launch_conf`` gives an in-process session."""
    conf = job_conf(settings)
    args = ["--master", conf.pop("spark.master"), "--jars", conf.pop("spark.jars")]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return args


def spark_submit_command(
    job: str, job_args: list[str], settings: SparkSettings | None = None
) -> list[str]:
    """The full spark-submit command line for ``spark_jobs/<job>.py`` with ``job_args``."""
    application = SPARK_JOBS_DIR / f"{job}.py"
    if not application.is_file():
        known = ", ".join(sorted(path.stem for path in SPARK_JOBS_DIR.glob("*.py")))
        raise ClickstreamError(f"no job {job!r} in {SPARK_JOBS_DIR} (known: {known})")
    settings = settings or SparkSettings.from_env()
    spark_submit = str(Path(sys.executable).with_name("spark-submit"))
    return [spark_submit, *submit_args(settings), str(application), *job_args]


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package (found without importing it)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise ClickstreamError("pyspark is not installed: run `make setup`")
    return Path(spec.origin).parent


# What a Spark job gets of this process's environment, whatever the master: on YARN and Kubernetes
# these become the driver's environment through `--conf` (so they are on a command line and in
# Spark's conf), so the list is short, explicit and holds no secret. CLICKSTREAM_* settings are
# configuration, never secrets (a key is read from a file whose path they name).
JOB_VARIABLES = ("SPARK_HOME", "PYSPARK_PYTHON", "PYTHONUNBUFFERED", "JAVA_HOME")
JOB_PREFIX = "CLICKSTREAM_"
# What the spark-submit launcher needs to start on this machine: find java, bash and python, a
# home and a locale, and the site's Spark, Hadoop, Kerberos and Kubernetes configuration. Only the
# launcher's process environment gets them, never a `--conf`: they stay on this machine.
LAUNCHER_VARIABLES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SPARK_CONF_DIR",
    "SPARK_LOCAL_DIRS",
    "SPARK_LOCAL_IP",
    "HADOOP_CONF_DIR",
    "YARN_CONF_DIR",
    "HADOOP_HOME",
    "HADOOP_USER_NAME",
    "KRB5CCNAME",
    "KRB5_CONFIG",
    "KUBECONFIG",
)


def is_local(master: str) -> bool:
    return master.startswith("local")


def job_env(master: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables a job gets for ``master``: ``JOB_VARIABLES`` found in
    ``environ``, every ``CLICKSTREAM_*``, ``SPARK_HOME`` of the installed pyspark and, for a local
    master only, ``SPARK_LOCAL_IP`` (loopback unless set)."""
    environ = os.environ if environ is None else environ
    env = {name: environ[name] for name in JOB_VARIABLES if name in environ}
    env |= {name: value for name, value in environ.items() if name.startswith(JOB_PREFIX)}
    env["SPARK_HOME"] = str(spark_home())
    if is_local(master):
        env["SPARK_LOCAL_IP"] = environ.get("SPARK_LOCAL_IP", "127.0.0.1")
    return env


def launcher_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``LAUNCHER_VARIABLES`` found in ``environ``."""
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in LAUNCHER_VARIABLES if name in environ}


def spark_submit_env(
    settings: SparkSettings | None = None,
    master: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a spark-submit child: ``launcher_env`` and ``job_env``, nothing
    else of ``environ`` (default: this process's). ``master`` overrides the settings' master."""
    settings = settings or SparkSettings.from_env(environ)
    return launcher_env(environ) | job_env(master or settings.master, environ)


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
