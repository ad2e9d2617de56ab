"""A model's ``config()``: what the streaming runner needs to run and write it.

Input: the keyword arguments a model passed to ``config()`` (``None`` when it never called it), the
line of the call, and the model's output columns when they are statically known. Output: a frozen
``ModelConfig``, or a ``ModelError`` naming the bad argument.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clickstream.sql_models.model_errors import ModelError

MATERIALIZATIONS = ("append", "upsert")
CONFIG_KEYS = ("materialized", "watermark", "unique_key", "partition_by")
WATERMARK_KEYS = ("column", "delay")
# A Spark interval the runner hands to withWatermark: "10 minutes", "30 seconds", "1 hour".
_DELAY = re.compile(r"^\d+ (millisecond|second|minute|hour|day|week)s?$")


@dataclass(frozen=True)
class ModelConfig:
    """How a model is materialized: write mode, event-time watermark, key and partitioning."""

    materialized: str  # "append": insert finished rows; "upsert": merge rows on unique_key
    watermark_column: str
    watermark_delay: str
    unique_key: tuple[str, ...]
    partition_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists, not tuples); the fingerprint hashes it."""
        return {
            "materialized": self.materialized,
            "watermark_column": self.watermark_column,
            "watermark_delay": self.watermark_delay,
            "unique_key": list(self.unique_key),
            "partition_by": list(self.partition_by),
        }


def _column_list(value: Any, key: str, fail) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) and item for item in value
    ):
        fail(f"config {key} must be a list of column names, got {value!r}")
    if len(set(value)) != len(value):
        fail(f"config {key} names a column twice: {list(value)}")
    return tuple(value)


def _watermark(value: Any, fail) -> tuple[str, str]:
    if value is None:
        fail(
            "config watermark is missing: add watermark={'column': 'event_time', 'delay': '10 minutes'}"
        )
    if not isinstance(value, dict) or set(value) != set(WATERMARK_KEYS):
        fail(f"config watermark must be {{'column': ..., 'delay': ...}}, got {value!r}")
    column, delay = value["column"], value["delay"]
    if not isinstance(column, str) or not column:
        fail(f"config watermark column must be a column name, got {column!r}")
    if not isinstance(delay, str) or not _DELAY.match(delay.strip()):
        fail(f"config watermark delay must be like '10 minutes', got {delay!r}")
    return column, delay.strip()


def build_config(
    arguments: dict[str, Any] | None,
    *,
    file: str,
    line: int,
    output_columns: Sequence[str] | None,
) -> ModelConfig:
    """Check ``config()``'s arguments and build the ``ModelConfig``."""

    def fail(message: str):
        raise ModelError(file, line, message)

    if arguments is None:
        fail("no {{ config(...) }}: every model declares materialized= and watermark=")
    unknown = sorted(set(arguments) - set(CONFIG_KEYS))
    if unknown:
        fail(f"unknown config key {unknown[0]!r} (expected: {', '.join(CONFIG_KEYS)})")
    materialized = arguments.get("materialized")
    if materialized is None:
        fail(f"config materialized is missing: one of {', '.join(MATERIALIZATIONS)}")
    if materialized not in MATERIALIZATIONS:
        fail(f"config materialized={materialized!r}: expected one of {', '.join(MATERIALIZATIONS)}")
    column, delay = _watermark(arguments.get("watermark"), fail)
    unique_key = _column_list(arguments.get("unique_key", []), "unique_key", fail)
    partition_by = _column_list(arguments.get("partition_by", []), "partition_by", fail)
    if materialized == "upsert" and not unique_key:
        fail("materialized='upsert' needs unique_key=[...]: the columns rows are merged on")
    if output_columns is not None:
        known = {name.lower() for name in output_columns}
        for key, columns in (("unique_key", unique_key), ("partition_by", partition_by)):
            missing = [name for name in columns if name.lower() not in known]
            if missing:
                fail(
                    f"config {key} column {missing[0]!r} is not an output column of the model "
                    f"({', '.join(output_columns)})"
                )
    return ModelConfig(materialized, column, delay, unique_key, partition_by)
