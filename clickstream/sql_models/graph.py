"""The dependency graph of models: cycles, topological order, lineage.

Input: ``{node: names it depends on}`` for every model (dependencies may be models or sources).
Output: a cycle as a list of names (``[a, b, a]``: a depends on b, b on a), a deterministic
dependencies-first order, and the transitive upstream / downstream sets of a node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

Graph = Mapping[str, Iterable[str]]


def _sorter(graph: Graph) -> TopologicalSorter:
    """The stdlib's sorter over the models alone: dependencies that are not nodes (sources) are
    left out; nodes in sorted order, so that what it reports does not depend on dict order."""
    return TopologicalSorter(
        {node: sorted(d for d in graph[node] if d in graph) for node in sorted(graph)}
    )


def find_cycle(graph: Graph) -> list[str] | None:
    """A dependency cycle ``[a, b, ..., a]`` (a depends on b), led by its smallest name."""
    try:
        _sorter(graph).prepare()
    except CycleError as error:
        # graphlib lists each node before the nodes that depend on it: read it backwards.
        cycle = list(reversed(error.args[1]))[:-1]
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        return [*cycle, cycle[0]]
    return None


def topological_levels(graph: Graph) -> list[list[str]]:
    """Every node of ``graph`` in levels: a node's dependencies are all in earlier levels, and
    the nodes of one level do not depend on each other; names sorted within a level.

    Dependencies that are not nodes (sources) are ignored. ``ValueError`` on a cycle.
    """
    sorter = _sorter(graph)
    try:
        sorter.prepare()
    except CycleError:
        raise ValueError("the graph has a cycle") from None
    levels: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        sorter.done(*ready)
        levels.append(ready)
    return levels


def topological_order(graph: Graph) -> list[str]:
    """Every node of ``graph``, each after the nodes it depends on (``topological_levels`` one
    after another)."""
    return [node for level in topological_levels(graph) for node in level]


def upstream(graph: Graph, node: str) -> set[str]:
    """Everything ``node`` reads, directly or not (models and sources)."""
    seen: set[str] = set()
    stack = list(graph.get(node, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, ()))
    return seen


def downstream(graph: Graph, node: str) -> set[str]:
    """Every model that reads ``node``, directly or not."""
    readers: dict[str, set[str]] = {}
    for reader, dependencies in graph.items():
        for dependency in dependencies:
            readers.setdefault(dependency, set()).add(reader)
    return upstream(readers, node)
