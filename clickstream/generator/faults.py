"""Faults on demand: late, out-of-order and duplicated events, malformed lines, put into files.

Input: the valid events of one file window, ``FaultSettings`` and a seeded RNG of its own (so turning
faults on does not change the valid events). Output: ``FileContent`` (``content``), the lines of the
file in order with what each one is, ready for the ledger.

Every rate is per valid event and 0 by default:
- late: the event is delivered in a file whose time is at least the late delay (minutes) after it;
- out of order: the event is moved a few lines down its file, past a later event;
- duplicate: the identical line is sent again, later in the same file or in one of the next files;
- malformed: a line of one of ``MALFORMED_KINDS`` is added at a random place, with a fresh event id;
- field error: a valid event with one optional field wrong (``FIELD_ERROR_KINDS``) is added the
  same way: silver keeps it with that field null.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter

from clickstream.generator.catalog import World
from clickstream.generator.content import FileContent
from clickstream.generator.formatting import EVENT_ID, UuidSource, WindowGrid
from clickstream.generator.ledger import FIELD_ERROR_KINDS, MALFORMED_KINDS
from clickstream.generator.malformed import MalformedLines

MAX_DISPLACEMENT = 20  # lines an out-of-order event moves down, at most (more if times tie)
SAME_FILE_DUPLICATE_SHARE = 0.5
DUPLICATE_FILES_AHEAD = (1, 3)

Entry = tuple[int, str]  # (delivery time in grid ms, line)
# (before which valid line, line, fault kind or None for a copy, field error code or None)
Insert = tuple[int, str, str | None, str | None]
DELIVERY_TIME = itemgetter(0)
LINE = itemgetter(1)


@dataclass(frozen=True)
class FaultSettings:
    """Rates per valid event, in [0, 1]; late delays in seconds."""

    duplicate_rate: float = 0.0
    late_rate: float = 0.0
    out_of_order_rate: float = 0.0
    malformed_rate: float = 0.0
    malformed_kinds: tuple[str, ...] = MALFORMED_KINDS
    field_error_rate: float = 0.0
    field_error_kinds: tuple[str, ...] = tuple(FIELD_ERROR_KINDS)
    late_delay: tuple[float, float] = (120.0, 600.0)


def sample_indices(rng: random.Random, count: int, rate: float) -> list[int]:
    """Indices in ``range(count)``, each kept with probability ``rate`` (geometric skips)."""
    if rate <= 0 or count <= 0:
        return []
    if rate >= 1:
        return list(range(count))
    log_keep = math.log(1 - rate)
    chosen, index = [], -1
    while True:
        index += 1 + int(math.log(1 - rng.random()) / log_keep)
        if index >= count:
            return chosen
        chosen.append(index)


class FaultInjector:
    """Applies the faults window by window; holds the events and copies bound for later files.

    Input: per window, its own events (``deliver``), then the kept valid events (``assemble``).
    Output: the valid events in delivery order, then the ``FileContent`` of the file.
    """

    def __init__(
        self,
        settings: FaultSettings,
        world: World,
        rng: random.Random,
        ids: UuidSource,
        grid: WindowGrid,
    ) -> None:
        self.settings = settings
        self.rng = rng
        self.grid = grid
        self.malformed_lines = MalformedLines(world, rng, ids)
        self.bot_ids = world.bot_ids
        self.late_arrivals: defaultdict[int, list[Entry]] = defaultdict(list)
        self.duplicate_arrivals: defaultdict[int, list[str]] = defaultdict(list)

    def deliver(
        self, index: int, times: list[int], lines: list[str]
    ) -> tuple[list[int], list[str], set[str]]:
        """Send some of window ``index``'s events late, take in late arrivals, order by delivery.

        Input: the window's own events as time-sorted columns. Returns the delivered columns and
        the ids of the events that arrived late.
        """
        if self.settings.late_rate > 0:
            self._send_late(index, times, lines)
        arrivals = self.late_arrivals.pop(index, [])
        if not arrivals:
            return times, lines, set()
        entries = sorted([*zip(times, lines, strict=True), *arrivals], key=DELIVERY_TIME)
        late_ids = set(map(EVENT_ID, map(LINE, arrivals)))
        return list(map(DELIVERY_TIME, entries)), list(map(LINE, entries)), late_ids

    def _send_late(self, index: int, times: list[int], lines: list[str]) -> None:
        """Move chosen events (out of the columns, in place) to the window of their delivery."""
        rng, grid = self.rng, self.grid
        low, high = (round(seconds * 1000) for seconds in self.settings.late_delay)
        for position in reversed(sample_indices(rng, len(lines), self.settings.late_rate)):
            due = times.pop(position) + rng.randint(low, high)
            # The first window starting at or after ``due``: its file's time is ``due`` or later.
            target = max(index + 1, -(-(due - grid.origin) // grid.interval))
            delivery = grid.start(target) + rng.randrange(grid.interval)
            self.late_arrivals[target].append((delivery, lines.pop(position)))

    def assemble(
        self,
        index: int,
        times: list[int],
        lines: list[str],
        late_ids: set[str],
        window: tuple[int, int],
        known_bots: set[str] | None = None,
    ) -> FileContent:
        """Lines of window ``index``'s file: the valid events, displaced, plus copies and junk.

        ``window`` is the (start, end) of the file's time in grid ms; ``known_bots`` the bots of
        the valid lines, if the caller knows them.
        """
        moved = self._displace(times, lines, late_ids) if self.settings.out_of_order_rate else []
        content = FileContent(lines, lines, self.bot_ids, known_bots)
        content.out_of_order_event_ids = moved
        if late_ids:
            arrived = [event_id for event_id in map(EVENT_ID, lines) if event_id in late_ids]
            content.late_event_ids = arrived
        inserts = self._duplicates(index, lines) + self._malformed(len(lines), window)
        inserts += self._field_errors(len(lines), window)
        if inserts:
            self._merge(content, inserts)
        return content

    def _displace(self, times: list[int], lines: list[str], late_ids: set[str]) -> list[str]:
        """Move chosen events down a few lines, to just after an event of strictly later time.

        That event is an in-place one (neither late nor moved), so a reader that tracks the
        latest time of in-place events finds every moved event behind it.
        """
        rng, moved = self.rng, []
        last = len(lines) - 1
        skip = set(late_ids)

        def passes(target: int, time: int) -> bool:
            return times[target] > time and EVENT_ID(lines[target]) not in skip

        for position in reversed(sample_indices(rng, len(lines), self.settings.out_of_order_rate)):
            time, event_id = times[position], EVENT_ID(lines[position])
            if event_id in skip:
                continue
            target = min(last, position + rng.randint(1, MAX_DISPLACEMENT))
            while target < last and not passes(target, time):
                target += 1
            if not passes(target, time):
                continue
            times.insert(target, times.pop(position))
            lines.insert(target, lines.pop(position))
            moved.append(event_id)
            skip.add(event_id)
        moved.reverse()
        return moved

    def _duplicates(self, index: int, lines: list[str]) -> list[Insert]:
        """Copies to insert here (``(position, line, None)``); copies for later files are kept."""
        rng, inserts = self.rng, []
        for position in sample_indices(rng, len(lines), self.settings.duplicate_rate):
            if rng.random() < SAME_FILE_DUPLICATE_SHARE:
                inserts.append((rng.randint(position + 1, len(lines)), lines[position], None, None))
            else:
                ahead = rng.randint(*DUPLICATE_FILES_AHEAD)
                self.duplicate_arrivals[index + ahead].append(lines[position])
        for line in self.duplicate_arrivals.pop(index, []):
            inserts.append((rng.randint(0, len(lines)), line, None, None))
        return inserts

    def _malformed(self, valid: int, window: tuple[int, int]) -> list[Insert]:
        """Malformed lines to insert: ``(position, line, kind)``, kinds drawn evenly."""
        settings, rng = self.settings, self.rng
        if settings.malformed_rate <= 0 or not settings.malformed_kinds:
            return []
        inserts = []
        for _ in sample_indices(rng, valid, settings.malformed_rate):
            kind = rng.choice(settings.malformed_kinds)
            line = self.malformed_lines.make(kind, self.grid.to_epoch(rng.randrange(*window)))
            inserts.append((rng.randint(0, valid), line, kind, None))
        return inserts

    def _field_errors(self, valid: int, window: tuple[int, int]) -> list[Insert]:
        """Valid events with a wrong optional field: ``(position, line, kind, code)``."""
        settings, rng = self.settings, self.rng
        if settings.field_error_rate <= 0 or not settings.field_error_kinds:
            return []
        inserts = []
        for _ in sample_indices(rng, valid, settings.field_error_rate):
            kind = rng.choice(settings.field_error_kinds)
            time_ms = self.grid.to_epoch(rng.randrange(*window))
            line, code = self.malformed_lines.make_field_error(kind, time_ms)
            inserts.append((rng.randint(0, valid), line, kind, code))
        return inserts

    @staticmethod
    def _merge(content: FileContent, inserts: list[Insert]) -> None:
        """Splice inserted lines before the given valid-line positions; record line numbers."""
        base, lines = content.valid_lines, []
        done = 0
        ordered = sorted(enumerate(inserts), key=lambda item: (item[1][0], item[0]))
        for _, (position, line, kind, code) in ordered:
            lines.extend(base[done:position])
            done = position
            lines.append(line)
            if kind is None:
                content.duplicate_event_ids.append(EVENT_ID(line))
            elif code is not None:
                content.field_error_lines.append(line)
                entry = {"event_id": EVENT_ID(line), "line_number": len(lines), "kind": kind}
                content.field_errors.append({**entry, "code": code})
            else:
                content.malformed.append({"line_number": len(lines), "kind": kind})
        lines.extend(base[done:])
        content.lines = lines
