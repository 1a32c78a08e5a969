"""Directed graphs of names: the path model's blocks and the study's model paths (pure Python,
cheap to import: ``study.yaml`` is checked with it before any data library is loaded)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["find_cycle"]


def find_cycle(names: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[str] | None:
    """One directed cycle of the graph as ``[a, b, ..., a]``, or None (a recursive path model).

    Examples
    --------
    >>> find_cycle(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    ['a', 'b', 'c', 'a']
    >>> find_cycle(["a", "b"], [("a", "b")]) is None
    True
    """
    succ: dict[str, list[str]] = {name: [] for name in names}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if not state.get(nxt):
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for name in names:
        if not state.get(name):
            found = visit(name)
            if found:
                return found
    return None
