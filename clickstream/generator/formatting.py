"""Fast text pieces of an event line: UUID v4 ids in bulk, cached timestamps, the line layout.

Input: a seeded ``random.Random`` and epoch milliseconds. Output: strings. Everything here is on the
hot path of the generator, so it works on big batches with C-level operations (big-integer masks,
``bytes.translate``, ``str.split``) instead of one Python call per character.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice
from operator import itemgetter

import numpy as np

# A generated valid line starts with the event id, the fixed-width user id and the event type:
#   {"event_id":"<uuid>","user_id":"u<9 digits>","event_type":"search","timestamp":"...",
#   <fragment: product or search fields>"session_id":"...","referrer":"...",...,"country":"US"}
# so the ledger reads them back by slicing instead of parsing JSON. The simulator builds a line from
# pieces: LINE_START, id, user piece, type piece, second prefix, millis suffix, fragment, tail; all
# but LINE_START and the id are bytes, so a file is one ``bytes.join`` with no encoding pass.
LINE_START = '{"event_id":"'
EVENT_ID = itemgetter(slice(13, 49))
USER_ID = itemgetter(slice(62, 72))
EVENT_TYPE_PREFIX = itemgetter(slice(88, 90))
EVENT_TYPE_BY_PREFIX = {"pa": "page_view", "se": "search", "ad": "add_to_cart", "pu": "purchase"}
TYPE_PIECES: dict[str, bytes] = {
    event_type: f'{event_type}","timestamp":"'.encode()
    for event_type in ("page_view", "search", "add_to_cart", "purchase")
}
EVENT_TYPE_OF_PIECE = {piece: event_type for event_type, piece in TYPE_PIECES.items()}


def user_piece(user_id: str) -> bytes:
    """The piece of a line between the event id and the event type."""
    return f'","user_id":"{user_id}","event_type":"'.encode()


# The user piece of a user id number (``UserPool.id_number``): one bytes formatting per session,
# half the cost of making the id, then the piece, then encoding it.
USER_PIECE_OF_NUMBER = user_piece("u%09d")


USER_ID_WIDTH = 10

# '000Z",' ... '999Z",': the millisecond tail of a timestamp and the separator after it.
MILLIS_SUFFIX: tuple[bytes, ...] = tuple(f'{ms:03d}Z",'.encode() for ms in range(1000))

_UUID_TEXT_LENGTH = 36
_RECORD = _UUID_TEXT_LENGTH + 1  # one id and its newline separator
_HEX_BYTES = b"0123456789abcdef"
_DASH, _NEWLINE = 0xFF, 0xFE
# byte -> character: the low nibble gives a hex digit, two reserved values give '-' and '\n'.
_TRANSLATE = bytes(_HEX_BYTES[value & 0x0F] for value in range(_NEWLINE)) + b"\n-"


def _record_masks() -> tuple[bytes, bytes]:
    """AND and OR masks of one 37-byte record: hex nibbles, dashes, version 4, RFC 4122 variant."""
    keep = bytearray(b"\x0f" * _RECORD)
    force = bytearray(_RECORD)
    for position in (8, 13, 18, 23):
        keep[position], force[position] = 0, _DASH
    keep[14], force[14] = 0, 4  # version nibble: '4'
    keep[19], force[19] = 0x03, 0x08  # variant nibble: 8, 9, a or b
    keep[36], force[36] = 0, _NEWLINE
    return bytes(keep), bytes(force)


class UuidSource:
    """UUID v4 strings drawn from a seeded RNG, made many at a time.

    Input: ``random.Random``. Output: ``batch(n)`` returns n fresh ids, ``take(n)`` the next n and
    ``next_id()`` the next one of one stream
    (``'xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx'``). A batch is one ``getrandbits`` call, masked
    into the UUID layout with big-integer AND/OR and turned into text with ``bytes.translate``.
    """

    def __init__(self, rng: random.Random, batch_size: int = 4096) -> None:
        self._rng = rng
        self._masks: dict[int, tuple[int, int]] = {}
        self._batch_size = batch_size
        self._stream = chain.from_iterable(self._batches())
        self.next_id = self._stream.__next__

    def take(self, count: int) -> list[str]:
        """The next ``count`` ids of the stream ``next_id`` draws from: batches of one size, whose
        masks are made once (``batch`` of a new size makes new 5 MB masks)."""
        return list(islice(self._stream, count))

    def batch(self, count: int) -> list[str]:
        """``count`` fresh ids."""
        if count <= 0:
            return []
        masks = self._masks.get(count)
        if masks is None:
            keep, force = _record_masks()
            masks = (int.from_bytes(keep * count, "big"), int.from_bytes(force * count, "big"))
            if len(self._masks) > 64:
                self._masks.clear()
            self._masks[count] = masks
        bits = (self._rng.getrandbits(8 * _RECORD * count) & masks[0]) | masks[1]
        ids = (
            bits.to_bytes(_RECORD * count, "big").translate(_TRANSLATE).decode("ascii").split("\n")
        )
        ids.pop()  # the empty string after the last separator
        return ids

    def _batches(self) -> Iterator[list[str]]:
        while True:
            yield self.batch(self._batch_size)


# A UUID's text: groups of hex digits, each followed by a dash (the last by a line's end).
_UUID_GROUPS = (8, 4, 4, 4, 12)
_UUID_DIGITS = np.dtype([(f"digits{i}", f"S{width}") for i, width in enumerate(_UUID_GROUPS)])


def _uuid_rows(prefix: bytes) -> np.dtype:
    """The layout of one row of ``uuid4_heads``: prefix, the digit groups and their dashes."""
    fields = [("prefix", f"S{len(prefix)}")]
    for i, width in enumerate(_UUID_GROUPS):
        fields += [(f"digits{i}", f"S{width}"), (f"end{i}", "S1")]
    return np.dtype(fields)


def uuid4_heads(
    rng: np.random.Generator, count: int, prefix: bytes
) -> tuple[list[bytes], list[str]]:
    """``count`` random UUID v4s from ``rng``, each as ``prefix + id`` bytes and as an id string.

    Made as one array of fixed-width rows (prefix, id, newline): random bytes, ``bytes.hex``,
    the digit groups copied into place, then split in C. No Python code runs an id.
    """
    raw = np.frombuffer(bytearray(rng.bytes(16 * count)), np.uint8).reshape(count, 16)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.frombuffer(raw.tobytes().hex().encode(), _UUID_DIGITS)
    layout = _uuid_rows(prefix)
    rows = np.empty(count, layout)
    rows["prefix"] = prefix
    for i in range(len(_UUID_GROUPS)):
        rows[f"digits{i}"] = digits[f"digits{i}"]
        rows[f"end{i}"] = b"-"
    rows[f"end{len(_UUID_GROUPS) - 1}"] = b"\n"
    table = rows.view(np.uint8).reshape(count, layout.itemsize)
    heads = table.tobytes().split(b"\n")
    ids = table[:, len(prefix) :].tobytes().decode("ascii").split("\n")
    heads.pop()  # the empty pieces after the last newline
    ids.pop()
    return heads, ids


class TimestampCache:
    """``YYYY-MM-DDTHH:MM:SS.`` prefixes by second, computed once per second, kept a while.

    Input: seconds since ``base_second`` (an epoch second; small numbers keep the hot loop on fast
    small integers). Output: the prefix, ``YYYY-MM-DDTHH:MM:SS.``.
    """

    def __init__(self, base_second: int = 0) -> None:
        self.base_second = base_second
        self._prefixes: dict[int, str] = {}

    def for_seconds(self, first: int, last: int) -> dict[int, str]:
        """The cache, sure to hold every second from ``first`` to ``last``."""
        prefixes = self._prefixes
        if len(prefixes) > 100_000:
            prefixes.clear()
        for second in range(first, last + 1):
            if second not in prefixes:
                self.prefix(second)
        return prefixes

    def prefix(self, second: int) -> str:
        """Prefix of one second, cached."""
        text = self._prefixes.get(second)
        if text is None:
            moment = datetime.fromtimestamp(self.base_second + second, UTC)
            text = moment.strftime("%Y-%m-%dT%H:%M:%S.")
            self._prefixes[second] = text
        return text


# "Never" on the relative clock: an int, because comparing ints with float('inf') is slower.
NEVER = 1 << 62


@dataclass(frozen=True)
class WindowGrid:
    """The run's clock: ms since ``base_ms`` (a whole epoch second), cut into file windows.

    Window ``k`` covers ``[start(k), start(k) + interval)``; window 0 starts at ``origin``.
    Relative times stay small integers, which Python handles fastest.
    """

    base_ms: int
    origin: int
    interval: int

    @classmethod
    def starting_at(cls, epoch_ms: int, interval_ms: int) -> WindowGrid:
        return cls(base_ms=epoch_ms - epoch_ms % 1000, origin=epoch_ms % 1000, interval=interval_ms)

    @property
    def base_second(self) -> int:
        return self.base_ms // 1000

    def start(self, index: int) -> int:
        return self.origin + index * self.interval

    def window_of(self, time: int) -> int:
        return (time - self.origin) // self.interval

    def to_epoch(self, time: int) -> int:
        return self.base_ms + time

    def from_epoch(self, epoch_ms: int) -> int:
        return epoch_ms - self.base_ms


def format_timestamp(epoch_ms: int) -> str:
    """Epoch milliseconds -> ``2026-11-25T10:31:05.123Z``."""
    second, millis = divmod(epoch_ms, 1000)
    return f"{datetime.fromtimestamp(second, UTC):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def to_epoch_ms(moment: datetime) -> int:
    """A timezone-aware datetime -> epoch milliseconds."""
    return round(moment.timestamp() * 1000)
