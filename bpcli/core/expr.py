"""Expressions as data: the gate table's derivative strings, parsed once, turned into numbers
(compiled closures), into simplified graphs (a hash-consing `Builder`), and back into bp text.

A derivative string such as `(1 - out)*out` is parsed by bp's own parser into a small `Graph`
whose variables are the gate's slot names (its inputs, `out`, `p`, `up`). From that graph:

- `compile_text` makes a closure `f(m, v)` over the math namespace `m` and a tuple of slot values
  `v`: built once per string, so no node is interpreted per call;
- `Builder.instantiate` copies it into another graph with the slots bound to nodes of that graph
  (the backward pass as a graph, `bp diff`), simplifying as it builds;
- `to_text` prints any node of a graph as bp text with as few brackets as the grammar needs.

Nothing here recurses over a graph: node ids are a topological order.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

from .gates import CONSTANTS, FUNCTIONS, GATES, SCALAR
from .graph import Graph
from .numbers import number_text

# -- parsing a derivative string once ---------------------------------------------------------


@cache
def template(text: str) -> Graph:
    """A derivative string as a graph over its slot names (parsed once, then shared read-only)."""
    from .parse import parse

    return parse(text)


def compile_text(text: str, slots: tuple[str, ...]):
    """`text` as a closure f(m, v): v holds the value of each name in `slots`, in that order.
    Returns (closure, kind, payload): kind "const" (payload the number), "slot" (payload the
    slot's index) or "code", so callers can take faster paths for the first two."""
    g = template(text)
    index = {name: k for k, name in enumerate(slots)}
    unknown = [name for name in g.var_ids if name not in index]
    if unknown:
        raise ValueError(f"{text!r} uses {', '.join(unknown)}, not one of {', '.join(slots)}")
    nodes: list = [None] * len(g)  # per node: (kind, payload, closure)
    for i, (op, a, p) in enumerate(zip(g.ops, g.args, g.params, strict=True)):
        kids = [nodes[k] for k in a]
        if op == "const":
            nodes[i] = ("const", p, _const(p))
        elif op == "var":
            nodes[i] = ("slot", index[p], _slot(index[p]))
        elif op == "pow" and kids[1][:2] == ("const", 2.0):
            nodes[i] = ("code", None, _square(kids[0][2]))  # x^2 as x*x: the same double, no pow call
        elif op in _ARITH:
            nodes[i] = ("code", None, _arith(op, *kids))
        else:
            fn = GATES[op].forward
            fns = [k[2] for k in kids]
            if GATES[op].arity == 0:
                nodes[i] = ("code", None, _variadic(fn, fns))
            elif len(fns) == 1:
                nodes[i] = ("code", None, _unary(fn, fns[0]))
            else:
                nodes[i] = ("code", None, _binary(fn, fns[0], fns[1]))
    kind, payload, closure = nodes[g.output]
    return closure, kind, payload


# `a op b` for + - * with each operand read in place: a slot `v[i]`, a constant `c`, or code
# `f(m, v)`. Spelled out per (op, left, right) because an inline operator costs a third of a call
# to operator.mul, and these run once per gate in every backward pass (sigmoid's (1 - out)*out).
_FAST = {
    ("add", "slot", "slot"): lambda a, b: lambda m, v: v[a] + v[b],
    ("add", "slot", "const"): lambda a, b: lambda m, v: v[a] + b,
    ("add", "slot", "code"): lambda a, b: lambda m, v: v[a] + b(m, v),
    ("add", "const", "slot"): lambda a, b: lambda m, v: a + v[b],
    ("add", "const", "code"): lambda a, b: lambda m, v: a + b(m, v),
    ("add", "code", "slot"): lambda a, b: lambda m, v: a(m, v) + v[b],
    ("add", "code", "const"): lambda a, b: lambda m, v: a(m, v) + b,
    ("add", "code", "code"): lambda a, b: lambda m, v: a(m, v) + b(m, v),
    ("sub", "slot", "slot"): lambda a, b: lambda m, v: v[a] - v[b],
    ("sub", "slot", "const"): lambda a, b: lambda m, v: v[a] - b,
    ("sub", "slot", "code"): lambda a, b: lambda m, v: v[a] - b(m, v),
    ("sub", "const", "slot"): lambda a, b: lambda m, v: a - v[b],
    ("sub", "const", "code"): lambda a, b: lambda m, v: a - b(m, v),
    ("sub", "code", "slot"): lambda a, b: lambda m, v: a(m, v) - v[b],
    ("sub", "code", "const"): lambda a, b: lambda m, v: a(m, v) - b,
    ("sub", "code", "code"): lambda a, b: lambda m, v: a(m, v) - b(m, v),
    ("mul", "slot", "slot"): lambda a, b: lambda m, v: v[a] * v[b],
    ("mul", "slot", "const"): lambda a, b: lambda m, v: v[a] * b,
    ("mul", "slot", "code"): lambda a, b: lambda m, v: v[a] * b(m, v),
    ("mul", "const", "slot"): lambda a, b: lambda m, v: a * v[b],
    ("mul", "const", "code"): lambda a, b: lambda m, v: a * b(m, v),
    ("mul", "code", "slot"): lambda a, b: lambda m, v: a(m, v) * v[b],
    ("mul", "code", "const"): lambda a, b: lambda m, v: a(m, v) * b,
    ("mul", "code", "code"): lambda a, b: lambda m, v: a(m, v) * b(m, v),
}
_ARITH = {"add", "sub", "mul"}


def _arith(op, a, b):
    """The closure for `a op b`, operands given as (kind, payload, closure): a slot's index, a
    constant's value, or code's closure (two constants never meet: the parser folds them)."""
    (ka, pa, fa), (kb, pb, fb) = a, b
    if ka == kb == "const":
        c = {"add": pa + pb, "sub": pa - pb, "mul": pa * pb}[op]
        return lambda m, v: c
    left = fa if ka == "code" else pa
    right = fb if kb == "code" else pb
    return _FAST[(op, ka, kb)](left, right)


def _const(c):
    return lambda m, v: c


def _slot(k):
    return lambda m, v: v[k]


def _square(a):
    def f(m, v):
        x = a(m, v)
        return x * x

    return f


def _unary(fn, a):
    return lambda m, v: fn(m, a(m, v), None)


def _binary(fn, a, b):
    return lambda m, v: fn(m, a(m, v), b(m, v), None)


def _variadic(fn, kids):
    return lambda m, v: fn(m, *[k(m, v) for k in kids], p=None)


# -- building simplified graphs -----------------------------------------------------------------


class Builder:
    """Builds into a Graph, simplifying as it goes (constants folded; `x*1`, `x+0`, `0*x`, `--x`
    dropped) and hash-consing: asking twice for the same gate over the same nodes gives the same
    node, so a shared subexpression exists once."""

    def __init__(self, graph: Graph | None = None):
        self.g = graph if graph is not None else Graph()
        self._seen: dict = {}
        for i, (op, a, p) in enumerate(zip(self.g.ops, self.g.args, self.g.params, strict=True)):
            if op not in ("var",):
                self._seen.setdefault((op, a, p), i)

    # nodes
    def var(self, name: str) -> int:
        return self.g.var(name)

    def const(self, value: float) -> int:
        value = float(value)
        key = ("const", (), value if value != 0 else 0.0)  # -0.0 and 0.0 are one constant
        node = self._seen.get(key)
        if node is None:
            node = self._seen[key] = self.g.const(key[2])
        return node

    def value(self, node: int) -> float | None:
        """The node's number if it is a constant, else None."""
        return self.g.params[node] if self.g.ops[node] == "const" else None

    def _make(self, op: str, args: tuple, param=None) -> int:
        key = (op, args, param)
        node = self._seen.get(key)
        if node is None:
            node = self._seen[key] = self.g.gate(op, *args, param=param)
        return node

    def gate(self, op: str, *args: int, param=None) -> int:
        """The node for `op` over `args`, simplified."""
        vals = [self.value(a) for a in args]
        if args and all(v is not None for v in vals):
            v = GATES[op].forward(SCALAR, *vals, p=param)
            if math.isfinite(v):
                return self.const(v)
        simple = getattr(self, "_" + op, None)
        if simple is not None:
            node = simple(*args, *vals)
            if node is not None:
                return node
        return self._make(op, args, param)

    def _is(self, node: int, op: str) -> bool:
        return self.g.ops[node] == op

    # the rules, one per op: return a node, or None to build the gate as asked
    def _add(self, x, y, vx, vy):
        if vx == 0:
            return y
        if vy == 0:
            return x
        if vy is not None and vy < 0:
            return self.gate("sub", x, self.const(-vy))
        if self._is(y, "neg"):
            return self.gate("sub", x, self.g.args[y][0])
        if self._is(x, "neg"):
            return self.gate("sub", y, self.g.args[x][0])
        if x == y:
            return self.gate("mul", self.const(2.0), x)
        return None

    def _sub(self, x, y, vx, vy):
        if vy == 0:
            return x
        if vx == 0:
            return self.gate("neg", y)
        if x == y:
            return self.const(0.0)
        if vy is not None and vy < 0:
            return self.gate("add", x, self.const(-vy))
        if self._is(y, "neg"):
            return self.gate("add", x, self.g.args[y][0])
        return None

    def _mul(self, x, y, vx, vy):
        if vy is not None and vx is None:
            x, y, vx, vy = y, x, vy, vx  # a constant factor first: 2 * x
        if vx == 0:
            return self.const(0.0)
        if vx == 1:
            return y
        if vx == -1:
            return self.gate("neg", y)
        if self._is(x, "neg"):
            return self.gate("neg", self.gate("mul", self.g.args[x][0], y))
        if self._is(y, "neg"):
            return self.gate("neg", self.gate("mul", x, self.g.args[y][0]))
        cy = self.value(self.g.args[y][0]) if self._is(y, "mul") else None
        if vx is not None and cy is not None:
            return self.gate("mul", self.const(vx * cy), self.g.args[y][1])
        if vx is None and cy is not None:  # x * (c * b) = c * (x * b): constants to the front
            return self.gate("mul", self.g.args[y][0], self.gate("mul", x, self.g.args[y][1]))
        if vx is None and self._is(x, "mul") and self.value(self.g.args[x][0]) is not None:
            return self.gate("mul", self.g.args[x][0], self.gate("mul", self.g.args[x][1], y))
        if self._is(y, "div"):  # x * (a / b) = (x * a) / b
            a, b = self.g.args[y]
            return self.gate("div", self.gate("mul", x, a), b)
        if x == y:
            return self.gate("pow", x, self.const(2.0))
        return self._make("mul", (x, y))  # (maybe swapped: the constant first)

    def _div(self, x, y, vx, vy):
        if vy == 1:
            return x
        if vy == -1:
            return self.gate("neg", x)
        if vx == 0:
            return self.const(0.0)
        return None

    def _neg(self, x, vx):
        if self._is(x, "neg"):
            return self.g.args[x][0]
        if self._is(x, "mul") and self.value(self.g.args[x][0]) is not None:
            return self.gate("mul", self.const(-self.value(self.g.args[x][0])), self.g.args[x][1])
        if self._is(x, "div"):  # -(a/b) = (-a)/b, exactly
            a, b = self.g.args[x]
            return self.gate("div", self.gate("neg", a), b)
        if self._is(x, "sub"):
            a, b = self.g.args[x]
            return self.gate("sub", b, a)
        return None

    def _pow(self, x, y, vx, vy):
        if vy == 1:
            return x
        if vy == 0 or vx == 1:
            return self.const(1.0)
        return None

    def _id(self, x, vx):
        return x

    def instantiate(self, text: str, bind: dict[str, int | float]) -> int:
        """Build the derivative string `text` here with each slot name bound to a node (an int)
        or a number (a float, folded as a constant). Returns the node of the whole."""
        t = template(text)
        new = [0] * len(t)
        for i, (op, a, p) in enumerate(zip(t.ops, t.args, t.params, strict=True)):
            if op == "const":
                new[i] = self.const(p)
            elif op == "var":
                b = bind[p]
                new[i] = self.const(b) if isinstance(b, float) else b
            else:
                new[i] = self.gate(op, *(new[k] for k in a))
        return new[t.output]


# -- printing ---------------------------------------------------------------------------------

#: a function gate's name in the language (the first name that maps to it)
CALL_NAMES: dict[str, str] = {}
for _name, _op in FUNCTIONS.items():
    CALL_NAMES.setdefault(_op, _name)

# precedence: how tightly a printed form binds (the grammar's levels)
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5
MUL = 2.5  # a product without a quotient: may stand right of `*` unbracketed (a * b * c)
_CONST_NAMES = {v: k for k, v in CONSTANTS.items() if k.isascii()}


def to_text(
    graph: Graph,
    node: int,
    names: dict[int, str] | None = None,
    *,
    factor: bool = False,
    loose: bool = False,
    symbols: bool = False,
) -> str:
    """Node `node` of `graph` as bp text, bracketed only where the grammar needs it; with
    `factor`, bracketed when a sum, a quotient or signed (to stand before `* upstream` as the
    lecture writes it: `(1 - 0.73) * 0.73 * 1`); with `loose`, bracketed when a sum or signed
    (to stand after `×`).
    `names` overrides how nodes are written (a name or a number already as text)."""
    texts = render(graph, [node], names, symbols)
    text, prec = texts[node]
    if loose:
        return f"({text})" if prec == SUM or text.startswith("-") else text
    if factor and (prec < PRODUCT or text.startswith("-") or graph.ops[node] == "div"):
        return f"({text})"
    return text


def render(
    graph: Graph, roots: list[int], names: dict[int, str] | None = None, symbols: bool = False
) -> dict:
    """{node: (text, precedence)} for every node the roots depend on, each printed once; with
    `symbols`, functions by the picture's symbol where the language has it (`σ(x)`)."""
    names = names or {}
    need = [False] * len(graph)
    for r in roots:
        need[r] = True
    top = max(roots, default=-1)
    for i in range(top, -1, -1):
        if need[i] and i not in names:
            for a in graph.args[i]:
                need[a] = True
    out: dict[int, tuple[str, int]] = {}
    ops, args, params = graph.ops, graph.args, graph.params
    for i in range(top + 1):
        if not need[i]:
            continue
        if i in names:
            t = names[i]
            out[i] = (t, UNARY if t.startswith("-") else ATOM if _atomic(t) else SUM)
            continue
        op, p = ops[i], params[i]
        xs = [out[a] for a in args[i]]
        out[i] = _form(op, p, xs, symbols)
    return out


def _atomic(t: str) -> bool:
    return t.replace("_", "a").replace(".", "0").isalnum() or (t.endswith(")") and t.startswith("("))


def _wrap(x, level: int) -> str:
    return x[0] if x[1] >= level else f"({x[0]})"


def _form(op, p, xs, symbols=False) -> tuple[str, int]:
    if op == "var":
        return p, ATOM
    if op == "const":
        t = number_text(p)
        return t, UNARY if p < 0 else ATOM
    if op in ("add", "sub"):
        left, right = xs
        sign = "+" if op == "add" else "-"
        return f"{_wrap(left, SUM)} {sign} {_wrap(right, PRODUCT)}", SUM
    if op == "mul":
        return f"{_wrap(xs[0], PRODUCT)} * {_wrap(xs[1], MUL)}", MUL
    if op == "div":
        return f"{_wrap(xs[0], PRODUCT)} / {_wrap(xs[1], POWER)}", PRODUCT
    if op == "neg":
        if xs[0][1] in (PRODUCT, MUL) and not xs[0][0].startswith("-"):
            return f"-{xs[0][0]}", PRODUCT  # -(a/b) is -a / b: negation is exact, so the same double
        return f"-{_wrap(xs[0], POWER)}", UNARY
    if op == "pow":
        return f"{_wrap(xs[0], ATOM)}^{_wrap(xs[1], ATOM)}", POWER
    if op == "powc":
        c = number_text(p)
        return f"{_wrap(xs[0], ATOM)}^{c if p >= 0 else f'({c})'}", POWER
    if op == "scale":
        return f"{number_text(p)} * {_wrap(xs[0], POWER)}", PRODUCT
    if op == "shift":
        return f"{_wrap(xs[0], SUM)} {'+' if p >= 0 else '-'} {number_text(abs(p))}", SUM
    if op == "recip":
        return f"1 / {_wrap(xs[0], POWER)}", PRODUCT
    if op == "id":
        return xs[0]
    if op == "matmul":  # binds like *
        left, right = xs
        return f"{_wrap(left, PRODUCT)} @ {_wrap(right, POWER)}", PRODUCT
    if op in ("amax", "amin", "sum", "mean") and (op[0] == "a" or p is not None):
        axis = "" if p is None else f", {number_text(p)}"
        return f"{CALL_NAMES.get(op, op[1:])}({xs[0][0]}{axis})", ATOM
    if op == "index":
        return f"{_wrap(xs[0], ATOM)}[{', '.join(x[0] for x in xs[1:])}]", ATOM
    row = GATES[op]
    if row.formula:  # an array gate's own template (A @ B, a[i], sum(a, 1))
        from .gates import template_text

        text = template_text(op, [_wrap(x, POWER) for x in xs], p)
        return text, MUL if " @ " in text else ATOM
    name = row.symbol if symbols and row.symbol in FUNCTIONS else CALL_NAMES.get(op, op)
    return f"{name}({', '.join(x[0] for x in xs)})", ATOM


@lru_cache(maxsize=4096)
def _specialised(text: str, inputs: tuple[str, ...], consts: tuple, param) -> tuple[Graph, int]:
    """The string with `p` and the constant inputs put in and simplified (`p*x^(p - 1)` at p = 2
    is `2*x`): a small graph whose variables are the remaining slot names."""
    b = Builder()
    bind: dict = {name: b.var(name) for name in ("out", "up", *inputs)}
    for name, value in zip(inputs, consts, strict=True):
        if value is not None:
            bind[name] = float(value)
    bind["p"] = float(param) if param is not None else b.var("p")
    node = b.instantiate(text, bind)
    return b.g, node


def local_text(op: str, names: list, out: str, param=None, *, tie: str = "split") -> tuple:
    """Each input's local gradient as bp text, from the gate table's strings: `names[k]` is the
    text for input k (a name, or a number as text), or a float for a constant input, folded in;
    `out` is the text for the gate's output. Each is bracketed to stand before `* upstream`."""
    row = GATES[op]
    strings = row.derivatives(len(names), tie)
    inputs = row.input_names(len(names))
    consts = tuple(v if isinstance(v, float) else None for v in names)
    texts = []
    for name in inputs:
        g, node = _specialised(strings[name], inputs, consts, param)
        show = {
            g.var_ids[s]: t
            for s, t in zip(inputs, names, strict=True)
            if s in g.var_ids and isinstance(t, str)
        }
        if "out" in g.var_ids:
            show[g.var_ids["out"]] = out
        texts.append(to_text(g, node, show, factor=True))
    return tuple(texts)


def vjp_text(op: str, names: list[str], out: str, up: str, param=None) -> tuple:
    """An array gate's vector-Jacobian product for each input as bp text over the wires' names
    (`dS @ transpose(W)`), from the row's `vjp` strings; None where the row has no string."""
    row = GATES[op]
    if not row.vjp:
        return (None,) * len(names)
    texts = []
    for name in row.inputs:
        g, node = _specialised(row.vjp[name], row.inputs, (None,) * len(row.inputs), param)
        show = {g.var_ids[s]: t for s, t in zip(row.inputs, names, strict=True) if s in g.var_ids}
        for slot, text in (("out", out), ("up", up)):
            if slot in g.var_ids:
                show[g.var_ids[slot]] = text
        texts.append(to_text(g, node, show))
    return tuple(texts)


def generic_local_text(op: str, param=None, n: int = 1, tie: str = "split") -> tuple:
    """Each input's local gradient over the row's own input names, with `out` written as the
    gate itself (`exp: exp(x)`, `sigmoid: (1 - sigmoid(x)) * sigmoid(x)`), each bracketed to
    stand after `×`."""
    row = GATES[op]
    b = Builder()
    names = row.input_names(n)
    xs = [b.var(name) for name in names]
    bind: dict = dict(zip(names, xs, strict=True))
    bind["out"] = b._make(op, tuple(xs), param)
    bind["p"] = float(param) if param is not None else b.var("p")
    strings = row.derivatives(n, tie)
    return tuple(to_text(b.g, b.instantiate(strings[name], bind), loose=True, symbols=True) for name in names)


def formula(op: str, names: list[str], param=None) -> str:
    """The gate as a formula over its inputs' names or numbers: `q + z`, `σ(s)`, `1 / d`, `x^2`."""
    xs = [(n, UNARY if n.startswith("-") else ATOM) for n in names]
    return _form(op, param, xs, symbols=True)[0]
