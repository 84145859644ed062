"""Shared by the picture, steps, dot and mermaid views: a name for every node, numbers as the
lecture writes them, and which wires carry gradient. Nothing here computes math."""

from __future__ import annotations

import math

from ..core.engine import Result
from ..core.expr import generic_local_text
from ..core.gates import GATES
from ..core.graph import Graph

# Unnamed gates are called as the lecture calls its intermediates (q = x + y; f = q * z), then
# q1, q2, ... once these run out. `e` (a constant) and `f` (the output) are never used.
_LETTERS = "qrstuvmnpabcdghjk"  # no w: w0, w1 are the usual weights


def node_names(graph: Graph) -> list[str]:
    """A name for every node: variables by their name, staged intermediates by theirs, the
    output `f`, other gates q, r, s, ... (never clashing with a name of the expression),
    constants as their number."""
    names: list[str] = [""] * len(graph)
    taken = set(graph.var_ids) | set(graph.names) | {"e", "pi"}
    for name, node in graph.names.items():
        if not names[node] and graph.ops[node] != "var":
            names[node] = name
    out = graph.output
    if not names[out] and graph.ops[out] not in ("var", "const"):
        names[out] = next(n for n in ("f", "out", "f_out") if n not in taken)
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


def dumps(obj, indent: int | None = None) -> str:
    """`obj` as strict JSON and one line: NaN and ±Infinity (not JSON; strict parsers reject the
    whole document) become null, and text that is not valid Unicode (a raw 0xFF byte read from a
    comment) is written as \\u escapes, so the output is always valid UTF-8."""
    import json

    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=indent)
    except ValueError:  # a non-finite number somewhere: replace them all
        text = json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (undecodable input bytes)
        text = json.dumps(_finite(obj), ensure_ascii=True, allow_nan=False, indent=indent)
    return text + "\n"


def _finite(obj):
    """A copy of `obj` with every non-finite float replaced by None (JSON null)."""
    # iterative: --graph documents hold one dict per node
    out = _copy_shallow(obj)
    root = out
    stack = [out]
    while stack:
        item = stack.pop()
        keys = range(len(item)) if isinstance(item, list) else list(item)
        for k in keys:
            v = item[k]
            if isinstance(v, float) and not math.isfinite(v):
                item[k] = None
            elif isinstance(v, (dict, list, tuple)):
                item[k] = _copy_shallow(v)
                stack.append(item[k])
    return root


def _copy_shallow(v):
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, (list, tuple)):
        return list(v)
    return None if isinstance(v, float) and not math.isfinite(v) else v


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
