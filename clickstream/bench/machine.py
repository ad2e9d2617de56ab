"""Facts about the machine and the code a benchmark ran on, recorded with every report.

Output: cores, memory, load averages (the machine may be shared: record its load honestly),
Python, pyspark and delta-spark versions, the git commit and whether the tree was dirty.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version

import psutil

from clickstream.core.config import PACKAGE_DIR


def git(*args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def load() -> dict:
    one, five, fifteen = os.getloadavg()
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg": [one, five, fifteen],
    }


def machine_facts() -> dict:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyspark": version("pyspark"),
        "delta_spark": version("delta-spark"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
