"""Shared by the picture, steps, dot and mermaid views: a name for every node, numbers as the
lecture writes them, and which wires carry gradient. Nothing here computes math."""

from __future__ import annotations

import math

from ..core.engine import Result
from ..core.expr import generic_local_text, vjp_text
from ..core.gates import GATES
from ..core.names import node_names  # noqa: F401  (the views' names, shared with tools)

#: an array with at most this many entries is drawn whole; a bigger one as its shape and a summary
SMALL_ARRAY = 12


def is_array(v) -> bool:
    """The value is an array with at least one axis (a number is never one)."""
    return bool(getattr(v, "ndim", 0))


def shape_text(v) -> str:
    """`(3,)`, `(2, 3)`; empty for a number."""
    return str(tuple(v.shape)) if is_array(v) else ""


def fmt(v: float) -> str:
    """A number as the lecture's figures write it: integers exact (`-12`), others with two
    decimals (`0.73`, `-0.20`), small ones with two significant digits (`0.018`), huge ones in
    e-notation. Full precision lives in `--format plain` and `json`. A small array is written
    whole with its entries to two decimals (`[-0.20, -0.39, 0.20]`), a big one as its shape and
    a summary (`(500, 10): -2.30 … 4.10, mean 0.012`; in a table cell the range alone)."""
    if v is None:
        return ""
    if is_array(v):
        return _fmt_array(v)
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


def _fmt_array(v, rows: bool = False) -> str:
    if v.size <= SMALL_ARRAY:
        if rows and v.ndim == 2:  # a small matrix in a picture: one line per row
            return "[" + ",\n ".join(_nested(row) for row in v.tolist()) + "]"
        return _nested(v.tolist())
    lo, hi, mean = float(v.min()), float(v.max()), float(v.mean())
    if lo == hi:
        return f"all {_two(lo)}" if rows else f"{shape_text(v)}: all {_two(lo)}"
    if rows:  # a table cell, beside its shape column: the range only, to stay narrow
        return f"{_two(lo)} … {_two(hi)}"
    return f"{shape_text(v)}: {_two(lo)} … {_two(hi)}, mean {_two(mean)}"


def _two(v: float) -> str:
    """An entry of a drawn array: two decimals (`-0.20`, `1.00` as `1`), like the lecture's."""
    if not math.isfinite(v):
        return repr(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if not math.isfinite(v) or abs(v) >= 1e6 or abs(v) < 0.005:
        return f"{v:.2g}"
    return f"{v:.2f}"


def _nested(x) -> str:
    # nested lists of at most SMALL_ARRAY numbers: no recursion worth guarding
    if isinstance(x, list):
        return "[" + ", ".join(_nested(e) for e in x) + "]"
    return _two(x)


def fmt_wire(v) -> str:
    """`fmt` for a wire of a drawn graph: an array with its shape first, `(3,) [2, -3, -3]`."""
    text = fmt(v)
    return f"{shape_text(v)} {text}" if is_array(v) and text.startswith("[") else text


def fmt_cell(v) -> str:
    """`fmt` for a table cell: a small matrix on one line per row."""
    return _fmt_array(v, rows=True) if is_array(v) else fmt(v)


def stretched(result: Result, gate: int, k: int) -> bool:
    """Broadcasting stretched input k of an elementwise gate to the gate's shape, so the
    gradient sent down that wire is summed back over the stretched axes."""
    g = result.graph
    if GATES[g.ops[gate]].shape is not None:  # an array gate: its product has the input's shape
        return False
    return getattr(result.values[gate], "shape", ()) != getattr(result.values[g.args[gate][k]], "shape", ())


def vjp_texts(result: Result, names: list[str], gate: int) -> tuple:
    """An array gate's product for each input wire, over the wires' names (CS231n's
    `dW = transpose(X) @ dS`); in words where the gate table has no string (indexing), and
    "no gradient" for an index's labels."""
    g = result.graph
    op, args = g.ops[gate], g.args[gate]
    up = f"d{names[gate]}"
    texts = list(vjp_text(op, [names[a] for a in args], names[gate], up, g.params[gate]))
    for k in range(len(args)):
        if result.contribs[gate] is not None and result.contribs[gate][k] is None:
            texts[k] = "none (an index)" if op == "index" else "none"
        elif texts[k] is None:
            texts[k] = f"{up} at the picked entries"
    return tuple(texts)


def wire_local(result: Result, names: list[str], gate: int, k: int) -> str:
    """What the picture writes for the local gradient on wire k into `gate`: the number (or a
    small array); an array gate's vector-Jacobian product as a formula (`dS @ transpose(W)`);
    "sums back" where broadcasting stretched the input."""
    if GATES[result.graph.ops[gate]].shape is not None:
        return vjp_texts(result, names, gate)[k]
    text = fmt_cell(result.locals[gate][k])
    return f"{text}, sums back" if stretched(result, gate, k) else text


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
