"""What one data file holds, ready to land: its bytes and what its ledger needs to say.

Input: the lines of a file (``FileContent``, after faults) or a window's events as they are
(``PlainContent``, the fast path without faults). Output: the file's bytes, valid event ids, counts
by type, bot users and the fault lists, read off the lines by position (see ``formatting``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clickstream.generator.formatting import (
    EVENT_ID,
    EVENT_TYPE_BY_PREFIX,
    EVENT_TYPE_PREFIX,
    USER_ID,
)
from clickstream.generator.sessions import WindowEvents


@dataclass
class FileContent:
    """The lines of one file and what the ledger needs to know about them."""

    lines: list[str]
    valid_lines: list[str]
    bot_ids: frozenset[str]
    known_bots: set[str] | None = None
    duplicate_event_ids: list[str] = field(default_factory=list)
    late_event_ids: list[str] = field(default_factory=list)
    out_of_order_event_ids: list[str] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    # valid events with a wrong optional field, added among the lines; the ledger entry of each
    field_error_lines: list[str] = field(default_factory=list)
    field_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def valid_event_ids(self) -> list[str]:
        return list(map(EVENT_ID, self.valid_lines + self.field_error_lines))

    def events_by_type(self) -> dict[str, int]:
        counts = Counter(map(EVENT_TYPE_PREFIX, self.valid_lines + self.field_error_lines))
        return {EVENT_TYPE_BY_PREFIX[prefix]: number for prefix, number in counts.items()}

    def bot_user_ids(self) -> list[str]:
        """The bots among the users of valid lines (or the ``known_bots``, when given)."""
        if self.known_bots is not None:
            return sorted(self.known_bots)
        return sorted(self.bot_ids.intersection(map(USER_ID, self.valid_lines)))

    def to_bytes(self) -> bytes:
        # surrogateescape turns the lone surrogates of non_utf8 lines back into raw bytes.
        return "".join(self.lines).encode("utf-8", "surrogateescape")

    def to_chunks(self) -> list[bytes]:
        return [self.to_bytes()]


class PlainContent:
    """A file of the simulator's events as they are: no fault, nothing cut (the fast path).

    Input: the window's events and the bots the simulator noted in it. Offers what
    ``FileContent`` offers the ledger.
    """

    def __init__(self, events: WindowEvents, bots: set[str]) -> None:
        self.events = events
        self.bots = bots
        self.line_count = len(events)
        self.duplicate_event_ids: list[str] = []
        self.late_event_ids: list[str] = []
        self.out_of_order_event_ids: list[str] = []
        self.malformed: list[dict[str, Any]] = []
        self.field_errors: list[dict[str, Any]] = []

    def valid_event_ids(self) -> list[str]:
        return self.events.event_ids

    def events_by_type(self) -> dict[str, int]:
        return self.events.events_by_type()

    def bot_user_ids(self) -> list[str]:
        return sorted(self.bots)

    def to_bytes(self) -> bytes:
        return b"".join(self.to_chunks())

    def to_chunks(self) -> list[bytes]:
        """The file's bytes in pieces (cheaper than one big ``bytes``, see ``WindowEvents``)."""
        return self.events.chunks()
