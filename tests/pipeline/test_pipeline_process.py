"""The pipeline as a real process: crash with kill -9 and recover, stop on SIGTERM, one writer only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clickstream.generator.ledger import load_ledger
from clickstream.spark.submit import job_application
from tests.support.backlog import generate_backlog, recent_hour

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


def test_kill_9_mid_run_then_restart_loses_and_repeats_nothing(spark, lake):
    generate_backlog(lake, recent_hour(), minutes=4, seed=31)
    ledger = load_ledger(lake.raw)
    running = start_pipeline(lake, "--interval", "1 second", "--max-files-per-trigger", "2")
    try:
        wait_for(lambda: len(batches(lake, "bronze")) >= 3, timeout=120, process=running)
    finally:
        os.killpg(running.pid, signal.SIGKILL)
        running.wait()

    recovered = subprocess.run(
        [
            CLICKSTREAM,
            "pipeline",
            "run",
            "--trigger",
            "available-now",
            "--data-dir",
            str(lake.root),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert "duplicates removed" in recovered.stdout

    def read(path):
        return spark.read.format("delta").load(str(path))

    silver_ids = [row.event_id for row in read(lake.silver).select("event_id").collect()]
    assert read(lake.bronze).count() == ledger.lines
    assert sorted(silver_ids) == sorted(ledger.valid_event_ids)
    assert read(lake.quarantine).count() == ledger.malformed_lines


def test_sigterm_stops_cleanly_and_a_second_writer_is_refused(lake):
    generate_backlog(lake, recent_hour(), minutes=1, seed=41)
    running = start_pipeline(lake, "--interval", "1 second")
    try:
        wait_for(lambda: len(batches(lake, "silver")) >= 1, timeout=120, process=running)
        second = subprocess.run(
            [sys.executable, str(job_application("bronze")), "--data-dir", str(lake.root)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 3
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
