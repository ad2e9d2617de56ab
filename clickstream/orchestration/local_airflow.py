"""Airflow on this machine with no external service: ``airflow standalone`` over ``.airflow/``.

Input: the lakehouse paths and a port. Output: ``clickstream airflow up`` serves the UI (and runs
the scheduler, DAG processor and triggerer) until Ctrl-C; ``clickstream airflow demo`` starts the
same in the background, triggers ``clickstream_streaming`` through the REST API, follows it to the
end, prints the tables and stops Airflow again.

Airflow standalone means SQLite metadata and the LocalExecutor in ``$AIRFLOW_HOME`` (default
``<repo>/.airflow``), auth on: user ``admin`` with a password generated once into
``$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``, mode 0600.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clickstream.core import config
from clickstream.core.errors import ClickstreamError

DEFAULT_PORT = 8080
ADMIN = "admin"
STREAMING_DAG = "clickstream_streaming"
START_TIMEOUT = 300  # seconds for Airflow to come up and parse the DAGs (slow on 2 cores)
STOP_TIMEOUT = 60
# The REST API is on loopback: never through an HTTP proxy of the environment.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or config.home_dir() / ".airflow").absolute()


def password_file(home: Path) -> Path:
    return home / "simple_auth_manager_passwords.json.generated"


def ensure_password_file(home: Path) -> Path:
    """The admin's password file, readable by its owner only (0600): created here with a random
    password (Airflow would create it under the umask, often 0644), or its mode tightened."""
    import secrets

    path = password_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path
    with os.fdopen(descriptor, "w") as file:
        json.dump({ADMIN: secrets.token_urlsafe(16)}, file)
    return path


def airflow_env(paths: config.LakehousePaths, port: int) -> dict[str, str]:
    """The environment of every Airflow process: this project's DAGs, data root and venv.

    Settings already in the environment win, except the port and the lakehouse paths, which come
    from the command line (``--port``, ``--data-dir`` and the other path flags).
    """
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)  # airflow, spark-submit and clickstream live here
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["AIRFLOW_HOME"] = str(airflow_home())
    env["AIRFLOW__API__PORT"] = str(port)
    env[config.DATA_DIR_ENV] = str(paths.root.absolute())
    for setting in config.PATH_SETTINGS:  # every path, so a --<name>-dir flag reaches the tasks
        env[setting.env] = str(getattr(paths, setting.name).absolute())
    master = config.SparkSettings.from_env().master
    defaults = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Worker processes of the LocalExecutor: the streaming DAG needs 4 at once, not the 32
        # that Airflow starts by default (100 MB each).
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": master}),
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    return env


def check_port_free(port: int) -> None:
    """Fail in one line if something already listens on ``port`` (e.g. another Airflow)."""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise ClickstreamError(
                f"port {port} is already in use: stop what runs there or pass --port"
            )


def start_standalone(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """``airflow standalone`` in its own process group, its output into ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_standalone(process: subprocess.Popen) -> None:
    """Ctrl-C the whole group (standalone's own way to stop its components), then SIGTERM, then
    SIGKILL, each after a grace period, until no process of the group is left."""
    for signum, grace in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reap the leader, so only live members keep the group
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


def wait_for(what: str, ready: Callable[[], Any], timeout: float, alive: Callable[[], None]) -> Any:
    """Poll ``ready`` every 2 s until it returns something truthy; ``alive`` raises if the
    process we wait on died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        value = ready()
        if value:
            return value
        time.sleep(2)
    raise ClickstreamError(f"timed out after {timeout:.0f} s waiting for {what}")


class AirflowApi:
    """The few REST calls the demo needs, as the admin user (a JWT from ``/auth/token``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with LOOPBACK.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, None

    def login(self, password: str) -> bool:
        status, body = self.request(
            "POST", "/auth/token", {"username": ADMIN, "password": password}
        )
        if status in (200, 201):
            self.token = body["access_token"]
            return True
        return False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.request(method, path, body)
        if status not in (200, 201):
            raise ClickstreamError(f"Airflow API {method} {path} answered {status}: {answer}")
        return answer


def read_password(home: Path) -> str | None:
    try:
        return json.loads(password_file(home).read_text())[ADMIN]
    except (OSError, ValueError, KeyError):
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"UI and API port (default {DEFAULT_PORT})"
    )


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    add_arguments(parser)
    parser.add_argument(
        "--minutes", type=float, default=3, help="length of the streaming run (default 3)"
    )
    parser.add_argument(
        "--rate", type=int, default=100, help="live events per second (default 100)"
    )
    parser.add_argument(
        "--history-minutes",
        type=int,
        default=60,
        help="minutes of event history landed before the run, so every gold window closes, the "
        "funnel summary's too (behind two watermarks) (default 60; 0 for none)",
    )


def run_up(args: argparse.Namespace) -> int:
    """``clickstream airflow up``: Airflow standalone in the foreground until Ctrl-C."""
    paths = config.paths_from_args(args)
    env = airflow_env(paths, args.port)
    home = Path(env["AIRFLOW_HOME"])
    ensure_password_file(home)
    print(
        f"Airflow UI: http://localhost:{args.port} (user {ADMIN}, password in {password_file(home)})"
    )
    print(
        f"AIRFLOW_HOME={home}, DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}, data in {paths.root}"
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    os.execve(airflow, [airflow, "standalone"], env)


def print_progress(task_states: dict[str, str], seen: dict[str, str]) -> None:
    for task_id, state in sorted(task_states.items()):
        if seen.get(task_id) != state:
            print(f"   {datetime.now(UTC):%H:%M:%S} {task_id}: {state}", flush=True)
            seen[task_id] = state


def follow_run(api: AirflowApi, run_id: str, timeout: float, alive: Callable[[], None]) -> str:
    """Print task state changes until the run ends; return its final state."""
    seen: dict[str, str] = {}
    runs = f"/api/v2/dags/{STREAMING_DAG}/dagRuns/{run_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        instances = api.call("GET", f"{runs}/taskInstances")["task_instances"]
        print_progress({ti["task_id"]: ti["state"] or "none" for ti in instances}, seen)
        state = api.call("GET", runs)["state"]
        if state in ("success", "failed"):
            return state
        time.sleep(5)
    raise ClickstreamError(f"run {run_id} still running after {timeout:.0f} s")


def run_demo(args: argparse.Namespace) -> int:
    """``clickstream airflow demo``: Airflow up, one streaming run, the tables, Airflow down."""
    from clickstream.spark.jars import required_jars

    required_jars()  # one line and exit 3 before anything starts if setup was not run
    paths = config.paths_from_args(args)
    env = airflow_env(paths, args.port)
    home = Path(env["AIRFLOW_HOME"])
    ensure_password_file(home)
    if args.history_minutes:
        land_history(paths, args.history_minutes)
    check_port_free(args.port)
    log_path = home / "standalone.log"
    print(f"== starting Airflow standalone (log: {log_path})", flush=True)
    process = start_standalone(env, log_path)

    def alive() -> None:
        if process.poll() is not None:
            raise ClickstreamError(
                f"airflow standalone exited ({process.returncode}); see {log_path}"
            )

    try:
        api = AirflowApi(f"http://127.0.0.1:{args.port}")
        password = wait_for("the admin password", lambda: read_password(home), START_TIMEOUT, alive)
        wait_for("the API server", lambda: api.login(password), START_TIMEOUT, alive)
        wait_for(
            f"the DAG processor to load {STREAMING_DAG}",
            lambda: api.request("GET", f"/api/v2/dags/{STREAMING_DAG}")[0] == 200,
            START_TIMEOUT,
            alive,
        )
        api.call("PATCH", f"/api/v2/dags/{STREAMING_DAG}", {"is_paused": False})
        conf = {"duration_minutes": args.minutes, "events_per_second": args.rate}
        run = api.call(
            "POST", f"/api/v2/dags/{STREAMING_DAG}/dagRuns", {"logical_date": None, "conf": conf}
        )
        print(f"== triggered {STREAMING_DAG} run {run['dag_run_id']} with {conf}", flush=True)
        state = follow_run(api, run["dag_run_id"], args.minutes * 60 + 900, alive)
    finally:
        print("== stopping Airflow", flush=True)
        stop_standalone(process)
    print(f"== run {state}")
    print_tables(paths)
    print(f"Airflow UI: `make airflow`, then http://localhost:{args.port}")
    print(f"   user {ADMIN}, password in {password_file(home)}")
    return 0 if state == "success" else 1


def land_history(paths: config.LakehousePaths, minutes: int) -> None:
    """A backfill of the last ``minutes`` of events with every fault kind, before the live run."""
    from clickstream.generator.engine import GeneratorSettings, generate
    from clickstream.generator.faults import FaultSettings
    from clickstream.pipeline.local_demo import DEMO_FAULTS

    end = datetime.now(UTC).replace(microsecond=0)
    settings = GeneratorSettings(
        out=paths.raw,
        rate=20,
        start=end - timedelta(minutes=minutes),
        end=end,
        faults=FaultSettings(**DEMO_FAULTS),
    )
    summary = generate(settings)
    print(f"== landed {minutes} min of history: {summary.events:,} events in {paths.raw}")


def print_tables(paths: config.LakehousePaths) -> None:
    """Rows of every table, and the ledger identities."""
    from clickstream.pipeline.reconcile import print_reconciliation, print_summary, summarize
    from clickstream.spark.session import build_spark_session

    spark = build_spark_session("clickstream-demo-summary")
    try:
        summary = summarize(spark, paths)
    finally:
        spark.stop()
    print_summary(summary, paths)
    print_reconciliation(summary, paths.raw)
