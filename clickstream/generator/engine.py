"""The generation loop: file windows in simulated time (backfill) or on the wall clock (real time).

Input: ``GeneratorSettings``. Output: landed data files and ledgers, and a ``RunSummary``.

Time is cut into windows of ``interval`` seconds, one file each. For window k the loop starts the
sessions that arrive in it (their later events wait in later windows), applies the faults, and lands
the file: at once in backfill mode, when the wall clock reaches the window's end in real-time mode.
New sessions start in window k until it holds ``rate * interval`` events (events of earlier
sessions count), so every file has the rate from the first one on.
A stop request (SIGTERM, SIGINT) lands the events of the current window that are already due and
ends the run. Same seed and settings, same files: every random draw comes from seeded RNGs.
"""

from __future__ import annotations

import bisect
import gc
import random
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clickstream.core.errors import ClickstreamError
from clickstream.generator.catalog import build_world
from clickstream.generator.content import FileContent, PlainContent
from clickstream.generator.faults import FaultInjector, FaultSettings
from clickstream.generator.formatting import (
    NEVER,
    UuidSource,
    WindowGrid,
    format_timestamp,
    to_epoch_ms,
)
from clickstream.generator.ledger import FIELD_ERROR_KINDS, MALFORMED_KINDS, FileLedger
from clickstream.generator.sessions import FunnelSettings, SessionSimulator, WindowEvents
from clickstream.generator.writer import Lander

USERS_PER_EVENT_PER_SECOND = 300  # default pool: enough shoppers that few are mid-session at once
MIN_USERS = 10_000
WAIT_SLICE_SECONDS = 0.05
GC_YOUNG_THRESHOLD = 100_000  # new objects between two collections (see ``fewer_collections``)


@dataclass(frozen=True)
class GeneratorSettings:
    """One run. Backfill when ``start`` is set; real time otherwise."""

    out: Path
    rate: float = 200.0  # events per (simulated) second
    interval: float = 10.0  # seconds of (simulated) time per file
    duration: float | None = None  # seconds; in backfill an alternative to ``end``
    count: int | None = None  # stop after this many valid events
    start: datetime | None = None
    end: datetime | None = None
    seed: int | None = None
    users: int | None = None  # None: USERS_PER_EVENT_PER_SECOND * rate, at least MIN_USERS
    products: int = 1_000
    bots: int = 20
    funnel: FunnelSettings = field(default_factory=FunnelSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)

    def __post_init__(self) -> None:
        # A time without an offset is UTC, like every time of the product.
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=UTC))

    @property
    def backfill(self) -> bool:
        return self.start is not None

    @property
    def user_count(self) -> int:
        if self.users is not None:
            return self.users
        return max(MIN_USERS, int(self.rate * USERS_PER_EVENT_PER_SECOND))


def _check_positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ClickstreamError(f"{name} must be greater than 0, got {value}")


def _check_share(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ClickstreamError(f"{name} must be between 0 and 1, got {value}")


def validate(settings: GeneratorSettings) -> None:
    """Raise ``ClickstreamError`` with a one-line message for any impossible setting."""
    flags = {"interval": "seconds-per-file"}  # the flag of each setting, where the names differ
    for name in ("rate", "interval", "duration", "count", "users", "products", "bots"):
        _check_positive(f"--{flags.get(name, name)}", getattr(settings, name))
    funnel, faults = settings.funnel, settings.faults
    for name in ("cart_rate", "purchase_rate", "search_share", "bot_rate"):
        _check_share(f"--{name.replace('_', '-')}", getattr(funnel, name))
    _check_positive("--session-length", funnel.session_length)
    _check_positive("--dwell", funnel.dwell)
    rates = (
        "duplicate_rate",
        "late_rate",
        "out_of_order_rate",
        "malformed_rate",
        "field_error_rate",
    )
    for name in rates:
        _check_share(f"--{name.replace('_', '-')}", getattr(faults, name))
    low, high = faults.late_delay
    if not 0 <= low <= high:
        raise ClickstreamError(f"--late-delay needs 0 <= MIN <= MAX, got {low:g} {high:g}")
    unknown = sorted(set(faults.malformed_kinds) - set(MALFORMED_KINDS))
    if unknown or not faults.malformed_kinds:
        raise ClickstreamError(
            f"unknown malformed kinds {unknown}; choose from {', '.join(MALFORMED_KINDS)}"
        )
    unknown = sorted(set(faults.field_error_kinds) - set(FIELD_ERROR_KINDS))
    if unknown or not faults.field_error_kinds:
        raise ClickstreamError(
            f"unknown field error kinds {unknown}; choose from {', '.join(FIELD_ERROR_KINDS)}"
        )
    if settings.end is not None and settings.start is None:
        raise ClickstreamError("--end needs --start (backfill mode)")
    if settings.start is not None:
        if settings.end is None and settings.duration is None:
            raise ClickstreamError("backfill needs --end or --duration after --start")
        if settings.end is not None and settings.end <= settings.start:
            raise ClickstreamError(f"--end {settings.end} is not after --start {settings.start}")


@dataclass
class RunSummary:
    """What a run landed, added up file by file."""

    out: Path
    seed: int
    mode: str
    files: list[str] = field(default_factory=list)
    lines: int = 0
    bytes: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    late_events: int = 0
    out_of_order_events: int = 0
    malformed_by_kind: Counter[str] = field(default_factory=Counter)
    field_errors_by_kind: Counter[str] = field(default_factory=Counter)
    bot_user_ids: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def add(self, ledger: FileLedger, size: int) -> None:
        self.files.append(ledger.file)
        self.lines += ledger.lines
        self.bytes += size
        self.events_by_type.update(ledger.events_by_type)
        self.duplicates += len(ledger.duplicate_event_ids)
        self.late_events += len(ledger.late_event_ids)
        self.out_of_order_events += len(ledger.out_of_order_event_ids)
        self.malformed_by_kind.update(entry["kind"] for entry in ledger.malformed)
        self.field_errors_by_kind.update(entry["kind"] for entry in ledger.field_errors)
        self.bot_user_ids.update(ledger.bot_user_ids)
        self.elapsed = time.perf_counter() - self.started


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT set ``stop`` instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in previous:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def fewer_collections(young_threshold: int = GC_YOUNG_THRESHOLD) -> Iterator[None]:
    """While inside, the cyclic garbage collector runs about a hundred times less often.

    The simulator makes a small tuple per event, alive until its window lands; at the default
    threshold (700 new objects) the collector scans them again and again, about a tenth of a
    backfill's time. Reference counting still frees them at once; only objects in reference
    cycles (the generator makes hardly any) wait longer. The old threshold is restored on exit.
    """
    previous = gc.get_threshold()
    gc.set_threshold(young_threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _wait_until(deadline_ms: int, stop: threading.Event) -> int | None:
    """Sleep until the wall clock reaches ``deadline_ms``; on a stop request return the time."""
    while (remaining := deadline_ms - _now_ms()) > 0:
        if stop.wait(min(remaining / 1000, WAIT_SLICE_SECONDS)):
            return _now_ms()
    return None


class Generator:
    """One run: world, simulator and fault injector on a window grid, landing files as it goes."""

    def __init__(self, settings: GeneratorSettings, stop_request: threading.Event) -> None:
        started = time.perf_counter()
        self.settings = settings
        self.stop_request = stop_request
        self.seed = settings.seed if settings.seed is not None else secrets.randbits(32)
        self.world = build_world(self.seed, settings.user_count, settings.products, settings.bots)
        self.bot_ids = self.world.bot_ids
        origin_ms = to_epoch_ms(settings.start) if settings.start else _now_ms()
        self.grid = WindowGrid.starting_at(origin_ms, max(1, round(settings.interval * 1000)))
        self.stop = self._stop()
        # Backfill lands in a writer thread: writing and fsync then overlap with generation.
        self.lander = Lander(settings.out, background=settings.backfill)
        session_rng = random.Random(f"sessions-{self.seed}")
        fault_rng = random.Random(f"faults-{self.seed}")
        self.simulator = SessionSimulator(
            self.world,
            settings.funnel,
            session_rng,
            UuidSource(session_rng),
            self.grid,
        )
        self.faults = FaultInjector(
            settings.faults,
            self.world,
            fault_rng,
            UuidSource(fault_rng, batch_size=256),
            self.grid,
        )
        # A backfill without faults or count lands the simulator's windows as they are.
        faults = settings.faults
        self.plain = (
            settings.backfill
            and settings.count is None
            and not (faults.duplicate_rate or faults.late_rate)
            and not (faults.out_of_order_rate or faults.malformed_rate)
            and not faults.field_error_rate
        )
        mode = "backfill" if settings.backfill else "real_time"
        self.summary = RunSummary(out=settings.out, seed=self.seed, mode=mode, started=started)

    def _stop(self) -> int:
        """Grid time at which the run ends (``NEVER`` when only a count or a signal ends it)."""
        settings, grid = self.settings, self.grid
        if settings.end is not None:
            return grid.from_epoch(to_epoch_ms(settings.end))
        if settings.duration is not None:
            return grid.origin + round(settings.duration * 1000)
        return NEVER

    def run(self, on_file: Callable[[RunSummary], None] | None = None) -> RunSummary:
        """Land one file per window until the end, the count or a stop request."""
        try:
            with fewer_collections():
                self._run_windows(on_file)
        finally:
            self.lander.close()
        self.summary.elapsed = time.perf_counter() - self.summary.started
        return self.summary

    def _run_windows(self, on_file: Callable[[RunSummary], None] | None) -> None:
        index = 0
        while not self.stop_request.is_set() and not self._count_reached():
            start = self.grid.start(index)
            if start >= self.stop:
                break
            end = min(start + self.grid.interval, self.stop)
            if self._land_window(index, start, end) and on_file is not None:
                on_file(self.summary)
            index += 1

    def _count_reached(self) -> bool:
        count = self.settings.count
        return count is not None and self.summary.events >= count

    def _land_window(self, index: int, start: int, end: int) -> bool:
        """Generate, fault and land window ``index`` (grid ms); False if it had no line to land."""
        self.simulator.fill(index, end, self.settings.rate * (end - start) / 1000, self.stop)
        events, bots = self.simulator.take(index), self.simulator.take_bots(index)
        if self.plain:
            content: FileContent | PlainContent = PlainContent(events, bots)
        else:
            content, end = self._faulted_content(index, start, end, events, bots)
        if not content.line_count:
            return False
        self._land(content, start, end)
        return True

    def _faulted_content(
        self, index: int, start: int, end: int, events: WindowEvents, bots: set[str]
    ) -> tuple[FileContent, int]:
        """The general path: faults, a count, real-time waiting and stops. Returns the content
        and the end of the time the file covers (earlier than ``end`` after a stop)."""
        settings = self.settings
        times, lines = events.times(), events.lines()
        times, lines, late_ids = self.faults.deliver(index, times, lines)
        if settings.count is not None:
            keep = settings.count - self.summary.events
            del times[keep:], lines[keep:]
        if not settings.backfill:
            keep = self._wait_for(times, end)
            del times[keep:], lines[keep:]
            end = min(end, self.grid.from_epoch(_now_ms()))
        # Unless events came or went, the simulator knows which bots the file holds.
        unchanged = settings.faults.late_rate == 0 and len(lines) == len(events)
        window = (start, max(end, start + 1))
        known_bots = bots if unchanged else None
        return self.faults.assemble(index, times, lines, late_ids, window, known_bots), end

    def _land(self, content: FileContent | PlainContent, start: int, end: int) -> None:
        """Name the file, write its ledger and land both; add them to the summary."""
        grid = self.grid
        data = content.to_chunks()  # first: the ledger's counts then run on warm memory
        stamp = grid.to_epoch(start) / 1000 if self.settings.backfill else time.time()
        name = self.lander.reserve_name(stamp)
        ledger = FileLedger(
            file=name,
            seed=self.seed,
            window_start=format_timestamp(grid.to_epoch(start)),
            window_end=format_timestamp(grid.to_epoch(end)),
            lines=content.line_count,
            valid_event_ids=content.valid_event_ids(),
            events_by_type=content.events_by_type(),
            duplicate_event_ids=content.duplicate_event_ids,
            late_event_ids=content.late_event_ids,
            out_of_order_event_ids=content.out_of_order_event_ids,
            malformed=content.malformed,
            bot_user_ids=content.bot_user_ids(),
            field_errors=content.field_errors,
        )
        self.lander.land(name, data, ledger.to_bytes())
        self.summary.add(ledger, sum(map(len, data)))

    def _wait_for(self, times: list[int], end: int) -> int:
        """Real time: wait until the window's events are due; return how many to land (all of
        them, or on a stop request those already due)."""
        due = end
        if self.settings.count is not None and times:
            due = min(end, times[-1] + 1)
        stopped_at = _wait_until(self.grid.to_epoch(due), self.stop_request)
        if stopped_at is None:
            return len(times)
        return bisect.bisect_right(times, self.grid.from_epoch(stopped_at))


def generate(
    settings: GeneratorSettings,
    on_file: Callable[[RunSummary], None] | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Validate the settings and run the generator; ``stop`` ends a run early (and cleanly)."""
    validate(settings)
    return Generator(settings, stop or threading.Event()).run(on_file)
