"""The backward pass as a graph: derivatives as gates of the same `Graph` the engine runs.

`gradient_graph` copies a forward graph into a `Builder` (simplifying and hash-consing), then
walks it from the output down, as the engine's backward pass does, but instead of numbers it
builds nodes: at each gate, each input's local-gradient string from the gate table is
instantiated as gates over the forward nodes, multiplied by the gate's upstream-gradient node,
and summed into the input's gradient node (a fork adds). The result is a graph whose nodes are
the forward values AND every df/dx, so:

- `bp diff` prints a derivative node as a bp expression (`print_program`: shared subexpressions
  become staged statements `q1 = ...;` when that is shorter, so the text grows linearly);
- the same walk from a derivative node gives second derivatives (`--order 2`, `--hessian`).

The Hessian is reverse-over-reverse: the gradient graph is built once by reverse mode, then each
df/dx node is differentiated by reverse mode again, one sweep per input variable. Forward-over-
reverse would need a tangent rule per gate beside the table's strings; reverse-over-reverse uses
only the strings, and the same second-derivative nodes serve `bp diff --order 2` (as text) and
`bp eval --hessian` (as numbers, by one forward pass of the engine over the built graph).
No recursion: node ids are a topological order, and every walk is a loop over them.
"""

from __future__ import annotations

import re

from .engine import forward
from .errors import MathError, UsageError
from .expr import Builder, _form
from .gates import CONSTANTS, FUNCTIONS, GATES, SCALAR
from .graph import Graph


class Derivatives:
    """A forward graph copied into a Builder, with gradient nodes built on demand."""

    def __init__(self, graph: Graph, tie: str = "split"):
        self.source = graph
        self.tie = tie
        self.b = Builder()
        self.node = copy_into(self.b, graph)  #: source node id -> node id here
        self.output = self.node[graph.output]
        self.variables = list(graph.var_ids)

    def var(self, name: str) -> int | None:
        """The node of input variable `name` here (None if it folded away)."""
        return self.b.g.var_ids.get(name)

    def gradient(self, root: int | None = None, wrt: list[str] | None = None) -> dict[str, int]:
        """{variable: node of d root / d variable} (root: the output by default)."""
        root = self.output if root is None else root
        adj = backprop(self.b, root, self.tie)
        zero = None
        out = {}
        for name in wrt if wrt is not None else self.variables:
            node = self.var(name)
            got = adj.get(node) if node is not None else None
            if got is None:
                zero = self.b.const(0.0) if zero is None else zero
                got = zero
            out[name] = got
        return out

    def hessian(self, wrt: list[str] | None = None) -> dict[str, dict[str, int]]:
        """{x: {y: node of d2f/dxdy}}: reverse mode over each first-derivative node."""
        first = self.gradient(wrt=wrt)
        return {x: self.gradient(node, wrt) for x, node in first.items()}


def copy_into(b: Builder, g: Graph) -> list[int]:
    """Every node of `g` rebuilt in `b` (simplified, identical nodes shared)."""
    new = [0] * len(g)
    for i, (op, a, p) in enumerate(zip(g.ops, g.args, g.params, strict=True)):
        if op == "var":
            new[i] = b.var(p)
        elif op == "const":
            new[i] = b.const(p)
        else:
            new[i] = b.gate(op, *(new[k] for k in a), param=p)
    return new


def backprop(b: Builder, root: int, tie: str = "split") -> dict[int, int]:
    """{node: node of d root / d node} for every node `root` depends on through a variable.
    New nodes get ids above `root`, so the walk down from `root` never meets them."""
    g = b.g
    needs = [False] * (root + 1)
    for i in range(root + 1):
        needs[i] = g.ops[i] == "var" or any(needs[a] for a in g.args[i])
    adj: dict[int, int] = {root: b.const(1.0)}
    if not needs[root]:
        return {}
    for i in range(root, -1, -1):
        up = adj.get(i)
        op = g.ops[i]
        if up is None or op in ("var", "const"):
            continue
        row = GATES[op]
        args = g.args[i]
        names = row.input_names(len(args))
        bind: dict = dict(zip(names, args, strict=True))
        bind["out"] = i
        bind["up"] = up
        if g.params[i] is not None:
            bind["p"] = float(g.params[i])
        strings = row.vjp or row.derivatives(len(args), tie)
        for k, node in enumerate(args):
            if not needs[node]:
                continue
            c = b.instantiate(strings[names[k]], bind)
            if not row.vjp:  # a local gradient, times the upstream gradient
                c = b.gate("mul", c, up)
            adj[node] = b.gate("add", adj[node], c) if node in adj else c
    return adj


def values(d: Derivatives, bindings: dict[str, float]) -> list:
    """Every node's value at the point (one forward pass of the engine over the built graph)."""
    g = d.b.g
    g.output = len(g) - 1
    return forward(g, {name: bindings[name] for name in g.var_ids}, SCALAR)


# -- printing: a derivative as a bp program ---------------------------------------------------


def temp_names(reserved) -> object:
    """q1, q2, ... skipping every name in `reserved` (the user's variables), functions and constants."""
    taken = set(reserved) | set(FUNCTIONS) | set(CONSTANTS)
    k = 0
    while True:
        k += 1
        if f"q{k}" not in taken:
            yield f"q{k}"


def program(graph: Graph, root: int, reserved, form=None, staged: dict[int, str] | None = None):
    """`root` as a staged program: ([(temp name, definition)], final expression), in text (or
    in `form`'s notation, e.g. LaTeX, with the staging `staged` decided by a text pass).

    A node is staged when two or more gates use it and writing it once under a name is shorter
    than writing it at each use; every other shared node is short, so the printed text grows at
    most linearly with the graph. One pass over the nodes, children before parents."""
    reach = [False] * (root + 1)
    reach[root] = True
    uses = [0] * (root + 1)
    for i in range(root, -1, -1):
        if reach[i]:
            for a in graph.args[i]:
                reach[a] = True
                uses[a] += 1
    deciding = staged is None
    staged = {} if deciding else staged
    form = form or _form
    names = temp_names(reserved)
    # each node's text as parts: strings and the ids of the nodes whose text goes between them
    # (a rope), so a long chain is not copied once per level; flattened at the end by a loop
    parts: list = [None] * (root + 1)
    length = [0] * (root + 1)
    first = [""] * (root + 1)  # the text's first character (neg brackets a leading minus)
    prec: list = [0] * (root + 1)
    statements = []
    for i in range(root + 1):
        if not reach[i]:
            continue
        op, p, args = graph.ops[i], graph.params[i], graph.args[i]
        holes = [(_Hole(chr(_HOLE + k), first[a]), prec[a]) for k, a in enumerate(args)]
        template, prec[i] = form(op, p, holes)
        parts[i] = [args[ord(piece) - _HOLE] if _is_hole(piece) else piece for piece in _split(template)]
        length[i] = len(template) - len(args) + sum(length[a] for a in args)
        first[i] = (
            template[:1]
            if not template or not _is_hole(template[0])
            else first[args[ord(template[0]) - _HOLE]]
        )
        if i == root or op in ("var", "const"):
            continue
        if deciding and uses[i] >= 2:
            n = len(f"q{len(staged) + 1}")
            if uses[i] * length[i] > (uses[i] + 1) * n + 5 + length[i]:
                staged[i] = next(names)
        if i in staged:
            statements.append((staged[i], _flatten(parts, i)))
            template, prec[i] = form("var", staged[i], [])
            parts[i], length[i], first[i] = [template], len(template), template[:1]
    return statements, _flatten(parts, root), staged


_HOLE = 0xE000  # private-use characters stand for the inputs' texts in a gate's template
_HOLES = re.compile("([\ue000-\uf8ff])")


class _Hole(str):
    """An input's place in a template; `startswith` answers for the text it stands for."""

    def __new__(cls, mark: str, first: str):
        self = super().__new__(cls, mark)
        self.first = first
        return self

    def startswith(self, prefix, *args):
        return self.first.startswith(prefix)


def _is_hole(piece: str) -> bool:
    return len(piece) == 1 and _HOLE <= ord(piece) <= 0xF8FF


def _split(template: str) -> list[str]:
    return [piece for piece in _HOLES.split(template) if piece]


def _flatten(parts: list, node: int) -> str:
    """A node's text from the ropes, by an explicit stack (chains may be 10,000 deep)."""
    out: list[str] = []
    stack = [iter(parts[node])]
    while stack:
        piece = next(stack[-1], None)
        if piece is None:
            stack.pop()
        elif isinstance(piece, str):
            out.append(piece)
        else:
            stack.append(iter(parts[piece]))
    return "".join(out)


def print_program(graph: Graph, root: int, reserved) -> str:
    """`root` as bp text: `q1 = ...; q2 = ...; EXPRESSION` with the staged shared parts."""
    statements, final, _ = program(graph, root, reserved)
    return "; ".join([*(f"{name} = {text}" for name, text in statements), final])


def check_wrt(graph: Graph, wrt: list[str] | None) -> list[str]:
    """The variables to differentiate by: all of them, or the named ones (a UsageError names
    an unknown one)."""
    if not wrt:
        return list(graph.var_ids)
    for name in wrt:
        if name not in graph.var_ids:
            have = ", ".join(graph.var_ids) or "none"
            raise UsageError(f"wrt: '{name}' is not a variable of the expression (its variables: {have})")
    return list(dict.fromkeys(wrt))


def diff(source: str | Graph, wrt: list[str] | None = None, order: int = 1, tie: str = "split"):
    """The derivatives of an expression as bp text: {x: text} for order 1, {x: {y: text}} for
    order 2 (every second partial). `wrt` picks the variables (default: all of them).

    >>> diff("(x+y)*z")
    {'x': 'z', 'y': 'z', 'z': 'x + y'}
    >>> diff("x^3", ["x"], order=2)
    {'x': {'x': '6 * x'}}
    """
    d, names = derivatives(source, wrt, order, tie)
    g, reserved = d.b.g, d.source.var_ids
    if order == 1:
        return {x: print_program(g, node, reserved) for x, node in names.items()}
    return {x: {y: print_program(g, node, reserved) for y, node in row.items()} for x, row in names.items()}


def derivatives(source: str | Graph, wrt: list[str] | None = None, order: int = 1, tie: str = "split"):
    """(Derivatives, {x: node} or {x: {y: node}}): the derivative nodes, built but not printed."""
    from .engine import TIES
    from .parse import parse

    if order not in (1, 2):
        raise UsageError(f"order must be 1 or 2, not {order}")
    if tie not in TIES:
        raise UsageError(f"tie must be one of {', '.join(TIES)}, not {tie!r}")
    graph = parse(source) if isinstance(source, str) else source
    from .array_gates import require_scalar

    require_scalar(graph, {}, "diff")
    names = check_wrt(graph, wrt)
    d = Derivatives(graph, tie)
    return d, d.gradient(wrt=names) if order == 1 else d.hessian(names)


def hessian(
    source: str | Graph, bindings: dict[str, float], tie: str = "split"
) -> dict[str, dict[str, float]]:
    """Every second partial at the point, {x: {y: d2f/dxdy}}, by reverse-over-reverse (see the
    module docstring): the second-derivative nodes, then one engine forward pass over them.

    >>> hessian("x^3 * y", {"x": 2, "y": 5})
    {'x': {'x': 60.0, 'y': 12.0}, 'y': {'x': 12.0, 'y': 0.0}}
    """
    from .engine import check_bindings
    from .parse import parse

    graph = parse(source) if isinstance(source, str) else source
    from .array_gates import require_scalar

    require_scalar(graph, bindings, "--hessian")
    check_bindings(graph, bindings)
    d, nodes = derivatives(graph, None, 2, tie)
    try:
        v = values(d, bindings)
    except MathError as e:  # a node of the built derivative graph, which has no source columns
        why = e.message.removeprefix("math error: ")
        raise MathError(f"math error: the second derivatives are not finite at this point ({why})") from None
    h = {x: {y: v[node] for y, node in row.items()} for x, row in nodes.items()}
    names = list(h)
    for i, x in enumerate(names):  # d2f/dydx is d2f/dxdy; the two sweeps may round apart
        for y in names[i + 1 :]:
            h[y][x] = h[x][y]
    return h
