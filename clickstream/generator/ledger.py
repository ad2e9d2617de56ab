"""The ground truth of every landed file: one JSON sidecar per data file, and their aggregate.

Input (write): what the generator put in one file. Output: ``<raw>/_ledger/<data file>.json``.
Input (read): a raw folder. Output: ``load_ledger(raw_dir) -> Ledger``, totals over the sidecars of
the data files that landed.

The ``_`` prefix of the folder makes Spark's file source ignore it. Ids are listed so that a test can
reconcile downstream tables exactly: each valid event id once, at its first occurrence; one
duplicate entry per extra copy; malformed lines by line number and kind; field errors (valid events
with an optional field that is wrong: silver keeps them, that field null) by event id, line number,
kind and the ``field:rule`` code silver must give them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clickstream.core.atomic_files import hidden_name
from clickstream.core.event_schema import EVENT_TYPES

LEDGER_DIR = "_ledger"
DATA_FILE_PREFIX = "events_"
MALFORMED_KINDS: tuple[str, ...] = (
    "truncated_json",
    "wrong_type",
    "missing_field",
    "unknown_event_type",
    "negative_price",
    "non_utf8",
    "empty_line",
)
# Valid events whose optional field is wrong, each kind with the codes it may give (one per event).
FIELD_ERROR_KINDS: dict[str, tuple[str, ...]] = {
    "optional_wrong_type": ("price:wrong_type", "quantity:wrong_type"),
    "optional_out_of_range": ("price:non_positive", "quantity:out_of_range"),
    "invalid_ip": ("ip_address:invalid",),
    "invalid_user_agent": ("user_agent:invalid",),
    "invalid_country": ("country:invalid",),
}
_DATA_NAME = re.compile(r"^events_(\d{8}_\d{6})(?:_(\d+))?\.json$")


def data_file_order(name: str) -> tuple[str, int, str]:
    """Sort key of data file names: by time stamp, then by the ``_1``, ``_2`` suffix."""
    match = _DATA_NAME.match(name)
    if match is None:
        return (name, 0, name)
    return (match.group(1), int(match.group(2) or 0), name)


def ledger_path(raw_dir: Path, data_name: str) -> Path:
    """Where the sidecar of data file ``data_name`` lives."""
    return raw_dir / LEDGER_DIR / f"{data_name}.json"


# Printable ASCII that JSON strings hold as is (everything but the quote and the backslash).
_PLAIN_ASCII = bytes(code for code in range(0x20, 0x7F) if chr(code) not in '"\\')


def _compact(value: Any) -> str:
    """JSON text of a value. A list of strings that need no escaping (ids) is joined directly:
    the same text as ``json.dumps``, several times faster for long lists."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        try:
            joined = '", "'.join(value)
        except TypeError:  # not all strings
            return json.dumps(value)
        # Plain if nothing but the quotes of the separators is left once plain ASCII is deleted
        # (one C-level pass; ``str.isprintable`` took most of the time of a ledger).
        if joined.isascii():
            rest = joined.encode("ascii").translate(None, _PLAIN_ASCII)
            if rest == b'"' * (2 * len(value) - 2):
                return f'["{joined}"]'
    return json.dumps(value)


@dataclass
class FileLedger:
    """What one data file holds, line by line, as the generator made it."""

    file: str
    seed: int
    window_start: str
    window_end: str
    lines: int
    valid_event_ids: list[str]
    events_by_type: dict[str, int]
    duplicate_event_ids: list[str] = field(default_factory=list)
    late_event_ids: list[str] = field(default_factory=list)
    out_of_order_event_ids: list[str] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    bot_user_ids: list[str] = field(default_factory=list)
    field_errors: list[dict[str, Any]] = field(default_factory=list)

    def malformed_by_kind(self) -> dict[str, int]:
        counts = Counter(entry["kind"] for entry in self.malformed)
        return {kind: counts[kind] for kind in MALFORMED_KINDS}

    def field_errors_by_kind(self) -> dict[str, int]:
        counts = Counter(entry["kind"] for entry in self.field_errors)
        return {kind: counts[kind] for kind in FIELD_ERROR_KINDS}

    def to_json(self) -> dict[str, Any]:
        """The sidecar document: counts first, then the id lists."""
        return {
            "file": self.file,
            "seed": self.seed,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "lines": self.lines,
            "events_by_type": {name: self.events_by_type.get(name, 0) for name in EVENT_TYPES},
            "unique_valid_events": len(self.valid_event_ids),
            "duplicates": len(self.duplicate_event_ids),
            "late_events": len(self.late_event_ids),
            "out_of_order_events": len(self.out_of_order_event_ids),
            "malformed_lines": len(self.malformed),
            "malformed_by_kind": self.malformed_by_kind(),
            "bot_users": len(self.bot_user_ids),
            "field_error_events": len(self.field_errors),
            "field_errors_by_kind": self.field_errors_by_kind(),
            "valid_event_ids": self.valid_event_ids,
            "duplicate_event_ids": self.duplicate_event_ids,
            "late_event_ids": self.late_event_ids,
            "out_of_order_event_ids": self.out_of_order_event_ids,
            "malformed": self.malformed,
            "bot_user_ids": self.bot_user_ids,
            "field_errors": self.field_errors,
        }

    def to_bytes(self) -> bytes:
        """One key a line, each value compact (readable, and fast for long id lists)."""
        members = (f"{json.dumps(key)}: {_compact(value)}" for key, value in self.to_json().items())
        return ("{\n" + ",\n".join(members) + "\n}\n").encode("utf-8")


@dataclass
class MalformedLine:
    """Where a malformed line is and what is wrong with it."""

    file: str
    line_number: int
    kind: str


@dataclass
class Ledger:
    """All sidecars of a raw folder added up; an id valid in two files counts once, as valid."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    valid_event_ids: set[str] = field(default_factory=set)
    duplicate_event_ids: list[str] = field(default_factory=list)
    late_event_ids: set[str] = field(default_factory=set)
    out_of_order_event_ids: set[str] = field(default_factory=set)
    malformed_by_kind: Counter[str] = field(default_factory=Counter)
    malformed: list[MalformedLine] = field(default_factory=list)
    bot_user_ids: set[str] = field(default_factory=set)
    field_errors: dict[str, str] = field(default_factory=dict)  # event id -> field:rule code

    @property
    def field_error_events(self) -> int:
        return len(self.field_errors)

    @property
    def unique_valid_events(self) -> int:
        return len(self.valid_event_ids)

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_event_ids)

    @property
    def late_events(self) -> int:
        return len(self.late_event_ids)

    @property
    def malformed_lines(self) -> int:
        return len(self.malformed)

    def add(self, document: dict[str, Any]) -> None:
        """Add one sidecar document."""
        self.files.append(document["file"])
        self.lines += document["lines"]
        self.events_by_type.update(document["events_by_type"])
        for event_id in document["valid_event_ids"]:
            if event_id in self.valid_event_ids:
                self.duplicate_event_ids.append(event_id)  # the same run landed twice
            else:
                self.valid_event_ids.add(event_id)
        self.duplicate_event_ids.extend(document["duplicate_event_ids"])
        self.late_event_ids.update(document["late_event_ids"])
        self.out_of_order_event_ids.update(document["out_of_order_event_ids"])
        for entry in document["malformed"]:
            self.malformed_by_kind[entry["kind"]] += 1
            self.malformed.append(
                MalformedLine(document["file"], entry["line_number"], entry["kind"])
            )
        self.bot_user_ids.update(document["bot_user_ids"])
        for entry in document.get("field_errors", []):  # absent from older sidecars
            self.field_errors.setdefault(entry["event_id"], entry["code"])


def not_landed(raw_dir: Path | str) -> set[str]:
    """Data files whose landing did not finish: their hidden file is there and they are not (a
    generator is writing them now, or was killed after landing the sidecar: it never lands)."""
    raw_dir = Path(raw_dir)
    hidden = raw_dir.glob(hidden_name(f"{DATA_FILE_PREFIX}*.json"))
    names = {path.name.removeprefix(".").removesuffix(".tmp") for path in hidden}
    return {name for name in names if not (raw_dir / name).exists()}


def load_ledger(raw_dir: Path | str, files: Iterable[str] | None = None) -> Ledger:
    """Aggregate the sidecars under ``<raw_dir>/_ledger`` in data-file order: of every data file
    that landed (moved to the archive since, or not), or of those named in ``files``. A sidecar
    whose data file is still hidden (``not_landed``) is left out."""
    paths = (Path(raw_dir) / LEDGER_DIR).glob(f"{DATA_FILE_PREFIX}*.json")
    unfinished = not_landed(raw_dir)
    paths = (path for path in paths if path.stem not in unfinished)
    if files is not None:
        wanted = set(files)
        paths = (path for path in paths if path.stem in wanted)
    ledger = Ledger()
    for path in sorted(paths, key=lambda path: data_file_order(path.stem)):
        ledger.add(json.loads(path.read_bytes()))
    return ledger
