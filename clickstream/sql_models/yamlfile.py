"""YAML documents that remember their line numbers, for errors that point at the line.

Input: YAML text and the file as shown in errors. Output: plain Python values, except that every
mapping is a ``LineDict`` and every list a ``LineList`` carrying the 1-based line it starts on (and
for lists, the line of each item); a YAML syntax error is a ``ModelError`` at its line.
"""

from __future__ import annotations

from typing import Any

import yaml

from clickstream.sql_models.model_errors import ModelError


class LineDict(dict):
    """A YAML mapping, the line it starts on and the line of each key."""

    line: int = 1
    key_lines: dict[Any, int] | None = None

    def line_of_key(self, key: Any) -> int:
        return (self.key_lines or {}).get(key, self.line)


class LineList(list):
    """A YAML sequence, the line it starts on and the line of each item."""

    line: int = 1
    item_lines: tuple[int, ...] = ()


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    value = LineDict(loader.construct_mapping(node, deep=True))
    value.line = node.start_mark.line + 1
    value.key_lines = {
        loader.construct_object(key, deep=True): key.start_mark.line + 1 for key, _ in node.value
    }
    return value


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    value = LineList(loader.construct_sequence(node, deep=True))
    value.line = node.start_mark.line + 1
    value.item_lines = tuple(item.start_mark.line + 1 for item in node.value)
    return value


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document; an empty document is an empty ``LineDict``."""
    try:
        value = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise ModelError(file, line, f"YAML error: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ModelError(file, 1, f"YAML error: {error}") from None
    return LineDict() if value is None else value


def line_of(value: Any, default: int = 1) -> int:
    """The line a ``LineDict`` or ``LineList`` starts on, else ``default``."""
    return getattr(value, "line", default)


def plain(value: Any) -> Any:
    """``value`` with every ``LineDict`` / ``LineList`` turned into a plain dict / list."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
