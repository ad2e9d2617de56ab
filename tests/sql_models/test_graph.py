"""The dependency graph: cycles, topological order, lineage."""

from __future__ import annotations

import pytest

from clickstream.sql_models.graph import (
    downstream,
    find_cycle,
    topological_levels,
    topological_order,
    upstream,
)

GRAPH = {
    "d": ("b", "c"),
    "b": ("src",),
    "c": ("b",),
    "a": ("src",),
}


def test_order_is_dependencies_first_ties_by_name():
    assert topological_order(GRAPH) == ["a", "b", "c", "d"]


def test_levels_hold_nodes_whose_dependencies_are_all_in_earlier_levels():
    assert topological_levels(GRAPH) == [["a", "b"], ["c"], ["d"]]


def test_no_cycle():
    assert find_cycle(GRAPH) is None


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": ("b",), "b": ("a",)}, ["a", "b", "a"]),
        ({"a": ("a",)}, ["a", "a"]),
        ({"x": ("c",), "c": ("d",), "d": ("e",), "e": ("c",)}, ["c", "d", "e", "c"]),
    ],
)
def test_cycles(graph, cycle):
    assert find_cycle(graph) == cycle
    with pytest.raises(ValueError):
        topological_order(graph)


def test_upstream_and_downstream():
    assert upstream(GRAPH, "d") == {"b", "c", "src"}
    assert upstream(GRAPH, "a") == {"src"}
    assert downstream(GRAPH, "b") == {"c", "d"}
    assert downstream(GRAPH, "src") == {"a", "b", "c", "d"}
    assert downstream(GRAPH, "d") == set()
