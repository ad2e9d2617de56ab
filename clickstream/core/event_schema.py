"""The clickstream event, written down once: a JSON Schema, and the Spark schemas derived from it.

Input: nothing. Output: ``EVENT_JSON_SCHEMA`` (what a producer must send, JSON Schema draft 2020-12),
``EVENT_TYPES``, ``REQUIRED_FIELDS``, ``REQUIRED_BY_EVENT_TYPE`` and, built from them on demand,
``clickstream.transforms.event_parsing.event_spark_schema()`` (the typed schema silver parses bronze's raw JSON lines with, plus the
corrupt-record column).

The contract follows the seed and real producers (trackers send page views with few fields):
every event names ``REQUIRED_FIELDS``; a type requires more only where a metric cannot do without
it (``REQUIRED_BY_EVENT_TYPE``: a cart event names its product, a purchase its product, price and
quantity). Every other field is optional: absent means null. An event that breaks a required field
is quarantined; one whose optional field is present but wrong reaches silver with that field null
and the violation in ``field_errors`` (``clickstream.transforms.validation``). The JSON Schema describes what a
producer should send, optional fields' domains included.

The generator writes events of this shape, silver parses with the derived schema and validates
with the same field lists, and a test checks generated events against the JSON Schema.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES: tuple[str, ...] = ("page_view", "search", "add_to_cart", "purchase")

# Column that holds a raw line Spark's JSON reader could not parse into the schema.
CORRUPT_RECORD_COLUMN = "_corrupt_record"

# name -> (JSON Schema type, description). Order is the column order of parsed events.
EVENT_FIELDS: dict[str, tuple[str, str]] = {
    "event_id": ("string", "UUID of the event; the deduplication key"),
    "event_type": ("string", "one of EVENT_TYPES"),
    "user_id": ("string", "shopper (or bot) id, stable across sessions"),
    "session_id": ("string", "one visit of one user (optional: server-side producers have none)"),
    "timestamp": ("string", "event time, ISO-8601 (naive means UTC; Z or an offset; 0-6 decimals)"),
    "product_id": ("string", "catalogue product the event is about"),
    "category": ("string", "catalogue category of the product"),
    "price": ("number", "unit price, on add_to_cart and purchase"),
    "quantity": ("integer", "units bought, on purchase"),
    "search_query": ("string", "text searched, on search"),
    "page_url": ("string", "page the event happened on"),
    "referrer": ("string", "where the visit came from"),
    "device": ("string", "desktop, mobile or tablet"),
    "user_agent": ("string", "browser user agent"),
    "ip_address": ("string", "client IP address"),
    "country": ("string", "ISO 3166-1 alpha-2 country code"),
}

# Required of every event: without them an event cannot be deduplicated, typed, placed in time or
# given to a shopper. session_id is not among them: the seed's own purchase example and server-side
# trackers send none; such events count everywhere but in the per-session funnel.
REQUIRED_FIELDS: tuple[str, ...] = ("event_id", "event_type", "user_id", "timestamp")

# Required by type only where a metric cannot do without it: revenue needs the product, price and
# quantity of a purchase; the cart step of the funnel and revenue by product need a cart's product.
REQUIRED_BY_EVENT_TYPE: dict[str, tuple[str, ...]] = {
    "page_view": (),
    "search": (),
    "add_to_cart": ("product_id",),
    "purchase": ("product_id", "price", "quantity"),
}

OPTIONAL_FIELDS: tuple[str, ...] = tuple(
    name for name in EVENT_FIELDS if name not in REQUIRED_FIELDS
)


def is_required(name: str, event_type: str) -> bool:
    """Whether an event of ``event_type`` must carry field ``name``."""
    return name in REQUIRED_FIELDS or name in REQUIRED_BY_EVENT_TYPE.get(event_type, ())


def _json_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        name: {"type": kind, "description": text} for name, (kind, text) in EVENT_FIELDS.items()
    }
    properties["event_type"]["enum"] = list(EVENT_TYPES)
    properties["event_id"]["format"] = "uuid"
    properties["timestamp"]["format"] = "date-time"
    properties["price"]["exclusiveMinimum"] = 0
    properties["quantity"]["minimum"] = 1
    properties["country"]["pattern"] = "^[A-Z]{2}$"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "clickstream event",
        "type": "object",
        "properties": properties,
        "required": list(REQUIRED_FIELDS),
        "allOf": [
            {
                "if": {"properties": {"event_type": {"const": event_type}}},
                "then": {"required": list(required)},
            }
            for event_type, required in REQUIRED_BY_EVENT_TYPE.items()
            if required
        ],
    }


EVENT_JSON_SCHEMA: dict[str, Any] = _json_schema()
