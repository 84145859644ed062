"""Shared by the picture, steps, dot and mermaid views: a name for every node, numbers as the
lecture writes them, and which wires carry gradient. Nothing here computes math."""

from __future__ import annotations

import math

from ..core.engine import Result
from ..core.expr import generic_local_text
from ..core.gates import GATES
from ..core.names import node_names  # noqa: F401  (the views' names, shared with tools)


def fmt(v: float) -> str:
    """A number as the lecture's figures write it: integers exact (`-12`), others with two
    decimals (`0.73`, `-0.20`), small ones with two significant digits (`0.018`), huge ones in
    e-notation. Full precision lives in `--format plain` and `json`."""
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return repr(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    a = abs(v)
    if a >= 1e6:
        return f"{v:.3g}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.2g}"


def term(v: float) -> str:
    """`fmt`, in parentheses when negative, to stand inside a formula: `(1 - 0.73)`, `(-4)`."""
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def carries_gradient(result: Result, node: int) -> bool:
    """The node gets a gradient in the backward pass: a variable, or a gate that depends on one
    and that the output depends on (constants and constant-only gates get none)."""
    op = result.graph.ops[node]
    return op == "var" or (op != "const" and result.contribs[node] is not None)


def const_exponent(graph, node: int) -> bool:
    """The gate is `^` with a constant exponent: drawn as the one-input gate `^2`, as the lecture
    does, not as `^` fed a constant 2."""
    return graph.ops[node] == "pow" and graph.ops[graph.args[node][1]] == "const"


def uses(result: Result) -> list[list[tuple[int, int]]]:
    """For each node, the (gate, input position) of every wire that carries its gradient back:
    at a fork several, and the node's gradient is the sum of the contributions on them."""
    g = result.graph
    out: list[list[tuple[int, int]]] = [[] for _ in g.ops]
    for i, args in enumerate(g.args):
        if result.contribs[i] is None:
            continue
        for k, a in enumerate(args):
            out[a].append((i, k))
    return out


def gate_note(op: str, param: float | None = None, n: int = 1) -> str:
    """A gate's note for pictures: its pattern (`distributor`, `swapper`, `router`), its label,
    or its local gradient from the gate table over generic names: `×(1 - σ(x)) * σ(x)`."""
    row = GATES[op]
    if row.pattern or row.label:
        return row.pattern or row.label
    texts = generic_local_text(op, param, n)
    if len(texts) == 1:
        return f"×{texts[0]}"
    names = row.input_names(n)
    return "; ".join(f"{name}: ×{t}" for name, t in zip(names, texts, strict=True))
