"""Starting the product's own commands as child processes, the way a user runs them.

Input: ``clickstream`` arguments and a lakehouse data folder. Output: a running or finished
process, its output in a log file beside the data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickstream.core.config import LakehousePaths, resolve_paths
from clickstream.core.errors import ClickstreamError
from clickstream.generator.engine import GeneratorSettings, generate

CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))
# Backlogs are history of a fixed past day: reproducible, and well inside silver's time bounds.
BACKLOG_START = datetime(2026, 1, 1, tzinfo=UTC)


def lakehouse(folder: Path, raw: Path | None = None) -> LakehousePaths:
    return resolve_paths({"root": folder, "raw": raw}, environ={})


def path_flags(paths: LakehousePaths) -> list[str]:
    return ["--data-dir", str(paths.root), "--raw-dir", str(paths.raw)]


def start(args: list[str], log: Path) -> subprocess.Popen:
    """``clickstream ARGS`` in the background (its own process group), output into ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [CLICKSTREAM, *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def run(args: list[str], log: Path, timeout: float | None = None) -> float:
    """``clickstream ARGS`` to the end; its wall seconds. A failure raises with the log's tail;
    past ``timeout`` seconds its whole process group is killed and it raises too."""
    began = time.perf_counter()
    process = start(args, log)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        command = " ".join(args[:3])
        raise ClickstreamError(f"clickstream {command} timed out after {timeout:.0f} s") from None
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise ClickstreamError(f"clickstream {' '.join(args[:3])} failed:\n{tail}")
    return time.perf_counter() - began


def stop(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM (the jobs stop after their running batch); past ``timeout`` seconds kill the group."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def write_backlog(folder: Path, events: int, files: int, seed: int = 1) -> int:
    """``events`` valid events of history in ``files`` JSON-lines files, no faults; lines written.

    Flushed to disk before it returns, so the write-back of half a gigabyte of fresh files is not
    charged to the first stage that reads them."""
    interval = 10.0
    settings = GeneratorSettings(
        out=folder,
        rate=events / (files * interval),
        interval=interval,
        start=BACKLOG_START,
        duration=files * interval,
        seed=seed,
    )
    lines = generate(settings).lines
    os.sync()
    return lines


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not condition():
        if datetime.now(UTC) > deadline:
            raise ClickstreamError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)
