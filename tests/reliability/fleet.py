"""A fleet of pipeline processes to crash: start each, kill -9 it, restart it, count what happened.

Input: a lakehouse and the command of each process (generator, bronze, silver, gold runner). Output:
the processes running side by side, each in its own process group (so ``kill -9`` reaches
spark-submit's JVM and the Python driver alike) with its log under ``<root>/logs``; the kills and
restarts per process; an ``AssertionError`` with the log's tail if a process ever exits by itself.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickstream.core.config import LakehousePaths
from clickstream.core.metrics_store import read_batches
from clickstream.spark.submit import job_application

CLICKSTREAM = str(Path(sys.executable).with_name("clickstream"))
REPO = Path(__file__).resolve().parents[2]
# Every fault the generator makes but lateness (late data is the late-data test's subject: here gold
# must equal the oracle without any row dropped by a watermark).
FAULT_FLAGS = [
    "--duplicate-rate", "0.03",
    "--out-of-order-rate", "0.05",
    "--malformed-rate", "0.03",
    "--bot-rate", "0.05",
]  # fmt: skip
# Small Spark jobs (three JVMs share 2 cores with the test's own): one shuffle partition, a 1 s
# trigger, 2 raw files per bronze batch.
JOB_ENV = {"CLICKSTREAM_SPARK_SHUFFLE_PARTITIONS": "1", "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g"}


def job_command(lake: LakehousePaths, job: str, *extra: str) -> list[str]:
    script = str(job_application(job))
    return [sys.executable, script, "--data-dir", str(lake.root), *extra]


def streaming_command(lake: LakehousePaths, job: str) -> list[str]:
    extra = ["--max-files-per-trigger", "2"] if job == "bronze" else []
    return job_command(lake, job, "--interval", "1 second", *extra)


def generator_command(lake: LakehousePaths, seed: int) -> list[str]:
    """Real time, 30 events/s, a file every 2 s of event time, every fault but lateness."""
    return [
        CLICKSTREAM, "generate", "--out", str(lake.raw),
        "--rate", "30", "--seconds-per-file", "2", "--seed", str(seed), *FAULT_FLAGS,
    ]  # fmt: skip


def land_history(lake: LakehousePaths, minutes: int) -> None:
    """Backfill the ``minutes`` before now (10 events/s, a file a minute, the same faults), so that
    gold has windows and sessions to close while the live stream runs."""
    end = datetime.now(UTC).replace(microsecond=0, tzinfo=None) - timedelta(seconds=30)
    start = end - timedelta(minutes=minutes)
    subprocess.run(
        [
            CLICKSTREAM, "generate", "--out", str(lake.raw), "--start", start.isoformat(),
            "--end", end.isoformat(), "--rate", "10", "--seconds-per-file", "60", "--seed", "999",
            *FAULT_FLAGS,
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


@dataclass
class Member:
    """One supervised process and its kill schedule: ``window`` seconds (uniform) after it starts,
    or, with ``progress`` (a Spark job: per watched query, the batches with rows it recorded in the
    metrics store), after this run committed a batch with rows in every watched query, so that
    kills hit a streaming job at work (often inside its next batch), not a JVM still starting
    (which on a busy machine can take longer than any window), and the pipeline moves on between
    kills."""

    name: str
    window: tuple[float, float]
    progress: Callable[[], Counter[str]] | None = None
    process: subprocess.Popen | None = None
    log: Path | None = None
    kill_at: float | None = None
    started_at: float = 0.0
    progress_at_start: Counter[str] = field(default_factory=Counter)
    starts: int = 0

    def first_batch_done(self) -> bool:
        if self.kill_at is not None:
            return False
        now = self.progress()
        return all(now[query] > self.progress_at_start[query] for query in now)


@dataclass
class Fleet:
    """The generator and the streaming jobs, crashed at random moments and restarted."""

    lake: LakehousePaths
    rng: random.Random
    members: dict[str, Member] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # second instances refused, per job

    def command(self, name: str) -> list[str]:
        if name == "generator":
            return generator_command(self.lake, seed=1000 + self.members[name].starts)
        return streaming_command(self.lake, name)

    def add(self, name: str, window: tuple[float, float], queries: Sequence[str] = ()) -> None:
        """Start ``name``; with ``queries``, its kill window opens once each of them committed a
        batch with rows."""

        def progress() -> Counter[str]:
            return Counter(
                {
                    query: sum(1 for b in read_batches(self.lake.metrics, query) if b["rows_in"])
                    for query in queries
                }
            )

        self.members[name] = Member(name, window, progress if queries else None)
        self.start(name)

    def start(self, name: str) -> None:
        member = self.members[name]
        logs = self.lake.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        member.log = logs / f"{name}.{member.starts}.log"
        with open(member.log, "wb") as log:
            member.process = subprocess.Popen(
                self.command(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **JOB_ENV},
            )
        member.starts += 1
        member.started_at = time.monotonic()
        member.kill_at = None
        if member.progress is not None:
            member.progress_at_start = member.progress()
        else:
            member.kill_at = member.started_at + self.rng.uniform(*member.window)

    def kill(self, name: str) -> None:
        """kill -9 the process group of ``name`` (all its processes) and reap it."""
        process = self.members[name].process
        self.check_alive(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def check_alive(self, name: str) -> None:
        member = self.members[name]
        if member.process.poll() is not None:
            raise AssertionError(
                f"{name} exited by itself with {member.process.returncode}:\n"
                + member.log.read_text(errors="replace")[-3000:]
            )

    def second_instance_is_refused(self, job: str) -> None:
        """Start ``job`` again on the checkpoint its running instance holds: it must stop at once
        with one error line, before touching anything."""
        second = subprocess.run(
            job_command(self.lake, job, "--trigger", "available-now"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 3, second.stderr[-2000:]
        assert "is in use by another running job" in second.stderr
        assert second.stderr.strip().count("\n") == 0
        self.refused[job] += 1

    def crash_until(self, total: int, each: int, probes: set[str]) -> None:
        """Kill -9 every member at its own random moments, restarting it at once, until there were
        ``total`` kills and every member was killed ``each`` times (a quick member, the generator,
        is killed more often meanwhile). A job in ``probes`` gets, once, a second instance
        started beside it (refused)."""

        def done() -> bool:
            counts = [self.kills[name] for name in self.members]
            return sum(counts) >= total and min(counts) >= each

        while not done():
            for name in self.members:
                self.check_alive(name)
            for member in self.members.values():
                if member.first_batch_done():
                    if member.name in probes:  # it holds its locks and streams: try a second one
                        self.second_instance_is_refused(member.name)
                        probes.discard(member.name)
                    member.kill_at = time.monotonic() + self.rng.uniform(*member.window)
            now = time.monotonic()
            for member in self.members.values():
                if member.kill_at is not None and now >= member.kill_at and not done():
                    self.kill(member.name)
                    self.kills[member.name] += 1
                    self.start(member.name)
            time.sleep(0.2)

    def stop_all(self) -> None:
        """kill -9 every member (the last crash of each) without restarting."""
        for member in self.members.values():
            if member.process is not None and member.process.poll() is None:
                os.killpg(member.process.pid, signal.SIGKILL)
                member.process.wait()
