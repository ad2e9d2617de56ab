"""Funnel sessions and bot bursts, bucketed by file window, rendered to lines a window at a time.

Input: a ``World``, ``FunnelSettings``, a seeded RNG and the ``WindowGrid``. Output: per window,
its events in time order, as ``WindowEvents`` (``take``); times are grid ms.

A shopper session arrives with a page view or a search, browses products (popular ones more
often), may add some viewed products to the cart and may then buy what it added; its events are in
time order, a dwell time apart. A bot burst is hundreds of page views a fraction of a second apart.
Shoppers dwell at least ``MIN_DWELL_MS`` and never run two sessions at once (given a pool large
enough for the rate, as the default is), so only bots exceed 50 events in a minute.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter

from clickstream.generator.catalog import (
    PURCHASE_QUANTITIES,
    QUANTITY_WEIGHTS,
    TABLE_BITS,
    TABLE_SIZE,
    World,
)
from clickstream.generator.formatting import (
    EVENT_TYPE_OF_PIECE,
    LINE_START,
    MILLIS_SUFFIX,
    NEVER,
    TYPE_PIECES,
    USER_PIECE_OF_NUMBER,
    TimestampCache,
    UuidSource,
    WindowGrid,
    user_piece,
)

# An event until its window is rendered: (time, user piece, type piece, fragment, tail), the bytes
# pieces of its line (see ``formatting``): ``fragment`` holds the product or search fields, ``tail``
# the session, referrer and user profile. Lines are only made when their window lands, so the events
# waiting in later windows cost a small tuple each instead of a 500-byte string.
Record = tuple[int, bytes, bytes, bytes, bytes]
Browse = tuple[bytes, bytes, int | None]  # (type piece, fragment, product viewed or None)
TIME, KIND = itemgetter(0), itemgetter(2)
ID_SEPARATOR = "\n" + LINE_START
PAGE_VIEW, SEARCH = TYPE_PIECES["page_view"], TYPE_PIECES["search"]
ADD_TO_CART, PURCHASE = TYPE_PIECES["add_to_cart"], TYPE_PIECES["purchase"]

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
CHUNK_LINES = 256  # lines rendered, joined and encoded at a time (about 128 kB)


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


@dataclass
class WindowEvents:
    """The events of one window in time order, rendered on demand.

    ``lines()`` gives the lines (for faults to move around), ``text()`` the whole text and
    ``chunks()`` the file's bytes in pieces of ``CHUNK_LINES`` lines. A chunk is one ``bytes.join``
    of the pieces of its lines, interleaved by ``zip`` (no Python code a line, no encoding pass): a
    whole 10 MB file at once would cost its size in fresh memory (page faults), while small chunks
    reuse warm memory.
    """

    records: list[Record]
    event_ids: list[str]
    stamps: dict[int, bytes]  # by grid ms: 'YYYY-MM-DDTHH:MM:SS.mmmZ",' (see ``stamps_for``)
    type_counts: Counter[bytes] | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def times(self) -> list[int]:
        return list(map(TIME, self.records))

    def render(
        self, first: int = 0, stop: int | None = None, type_counts: Counter[bytes] | None = None
    ) -> bytes:
        """The bytes of lines ``first`` to ``stop`` (all by default; the pieces are described in
        ``formatting``). Adds their type pieces to ``type_counts``, if given."""
        records = self.records[first:stop]
        if not records:
            return b""
        times, users, kinds, fragments, tails = zip(*records, strict=True)
        if type_counts is not None:
            # ``tuple.count`` matches the shared type pieces by identity: cheaper than hashing each.
            for piece in EVENT_TYPE_OF_PIECE:
                type_counts[piece] += kinds.count(piece)
        # '{"event_id":"<id>' per line: the ids joined and split again, in C.
        heads = (LINE_START + ID_SEPARATOR.join(self.event_ids[first:stop])).encode().split(b"\n")
        stamps = map(self.stamps.__getitem__, times)
        pieces = zip(heads, users, kinds, stamps, fragments, tails, strict=True)
        return b"".join(chain.from_iterable(pieces))

    def lines(self, first: int = 0, stop: int | None = None) -> list[str]:
        """The lines ``first`` to ``stop`` (all by default), newline included. Valid lines are
        ASCII JSON, so they hold no line break but their last character."""
        return self.render(first, stop).decode().splitlines(keepends=True)

    def text(self) -> str:
        return self.render().decode()

    def chunks(self) -> list[bytes]:
        """The file's bytes, ``CHUNK_LINES`` lines a piece (the event types are counted on the
        way, for ``events_by_type``)."""
        self.type_counts = Counter()
        return [
            self.render(first, first + CHUNK_LINES, self.type_counts)
            for first in range(0, len(self.records), CHUNK_LINES)
        ]

    def events_by_type(self) -> dict[str, int]:
        """Events per type. After ``chunks()`` from the counts it made: the records are scattered
        in memory, so one more pass over them costs a cache miss each."""
        counts = self.type_counts
        if counts is None:
            counts = Counter(map(KIND, self.records))
        return {EVENT_TYPE_OF_PIECE[piece]: number for piece, number in counts.items() if number}


def _encoded(texts: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(text.encode() for text in texts)


@dataclass(frozen=True)
class Fragments:
    """The catalogue's fragments (see ``Catalog``) as bytes, the form of the pieces of a record."""

    view: tuple[bytes, ...]
    cart: tuple[bytes, ...]
    purchase: dict[int, tuple[bytes, ...]]
    searches: tuple[bytes, ...]

    @classmethod
    def of(cls, world: World) -> Fragments:
        catalog = world.catalog
        return cls(
            view=_encoded(catalog.view),
            cart=_encoded(catalog.cart),
            purchase={quantity: _encoded(texts) for quantity, texts in catalog.purchase.items()},
            searches=_encoded(catalog.searches),
        )


def _browse_table(
    rng: random.Random, popular: tuple[int, ...], fragments: Fragments, search_share: float
) -> tuple[Browse, ...]:
    """Browse steps for a 16-bit random number: searches (random queries) at ``search_share``,
    page views of products by ``popular``ity otherwise."""
    steps: list[Browse] = []
    for _ in range(TABLE_SIZE):
        if rng.random() < search_share:
            steps.append((SEARCH, rng.choice(fragments.searches), None))
        else:
            product = popular[rng.getrandbits(TABLE_BITS)]
            steps.append((PAGE_VIEW, fragments.view[product], product))
    return tuple(steps)


class SessionSimulator:
    """Starts sessions inside a window and files their events under the window each falls in.

    Input: world, funnel, RNG, id source, window grid. Output: ``pending`` records by window. A
    window is filled up to its rate with new sessions once the sessions started before it have
    filed their events there, so every file has the rate and sessions arrive at the pace that
    keeps it.
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
        self.next_id = ids.next_id
        self.event_ids = ids
        self.grid = grid
        self.pending: defaultdict[int, list[Record]] = defaultdict(list)
        self.timestamps = TimestampCache(grid.base_second)
        self.lengths = _length_table(rng, funnel.session_length)
        self.dwells = _wrapped(_dwell_table(rng, funnel.dwell))
        self.bot_dwells = _uniform_table(rng, *BOT_DWELL_MS)
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
        self.fragments = Fragments.of(world)
        popular = world.catalog.popular
        self.arrivals = _browse_table(rng, popular, self.fragments, ARRIVAL_SEARCH_SHARE)
        self.browse = _wrapped(_browse_table(rng, popular, self.fragments, funnel.search_share))
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
        self._start_sessions(self.pending[index], start_ms, end_ms - start_ms, target)

    def _forget(self, now_ms: int) -> None:
        """Now and then drop shoppers whose last session is over (small dicts are fast dicts)."""
        if len(self.busy_until) > FORGET_ABOVE:
            self.busy_until = {s: t for s, t in self.busy_until.items() if t > now_ms}

    def take(self, index: int) -> WindowEvents:
        """Remove window ``index``'s events (complete once filled), sorted by time, with their
        event ids drawn (in that order)."""
        records = self.pending.pop(index, [])
        records.sort(key=TIME)
        if not records:
            return WindowEvents(records, [], {})
        stamps = self.stamps_for(records[0][0] // 1000, records[-1][0] // 1000)
        return WindowEvents(records, self.event_ids.take(len(records)), stamps)

    def stamps_for(self, first: int, last: int) -> dict[int, bytes]:
        """The timestamp piece of every ms of seconds ``first`` to ``last`` (grid time), by ms:
        one lookup a line instead of a second's prefix and a millisecond's suffix. Made in C,
        a second's prefix joined to the 1,000 suffixes (the pieces of a 10 s window cost about
        as much as formatting 600 timestamps one by one)."""
        cached = self.timestamps.for_seconds(first, last)
        pieces: list[bytes] = []
        for second in range(first, last + 1):
            pieces += map(cached[second].encode().__add__, MILLIS_SUFFIX)
        return dict(zip(range(first * 1000, (last + 1) * 1000), pieces, strict=True))

    def take_bots(self, index: int) -> set[str]:
        """Remove and return the ids of the bots with events in window ``index``."""
        return self.bots_by_window.pop(index, set())

    def _file(self, record: Record) -> None:
        """File one record under its window, unless it falls after the stop."""
        if record[0] < self.stop:
            self.pending[(record[0] - self.origin) // self.interval].append(record)

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
        self, window: list[Record], start_ms: int, span: int, target: float
    ) -> None:
        """Start sessions at random times in ``[start_ms, start_ms + span)`` until ``window``
        holds ``target`` events: now and then a bot burst, otherwise a shopper session, which
        files its events under the windows they fall in.

        This is the hot loop of the generator, a shopper session written out in it: a method
        call and the lookups of its tables and of the user's id and profile cost about as much
        again as the session's events. Each browse step is one lookup in a table of (type,
        fields, product), and an event is a tuple of precomputed pieces.
        """
        random_, bits, bot_rate = self.random, self.bits, self.funnel.bot_rate
        dwells, browse, arrivals, lengths = self.dwells, self.browse, self.arrivals, self.lengths
        busy_until, pending, stop = self.busy_until, self.pending, self.stop
        origin, interval, cart_rate = self.origin, self.interval, self.cart_rate
        loyal, loyal_scale, others_scale = self.loyal, self.loyal_scale, self.others_scale
        stride, base, space, profile_stride = self.users.formulas()
        profiles, referrers, next_id = self.users.profiles, self.referrers, self.next_id
        profile_count, referrer_count = len(profiles), len(referrers)
        while len(window) < target:
            start = start_ms + int(random_() * span)
            if random_() < bot_rate:
                self._bot_burst(start)
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
            kind, fragment, _ = arrivals[offset]
            time = start
            events = lengths[offset]
            for step in range(offset, offset + events):
                if time < stop:
                    pending[(time - origin) // interval].append((time, user, kind, fragment, tail))
                time += dwells[step]
                kind, fragment, _ = browse[step]
            last = time - dwells[step]  # the time of the last event (not tracked in the loop)
            if random_() < cart_rate:
                viewed = self._viewed(offset, events)
                last = self._cart_and_buy(viewed, time, user, tail)
            busy_until[shopper] = last + RETURN_GAP_MS

    def _cart_and_buy(self, viewed: list[int], time: int, user: bytes, tail: bytes) -> int:
        """The end of a carting session: carts, then maybe purchases. Returns the time of its
        last event."""
        if not viewed:  # only searched so far: look at a product before carting it
            viewed.append(self.world.catalog.popular[self.bits(TABLE_BITS)])
            self._file((time, user, PAGE_VIEW, self.fragments.view[viewed[0]], tail))
            time += self.dwells[self.bits(TABLE_BITS)]
        carted, last = self._add_to_cart(viewed, time, user, tail)
        if self.random() < self.funnel.purchase_rate:
            last = self._purchase(carted, last, user, tail)
        return last

    def _viewed(self, offset: int, events: int) -> list[int]:
        """The products a session's browse steps viewed, in order (read back from the tables
        only for the sessions that cart, instead of noted at every step)."""
        steps = (self.arrivals[offset], *self.browse[offset : offset + events - 1])
        return [product for _, _, product in steps if product is not None]

    def _add_to_cart(
        self, viewed: list[int], time: int, user: bytes, tail: bytes
    ) -> tuple[list[int], int]:
        """Add one to three distinct viewed products (at least one) to the cart, a dwell apart.

        Returns the carted products and the time of the last add.
        """
        bits, cart, dwells = self.bits, self.fragments.cart, self.dwells
        distinct = list(dict.fromkeys(viewed))
        carted = []
        for _ in range(min(len(distinct), 1 + bits(2) % MAX_CART_ITEMS)):
            product = distinct.pop(bits(TABLE_BITS) % len(distinct))
            carted.append(product)
            self._file((time, user, ADD_TO_CART, cart[product], tail))
            last = time
            time += dwells[bits(TABLE_BITS)]
        return carted, last

    def _purchase(self, carted: list[int], time: int, user: bytes, tail: bytes) -> int:
        """Buy every carted product after a checkout delay, one event per product; return the
        time of the last purchase event."""
        bits, purchase = self.bits, self.fragments.purchase
        time += self.checkout_delays[bits(TABLE_BITS)]
        for product in carted:
            quantity = self.quantities[bits(TABLE_BITS)]
            self._file((time, user, PURCHASE, purchase[quantity][product], tail))
            time += self.purchase_spacings[bits(TABLE_BITS)]
        return time

    def _bot_burst(self, start_ms: int) -> int:
        """Make one bot burst crawling the catalogue page by page; return its number of events.

        Also notes the bot's id under every window its events fall in (see ``take_bots``).
        """
        rng, fragments, world = self.rng, self.fragments, self.world
        random_, bits = rng.random, rng.getrandbits
        view, searches, dwells = fragments.view, fragments.searches, self.bot_dwells
        pending, stop = self.pending, self.stop
        origin, interval = self.grid.origin, self.grid.interval
        bot = rng.randrange(world.bots.count)
        user_id = world.bots.user_id(bot)
        user = user_piece(user_id)
        referrer = world.referrer_parts[int(random_() * len(world.referrer_parts))]
        tail = f'"session_id":"{self.next_id()}",{referrer}{world.bots.tail(bot)}'.encode()
        first = rng.randrange(len(view))
        time, window = start_ms, None
        events = rng.randint(*BOT_BURST_EVENTS)
        for step in range(events):
            if time >= stop:
                break
            if random_() < BOT_SEARCH_SHARE:
                record = (time, user, SEARCH, searches[int(random_() * len(searches))], tail)
            else:
                record = (time, user, PAGE_VIEW, view[(first + step) % len(view)], tail)
            index = (time - origin) // interval
            if index != window:
                window = index
                self.bots_by_window[index].add(user_id)
            pending[index].append(record)
            time += dwells[bits(TABLE_BITS)]
        return events
