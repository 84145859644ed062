"""`--compare`: the graph with its composite gates beside the same graph in the lecture's
primitive gates (the "modularity" slide), and the evidence that both give the same gradients.

Both Results come from the engine (evaluated twice); this view only lays them out."""

from __future__ import annotations

import math

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from ..core.engine import Result
from ..core.expr import local_text
from ..core.gates import GATES
from .common import fmt, node_names, term
from .picture import GRAD, MAX_GATES, VALUE, Picture, legend

SIDE_BY_SIDE = 150  # columns needed to draw the two circuits next to each other


def composite_lines(merged: Result) -> list[Text]:
    """For each composite gate, its local gradient with the numbers in, times the upstream
    gradient: `σ f: (1 - 0.73) * 0.73 * 1 = 0.20` (the lecture's sigmoid gate)."""
    g = merged.graph
    names = node_names(g)
    lines = []
    for i in g.gate_ids():
        op = g.ops[i]
        if GATES[op].primitive or merged.contribs[i] is None:
            continue
        args = g.args[i]
        router = GATES[op].pattern == "router"
        texts = local_text(op, [term(merged.values[a]) for a in args], term(merged.values[i]), g.params[i])
        for k, a in enumerate(args):
            if g.ops[a] == "const":
                continue
            local = term(merged.locals[i][k]) if router else texts[k]
            line = Text(f"  {g.label(i)} {names[i]}", style="bold").append(f", into {names[a]}: ")
            line.append(f"{local} * {term(merged.grads[i])} = ").append(
                fmt(merged.contribs[i][k]), style=GRAD
            )
            lines.append(line)
    return lines


def _same(a: float, b: float) -> bool:
    # the contract: --expand agrees with the merged graph to 1e-12 relative
    if getattr(a, "ndim", 0) or getattr(b, "ndim", 0):  # arrays: entry by entry
        import numpy as np

        return bool(np.allclose(a, b, rtol=1e-12, atol=1e-300))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def agreement_table(merged: Result, expanded: Result) -> Table:
    """The output and every input's (and named intermediate's) gradient in both graphs."""
    t = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1))
    t.add_column("", no_wrap=True)
    t.add_column("composite", justify="right", style=GRAD)
    t.add_column("expanded", justify="right", style=GRAD)
    t.add_column("")
    rows = [("f (value)", merged.value, expanded.value, VALUE)]
    rows += [(f"d{n}", merged.gradient[n], expanded.gradient[n], GRAD) for n in merged.gradient]
    rows += [
        (f"d{n}", merged.grads[node], expanded.grads[expanded.graph.names[n]], GRAD)
        for n, node in merged.graph.names.items()
    ]
    for name, a, b, style in rows:
        ok = _same(a, b)
        t.add_row(
            name,
            Text(fmt(a), style=style),
            Text(fmt(b), style=style),
            "same" if ok else Text("DIFFERENT", style="bold red"),
        )
    return t


class Compare:
    """Composite gates and their expansion, side by side on a wide terminal, else one above the other."""

    def __init__(self, merged: Result, expanded: Result, max_gates: int = MAX_GATES):
        self.merged, self.expanded, self.max_gates = merged, expanded, max_gates

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        left = Picture(self.merged, self.max_gates, title="composite gates", inputs=False, legend=False)
        right = Picture(
            self.expanded, self.max_gates, title="expanded into primitive gates", inputs=False, legend=False
        )
        if options.max_width >= SIDE_BY_SIDE:
            grid = Table.grid(padding=(0, 4))
            grid.add_column(ratio=1)
            grid.add_column(ratio=1)
            grid.add_row(left, right)
            yield grid
        else:
            yield Group(left, Text(""), right)
        yield Text(legend(node_names(self.merged.graph)[self.merged.graph.output]), style="dim")
        yield Text("")
        lines = composite_lines(self.merged)
        if lines:
            yield Text("each composite gate's local gradient times its upstream gradient", style="bold")
            yield from lines
        else:
            yield Text("no composite gates: the expansion is the same graph", style="dim")
        yield Text("same gradients?", style="bold")
        yield agreement_table(self.merged, self.expanded)


def print_compare(
    merged: Result, expanded: Result, max_gates: int = MAX_GATES, console: Console | None = None
) -> None:
    """Print the comparison; the Console decides colour and width."""
    (console or Console(highlight=False)).print(Compare(merged, expanded, max_gates))
