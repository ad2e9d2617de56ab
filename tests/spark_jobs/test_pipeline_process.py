"""The pipeline as a real process: stop on SIGTERM, one writer only. (Crashes: tests/reliability.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.spark_jobs.backlog import generate_backlog, recent_hour

CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))
REPO = Path(__file__).resolve().parents[2]


def start_pipeline(lake, *extra: str) -> subprocess.Popen:
    command = [CLICKSTREAM, "pipeline", "run", "--data-dir", str(lake.root), *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def batches(lake, query: str) -> list[dict]:
    path = lake.metrics / "streaming" / f"{query}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_sigterm_stops_cleanly_and_a_second_writer_is_refused(lake):
    generate_backlog(lake, recent_hour(), minutes=1, seed=41)
    running = start_pipeline(lake, "--interval", "1 second")
    try:
        wait_for(lambda: len(batches(lake, "silver")) >= 1, timeout=120, process=running)
        second = subprocess.run(
            [sys.executable, str(REPO / "spark_jobs" / "bronze.py"), "--data-dir", str(lake.root)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert second.stderr.strip().count("\n") == 0
        assert "is in use by another running job" in second.stderr

        running.send_signal(signal.SIGTERM)
        stdout, stderr = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
    assert running.returncode == 0, stderr[-2000:]
    assert "SIGTERM received" in stderr
    assert "silver" in stdout  # the summary table
