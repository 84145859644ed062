"""The engine: a forward pass that puts a value on every wire, then a backward pass that puts a
gradient on every wire, as the lecture draws it.

Forward walks node ids upwards (the graph is topologically ordered by construction); backward
walks them downwards, multiplying each gate's local gradients by its upstream gradient and adding
the result into its inputs (at a fork the contributions add up). Nothing here formats output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

from .errors import MathError, UsageError
from .gates import CONSTANTS, GATES, SCALAR
from .graph import Graph

TIES = ("split", "first", "both")
_TIE_WORDS = {
    "split": "the gradient is split evenly among them",
    "first": "the whole gradient goes to the first of them (--tie first)",
    "both": "each of them gets the whole gradient (--tie both)",
}


@dataclass
class Result:
    """Everything one evaluation knows; views read it and never recompute."""

    graph: Graph
    values: list  #: forward value of every node
    grads: list  #: d output / d node for every node (0.0 where no gradient flows)
    locals: list  #: per gate, the local gradient of each input (None for leaves, unused gates)
    contribs: list  #: per gate, the gradient sent down each input wire (upstream x local)
    warnings: list[str] = field(default_factory=list)
    tie: str = "split"

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    @property
    def gradient(self) -> dict[str, float]:
        """d output / d input, for each input variable in order of first appearance."""
        return {name: self.grads[node] for name, node in self.graph.var_ids.items()}

    def hessian(self) -> dict[str, dict[str, float]]:
        """Every second partial at the point, {x: {y: d2f/dxdy}} (symmetric), by backprop
        through the backward pass built as a graph (bpcli.core.derive)."""
        from .derive import hessian

        point = {name: self.values[node] for name, node in self.graph.var_ids.items()}
        return hessian(self.graph, point, self.tie)

    def __repr__(self) -> str:
        return f"Result(value={self.value!r}, gradient={self.gradient!r})"

    @property
    def intermediates(self) -> dict[str, dict[str, float]]:
        """Named intermediate values of a staged computation: {name: {"value", "grad"}}."""
        return {
            name: {"value": self.values[node], "grad": self.grads[node]}
            for name, node in self.graph.names.items()
        }

    # -- notebooks and Rich consoles show the picture (the views load only when asked) --------
    def _repr_html_(self) -> str:
        """Jupyter: the step-through page, in an iframe of its own so its styles stay inside."""
        from ..views.html import notebook_frame

        return notebook_frame(self)

    def __rich__(self):
        """`rich.print(result)`: the annotated circuit, as `bp eval` draws it."""
        from ..views.picture import Picture

        return Picture(self)


def check_bindings(graph: Graph, bindings: dict[str, float]) -> None:
    """Usage errors (exit 2) for a missing value, a value for an unknown name, a bound
    constant or intermediate, or a value that is not a finite number."""
    for name, value in bindings.items():
        if name in CONSTANTS:
            raise UsageError(f"'{name}' is a constant and cannot be bound")
        if name in graph.names:
            raise UsageError(f"'{name}' is computed by the expression ({name} = ...) and cannot be bound")
        if name not in graph.var_ids:
            have = ", ".join(list(graph.var_ids)[:10]) or "none"
            have += ", ..." if len(graph.var_ids) > 10 else ""
            raise UsageError(f"'{name}' is not a variable of the expression (its variables: {have})")
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise UsageError(f"the value of '{name}' is not a finite number: {value!r}")
        elif not _finite_array(value):
            raise UsageError(f"the value of '{name}' is not a finite number or array of numbers")
    missing = [name for name in graph.var_ids if name not in bindings]
    if missing:
        # thousands of unbound inputs: name a few, count the rest, so the message stays one line
        shown, more = missing[:5], f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        opts = " ".join(f"--{n} VALUE" for n in shown)
        raise UsageError(f"no value for {', '.join(repr(n) for n in shown)}{more} (bind with {opts})")


def _finite_array(value) -> bool:
    """An array binding of finite numbers (NumPy is loaded only when an array is bound)."""
    import numpy as np

    if not (isinstance(value, np.ndarray) and value.dtype.kind in "fiu"):
        return False
    # one sum first (no temporary array); only a non-finite sum needs the entry-by-entry look
    return bool(np.isfinite(np.sum(value))) or bool(np.all(np.isfinite(value)))


def _calls(ops, which: str, tie: str | None = None) -> dict:
    """Per op in the graph: (function, variadic). Fixed-arity gates are called with positional
    arguments (cheaper than `p=` per node); max/min take any number of inputs and `p=`."""
    calls = {}
    for op in set(ops):
        row = GATES.get(op)
        if row is not None:
            fn = getattr(row, which)
            if tie is not None and row.pattern == "router":
                fn = partial(fn, tie=tie)
            calls[op] = (fn, row.arity == 0)
    return calls


def forward(graph: Graph, bindings: dict[str, float], m=SCALAR) -> list:
    """The forward pass: the value of every node. A non-finite value is a MathError."""
    calls = _calls(graph.ops, "forward")
    values: list = [0.0] * len(graph.ops)
    scalar = m is SCALAR
    isfinite = math.isfinite
    for i, (op, a, p) in enumerate(zip(graph.ops, graph.args, graph.params, strict=True)):
        if op == "const":
            v = p
        elif op == "var":
            v = float(bindings[p]) if scalar else bindings[p]
        else:
            fn, variadic = calls[op]
            if variadic:
                v = fn(m, *[values[k] for k in a], p=p)
            elif len(a) == 2:
                v = fn(m, values[a[0]], values[a[1]], p)
            else:
                v = fn(m, values[a[0]], p)
        values[i] = v
        if scalar and not isfinite(v):
            raise MathError(_value_message(graph, values, i))
    return values


def backward(graph: Graph, values: list, tie: str = "split", m=SCALAR):
    """The backward pass: (grads, locals, contribs, warnings). Gradient flows only from the
    output down to the nodes it depends on, and only into nodes that depend on a variable."""
    if tie not in TIES:
        raise UsageError(f"--tie must be one of {', '.join(TIES)}, not {tie!r}")
    ops, args, params = graph.ops, graph.args, graph.params
    n = len(ops)
    # needs[i]: the node depends on an input variable, so its gradient means something
    if "const" not in ops:  # every gate then depends on a variable (one C-speed scan)
        needs = [True] * n
    else:
        named = set(graph.names.values())  # a named intermediate reports df/dname even if constant
        needs = [op == "var" or i in named for i, op in enumerate(ops)]
        for i, a in enumerate(args):
            for k in a:  # leaves have no inputs
                if needs[k]:
                    needs[i] = True
                    break
    calls = _calls(ops, "local", tie)
    scalar = m is SCALAR
    # kinks are warned about point by point in scalar mode (batch mode counts rows itself)
    kinks = {op: GATES[op].kink for op in calls if GATES[op].kink is not None} if scalar else {}
    grads: list = [0.0] * n
    locals_: list = [None] * n
    contribs: list = [None] * n
    warnings: list[str] = []
    # live[i]: gradient reaches the node from the output (and it needs one)
    live = [False] * n
    touched = [False] * n  # batch mode: the node's gradient array is set
    out = graph.output
    live[out] = needs[out]
    grads[out] = 1.0
    isfinite = math.isfinite
    for i in range(n - 1, -1, -1):
        if not live[i]:
            continue
        op = ops[i]
        if op == "var":
            continue
        a, p, up = args[i], params[i], grads[i]
        fn, variadic = calls[op]
        if variadic:
            loc = fn(m, values[i], *[values[k] for k in a], p=p)
        elif len(a) == 2:
            loc = fn(m, values[i], values[a[0]], values[a[1]], p)
        else:
            loc = fn(m, values[i], values[a[0]], p)
        if kinks and op in kinks:
            note = kinks[op](*[values[k] for k in a])
            if note:
                if GATES[op].pattern == "router":
                    note += f"; {_TIE_WORDS[tie]}"
                warnings.append(f"{graph.label(i)}{graph.where(i)} {note}")
        locals_[i] = loc
        if scalar:
            if len(a) == 2:  # the common case, unrolled: two wires down
                n0, n1 = a
                sent = contribs[i] = (loc[0] * up, loc[1] * up)
                if needs[n0] and needs[n1] and isfinite(sent[0]) and isfinite(sent[1]):
                    live[n0] = live[n1] = True
                    grads[n0] += sent[0]
                    grads[n1] += sent[1]
                    continue
            else:
                sent = contribs[i] = tuple([lg * up for lg in loc])
            for k, node in enumerate(a):
                if needs[node]:
                    live[node] = True
                    c = sent[k]
                    if not isfinite(c):
                        raise MathError(_grad_message(graph, values, i, k, loc[k], up))
                    grads[node] += c
            continue
        # arrays: a local gradient of exactly 1.0 (add, shift, ...) passes the upstream gradient
        # on as it is (and an upstream 1.0, at the output, the local gradient), and the first
        # gradient into a node is taken without a copy; sums are new arrays, never in place,
        # since one array may be shared by several wires
        one = up.__class__ is float and up == 1.0
        sent = contribs[i] = tuple(
            [up if lg.__class__ is float and lg == 1.0 else lg if one else lg * up for lg in loc]
        )
        for node, c in zip(a, sent, strict=True):
            if needs[node]:
                live[node] = True
                if touched[node]:
                    grads[node] = grads[node] + c
                else:
                    grads[node] = c
                    touched[node] = True
    return grads, locals_, contribs, warnings


def evaluate(
    source: str | Graph,
    bindings: dict[str, float],
    *,
    expand: bool = False,
    tie: str = "split",
) -> Result:
    """Parse (if given text), check the bindings, run forward and backward: the whole of bp eval.

    >>> r = evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    >>> r.value, r.gradient
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})
    """
    from .graph import expand as expand_graph
    from .parse import parse

    graph = parse(source) if isinstance(source, str) else source
    check_bindings(graph, bindings)
    if expand:
        graph = expand_graph(graph)
    if _uses_arrays(graph, bindings):
        from . import arrays

        values, grads, locals_, contribs, warnings = arrays.run(graph, bindings, tie)
        return Result(graph, values, grads, locals_, contribs, warnings, tie)
    values = forward(graph, bindings)
    grads, locals_, contribs, warnings = backward(graph, values, tie)
    return Result(graph, values, grads, locals_, contribs, warnings, tie)


_NUMBER_TYPES = {int, float}


def _uses_arrays(graph: Graph, bindings: dict) -> bool:
    """Some binding is an array or some gate is an array gate: the array engine's work."""
    from .array_gates import ARRAY_OPS

    # two C-speed scans: a 100,000-term sum pays about a millisecond
    return not set(map(type, bindings.values())) <= _NUMBER_TYPES or not ARRAY_OPS.isdisjoint(graph.ops)


def _inputs_text(graph: Graph, values: list, i: int) -> str:
    xs = [values[a] for a in graph.args[i]]
    if not xs:
        return ""
    word = "input" if len(xs) == 1 else "inputs"
    return f" from {word} {', '.join(repr(x) for x in xs)}"


def _value_message(graph: Graph, values: list, i: int) -> str:
    v = values[i]
    if graph.ops[i] == "const":
        return f"math error: the number{graph.where(i)} is not a finite double ({v!r})"
    why = (
        " (overflow)"
        if math.isinf(v)
        and all(math.isfinite(values[a]) for a in graph.args[i])
        and graph.ops[i] in ("exp", "mul", "pow", "powc", "add", "sub", "scale")
        else ""
    )
    return (
        f"math error: gate {graph.label(i)}{graph.where(i)} gives {v!r}{_inputs_text(graph, values, i)}{why}"
    )


def _grad_message(graph: Graph, values: list, i: int, k: int, local: float, up: float) -> str:
    which = f"input {k + 1} of " if len(graph.args[i]) > 1 else ""
    return (
        f"math error: the gradient into {which}gate {graph.label(i)}{graph.where(i)} is not finite"
        f" (local gradient {local!r} times upstream {up!r}{_inputs_text(graph, values, i).replace(' from', ', at')})"
    )
