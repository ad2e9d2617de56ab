"""Resource use of the processes a benchmark part starts: peak RSS of each, CPU seconds.

Input: the current process's descendants (the ``clickstream`` commands, their spark-submit, JVMs
and Python drivers), sampled with psutil every ``interval`` seconds while a part runs. Output:
per process its command, kind (jvm or python), peak RSS and CPU seconds at its last sample (a
process's last half second before it exits is missed), and their sum.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil


@dataclass
class ProcessUse:
    pid: int
    kind: str
    command: str
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0


def describe(process: psutil.Process) -> tuple[str, str]:
    """(kind, short command) of a process: the JVM's main class or the Python script it runs."""
    cmdline = process.cmdline()
    name = process.name()
    if name == "java":
        main = next((arg for arg in cmdline if arg.endswith(".py")), cmdline[-1] if cmdline else "")
        return "jvm", f"java {main.rsplit('/', 1)[-1]}"
    words = [arg.rsplit("/", 1)[-1] for arg in cmdline[:4]]
    return "python" if "python" in name or "clickstream" in " ".join(words) else name, " ".join(
        words
    )


@dataclass
class ResourceSampler:
    """Context manager sampling every descendant of this process until exit."""

    interval: float = 0.5
    # By (pid, name): spark-submit's shell script execs the JVM under the same pid.
    processes: dict[tuple[int, str], ProcessUse] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ResourceSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                children = me.children(recursive=True)
            except psutil.Error:  # a process ended during the walk: sample again next time
                children = []
            for process in children:
                self._sample(process)
            self._stop.wait(self.interval)

    def _sample(self, process: psutil.Process) -> None:
        try:
            with process.oneshot():
                rss = process.memory_info().rss / 2**20
                times = process.cpu_times()
                key = (process.pid, process.name())
                use = self.processes.get(key)
                if use is None:
                    kind, command = describe(process)
                    use = self.processes[key] = ProcessUse(process.pid, kind, command)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return
        use.peak_rss_mb = max(use.peak_rss_mb, round(rss, 1))
        use.cpu_seconds = round(times.user + times.system, 2)

    def report(self) -> dict:
        """{processes: [...], peak RSS per kind, CPU seconds of them all}."""
        processes = [vars(use) for use in self.processes.values() if use.kind in ("jvm", "python")]
        return {
            "processes": processes,
            "peak_rss_mb_jvm": max(
                (p["peak_rss_mb"] for p in processes if p["kind"] == "jvm"), default=0
            ),
            "peak_rss_mb_python": max(
                (p["peak_rss_mb"] for p in processes if p["kind"] == "python"), default=0
            ),
            "cpu_seconds": self.cpu_seconds,
        }

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of the JVMs and Python processes (an exec'd pid counts once, as itself)."""
        uses = [use for use in self.processes.values() if use.kind in ("jvm", "python")]
        return round(sum(use.cpu_seconds for use in uses), 1)
