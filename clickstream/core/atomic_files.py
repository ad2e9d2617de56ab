"""Atomic files: a reader sees a file whole or not at all.

Input: a path and its bytes (or pieces of them). Output: the file, written under a hidden name
(``.<name>.tmp``) in its final folder, fsynced, then renamed with ``os.replace`` (atomic on one
file system). The generator lands raw files and their ledgers this way, the gold runner its model
fingerprints, erasure its rewritten raw files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def hidden_name(name: str) -> str:
    """The name a data file is written under, beside its final name, until it lands."""
    return f".{name}.tmp"


IOV_MAX = 1024  # pieces one ``writev`` call takes (the POSIX minimum, Linux's value)


def hidden_path(path: Path) -> Path:
    return path.with_name(hidden_name(path.name))


def write_atomically(path: Path, data: bytes | Sequence[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of it) to ``.<name>.tmp`` beside ``path``, fsync, then
    rename onto ``path``."""
    hidden = hidden_path(path)
    descriptor = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        _write_all(descriptor, [data] if isinstance(data, bytes) else list(data))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(hidden, path)


def _write_all(descriptor: int, pieces: list[bytes]) -> None:
    """Write the pieces with as few ``writev`` calls as the kernel allows (usually one).

    Each system call gives up the GIL and must win it back from the generating thread (up to the
    5 ms switch interval): one call per file instead of one per piece keeps the writer thread
    from falling behind.
    """
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        written = os.writev(descriptor, views[:IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]
