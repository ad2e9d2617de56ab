"""Atomic landing: a reader of the raw folder sees whole files, each with its ledger already there.

Input: a folder, a file time and the bytes of a data file and of its ledger. Output:
``<folder>/events_YYYYMMDD_HHMMSS[_N].json`` and ``<folder>/_ledger/<that name>.json``.

Each file is written under a hidden name (leading ``.``) in its final folder, fsynced, then renamed
with ``os.replace`` (atomic on one file system). The ledger lands before the data file. A name is
reserved by creating that hidden file exclusively (``O_EXCL``), so two generators writing into one
folder never land two files under one name.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from clickstream.core.atomic_files import hidden_path, write_atomically
from clickstream.core.errors import ClickstreamError
from clickstream.generator.ledger import DATA_FILE_PREFIX, LEDGER_DIR, ledger_path


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and its ledger folder; raise ``ClickstreamError`` if they cannot be written."""
    try:
        (folder / LEDGER_DIR).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        raise ClickstreamError(f"cannot write to {folder}: {error.strerror or error}") from error


class Lander:
    """Names and lands the data files of one run in one folder.

    With ``background=True`` files are landed in order by one writer thread (writing and fsync
    release the GIL, so generation goes on meanwhile); ``close()`` waits for the last one.
    """

    def __init__(self, folder: Path, background: bool = False) -> None:
        self.folder = folder
        ensure_writable(folder)
        self._taken: set[str] = set()
        self._queue: queue.Queue[tuple[str, bytes | Sequence[bytes], bytes] | None] | None = None
        self._error: BaseException | None = None
        if background:
            self._queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(
                target=self._drain, args=(self._queue,), name="lander", daemon=True
            )
            self._thread.start()

    def reserve_name(self, epoch_seconds: float) -> str:
        """``events_YYYYMMDD_HHMMSS.json`` for that second, ``_1``, ``_2``... if already taken
        (by this run, a landed file, or another process that reserved it)."""
        stamp = datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y%m%d_%H%M%S")
        name = f"{DATA_FILE_PREFIX}{stamp}.json"
        suffix = 0
        while self._is_taken(name) or not self._claim(name):
            suffix += 1
            name = f"{DATA_FILE_PREFIX}{stamp}_{suffix}.json"
        self._taken.add(name)
        return name

    def _claim(self, name: str) -> bool:
        """Create the hidden file the data will be written to; False if it already exists."""
        try:
            os.close(os.open(hidden_path(self.folder / name), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def _is_taken(self, name: str) -> bool:
        return (
            name in self._taken
            or (self.folder / name).exists()
            or ledger_path(self.folder, name).exists()
        )

    def land(self, name: str, data: bytes | Sequence[bytes], ledger: bytes) -> None:
        """Land the ledger, then the data file (now, or soon in the background)."""
        self._raise_error()
        if self._queue is None:
            self._write(name, data, ledger)
        else:
            self._queue.put((name, data, ledger))

    def close(self) -> None:
        """Wait until every file is landed; raise the writer's error if it had one."""
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        self._raise_error()

    def _write(self, name: str, data: bytes | Sequence[bytes], ledger: bytes) -> None:
        write_atomically(ledger_path(self.folder, name), ledger)
        write_atomically(self.folder / name, data)

    def _drain(self, items: queue.Queue[tuple[str, bytes | Sequence[bytes], bytes] | None]) -> None:
        """The writer thread: land queued files in order until the ``None`` that ends the run."""
        while (item := items.get()) is not None:
            if self._error is None:
                try:
                    self._write(*item)
                except OSError as error:
                    self._error = error

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise ClickstreamError(f"cannot land files in {self.folder}: {error}") from error
