"""Checkpoint locks: one running instance per checkpoint, and orphaned log files cleared."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

from clickstream.core.errors import ClickstreamError

log = logging.getLogger("clickstream.streaming")


class CheckpointLock:
    """An exclusive lock beside a checkpoint, held while a query may write through it.

    ``flock`` is released by the kernel when the process dies, even by ``kill -9``, so a crash
    never leaves a stale lock. It works on local and NFSv4 file systems, not on object stores.
    """

    def __init__(self, checkpoint: Path):
        self.checkpoint = checkpoint
        self.path = checkpoint.with_name(checkpoint.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> CheckpointLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ClickstreamError(
                f"checkpoint {self.checkpoint} is in use by another running job ({holder}); "
                "stop that job first: two writers on one checkpoint would corrupt it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# Spark writes each entry of a checkpoint's logs as ``.<batch>.<uuid>.tmp`` (with a checksum
# ``..<batch>.<uuid>.tmp.crc``), then renames it; a kill between the two leaves them behind.
ORPHANED_LOG_FILE = re.compile(r"^\.{1,2}\d+\.[0-9a-f-]+\.tmp(\.crc)?$")
CHECKPOINT_LOGS = ("offsets", "commits")


def remove_orphaned_log_files(checkpoint: Path) -> list[Path]:
    """Delete the temporary log files a killed query left in ``checkpoint``; return them.

    Spark never reads them, but Spark 4.2 refuses to start a query whose first batch was never
    logged while its offsets folder holds anything (``STATE_STORE_CHECKPOINT_LOCATION_NOT_EMPTY``).
    Call it only under the checkpoint's lock: a running writer's file would look the same.
    """
    removed = []
    for log_dir in (checkpoint / name for name in CHECKPOINT_LOGS):
        if log_dir.is_dir():
            for path in sorted(log_dir.iterdir()):
                if ORPHANED_LOG_FILE.match(path.name):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


def lock_checkpoints(stack: ExitStack, checkpoints: Iterable[Path]) -> None:
    """Take every lock in ``checkpoints`` on ``stack``, or fail before starting anything; then
    clear what a killed predecessor left half-written in each (``remove_orphaned_log_files``)."""
    for checkpoint in checkpoints:
        stack.enter_context(CheckpointLock(checkpoint))
        for path in remove_orphaned_log_files(checkpoint):
            log.warning("removed %s, left half-written by a killed job", path)
