"""Bronze, silver and gold, unchanged, on a real Spark standalone cluster: one master, one worker.

The master and the worker are the installed pyspark's own daemons (``bin/spark-class``), on loopback
ports picked at random. The jobs go through ``clickstream submit`` with
``CLICKSTREAM_SPARK_MASTER=spark://...``; executor size, JVM flags and event logging come from a
``spark-defaults.conf`` in ``SPARK_CONF_DIR``, Spark's standard place for site settings.

Proof that the work ran on the cluster, not in a local driver: the master lists every application as
finished with cores granted, and every task in the applications' event logs ran on an executor of
the worker. The tables are then reconciled with the generator's ledger, and a secret in the
caller's environment is in no job output or event log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clickstream import cli
from clickstream.core.config import DATA_DIR_ENV, PATH_SETTINGS, LakehousePaths, resolve_paths
from clickstream.generator.ledger import load_ledger
from clickstream.spark.submit import spark_home
from clickstream.sql_models import load_project
from tests.conftest import CHILD_JVM_OPTIONS
from tests.support.backlog import FAULT_FLAGS, recent_hour

CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))
JOBS = {"bronze": "clickstream-bronze", "silver": "clickstream-silver", "gold": "clickstream-gold"}
STARTUP_TIMEOUT = 90
JOB_TIMEOUT = 300
# The master answers slowly while a busy 2-core machine starts executors.
STATUS_TIMEOUT = 10
# 2 cores: the whole machine; the driver and the daemons mostly wait while tasks run.
WORKER_CORES = 2
WORKER_MEMORY = "1g"
# Spark refuses executors under 450 MB; 512m gives each application one executor of the worker's 1g.
EXECUTOR_MEMORY = "512m"
# Nine JVMs (daemons, drivers, executors) start on a small data set: the client compiler alone and
# the serial collector halve the CPU they burn. Site flags, prepended to the jobs' own options.
SHORT_LIVED_JVM = CHILD_JVM_OPTIONS
# No HTTP proxy for the master's own JSON endpoint on loopback.
LOOPBACK_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SENTINEL = "sentinel-0c4d-do-not-leak"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def generate_backlog(lake: LakehousePaths, minutes: int) -> None:
    """``minutes`` of events with every fault kind, one raw file per minute of event time: fewer,
    larger files than the default 10 s keep bronze's task count, not the data, small."""
    start = recent_hour()
    end = start + dt.timedelta(minutes=minutes)
    code = cli.main(
        [
            "generate",
            "--out", str(lake.raw),
            "--start", start.isoformat(),
            "--end", end.isoformat(),
            "--seconds-per-file", "60",
            "--rate", "2",
            "--seed", "17",
            *FAULT_FLAGS,
        ]
    )  # fmt: skip
    assert code == 0


def log_tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until(condition: Callable[[], bool], timeout: float, what: str, check=None) -> None:
    """Poll ``condition`` every half second; ``check`` raises early if a process died."""
    deadline = time.monotonic() + timeout
    while not condition():
        if check is not None:
            check()
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.5)


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the whole group (a worker's executors included), then SIGKILL whatever is left."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:  # the group is already empty
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)


@dataclass(frozen=True)
class Cluster:
    master_url: str
    webui_port: int
    conf_dir: Path
    event_log_dir: Path

    def state(self) -> dict:
        """The master's status JSON: workers, active and completed applications."""
        url = f"http://127.0.0.1:{self.webui_port}/json/"
        with LOOPBACK_HTTP.open(url, timeout=STATUS_TIMEOUT) as response:
            return json.load(response)

    def alive_workers(self) -> int:
        try:
            return self.state()["aliveworkers"]
        except (OSError, ValueError):  # the web UI is not up yet, or answers before its JSON page
            return 0

    def completed_apps(self) -> dict[str, dict]:
        """Finished applications by name (none while the master does not answer)."""
        try:
            return {app["name"]: app for app in self.state()["completedapps"]}
        except (OSError, ValueError):
            return {}


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """A master and one worker (2 cores, 1g), both on loopback, killed with their process groups."""
    folders = [tmp_path / "cluster" / name for name in ("logs", "work", "local", "conf", "events")]
    for folder in folders:
        folder.mkdir(parents=True)
    logs, work, local, conf, events = folders
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    master_url = f"spark://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(local),
        "SPARK_DAEMON_JAVA_OPTS": SHORT_LIVED_JVM,
        # The master's REST submission server would take the fixed port 6066: not needed here. If a
        # picked port was taken meanwhile, fail rather than move to the next one, where the worker
        # and the status calls could meet another test's master.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false -Dspark.port.maxRetries=0",
    }
    spark_class = str(spark_home() / "bin" / "spark-class")
    daemons = {
        "master": [
            spark_class, "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(master_ui),
        ],
        "worker": [
            spark_class, "org.apache.spark.deploy.worker.Worker", master_url,
            "--host", "127.0.0.1", "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
            "--webui-port", str(worker_ui), "--work-dir", str(work),
        ],
    }  # fmt: skip
    (conf / "spark-defaults.conf").write_text(
        f"spark.executor.memory {EXECUTOR_MEMORY}\n"
        f"spark.executor.cores {WORKER_CORES}\n"
        f"spark.driver.defaultJavaOptions {SHORT_LIVED_JVM}\n"
        f"spark.executor.defaultJavaOptions {SHORT_LIVED_JVM}\n"
        "spark.eventLog.enabled true\n"
        f"spark.eventLog.dir file://{events}\n"
        "spark.eventLog.compress false\n"
        "spark.eventLog.rolling.enabled false\n"
    )
    cluster = Cluster(master_url, master_ui, conf, events)
    started: list[subprocess.Popen] = []

    def check_alive() -> None:
        for name, process in zip(daemons, started, strict=False):
            assert process.poll() is None, f"{name} exited:\n{log_tail(logs / f'{name}.log')}"

    try:
        for name, command in daemons.items():
            with (logs / f"{name}.log").open("w") as log:
                daemon = subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            started.append(daemon)
        wait_until(lambda: cluster.alive_workers() >= 1, STARTUP_TIMEOUT, "a worker", check_alive)
        yield cluster
    finally:
        for process in reversed(started):
            stop_process_group(process)


def submit(cluster: Cluster, lake: LakehousePaths, job: str) -> subprocess.CompletedProcess:
    """``clickstream submit --data-dir <lake> JOB --trigger available-now`` against the cluster."""
    inherited = {DATA_DIR_ENV, *(setting.env for setting in PATH_SETTINGS)}
    env = {key: value for key, value in os.environ.items() if key not in inherited}
    env |= {
        "CLICKSTREAM_SPARK_MASTER": cluster.master_url,
        "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g",
        "CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS": "2",
        "SPARK_CONF_DIR": str(cluster.conf_dir),
        # The driver binds to loopback, where the executors can reach it.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "AWS_SECRET_ACCESS_KEY": SENTINEL,  # a secret of the caller's: in no conf or event log
    }
    command = [CLICKSTREAM, "submit", "--data-dir", str(lake.root), job]
    command += ["--trigger", "available-now"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_process_group(process)
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"{job} still running after {JOB_TIMEOUT} s:\n{stderr[-3000:]}")
    finally:
        stop_process_group(process)  # a spark-submit JVM or Python driver must not outlive the test
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def event_log(cluster: Cluster, app_id: str) -> list[dict]:
    path = cluster.event_log_dir / app_id
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def spark_master_of(events: list[dict]) -> str:
    [environment] = [e for e in events if e["Event"] == "SparkListenerEnvironmentUpdate"]
    return dict(environment["Spark Properties"])["spark.master"]


def task_executors(events: list[dict]) -> list[tuple[str, str]]:
    """(executor id, host) of every finished task of an application."""
    return [
        (event["Task Info"]["Executor ID"], event["Task Info"]["Host"])
        for event in events
        if event["Event"] == "SparkListenerTaskEnd"
    ]


@pytest.mark.slow
def test_bronze_silver_gold_run_unchanged_on_a_standalone_cluster(spark, cluster, tmp_path):
    lake = resolve_paths({"root": tmp_path / "data"}, environ={})
    # 45 minutes: enough event time for every append model's windows to close at least once
    # (funnel_summary_10m sits behind two 10-minute watermarks and a 10-minute session gap).
    generate_backlog(lake, minutes=45)
    ledger = load_ledger(lake.raw)

    for job in JOBS:
        result = submit(cluster, lake, job)
        assert result.returncode == 0, f"{job} failed:\n{result.stderr[-3000:]}"
        assert SENTINEL not in result.stdout + result.stderr

    def all_finished() -> bool:
        return set(JOBS.values()) <= cluster.completed_apps().keys()

    wait_until(all_finished, 30, "the master to list every application as completed")
    apps = cluster.completed_apps()
    assert apps.keys() == set(JOBS.values()), apps
    for name, app in apps.items():
        assert app["state"] == "FINISHED", app
        assert app["cores"] >= 1, app
        assert SENTINEL not in (cluster.event_log_dir / app["id"]).read_text(), name
        events = event_log(cluster, app["id"])
        assert spark_master_of(events) == cluster.master_url, name
        executors = task_executors(events)
        assert executors, f"{name} ran no task"
        assert all(executor != "driver" for executor, _ in executors), name
        assert {host for _, host in executors} == {"127.0.0.1"}, name

    def read(path: Path):
        return spark.read.format("delta").load(str(path))

    silver_ids = [row.event_id for row in read(lake.silver).select("event_id").collect()]
    assert read(lake.bronze).count() == ledger.lines
    assert sorted(silver_ids) == sorted(ledger.valid_event_ids)
    assert read(lake.quarantine).count() == ledger.malformed_lines
    for model in load_project().order():
        assert read(lake.gold_table(model.name)).count() > 0, model.name
    flagged = read(lake.gold_table("bot_anomalies")).select("user_id").distinct().collect()
    assert {row.user_id for row in flagged} <= ledger.bot_user_ids
