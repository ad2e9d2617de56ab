"""Broken lines, one kind at a time, each with a fresh event id (where it has one).

Input: a kind of ``MALFORMED_KINDS`` or ``FIELD_ERROR_KINDS``, a time, the world and a seeded RNG.
Output: the line. It starts from a plausible event of the shop, then breaks it.

A malformed line breaks what the contract requires (``clickstream.core.event_schema``): truncated JSON, a
purchase's price or quantity of the wrong type (``"price": "abc"``, ``"quantity": "two"``), a
missing required field, an unknown event type, a negative purchase price, bytes that are not
UTF-8, or nothing at all. A field error breaks an optional field only (a string price on a page
view, a negative quantity on a cart event, an IP, user agent or country that is not one): the
event stays valid, and ``make_field_error`` also says the ``field:rule`` code silver gives it.
"""

from __future__ import annotations

import json
import random
from typing import Any

from clickstream.core.event_schema import EVENT_TYPES, REQUIRED_BY_EVENT_TYPE, REQUIRED_FIELDS
from clickstream.generator.catalog import PURCHASE_QUANTITIES, World
from clickstream.generator.formatting import UuidSource, format_timestamp

UNKNOWN_EVENT_TYPES = ("wishlist_add", "checkout_start", "video_play", "login", "PageView")
# Lone surrogates stand for raw bytes: written with "surrogateescape" they are invalid UTF-8.
NON_UTF8_QUERIES = ("caf\udce9 cr\udce8me", "na\udcefve art", "\udcff\udcfe lamp")
INVALID_IPS = ("999.12.0.1", "10.0.0", "not-an-ip", "2001:db8::g1", "1.2.3.4.5")
INVALID_COUNTRIES = ("usa", "Germany", "F", "12")


class MalformedLines:
    """Builds one malformed line of a given kind, from a fresh, otherwise plausible event."""

    def __init__(self, world: World, rng: random.Random, ids: UuidSource) -> None:
        self.world = world
        self.rng = rng
        self.next_id = ids.next_id

    def make(self, kind: str, time_ms: int) -> str:
        """The line, newline included; ``time_ms`` is epoch ms (non_utf8 lines carry lone
        surrogates, written as the raw bytes they stand for)."""
        return getattr(self, f"_{kind}")(time_ms) + "\n"

    def _event(self, event_type: str, time_ms: int) -> dict[str, Any]:
        """A valid event of ``event_type`` with fresh ids, as a dict."""
        rng, world = self.rng, self.world
        catalog, users = world.catalog, world.users
        product = rng.randrange(len(catalog.view))
        fragment = {
            "page_view": catalog.view[product],
            "search": rng.choice(catalog.searches),
            "add_to_cart": catalog.cart[product],
            "purchase": catalog.purchase[rng.choice(PURCHASE_QUANTITIES)][product],
        }[event_type]
        user = rng.randrange(users.count)
        head = {
            "event_id": self.next_id(),
            "user_id": users.user_id(user),
            "event_type": event_type,
            "timestamp": format_timestamp(time_ms),
        }
        referrer = rng.choice(world.referrer_parts)
        session = f'"session_id":"{self.next_id()}",'
        rest = json.loads("{" + fragment + session + referrer + users.tail(user))
        return head | rest

    @staticmethod
    def _dumps(event: dict[str, Any]) -> str:
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False)

    def _truncated_json(self, time_ms: int) -> str:
        text = self._dumps(self._event(self.rng.choice(("page_view", "purchase")), time_ms))
        return text[: self.rng.randint(len(text) // 3, len(text) - 2)]

    def _wrong_type(self, time_ms: int) -> str:
        event = self._event("purchase", time_ms)
        if self.rng.random() < 0.5:
            event["quantity"] = "two"
        else:
            event["price"] = "abc"
        return self._dumps(event)

    def _missing_field(self, time_ms: int) -> str:
        event_type = self.rng.choice(list(REQUIRED_BY_EVENT_TYPE))
        event = self._event(event_type, time_ms)
        del event[self.rng.choice([*REQUIRED_FIELDS, *REQUIRED_BY_EVENT_TYPE[event_type]])]
        return self._dumps(event)

    def _unknown_event_type(self, time_ms: int) -> str:
        event = self._event("page_view", time_ms)
        event["event_type"] = self.rng.choice(UNKNOWN_EVENT_TYPES)
        return self._dumps(event)

    def _negative_price(self, time_ms: int) -> str:
        event = self._event("purchase", time_ms)
        event["price"] = -event["price"]
        return self._dumps(event)

    def _non_utf8(self, time_ms: int) -> str:
        event = self._event("search", time_ms)
        event["search_query"] = self.rng.choice(NON_UTF8_QUERIES)
        return self._dumps(event)

    def _empty_line(self, time_ms: int) -> str:
        return ""

    def make_field_error(self, kind: str, time_ms: int) -> tuple[str, str]:
        """(the line of a valid event with one optional field wrong, its ``field:rule`` code)."""
        line, code = getattr(self, f"_{kind}")(time_ms)
        return line + "\n", code

    def _optional_wrong_type(self, time_ms: int) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            event = self._event(self.rng.choice(("page_view", "search")), time_ms)
            event["price"] = "abc"
            return self._dumps(event), "price:wrong_type"
        event = self._event("add_to_cart", time_ms)
        event["quantity"] = "two"
        return self._dumps(event), "quantity:wrong_type"

    def _optional_out_of_range(self, time_ms: int) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            event = self._event("page_view", time_ms)
            event["price"] = -self.rng.randint(1, 500)
            return self._dumps(event), "price:non_positive"
        event = self._event("add_to_cart", time_ms)
        event["quantity"] = -self.rng.randint(1, 3)
        return self._dumps(event), "quantity:out_of_range"

    def _invalid_ip(self, time_ms: int) -> tuple[str, str]:
        event = self._event(self.rng.choice(EVENT_TYPES), time_ms)
        event["ip_address"] = self.rng.choice(INVALID_IPS)
        return self._dumps(event), "ip_address:invalid"

    def _invalid_user_agent(self, time_ms: int) -> tuple[str, str]:
        event = self._event(self.rng.choice(EVENT_TYPES), time_ms)
        event["user_agent"] = f"{event['user_agent']}\u0007{self.rng.choice('abc')}"
        return self._dumps(event), "user_agent:invalid"

    def _invalid_country(self, time_ms: int) -> tuple[str, str]:
        event = self._event(self.rng.choice(EVENT_TYPES), time_ms)
        event["country"] = self.rng.choice(INVALID_COUNTRIES)
        return self._dumps(event), "country:invalid"
