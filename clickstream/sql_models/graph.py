"""The dependency graph of models: cycles, topological order, lineage.

Input: ``{node: names it depends on}`` for every model (dependencies may be models or sources).
Output: a cycle as a list of names (``[a, b, a]``: a depends on b, b on a), a deterministic
dependencies-first order, and the transitive upstream / downstream sets of a node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Graph = Mapping[str, Iterable[str]]


def find_cycle(graph: Graph) -> list[str] | None:
    """A dependency cycle ``[a, b, ..., a]``, starting from the first name in sorted order."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done or node not in graph:
            return None
        for dependency in sorted(graph[node]):
            cycle = visit(dependency, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node, [])
        if cycle:
            return cycle
    return None


def topological_levels(graph: Graph) -> list[list[str]]:
    """Every node of ``graph`` in levels: a node's dependencies are all in earlier levels, and
    the nodes of one level do not depend on each other; names sorted within a level.

    Dependencies that are not nodes (sources) are ignored. ``ValueError`` on a cycle.
    """
    pending = {node: {d for d in graph[node] if d in graph} for node in graph}
    if find_cycle(graph):
        raise ValueError("the graph has a cycle")
    levels: list[list[str]] = []
    while pending:
        ready = sorted(node for node, dependencies in pending.items() if not dependencies)
        for node in ready:
            del pending[node]
        for dependencies in pending.values():
            dependencies.difference_update(ready)
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
