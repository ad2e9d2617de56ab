"""The independent check of a raw folder: every line parsed and validated against the schema.

Input: a raw folder (or one data file). Output: a ``RawReport``: files, lines, unique valid events
by type, duplicates, late and out-of-order events, malformed lines by kind, time range, bot users.

The classifier knows nothing of the generator or its ledger: it decodes, parses and checks each
line against ``clickstream.core.event_schema`` (field types, required fields, event types, price > 0), so a
test can hold the ledger against it. Kinds, checked in this order: ``empty_line`` (blank),
``non_utf8``, ``truncated_json`` (not a JSON object), ``missing_field`` (a field every event
needs), ``unknown_event_type``, ``wrong_type`` (a required field of the wrong JSON type, a
timestamp that is not ISO-8601, a purchase's quantity below 1), ``missing_field`` (a field its event
type needs), ``negative_price`` (a purchase's price <= 0). A valid event whose optional field is
present but wrong counts as a field error, under the ``field:rule`` code silver gives it (the bounds
are written down here again, from the contract, not imported from silver's rules).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clickstream.core.event_schema import (
    EVENT_FIELDS,
    EVENT_TYPES,
    REQUIRED_BY_EVENT_TYPE,
    REQUIRED_FIELDS,
)
from clickstream.generator.ledger import (
    DATA_FILE_PREFIX,
    Ledger,
    MalformedLine,
    data_file_order,
    ledger_path,
    load_ledger,
)

FIELD_ERRORS_KEY = "__field_errors__"
MAX_PRICE = 10**10  # decimal(12,2)
MAX_QUANTITY = 2**31 - 1
MAX_USER_AGENT_LENGTH = 1024
BOT_EVENTS_PER_MINUTE = 50  # more valid events than this in one clock minute: a bot
DEFAULT_LATE_AFTER_SECONDS = 60.0
_FILE_STAMP = re.compile(r"^events_(\d{8}_\d{6})")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
}
_second_cache: dict[str, int] = {}


def parse_timestamp_ms(text: str) -> int | None:
    """ISO-8601 text -> epoch ms (naive means UTC); None if it is not a date-time."""
    if len(text) == 24 and text[19] == "." and text[23] == "Z" and text[20:23].isdigit():
        second = _second_cache.get(text[:19])
        if second is None:
            try:
                second = int(datetime.fromisoformat(text[:19] + "+00:00").timestamp())
            except ValueError:
                return None
            if len(_second_cache) > 100_000:
                _second_cache.clear()
            _second_cache[text[:19]] = second
        return second * 1000 + int(text[20:23])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _has_type(value: Any, json_type: str) -> bool:
    return isinstance(value, _PYTHON_TYPES[json_type]) and not isinstance(value, bool)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip(" "))


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _optional_value_problem(name: str, value: Any) -> str | None:
    """The rule a present optional ``value`` of field ``name`` breaks, or None."""
    if name in ("price", "quantity"):
        if not _has_type(value, EVENT_FIELDS[name][0]):
            return "wrong_type"
        if name == "price" and value <= 0:
            return "non_positive"
        if name == "price" and not value < MAX_PRICE:
            return "out_of_range"
        if name == "quantity" and not 1 <= value <= MAX_QUANTITY:
            return "out_of_range"
        return None
    if not isinstance(value, str):
        return None
    if name == "ip_address" and not _valid_ip(value):
        return "invalid"
    if name == "user_agent" and (
        len(value) > MAX_USER_AGENT_LENGTH or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return "invalid"
    if name == "country" and not (len(value) == 2 and value.isascii() and value.isupper()):
        return "invalid"
    return None


def event_problem(event: dict[str, Any]) -> str | None:
    """The malformed kind of a parsed JSON object, or None if it is a valid event."""
    return event_problems(event)[0]


def event_problems(event: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(the malformed kind of a parsed JSON object or None, the ``field:rule`` codes of its
    optional fields that are present but wrong, as silver names them)."""
    if any(_blank(event.get(name)) for name in REQUIRED_FIELDS):
        return "missing_field", []
    event_type = event["event_type"]
    if event_type not in EVENT_TYPES or not _has_type(event_type, "string"):
        return "unknown_event_type", []
    required = (*REQUIRED_FIELDS, *REQUIRED_BY_EVENT_TYPE[event_type])
    for name in required:
        value = event.get(name)
        if value is not None and not _has_type(value, EVENT_FIELDS[name][0]):
            return "wrong_type", []
    if parse_timestamp_ms(event["timestamp"]) is None:
        return "wrong_type", []
    if any(_blank(event.get(name)) for name in required):
        return "missing_field", []
    if event_type == "purchase":
        if event["price"] <= 0:
            return "negative_price", []
        if event["quantity"] < 1:
            return "wrong_type", []
    field_errors = []
    for name in EVENT_FIELDS:
        value = event.get(name)
        if name in required or value is None:
            continue
        rule = _optional_value_problem(name, value)
        if rule is not None:
            field_errors.append(f"{name}:{rule}")
    return None, field_errors


def classify_line(raw: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """``(kind, None)`` for a malformed line, ``(None, event)`` for a valid one (its field errors
    under the key ``FIELD_ERRORS_KEY``)."""
    if not raw.strip():
        return "empty_line", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "non_utf8", None
    try:
        event = json.loads(text)
    except ValueError:
        return "truncated_json", None
    if not isinstance(event, dict):
        return "truncated_json", None
    kind, field_errors = event_problems(event)
    if kind:
        return kind, None
    event[FIELD_ERRORS_KEY] = field_errors
    return None, event


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a data file (the newline after the last line does not start another)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def file_time_ms(name: str) -> int | None:
    """The time stamp in a data file's name, as epoch ms."""
    match = _FILE_STAMP.match(name)
    if match is None:
        return None
    moment = datetime.strptime(match.group(1), "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000


@dataclass
class RawReport:
    """What the raw files hold, found by reading them."""

    late_after_seconds: float = DEFAULT_LATE_AFTER_SECONDS
    files: list[str] = field(default_factory=list)
    files_without_ledger: list[str] = field(default_factory=list)
    lines: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    valid_event_ids: set[str] = field(default_factory=set)
    duplicates: int = 0
    late_events: int = 0
    out_of_order_events: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)
    field_errors: dict[str, list[str]] = field(default_factory=dict)  # event id -> codes
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    events_per_user_minute: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def malformed_by_kind(self) -> Counter[str]:
        return Counter(line.kind for line in self.malformed)

    @property
    def bot_user_ids(self) -> set[str]:
        return {
            user
            for (user, _), count in self.events_per_user_minute.items()
            if count > BOT_EVENTS_PER_MINUTE
        }

    def add_file(self, path: Path) -> None:
        """Read one data file (in file order: duplicates are copies of earlier valid lines)."""
        self.files.append(path.name)
        if not ledger_path(path.parent, path.name).exists():
            self.files_without_ledger.append(path.name)
        stamp = file_time_ms(path.name)
        late_before = None if stamp is None else stamp - self.late_after_seconds * 1000
        latest = None
        for number, raw in enumerate(split_lines(path.read_bytes()), start=1):
            self.lines += 1
            kind, event = classify_line(raw)
            if event is None:
                self.malformed.append(MalformedLine(path.name, number, kind or "unknown"))
                continue
            if event["event_id"] in self.valid_event_ids:
                self.duplicates += 1
                continue
            time_ms = self._add_event(event)
            if late_before is not None and time_ms < late_before:
                self.late_events += 1
            elif latest is not None and time_ms < latest:
                self.out_of_order_events += 1
            else:
                latest = time_ms

    def _add_event(self, event: dict[str, Any]) -> int:
        """Count one first-seen valid event; return its time in epoch ms."""
        time_ms = parse_timestamp_ms(event["timestamp"])
        assert time_ms is not None  # classify_line checked it
        self.valid_event_ids.add(event["event_id"])
        if event[FIELD_ERRORS_KEY]:
            self.field_errors[event["event_id"]] = event[FIELD_ERRORS_KEY]
        self.events_by_type[event["event_type"]] += 1
        self.events_per_user_minute[(event["user_id"], time_ms // 60_000)] += 1
        if self.first_event_ms is None or time_ms < self.first_event_ms:
            self.first_event_ms = time_ms
        if self.last_event_ms is None or time_ms > self.last_event_ms:
            self.last_event_ms = time_ms
        return time_ms

    def to_json(self) -> dict[str, Any]:
        """The report for machines (no id lists)."""
        return {
            "files": len(self.files),
            "files_without_ledger": self.files_without_ledger,
            "lines": self.lines,
            "unique_valid_events": len(self.valid_event_ids),
            "events_by_type": {name: self.events_by_type[name] for name in EVENT_TYPES},
            "duplicates": self.duplicates,
            "late_events": self.late_events,
            "late_after_seconds": self.late_after_seconds,
            "out_of_order_events": self.out_of_order_events,
            "malformed_lines": len(self.malformed),
            "malformed_by_kind": dict(sorted(self.malformed_by_kind.items())),
            "bot_users": len(self.bot_user_ids),
            "field_error_events": len(self.field_errors),
            "field_errors_by_code": dict(
                sorted(
                    Counter(code for codes in self.field_errors.values() for code in codes).items()
                )
            ),
            "first_event": _iso(self.first_event_ms),
            "last_event": _iso(self.last_event_ms),
        }


def _iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def data_files(path: Path) -> list[Path]:
    """The data files at ``path`` (a file, or the visible ``*.json`` files of a folder), in order."""
    if path.is_file():
        return [path]
    files = [
        candidate
        for candidate in path.glob("*.json")
        if candidate.is_file() and not candidate.name.startswith((".", "_"))
    ]
    return sorted(files, key=lambda candidate: data_file_order(candidate.name))


def inspect_raw(
    path: Path, late_after_seconds: float = DEFAULT_LATE_AFTER_SECONDS
) -> tuple[RawReport, Ledger | None]:
    """Read every data file at ``path``; also the ledger of those files, if there is one."""
    report = RawReport(late_after_seconds=late_after_seconds)
    files = data_files(path)
    for file in files:
        report.add_file(file)
    folder = path.parent if path.is_file() else path
    names = [file.name for file in files if file.name.startswith(DATA_FILE_PREFIX)]
    ledger = load_ledger(folder, names) if names else None
    if ledger is not None and not ledger.files:
        ledger = None
    return report, ledger
