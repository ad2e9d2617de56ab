"""Funnel sessions and bot bursts, bucketed by file window, rendered to lines a window at a time.

Input: a ``World``, ``FunnelSettings``, a seeded RNG and the ``WindowGrid``. Output: per window,
its events in time order, as ``WindowEvents`` (``take``); times are grid ms.

A shopper session arrives with a page view or a search, browses products (popular ones more
often), may add some viewed products to the cart and may then buy what it added; its events are in
time order, a dwell time apart. A bot burst is hundreds of page views a fraction of a second apart.
Shoppers dwell at least ``MIN_DWELL_MS`` and never run two sessions at once (given a pool large
enough for the rate, as the default is), so only bots exceed 50 events in a minute.

Sessions are decided one by one in Python (who, when, which steps, whether they cart), but their
events are made, sorted, bucketed and rendered as numpy columns a window at a time: no Python
code runs per browse or bot event.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from clickstream.generator.catalog import (
    PURCHASE_QUANTITIES,
    QUANTITY_WEIGHTS,
    TABLE_BITS,
    TABLE_SIZE,
    World,
)
from clickstream.generator.formatting import (
    LINE_START,
    MILLIS_SUFFIX,
    NEVER,
    TYPE_PIECES,
    USER_PIECE_OF_NUMBER,
    TimestampCache,
    UuidSource,
    WindowGrid,
    user_piece,
    uuid4_heads,
)

EVENT_TYPES = tuple(TYPE_PIECES)  # page_view, search, add_to_cart, purchase: numbered in this order
PAGE_VIEW, SEARCH = TYPE_PIECES["page_view"], TYPE_PIECES["search"]
ADD_TO_CART, PURCHASE = TYPE_PIECES["add_to_cart"], TYPE_PIECES["purchase"]
HEAD = LINE_START.encode()

MIN_DWELL_MS = 2_000
MAX_DWELL_MS = 300_000
MAX_BROWSE_EVENTS = 40
MAX_CART_ITEMS = 3
CHECKOUT_DELAY_MS = (20_000, 120_000)
PURCHASE_SPACING_MS = (50, 500)
RETURN_GAP_MS = 60_000  # a shopper's next session starts at least this long after the last ended
BOT_BURST_EVENTS = (150, 400)
BOT_DWELL_MS = (60, 300)  # 200 to 1,000 events a minute
BOT_SEARCH_SHARE = 0.1
ARRIVAL_SEARCH_SHARE = 0.3
USER_PICK_TRIES = 50
LOYAL_SESSIONS = 0.3  # share of sessions by the loyal tenth of shoppers
FORGET_ABOVE = 100_000  # shoppers remembered before the simulator forgets the idle ones
CHUNK_LINES = 256  # lines joined at a time (about 128 kB: warm memory, see ``WindowEvents``)


@dataclass(frozen=True)
class FunnelSettings:
    """How shoppers behave; rates are probabilities in [0, 1]."""

    session_length: float = 5.0  # mean page views and searches of a session
    dwell: float = 15.0  # mean seconds between two events of a shopper
    cart_rate: float = 0.30  # share of sessions that add to cart
    purchase_rate: float = 0.40  # share of carting sessions that buy
    search_share: float = 0.20  # share of browse events after the arrival that are searches
    bot_rate: float = 0.002  # share of sessions that are bot bursts


def _length_table(rng: random.Random, mean: float) -> tuple[int, ...]:
    """Browse-event counts: geometric with the given mean, between 1 and MAX_BROWSE_EVENTS."""
    if mean <= 1:
        return (1,) * TABLE_SIZE
    log_stay = math.log(1 - 1 / mean)
    return tuple(
        min(MAX_BROWSE_EVENTS, 1 + int(math.log(1 - rng.random()) / log_stay))
        for _ in range(TABLE_SIZE)
    )


def _dwell_table(rng: random.Random, mean_seconds: float) -> tuple[int, ...]:
    """Dwell times in ms: log-normal with the given mean, clamped to [MIN, MAX]_DWELL_MS (4,096
    draws, spread over the table: log-normal draws are slow and that many are plenty)."""
    sigma = 0.8
    mu = math.log(mean_seconds * 1000) - sigma * sigma / 2
    draws = [
        min(MAX_DWELL_MS, max(MIN_DWELL_MS, int(rng.lognormvariate(mu, sigma))))
        for _ in range(4096)
    ]
    return tuple(rng.choices(draws, k=TABLE_SIZE))


def _wrapped(table: tuple) -> tuple:
    """The table followed by its first MAX_BROWSE_EVENTS entries, so a session reads
    ``table[offset + step]`` for a random offset and its steps without wrapping around."""
    return table + table[:MAX_BROWSE_EVENTS]


def _uniform_table(rng: random.Random, low: int, high: int) -> tuple[int, ...]:
    """Whole numbers drawn evenly from [low, high]."""
    return tuple(rng.choices(range(low, high + 1), k=TABLE_SIZE))


def _objects(values: list | tuple) -> np.ndarray:
    """A 1-d numpy array of the given Python objects (bytes stay bytes objects)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _repeated(value: bytes, count: int) -> np.ndarray:
    """A numpy array of ``count`` references to ``value`` (``np.full`` would copy it each time)."""
    array = np.empty(count, dtype=object)
    array.fill(value)
    return array


def time_order(times: np.ndarray) -> np.ndarray:
    """Indices that sort ``times``, ties in their given order.

    The key (time, position) is unique, so numpy's fast unstable sort gives one order on every
    machine (a stable sort of the times alone costs five times as much).
    """
    return np.argsort(times * len(times) + np.arange(len(times)))


class Events(NamedTuple):
    """Events as columns: grid ms, piece number (see ``Pieces``), user piece and tail (bytes)."""

    times: np.ndarray
    pieces: np.ndarray
    users: np.ndarray
    tails: np.ndarray

    def select(self, rows: np.ndarray | slice) -> Events:
        """The events at ``rows`` (indices, a mask or a slice), in that order."""
        return Events(*(column[rows] for column in self))

    def in_time_order(self) -> Events:
        return self.select(time_order(self.times))

    @classmethod
    def empty(cls) -> Events:
        no_numbers = np.empty(0, dtype=np.int64)
        return cls(no_numbers, no_numbers, _objects([]), _objects([]))

    @classmethod
    def joined(cls, parts: list[Events]) -> Events:
        """The events of all ``parts``, one after the other."""
        return cls(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


@dataclass(frozen=True)
class Pieces:
    """Every (type piece, fragment) an event can have, numbered, with its event type's number.

    Page views of product ``p`` are number ``p``, add-to-carts ``cart + p``, purchases of
    quantity ``q`` ``purchase[q] + p`` and search ``s`` is ``search + s`` (fragments: see
    ``Catalog``, as bytes).
    """

    kinds: np.ndarray  # objects: the type piece of each number
    fragments: np.ndarray  # objects: the product or search fields
    types: np.ndarray  # index in EVENT_TYPES
    cart: int
    purchase: dict[int, int]
    search: int
    searches: int

    @classmethod
    def of(cls, world: World) -> Pieces:
        catalog = world.catalog
        groups = [("page_view", catalog.view), ("add_to_cart", catalog.cart)]
        groups += [("purchase", catalog.purchase[quantity]) for quantity in PURCHASE_QUANTITIES]
        groups.append(("search", catalog.searches))
        firsts = np.cumsum([0] + [len(texts) for _, texts in groups]).tolist()
        after_purchases = 2 + len(PURCHASE_QUANTITIES)
        kinds = [TYPE_PIECES[name] for name, texts in groups for _ in texts]
        return cls(
            kinds=_objects(kinds),
            fragments=_objects([text.encode() for _, texts in groups for text in texts]),
            types=np.array([EVENT_TYPES.index(name) for name, texts in groups for _ in texts]),
            cart=firsts[1],
            purchase=dict(zip(PURCHASE_QUANTITIES, firsts[2:after_purchases], strict=True)),
            search=firsts[after_purchases],
            searches=len(catalog.searches),
        )


@dataclass(frozen=True)
class BrowseTable:
    """Browse steps for a 16-bit random number: the piece number of each, and the product it
    views (None for a search)."""

    pieces: np.ndarray
    products: tuple[int | None, ...]

    @classmethod
    def drawn(
        cls, rng: random.Random, popular: tuple[int, ...], pieces: Pieces, search_share: float
    ) -> BrowseTable:
        """Searches (random queries) at ``search_share``, page views of products by
        ``popular``ity otherwise."""
        numbers: list[int] = []
        products: list[int | None] = []
        for _ in range(TABLE_SIZE):
            if rng.random() < search_share:
                numbers.append(pieces.search + rng.randrange(pieces.searches))
                products.append(None)
            else:
                product = popular[rng.getrandbits(TABLE_BITS)]
                numbers.append(product)  # a page view's number is its product's
                products.append(product)
        return cls(np.array(numbers), tuple(products))

    def wrapped(self) -> BrowseTable:
        """The table read at ``offset + step`` without wrapping around (see ``_wrapped``)."""
        pieces = np.concatenate([self.pieces, self.pieces[:MAX_BROWSE_EVENTS]])
        return BrowseTable(pieces, _wrapped(self.products))


@dataclass(frozen=True)
class SessionShapes:
    """What a shopper session's random offset decides: its browse steps, as numpy tables.

    Step 0 of offset ``o`` is ``arrivals[o]``, step ``k > 0`` is ``browse[o + k - 1]``; step
    ``k`` happens ``elapsed[o + k] - elapsed[o]`` ms after the session starts; ``lengths[o]``
    steps in all.
    """

    lengths: np.ndarray
    elapsed: np.ndarray  # running sum of the (wrapped) dwell table, 0 first
    arrivals: np.ndarray
    browse: np.ndarray

    def events(self, starts: list[int], offsets: list[int], users: list, tails: list) -> Events:
        """The browse events of sessions starting at ``starts`` (grid ms) with random
        ``offsets``, their user pieces and tails; session by session, in step order."""
        offset = np.array(offsets, dtype=np.int64)
        lengths = self.lengths[offset]
        session = np.repeat(np.arange(len(offsets)), lengths)
        first_row = np.cumsum(lengths) - lengths
        step = np.arange(len(session)) - first_row[session]
        offset = offset[session]
        position = offset + step
        times = np.array(starts, dtype=np.int64)[session] + self.elapsed[position]
        times -= self.elapsed[offset]
        pieces = np.where(step == 0, self.arrivals[offset], self.browse[position - 1])
        return Events(times, pieces, _objects(users)[session], _objects(tails)[session])


class NewEvents:
    """The events made while filling one window, gathered for one numpy pass (``events``).

    Shopper sessions are noted as (start, offset, user, tail) and their browse steps made from
    ``SessionShapes``; cart and purchase events are added one by one, bot bursts as columns.
    """

    def __init__(self) -> None:
        self.sessions: tuple[list, list, list, list] = ([], [], [], [])
        self.singles: tuple[list, list, list, list] = ([], [], [], [])
        self.bursts: list[Events] = []

    def add(self, time: int, user: bytes, piece: int, tail: bytes) -> None:
        times, pieces, users, tails = self.singles
        times.append(time)
        pieces.append(piece)
        users.append(user)
        tails.append(tail)

    def events(self, shapes: SessionShapes) -> Events:
        singles = self.singles
        parts = [
            shapes.events(*self.sessions),
            Events(
                np.array(singles[0], dtype=np.int64),
                np.array(singles[1], dtype=np.int64),
                _objects(singles[2]),
                _objects(singles[3]),
            ),
            *self.bursts,
        ]
        return Events.joined(parts)


class WindowEvents:
    """The events of one window in time order, rendered on demand.

    Input: the window's events (time-sorted columns), their event ids as line heads and strings,
    the timestamp piece of each and the ``Pieces``. ``lines()`` gives the lines (for faults to
    move around), ``text()`` the whole text and ``chunks()`` the file's bytes in pieces of
    ``CHUNK_LINES`` lines. The six pieces of each line sit in one (lines, 6) array of bytes
    objects, so a chunk is one ``bytes.join`` of a slice of it: a whole 10 MB file at once would
    cost its size in fresh memory (page faults), while small chunks reuse warm memory.
    """

    def __init__(
        self,
        events: Events,
        heads: list[bytes],
        event_ids: list[str],
        stamps: np.ndarray,
        pieces: Pieces,
    ) -> None:
        self.grid_times = events.times
        self.event_ids = event_ids
        self.types = pieces.types[events.pieces]
        kinds, fragments = pieces.kinds[events.pieces], pieces.fragments[events.pieces]
        self.parts = np.empty((len(event_ids), 6), dtype=object)
        for column, values in enumerate(
            (_objects(heads), events.users, kinds, stamps, fragments, events.tails)
        ):
            self.parts[:, column] = values

    def __len__(self) -> int:
        return len(self.event_ids)

    def times(self) -> list[int]:
        return self.grid_times.tolist()

    def render(self, first: int = 0, stop: int | None = None) -> bytes:
        """The bytes of lines ``first`` to ``stop`` (all by default; the pieces are described in
        ``formatting``)."""
        return b"".join(self.parts[first:stop].ravel().tolist())

    def lines(self, first: int = 0, stop: int | None = None) -> list[str]:
        """The lines ``first`` to ``stop`` (all by default), newline included. Valid lines are
        ASCII JSON, so they hold no line break but their last character."""
        return self.render(first, stop).decode().splitlines(keepends=True)

    def text(self) -> str:
        return self.render().decode()

    def chunks(self) -> list[bytes]:
        """The file's bytes, ``CHUNK_LINES`` lines a piece."""
        return [
            self.render(first, first + CHUNK_LINES) for first in range(0, len(self), CHUNK_LINES)
        ]

    def events_by_type(self) -> dict[str, int]:
        """Events per type (only the types the window has)."""
        counts = np.bincount(self.types, minlength=len(EVENT_TYPES)).tolist()
        return {name: number for name, number in zip(EVENT_TYPES, counts, strict=True) if number}


class SessionSimulator:
    """Starts sessions inside a window and files their events under the window each falls in.

    Input: world, funnel, RNG, id source, window grid. Output: ``pending`` events by window. A
    window is filled up to its rate with new sessions once the sessions started before it have
    filed their events there, so every file has the rate and sessions arrive at the pace that
    keeps it. Per-event draws (event ids, bot steps) come from a numpy generator seeded by the RNG.
    """

    def __init__(
        self,
        world: World,
        funnel: FunnelSettings,
        rng: random.Random,
        ids: UuidSource,
        grid: WindowGrid,
    ) -> None:
        self.world = world
        self.funnel = funnel
        self.rng = rng
        self.draws = np.random.default_rng(rng.getrandbits(128))
        self.next_id = ids.next_id
        self.grid = grid
        self.pending: defaultdict[int, list[Events]] = defaultdict(list)
        self.timestamps = TimestampCache(grid.base_second)
        self.lengths = _length_table(rng, funnel.session_length)
        self.dwells = _wrapped(_dwell_table(rng, funnel.dwell))
        self.elapsed = [0, *np.cumsum(self.dwells).tolist()]
        self.checkout_delays = _uniform_table(rng, *CHECKOUT_DELAY_MS)
        self.purchase_spacings = _uniform_table(rng, *PURCHASE_SPACING_MS)
        self.quantities = tuple(
            rng.choices(PURCHASE_QUANTITIES, weights=QUANTITY_WEIGHTS, k=TABLE_SIZE)
        )
        self.busy_until: dict[int, int] = {}
        self.bots_by_window: defaultdict[int, set[str]] = defaultdict(set)
        self.loyal = world.users.count // 10
        self.loyal_scale = self.loyal / LOYAL_SESSIONS
        self.others_scale = (world.users.count - self.loyal) / (1 - LOYAL_SESSIONS)
        self.referrers = world.referrer_parts
        self.cart_rate = funnel.cart_rate
        self.pieces = Pieces.of(world)
        popular = world.catalog.popular
        self.arrivals = BrowseTable.drawn(rng, popular, self.pieces, ARRIVAL_SEARCH_SHARE)
        self.browse = BrowseTable.drawn(rng, popular, self.pieces, funnel.search_share).wrapped()
        self.shapes = SessionShapes(
            lengths=np.array(self.lengths),
            elapsed=np.array(self.elapsed),
            arrivals=self.arrivals.pieces,
            browse=self.browse.pieces,
        )
        self.stop = NEVER
        # Bound once: every session reads them, and a chain of attribute lookups costs more.
        self.random, self.bits = rng.random, rng.getrandbits
        self.origin, self.interval = grid.origin, grid.interval
        self.users = world.users

    def fill(self, index: int, end_ms: int, target: float, stop: int = NEVER) -> None:
        """Start sessions at random times in window ``index`` (up to ``end_ms``) until the window
        holds ``target`` events: those of earlier sessions that fall in it, and of the new ones.

        Times are grid ms. Events at or after ``stop`` (the end of the run) are not made.
        """
        start_ms = self.grid.start(index)
        self.stop = stop
        self._forget(start_ms)
        held = sum(len(part.times) for part in self.pending[index])
        made = NewEvents()
        self._start_sessions(made, held, start_ms, end_ms, target)
        self._file(made.events(self.shapes))

    def _forget(self, now_ms: int) -> None:
        """Now and then drop shoppers whose last session is over (small dicts are fast dicts)."""
        if len(self.busy_until) > FORGET_ABOVE:
            self.busy_until = {s: t for s, t in self.busy_until.items() if t > now_ms}

    def _file(self, events: Events) -> None:
        """File events under their windows, in time order, unless they fall after the stop."""
        events = events.select(events.times < self.stop).in_time_order()
        windows = (events.times - self.origin) // self.interval
        cuts = [0, *(np.flatnonzero(np.diff(windows)) + 1).tolist(), len(windows)]
        for first, stop in pairwise(cuts):
            if stop > first:
                # Copies, not views: a view would keep the whole fill's columns alive until
                # its last window is taken (twice the memory of a run).
                part = Events(*(column[first:stop].copy() for column in events))
                self.pending[int(windows[first])].append(part)

    def take(self, index: int) -> WindowEvents:
        """Remove window ``index``'s events (complete once filled), sorted by time, with their
        event ids drawn (in that order)."""
        parts = self.pending.pop(index, [])
        events = Events.joined(parts).in_time_order() if parts else Events.empty()
        heads, ids = uuid4_heads(self.draws, len(events.times), HEAD)
        stamps = self.stamps_for(events.times)
        return WindowEvents(events, heads, ids, stamps, self.pieces)

    def stamps_for(self, times: np.ndarray) -> np.ndarray:
        """The timestamp piece of each time (grid ms, sorted): the pieces of every ms of its
        seconds are made in C, a second's prefix joined to the 1,000 suffixes, then looked up by
        ms (about as cheap as formatting 600 timestamps one by one, for a 10 s window)."""
        if not len(times):
            return _objects([])
        first, last = int(times[0]) // 1000, int(times[-1]) // 1000
        cached = self.timestamps.for_seconds(first, last)
        pieces: list[bytes] = []
        for second in range(first, last + 1):
            pieces += map(cached[second].encode().__add__, MILLIS_SUFFIX)
        return _objects(pieces)[times - first * 1000]

    def take_bots(self, index: int) -> set[str]:
        """Remove and return the ids of the bots with events in window ``index``."""
        return self.bots_by_window.pop(index, set())

    def _other_shopper(self, start_ms: int) -> int:
        """A random shopper not in a session at ``start_ms`` (whoever was drawn last, if the pool
        is too small for the rate)."""
        random_, count = self.rng.random, self.world.users.count
        for _ in range(USER_PICK_TRIES):
            index = int(count * random_())
            if self.busy_until.get(index, -1) <= start_ms:
                break
        return index

    def _start_sessions(
        self, made: NewEvents, held: int, start_ms: int, end_ms: int, target: float
    ) -> None:
        """Start sessions at random times in ``[start_ms, end_ms)`` until the window holds
        ``target`` events (``held`` already): now and then a bot burst, otherwise a shopper
        session, noted in ``made``.

        This is the hot loop of the generator, a shopper session written out in it: a method
        call and the lookups of its tables and of the user's id and profile cost about as much
        again as deciding the session. A session's steps are one random offset into the tables
        (see ``SessionShapes``); how many fall in this window is a bisection of the running
        sum of dwell times.
        """
        random_, bits, bot_rate = self.random, self.bits, self.funnel.bot_rate
        lengths, elapsed, busy_until = self.lengths, self.elapsed, self.busy_until
        cart_rate, span, limit = self.cart_rate, end_ms - start_ms, min(end_ms, self.stop)
        loyal, loyal_scale, others_scale = self.loyal, self.loyal_scale, self.others_scale
        stride, base, space, profile_stride = self.users.formulas()
        profiles, referrers, next_id = self.users.profiles, self.referrers, self.next_id
        profile_count, referrer_count = len(profiles), len(referrers)
        starts, offsets, users, tails = made.sessions
        single_times = made.singles[0]
        while held < target:
            start = start_ms + int(random_() * span)
            if random_() < bot_rate:
                held += self._bot_burst(made, start, limit)
                continue
            pick = random_()
            if pick < LOYAL_SESSIONS:  # the loyal tenth of shoppers: three times as many visits
                shopper = int(pick * loyal_scale)
            else:
                shopper = loyal + int((pick - LOYAL_SESSIONS) * others_scale)
            if busy_until.get(shopper, -1) > start:
                shopper = self._other_shopper(start)
            # Made afresh each session: the pool is so large that a cache would rarely hit.
            user = USER_PIECE_OF_NUMBER % ((shopper * stride + base) % space)
            referrer = referrers[int(random_() * referrer_count)]
            profile = profiles[(shopper * profile_stride >> 7) % profile_count]
            tail = f'"session_id":"{next_id()}",{referrer}{profile}'.encode()
            # One random offset a session: its steps read the (independent, random) tables there.
            offset = bits(TABLE_BITS)
            events = lengths[offset]
            starts.append(start)
            offsets.append(offset)
            users.append(user)
            tails.append(tail)
            zero = elapsed[offset] - start  # step k happens at elapsed[offset + k] - zero
            held += bisect_left(elapsed, limit + zero, offset, offset + events) - offset
            last = elapsed[offset + events - 1] - zero
            if random_() < cart_rate:
                singles = len(single_times)
                time = elapsed[offset + events] - zero  # a dwell after the last browse step
                last = self._cart_and_buy(made, offset, events, time, user, tail)
                held += bisect_left(single_times, limit, singles) - singles  # they are in order
            busy_until[shopper] = last + RETURN_GAP_MS

    def _cart_and_buy(
        self, made: NewEvents, offset: int, events: int, time: int, user: bytes, tail: bytes
    ) -> int:
        """The end of a carting session (browse steps at ``offset``, ``events`` of them): carts
        from ``time`` on, then maybe purchases, added to ``made``. Returns the time of its last
        event."""
        viewed = self._viewed(offset, events)
        if not viewed:  # only searched so far: look at a product before carting it
            viewed.append(self.world.catalog.popular[self.bits(TABLE_BITS)])
            made.add(time, user, viewed[0], tail)  # a page view's piece number is its product's
            time += self.dwells[self.bits(TABLE_BITS)]
        carted, last = self._add_to_cart(made, viewed, time, user, tail)
        if self.random() < self.funnel.purchase_rate:
            last = self._purchase(made, carted, last, user, tail)
        return last

    def _viewed(self, offset: int, events: int) -> list[int]:
        """The products a session's browse steps viewed, in order (read back from the tables
        only for the sessions that cart, instead of noted at every step)."""
        steps = (
            self.arrivals.products[offset],
            *self.browse.products[offset : offset + events - 1],
        )
        return [product for product in steps if product is not None]

    def _add_to_cart(
        self, made: NewEvents, viewed: list[int], time: int, user: bytes, tail: bytes
    ) -> tuple[list[int], int]:
        """Add one to three distinct viewed products (at least one) to the cart, a dwell apart.

        Returns the carted products and the time of the last add.
        """
        bits, cart, dwells = self.bits, self.pieces.cart, self.dwells
        distinct = list(dict.fromkeys(viewed))
        carted = []
        for _ in range(min(len(distinct), 1 + bits(2) % MAX_CART_ITEMS)):
            product = distinct.pop(bits(TABLE_BITS) % len(distinct))
            carted.append(product)
            made.add(time, user, cart + product, tail)
            last = time
            time += dwells[bits(TABLE_BITS)]
        return carted, last

    def _purchase(
        self, made: NewEvents, carted: list[int], time: int, user: bytes, tail: bytes
    ) -> int:
        """Buy every carted product after a checkout delay, one event per product; return the
        time of the last purchase event."""
        bits, purchase = self.bits, self.pieces.purchase
        time += self.checkout_delays[bits(TABLE_BITS)]
        for product in carted:
            quantity = self.quantities[bits(TABLE_BITS)]
            made.add(time, user, purchase[quantity] + product, tail)
            time += self.purchase_spacings[bits(TABLE_BITS)]
        return time

    def _bot_burst(self, made: NewEvents, start_ms: int, limit: int) -> int:
        """Make one bot burst crawling the catalogue page by page, into ``made``; return how
        many of its events fall before ``limit`` (grid ms).

        Also notes the bot's id under every window its events fall in (see ``take_bots``).
        """
        rng, draws, world, pieces = self.rng, self.draws, self.world, self.pieces
        bot = rng.randrange(world.bots.count)
        user_id = world.bots.user_id(bot)
        referrer = world.referrer_parts[int(rng.random() * len(world.referrer_parts))]
        tail = f'"session_id":"{self.next_id()}",{referrer}{world.bots.tail(bot)}'.encode()
        first = rng.randrange(pieces.cart)  # page views are numbered by product
        events = rng.randint(*BOT_BURST_EVENTS)
        dwells = draws.integers(BOT_DWELL_MS[0], BOT_DWELL_MS[1] + 1, size=events)
        times = start_ms + np.cumsum(dwells) - dwells
        numbers = np.where(
            draws.random(events) < BOT_SEARCH_SHARE,
            pieces.search + draws.integers(pieces.searches, size=events),
            (first + np.arange(events)) % pieces.cart,
        )
        times = times[times < self.stop]
        events = len(times)
        made.bursts.append(
            Events(
                times,
                numbers[:events],
                _repeated(user_piece(user_id), events),
                _repeated(tail, events),
            )
        )
        # A set, not np.unique: that imports numpy.ma on first use (45 ms).
        for window in set(((times - self.origin) // self.interval).tolist()):
            self.bots_by_window[window].add(user_id)
        return int(np.count_nonzero(times < limit))
