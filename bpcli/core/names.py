"""The name of every node, the same in every view and tool (the picture, --steps, explain, the
HTML page, and the names `bp check` accepts): inputs and staged intermediates by their own
names, the output by its own (`L` in `...; L = ...`) or `f`, other gates q, r, s, ..."""

from __future__ import annotations

from .graph import Graph

# Unnamed gates are called as the lecture calls its intermediates (q = x + y; f = q * z), then
# q1, q2, ... once these run out. `e` (a constant) and `f` (the output) are never used.
_LETTERS = "qrstuvmnpghjk"  # no w (w0, w1 are the usual weights), no a, b, c (they read as inputs)


def node_names(graph: Graph) -> list[str]:
    """A name for every node: variables by their name, staged intermediates by theirs, the
    output its own name or `f`, other gates q, r, s, ... (never clashing with a name of the expression),
    constants as their number."""
    names: list[str] = [""] * len(graph)
    taken = set(graph.var_ids) | set(graph.names) | {"e", "pi"}
    for name, node in graph.names.items():
        if not names[node] and graph.ops[node] != "var":
            names[node] = name
    out = graph.output
    if not names[out] and graph.ops[out] not in ("var", "const"):
        own = graph.output_name if graph.output_name != "f" else None  # `L = ...` keeps its L
        names[out] = own or next(n for n in ("f", "out", "f_out") if n not in taken)
    taken.add(names[out])
    letters = (c for c in _LETTERS if c not in taken)
    counter = 0
    for i, op in enumerate(graph.ops):
        if names[i]:
            continue
        if op in ("var", "const"):
            names[i] = graph.label(i)
            continue
        name = next(letters, None)
        while name is None or name in taken:
            counter += 1
            name = f"q{counter}"
        taken.add(name)
        names[i] = name
    return names
