"""The array engine: the same forward and backward passes with NumPy arrays on the wires, for
expressions over vectors and matrices (CS231n's "gradients for vectorized operations").

A scalar gate works elementwise with NumPy's broadcasting; its backward pass multiplies its
local gradient by the upstream gradient, then sums the result back over the axes broadcasting
stretched, so every gradient has its node's shape ("sums back"). An array gate (`dot`, `@`,
`sum`, `softmax`, indexing, ... in array_gates.py) goes backward by its vector-Jacobian product.
Before any arithmetic, one pass over the graph works out every node's shape, so a shape that
does not fit is a usage error naming the gate, its column and the shapes.

`engine.evaluate` sends an expression here when a binding is an array or an array gate is used;
scalar expressions never come here (and never load NumPy).
"""

from __future__ import annotations

import numpy as np

from .array_gates import ARRAY_OPS, fit_text, sum_to
from .engine import _TIE_WORDS
from .errors import BpSyntaxError, MathError, UsageError
from .gates import GATES, NumpyMath
from .graph import Graph

_M = None  # the NumpyMath namespace, made once


def _math() -> NumpyMath:
    global _M
    if _M is None:
        _M = NumpyMath()
    return _M


def _where(graph: Graph, i: int) -> str:
    """` at @, column 5`: the gate and where it stands."""
    where = graph.where(i)
    label = graph.label(i)
    if graph.ops[i] == "index":  # `at S[...]`: the array being indexed, by name when it has one
        base = graph.args[i][0]
        label = f"{graph.label(base) if graph.ops[base] == 'var' else '(...)'}[...]"
    return f" at {label}" + (where.replace(" at", ",", 1) if where else "")


def shapes(graph: Graph, bindings: dict) -> list[tuple]:
    """The shape of every node, in one pass upwards; a UsageError (exit 2) for a gate whose
    inputs' shapes do not fit, naming the gate, its column and the shapes."""
    out: list[tuple] = []
    for i, (op, args, p) in enumerate(zip(graph.ops, graph.args, graph.params, strict=True)):
        if op == "const":
            out.append(())
        elif op == "var":
            out.append(np.shape(bindings[p]))
        else:
            ins = [out[a] for a in args]
            row = GATES[op]
            if op in ("amax", "amin") and not ins[0]:
                # max(x) of a number: the scalar language's error, as before arrays came
                line, col = graph.pos[i] or (1, 1)
                raise BpSyntaxError(f"{op[1:]} takes two or more arguments, got 1", graph.source, line, col)
            try:
                if op in ARRAY_OPS:
                    out.append(tuple(row.shape(ins, p)))
                else:
                    out.append(np.broadcast_shapes(*ins))
            except ValueError as e:
                text = str(e) if op in ARRAY_OPS else fit_text(ins)
                if text.startswith("shape mismatch"):
                    text = fit_text(ins)
                raise UsageError(text + _where(graph, i)) from None
    return out


def forward(graph: Graph, bindings: dict) -> list:
    """The forward pass on arrays; a non-finite entry is a MathError naming the gate."""
    m = _math()
    values: list = [None] * len(graph.ops)
    fp = _Alarm()
    with np.errstate(all="call", call=fp):
        for i, (op, args, p) in enumerate(zip(graph.ops, graph.args, graph.params, strict=True)):
            if op == "const":
                v = np.float64(p)
                fp.raised = fp.raised or not np.isfinite(v)  # 1e999 in the text
            elif op == "var":  # check_bindings has seen that it is finite
                v = bindings[p]
                values[i] = np.float64(v) if not isinstance(v, np.ndarray) else v
                continue
            else:
                xs = [values[a] for a in args]
                row = GATES[op]
                try:
                    v = row.forward(m, *xs, p=p) if row.arity == 0 else row.forward(m, *xs, p)
                except (ValueError, IndexError) as e:  # an index that is not a whole number, out of range
                    raise UsageError(f"{e}{_where(graph, i)}") from None
                v = np.asarray(v, dtype=float) if not np.isscalar(v) else np.float64(v)
            values[i] = v
            if fp.rang() and not _finite(v):
                raise MathError(_value_message(graph, values, i))
    return values


def backward(graph: Graph, values: list, shape: list[tuple], tie: str = "split"):
    """The backward pass on arrays: (grads, locals, contribs, warnings), as engine.backward.

    An array gate sends `vjp(...)` down each input wire; a scalar gate sends its local gradient
    times the upstream gradient, summed back to the input's shape where broadcasting stretched it.
    """
    m = _math()
    ops, args, params = graph.ops, graph.args, graph.params
    n = len(ops)
    named = set(graph.names.values())
    needs = [op == "var" or i in named for i, op in enumerate(ops)]
    for i, a in enumerate(args):
        if any(needs[k] for k in a) and ops[i] != "index":
            needs[i] = True
        elif ops[i] == "index" and needs[a[0]]:
            needs[i] = True  # an index's gradient goes to its array only, never to the labels
    grads: list = [0.0] * n  # a node no gradient reaches gets zeros of its shape at the end
    touched = [False] * n
    locals_: list = [None] * n
    contribs: list = [None] * n
    warnings: list[str] = []
    out = graph.output
    grads[out] = 1.0
    touched[out] = needs[out]
    with np.errstate(all="ignore"):
        for i in range(n - 1, -1, -1):
            op = ops[i]
            if not touched[i] or op in ("var", "const"):
                continue
            a, p, up = args[i], params[i], grads[i]
            xs = [values[k] for k in a]
            row = GATES[op]
            if op in ARRAY_OPS:
                sent = _vjp(row)(values[i], xs, up, p, tie)
                locals_[i] = (None,) * len(a)
            else:
                if row.arity == 0:  # max, min: any number of inputs, and the tie rule
                    loc = row.local(m, values[i], *xs, p=p, tie=tie)
                else:
                    loc = row.local(m, values[i], *xs, p)
                locals_[i] = loc
                # a local gradient of exactly 1 (add, sub's left input) passes `up` on without a copy;
                # sums are new arrays, never in place, since one array may travel on several wires
                sent = tuple(
                    sum_to(up if lg.__class__ is float and lg == 1.0 else lg * up, shape[k])
                    for lg, k in zip(loc, a, strict=True)
                )
                note = _kink_note(op, xs, values[i], tie)
                if note:
                    warnings.append(f"{graph.label(i)}{graph.where(i)} {note}")
            if op in ("amax", "amin") and np.count_nonzero(xs[0] == values[i]) > 1:
                count = np.count_nonzero(xs[0] == values[i])
                warnings.append(
                    f"{graph.label(i)}{graph.where(i)} has {count} tied entries; {_TIE_WORDS[tie]}"
                )
            contribs[i] = sent
            for k, (node, c) in enumerate(zip(a, sent, strict=True)):
                if c is None or not needs[node]:
                    continue
                # every wire is checked: a local gradient may hold a NaN by definition (a^b's slope
                # in b for a < 0), and a NaN passes through * without raising NumPy's alarm
                if not _finite(c):
                    raise MathError(
                        f"math error: the gradient into input {k + 1} of gate {graph.label(i)}{graph.where(i)}"
                        " is not finite"
                    )
                grads[node] = grads[node] + c if touched[node] else c
                touched[node] = True
    for i, s in enumerate(shape):
        if not touched[i] and s:
            grads[i] = np.zeros(s)
    grads = [g if isinstance(g, np.ndarray) and g.ndim else float(g) for g in grads]
    return grads, locals_, contribs, warnings


class _Alarm:
    """NumPy's floating-point error callback: finite inputs give a non-finite result only through
    an overflow, a division by zero or an invalid operation, and NumPy reports each one. So a
    gate's result is checked entry by entry only when the alarm rang while computing it."""

    __slots__ = ("raised",)

    def __init__(self):
        self.raised = False

    def __call__(self, kind, flag):
        self.raised = True

    def rang(self, keep: bool = False) -> bool:
        """The alarm rang since the last look (and is cleared, unless `keep`)."""
        raised = self.raised
        if not keep:
            self.raised = False
        return raised


_COMPILED: dict = {}


def _vjp(row):
    """The row's vector-Jacobian products as one function (out, xs, up, p, tie) -> per input:
    its `code`, or its `vjp` strings compiled once (each result summed back to its input's shape)."""
    fn = row.code or _COMPILED.get(row.op)
    if fn is None:
        from .expr import compile_text

        slots = ("out", *row.inputs, "p", "up")
        parts = [compile_text(row.vjp[name], slots)[0] for name in row.inputs]
        m = _math()

        def fn(out, xs, up, p=None, tie="split"):
            v = (out, *xs, p, up)
            return tuple(_fit(f(m, v), np.shape(x)) for f, x in zip(parts, xs, strict=True))

        fn = _COMPILED[row.op] = fn
    return fn


def _fit(g, shape: tuple):
    """A product given to an input of `shape`: spread over it (`up` of a sum) or summed back."""
    g = np.asarray(g, dtype=float)
    if g.shape == shape:
        return g
    if np.broadcast_shapes(g.shape, shape) == shape:
        return np.broadcast_to(g, shape)
    return sum_to(g, shape)


def _finite(v) -> bool:
    """Every entry is finite. One sum first (no temporary array): finite entries give a finite
    sum unless it overflows, and any inf or nan makes it non-finite; only then look entry by entry."""
    total = np.sum(v)
    return bool(np.isfinite(total)) or bool(np.all(np.isfinite(v)))


def _kink_note(op: str, xs, out, tie: str) -> str | None:
    """The warning for entries at a kink (relu, abs at 0; max/min ties), with their count."""
    if op in ("relu", "abs"):
        count = int(np.count_nonzero(xs[0] == 0))
        if count:
            return (
                f"is at its kink x = 0 in {count} {'entry' if count == 1 else 'entries'}; using {op}'(0) = 0"
            )
    if op in ("max", "min"):
        count = int(np.count_nonzero(sum((x == out).astype(int) for x in xs) > 1))
        if count:
            return f"has tied inputs in {count} {'entry' if count == 1 else 'entries'}; {_TIE_WORDS[tie]}"
    return None


def _value_message(graph: Graph, values: list, i: int) -> str:
    v = values[i]
    if graph.ops[i] == "const":  # as the scalar engine says it
        return f"math error: the number{graph.where(i)} is not a finite double ({float(v)!r})"
    where = f"gate {graph.label(i)}{graph.where(i)}"
    bad = int(np.size(v) - np.count_nonzero(np.isfinite(v)))
    if np.ndim(v) == 0:
        return f"math error: {where} gives {float(v)!r}"
    return f"math error: {where} gives {bad} non-finite {'entry' if bad == 1 else 'entries'} (shape {tuple(np.shape(v))})"


def run(graph: Graph, bindings: dict, tie: str = "split"):
    """Shapes, then forward and backward on arrays: (values, grads, locals, contribs, warnings).
    The output must be a number: an array output is a UsageError naming its shape."""
    shape = shapes(graph, bindings)
    if shape[graph.output]:
        s = shape[graph.output]
        raise UsageError(
            f"the output has shape {s}, not a number: bp takes the gradient of a number"
            f" (reduce it first, e.g. sum(...) or mean(...))"
        )
    values = forward(graph, bindings)
    grads, locals_, contribs, warnings = backward(graph, values, shape, tie)
    values = [v if v.ndim else float(v) for v in values]
    return values, grads, locals_, contribs, warnings
