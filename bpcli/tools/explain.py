"""The chain rule written out for one input: every path from the output back to it.

Each path from f down to x is a product of local gradients (one per gate it passes through), and
df/dx is the sum over paths: where x forks, the gradients add up. Paths multiply at every fork, so
they are counted first (dynamic programming over the DAG, in Python ints that never overflow);
when there are too many to list, the explanation uses the backward pass's accumulated adjoints
instead: each node's gradient is the sum, over the gates it feeds, of that gate's gradient times
its local gradient. Nothing here recurses: node ids are a topological order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..core.errors import UsageError
from ..core.names import node_names

MAX_PATHS = 64  #: list paths up to this many, else explain with adjoints
MAX_FACTORS = 2000  #: ... and only while all paths together have at most this many factors


@dataclass
class Factor:
    """One step of a path: the local gradient of `gate` with respect to its input `slot`."""

    gate: int
    slot: int
    local: float


@dataclass
class Path:
    factors: list[Factor]  #: from the output down to the target
    product: float


@dataclass
class Term:
    """One term of an adjoint sum: gate `gate`'s gradient times its local gradient at `slot`."""

    gate: int
    slot: int
    upstream: float
    local: float


@dataclass
class Step:
    """One node's accumulated adjoint: df/dnode = sum of its terms."""

    node: int
    grad: float
    terms: list[Term]


@dataclass
class Explanation:
    """How backprop arrives at df/d(target), in data the views render as text, LaTeX or JSON."""

    result: object  #: the engine's Result
    wrt: str
    target: int
    out_name: str  #: how the output is called (`f`, or the last statement's name)
    names: dict[int, str]  #: display name of every node the explanation mentions
    path_count: int
    mode: str  #: "paths" | "adjoints" | "none" (f does not depend on the target)
    reason: str | None = None  #: why adjoints instead of paths
    gates: list[int] = field(default_factory=list)  #: gates on the paths, from the inputs up
    side: list[int] = field(default_factory=list)  #: unnamed gates feeding them from off the paths
    paths: list[Path] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)  #: adjoints, from f back to the target
    max_paths: int = MAX_PATHS

    @property
    def gradient(self) -> float:
        """df/d(target) from the backward pass."""
        return self.result.grads[self.target]

    @property
    def total(self) -> float:
        """The sum over the listed paths (equals the gradient up to rounding)."""
        return math.fsum(p.product for p in self.paths) if self.mode == "paths" else self.gradient

    def repeated(self, gate: int, slot: int) -> bool:
        """Does the input at `slot` feed `gate` more than once (x * x)? Then paths name the wire."""
        args = self.result.graph.args[gate]
        return args.count(args[slot]) > 1


def count_paths(graph, target: int) -> list[int]:
    """For every node, how many paths lead from it down to `target` (exact Python ints)."""
    count = [0] * len(graph.ops)
    count[target] = 1
    args = graph.args
    for i in range(target + 1, len(graph.ops)):
        if args[i]:
            count[i] = sum(count[a] for a in args[i])
    return count


def explain(
    source,
    bindings: dict[str, float],
    wrt: str | None,
    *,
    max_paths: int = MAX_PATHS,
    tie: str = "split",
) -> Explanation:
    """Explain df/d(wrt) by its paths (or, past `max_paths` paths, by accumulated adjoints).

    >>> e = explain("x*x + x", {"x": 3}, "x")
    >>> e.path_count, [p.product for p in e.paths]
    (3, [3.0, 3.0, 1.0])
    """
    from ..core.engine import evaluate
    from .check import output_name

    if max_paths < 0:
        raise UsageError(f"--max-paths must be >= 0, not {max_paths}")
    result = evaluate(source, bindings, tie=tie)
    g = result.graph
    from ..core.array_gates import require_scalar

    # paths through an array gate are sums over entries: for arrays, `bp eval --steps` shows them
    require_scalar(g, bindings, "explain", "; for arrays, bp eval --steps writes the chain rule")
    if wrt is None:
        if not g.var_ids:
            raise UsageError("the expression has no inputs, so there is no gradient to explain")
        if len(g.var_ids) != 1:
            have = ", ".join(g.var_ids)
            raise UsageError(f"say which input to explain with --wrt NAME (its inputs: {have})")
        wrt = next(iter(g.var_ids))
    target = g.var_ids.get(wrt, g.names.get(wrt))
    if target is None and wrt != node_names(g)[g.output]:  # an unnamed gate, as the picture calls it
        target = next(
            (i for i, name in enumerate(node_names(g)) if name == wrt and g.ops[i] not in ("var", "const")),
            None,
        )
    if target is None:
        have = ", ".join([*g.var_ids, *g.names]) or "none"
        raise UsageError(f"--wrt {wrt}: not an input or intermediate of the expression (its names: {have})")
    out = g.output
    count = count_paths(g, target)
    # on[i]: node i lies on some path from the output down to the target
    on = [False] * len(g.ops)
    if count[out]:
        on[out] = True
        for i in range(out, target, -1):
            if on[i]:
                for a in g.args[i]:
                    if count[a]:
                        on[a] = True
    gates = [i for i in range(target + 1, out + 1) if on[i]]
    if any(result.locals[i] is None for i in gates):
        raise UsageError(f"--wrt {wrt}: it depends on no input, so bp computes no gradient for it")
    out_name = output_name(g.source) or "f"
    e = Explanation(result, wrt, target, out_name, {}, count[out], "none", max_paths=max_paths)
    if count[out] == 0:
        e.names = _names(g, [target], out_name)
        return e
    side = sorted({a for i in gates for a in g.args[i] if not on[a] and g.ops[a] not in ("var", "const")})
    e.gates, e.side = gates, side
    named = {*g.var_ids.values(), *g.names.values()}
    side_args = [a for i in side for a in g.args[i] if a in named or g.ops[a] == "const"]
    e.names = _names(g, [target, *gates, *side, *(a for i in gates for a in g.args[i]), *side_args], out_name)
    length = _total_length(g, count, on, target)
    if count[out] > max_paths:
        e.mode, e.reason = "adjoints", f"more than {max_paths} paths"
    elif length > MAX_FACTORS:
        e.mode, e.reason = "adjoints", f"the paths have {length} factors in all (more than {MAX_FACTORS})"
    else:
        e.mode, e.paths = "paths", _paths(g, result, count, target)
    if e.mode == "adjoints":
        e.steps = _adjoints(g, result, on, gates, target)
    return e


def _total_length(g, count, on, target) -> int:
    """The number of factors in all paths together, without listing them: each wire (gate, input)
    is used by (paths from f to the gate) x (paths from the input to the target) paths."""
    down = [0] * len(g.ops)  # paths from the output down to each node
    down[g.output] = 1
    total = 0
    for i in range(g.output, target, -1):
        if on[i] and down[i]:
            for a in g.args[i]:
                if on[a]:
                    down[a] += down[i]
                    total += down[i] * count[a]
            if total > MAX_FACTORS:
                return total
    return total


def _paths(g, result, count, target) -> list[Path]:
    """Every path from the output down to the target, depth first, first inputs first."""
    paths = []
    stack = [(g.output, [])]
    while stack:
        node, factors = stack.pop()
        if node == target:
            product = 1.0
            for f in factors:
                product *= f.local
            paths.append(Path(factors, product))
            continue
        loc = result.locals[node]
        for slot in range(len(g.args[node]) - 1, -1, -1):
            a = g.args[node][slot]
            if count[a]:
                stack.append((a, [*factors, Factor(node, slot, loc[slot])]))
    return paths


def _adjoints(g, result, on, gates, target) -> list[Step]:
    """Each node's gradient as the backward pass accumulates it, from the output back."""
    feeds: dict[int, list[tuple[int, int]]] = {}
    for i in gates:
        for slot, a in enumerate(g.args[i]):
            if on[a]:
                feeds.setdefault(a, []).append((i, slot))
    steps = []
    for node in [*reversed(gates), target]:
        terms = [Term(u, k, result.grads[u], result.locals[u][k]) for u, k in feeds.get(node, [])]
        steps.append(Step(node, result.grads[node], terms))
    return steps


def _names(g, nodes, out_name: str) -> dict[int, str]:
    """Display names, as every view names the nodes (core.names): inputs and intermediates by
    name, the output as f (or its own name), constants as numbers, other gates q, r, s, ..."""
    every = node_names(g)
    names = {node: every[node] for node in set(nodes)}
    if g.output in names:
        names[g.output] = out_name
    return names
