"""spark-submit: the command line of a job and the environment it gets (an allow-list).

Input: a job name, its arguments and ``SparkSettings``. Output: the argv and env of a spark-submit
child. No pyspark import: DAG files and the CLI build commands without a JVM.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from clickstream.core.config import SPARK_JOBS_DIR, SparkSettings
from clickstream.core.errors import ClickstreamError
from clickstream.spark.spark_conf import job_conf

if TYPE_CHECKING:
    pass


def submit_args(settings: SparkSettings) -> list[str]:
    """``spark-submit`` arguments that give a job what ``launch_conf`` gives an in-process session."""
    conf = job_conf(settings)
    args = ["--master", conf.pop("spark.master"), "--jars", conf.pop("spark.jars")]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return args


JOB_SUFFIX = "_job"


def job_names() -> list[str]:
    """The Spark jobs shipped in the package: ``clickstream/spark_jobs/<name>_job.py``."""
    return sorted(
        path.stem.removesuffix(JOB_SUFFIX) for path in SPARK_JOBS_DIR.glob(f"*{JOB_SUFFIX}.py")
    )


def job_application(job: str) -> Path:
    """The file spark-submit runs for ``job``; an unknown job is one line naming the known ones."""
    application = SPARK_JOBS_DIR / f"{job}{JOB_SUFFIX}.py"
    if not application.is_file():
        raise ClickstreamError(f"no Spark job {job!r} (known: {', '.join(job_names())})")
    return application


def spark_submit_command(
    job: str, job_args: list[str], settings: SparkSettings | None = None
) -> list[str]:
    """The full spark-submit command line for ``clickstream/spark_jobs/<job>_job.py`` with ``job_args``."""
    application = job_application(job)
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
