"""The gate graph: flat lists indexed by node id, in topological order by construction.

A node is an input variable (`op == "var"`, `param` its name), a constant (`op == "const"`,
`param` its value), or a gate from the gate table (`param` its parameter, e.g. the `a` of `*a`).
Every gate's inputs have smaller ids than the gate, so walking ids upwards is a forward pass and
walking them downwards is a backward pass: no recursion anywhere.
"""

from __future__ import annotations

from .gates import GATES, SCALAR, number_text


class Graph:
    """A gate graph under construction or finished (`output` set)."""

    __slots__ = (
        "ops",
        "args",
        "params",
        "pos",
        "var_ids",
        "names",
        "output",
        "output_name",
        "source",
        "__weakref__",  # batch mode keeps its recorded passes per graph (bpcli.core.batch)
    )

    def __init__(self, source: str = ""):
        self.ops: list[str] = []
        self.args: list[tuple[int, ...]] = []
        self.params: list = []
        self.pos: list[tuple[int, int] | None] = []  # (line, column) in the source, where known
        self.var_ids: dict[str, int] = {}  # input variables, in order of first appearance
        self.names: dict[str, int] = {}  # named intermediates (staged statements), in order
        self.output: int = -1
        #: the last statement's own name (`L` in `...; L = q * z`), or "f" when it has none
        self.output_name: str = "f"
        self.source = source

    def __len__(self) -> int:
        return len(self.ops)

    # -- building ---------------------------------------------------------------------------
    def _add(self, op, args, param, pos) -> int:
        self.ops.append(op)
        self.args.append(args)
        self.params.append(param)
        self.pos.append(pos)
        return len(self.ops) - 1

    def const(self, value: float, pos=None) -> int:
        return self._add("const", (), float(value), pos)

    def var(self, name: str, pos=None) -> int:
        node = self.var_ids.get(name)
        if node is None:
            node = self.var_ids[name] = self._add("var", (), name, pos)
        return node

    def gate(self, op: str, *args: int, param: float | None = None, pos=None) -> int:
        return self._add(op, args, param, pos)

    def is_const(self, node: int) -> bool:
        return self.ops[node] == "const"

    def const_value(self, node: int) -> float:
        return self.params[node]

    # -- reading ----------------------------------------------------------------------------
    @property
    def variables(self) -> list[str]:
        """Input variable names in order of first appearance."""
        return list(self.var_ids)

    def gate_ids(self) -> list[int]:
        return [i for i, op in enumerate(self.ops) if op not in ("var", "const")]

    def users(self) -> list[list[int]]:
        """For each node, the gates that take it as an input (a node with several is a fork)."""
        users: list[list[int]] = [[] for _ in self.ops]
        for i, args in enumerate(self.args):
            for a in args:
                users[a].append(i)
        return users

    def label(self, node: int) -> str:
        """What a node is called in messages and pictures: a name, a number, or a gate symbol."""
        op = self.ops[node]
        if op == "var":
            return self.params[node]
        if op == "const":
            return number_text(self.params[node])
        from .gates import symbol

        return symbol(op, self.params[node])

    def where(self, node: int) -> str:
        """' at column N' (or line and column) for messages, when the source position is known."""
        pos = self.pos[node]
        if pos is None:
            return ""
        line, col = pos
        multi = "\n" in self.source.strip("\n")
        return f" at line {line}, column {col}" if multi else f" at column {col}"


class _Expander:
    """Builds the expanded graph: each gate either kept (primitive) or rewritten by its row's
    `expand`; gates whose inputs are all constants fold into a constant."""

    def __init__(self, src: Graph):
        self.g = Graph(src.source)
        self.pos = None

    def is_const(self, node):
        return self.g.is_const(node)

    def const_value(self, node):
        return self.g.const_value(node)

    def gate(self, op, *args, param=None):
        g = self.g
        if all(g.ops[a] == "const" for a in args):
            xs = [g.params[a] for a in args]
            return g.const(GATES[op].forward(SCALAR, *xs, p=param), self.pos)
        row = GATES[op]
        if row.expand is not None:
            node = row.expand(self, *args, p=param)
            if node is not None:
                return node
        return g.gate(op, *args, param=param, pos=self.pos)


def expand(src: Graph, trace: dict | None = None) -> Graph:
    """The same function as `src`, in the lecture's primitive gates (`--expand`).

    With a `trace` dict, also records where each node went and came from (for a picture that
    expands one gate in place): `trace["new"][i]` is the node standing for source node `i`,
    `trace["origin"][k]` the source node whose rewriting made node `k`."""
    ex = _Expander(src)
    g = ex.g
    new = [0] * len(src)
    named = set(src.names.values())
    origin: list[int] = []
    for i, op in enumerate(src.ops):
        ex.pos = src.pos[i]
        if op == "var":
            new[i] = g.var(src.params[i], src.pos[i])
        elif op == "const":
            new[i] = g.const(src.params[i], src.pos[i])
        else:
            new[i] = ex.gate(op, *(new[a] for a in src.args[i]), param=src.params[i])
            if i in named and g.ops[new[i]] in ("var", "const"):
                # a named intermediate that folded away (q = 2*3, q = x*1) stays a node of
                # its own, so its gradient is still reported and no gate absorbs it as a param
                new[i] = g.gate("id", new[i], pos=src.pos[i])
        origin += [i] * (len(g) - len(origin))
    if trace is not None:
        trace["new"], trace["origin"] = new, origin
    g.names = {name: new[node] for name, node in src.names.items()}
    g.output = new[src.output]
    g.output_name = src.output_name
    return g
