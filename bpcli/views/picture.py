"""The Rich view: the annotated gate graph read from the output back to the inputs (the way the
backward pass travels), the forks with their gradients summed, then the inputs table.

Each row of the circuit is a wire into a gate: the node's symbol and name, its forward value
(green), its gradient df/dnode (red), the local gradient of the gate above with respect to it,
and for a gate its flow pattern (distributor, swapper, router) or the gate table's short label.
A node used by several gates (a fork) is drawn once and referred to (`x ↑`) elsewhere.
Rich decides colour and width; piped or with NO_COLOR the same picture is plain text.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from ..core.engine import Result
from ..core.expr import local_text
from ..core.gates import GATES
from .common import (
    carries_gradient,
    fmt,
    fmt_cell,
    gate_note,
    is_array,
    node_names,
    shape_text,
    uses,
    wire_local,
)

#: past this many gates the picture is the summary and the inputs table (see --max-gates)
MAX_GATES = 300
VALUE, GRAD, DIM = "green", "red", "dim"
_NUMBER_COLUMNS = 52  # what the names, value, grad, local and pattern columns need, roughly
LEGEND = (
    "grad = df/dnode; local = d(gate above)/dnode; grad = local × gate's grad\n"
    "(summed over a fork's uses); ↑ drawn above, ↓ continued below"
)


def legend(out: str = "f") -> str:
    """The legend under a circuit, in the output's own name (`dL/dnode` for `L = ...`)."""
    return LEGEND.replace("df/dnode", f"d{out}/dnode")


_MAX_FORK_TERMS = 8  # a fork's sum lists this many contributions, then "+ ... (N more)"


def pattern_text(
    op: str,
    param: float | None = None,
    n: int = 1,
    out: str | None = None,
    inputs: list | None = None,
    live: list | None = None,
) -> str:
    """A gate's pattern (`distributor`, `swapper`, `router`), label or local gradient (`×exp(x)`).

    A gate of two or more inputs with neither (`/`, `^`) is told in the graph's own names when
    they are given (`inputs`: each input's name, or its value as a float if it is a constant;
    `live`: which inputs get a gradient): `×(1 / v) to r, ×(-r / v^2) to v`, so no letter of
    the gate table's (x, y) can be read as one of the user's variables."""
    row = GATES[op]
    if inputs is None or n < 2 or row.pattern or row.label:
        return gate_note(op, param, n)
    texts = [_bracket(t) for t in local_text(op, inputs, out, param)]
    live = live or [True] * n
    return ", ".join(f"×{t} to {name}" for t, name, on in zip(texts, inputs, live, strict=True) if on)


def _bracket(text: str) -> str:
    # `×2 * t to t` would read as two factors; `×(2 * t) to t` cannot
    if " " not in text or (text.startswith("(") and text.endswith(")") and text.count("(") == 1):
        return text
    return f"({text})"


class Picture:
    """The annotated gate graph of a Result as a Rich renderable."""

    def __init__(
        self,
        result: Result,
        max_gates: int = MAX_GATES,
        title: str | None = None,
        inputs: bool = True,
        legend: bool = True,
    ):
        self.result = result
        self.max_gates = max_gates
        self.title = title
        self.inputs = inputs
        self.legend = legend

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        r, g = self.result, self.result.graph
        names = node_names(g)
        n_gates = len(g.gate_ids())
        head = Text()
        if self.title:
            head.append(f"{self.title}: ", style="bold")
        head.append(f"{names[g.output]} = ", style="bold")
        head.append(fmt(r.value), style=f"bold {VALUE}")
        head.append(f"   ({_count(n_gates, 'gate')}, {_count(len(g.var_ids), 'input')})", style=DIM)
        yield head
        if n_gates > self.max_gates:
            yield Text(
                f"{n_gates} gates is more than --max-gates {self.max_gates}: showing the inputs only "
                f"(draw all with --max-gates {n_gates})",
                style=DIM,
            )
        elif n_gates:
            width = options.max_width
            yield Text("circuit, from the output back to the inputs", style="bold")
            depth = max(4, (width - _NUMBER_COLUMNS) // 3)
            yield circuit_table(r, names, max_depth=depth, console=console, width=width)
            if self.legend:
                yield Text(legend(names[g.output]), style=DIM)
            forks = fork_lines(r, names)
            if forks:
                yield Text("\nforks: gradients add up", style="bold")
                yield from forks
            unused = [i for i in g.gate_ids() if r.contribs[i] is None and _named_but_unused(r, i)]
            if unused:
                yield Text(
                    "not used by the output (gradient 0): " + ", ".join(names[i] for i in unused), style=DIM
                )
        if self.inputs:
            yield Text("\ninputs", style="bold")
            yield inputs_table(r, self.max_gates)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _named_but_unused(r: Result, node: int) -> bool:
    # a staged statement the output never uses: worth a note, since its gradient is 0
    return r.graph.ops[node] not in ("var", "const") and node in r.graph.names.values()


def circuit_table(
    r: Result, names: list[str], max_depth: int = 12, console: Console | None = None, width: int | None = None
) -> Table:
    """The circuit from the output back to the inputs as rows of a table: tree guides in the
    first column, numbers aligned in the others. Iterative, so deep graphs cannot overflow the
    stack; a branch deeper than `max_depth` continues as its own tree below (`r ↓`). Given the
    console and its width, a pattern too long for its column wraps onto rows of its own whose
    tree guides go on unbroken."""
    g = r.graph
    rows = []  # (label, node, value, grad, local, pattern, guide under the row)
    arrays = any(is_array(v) for v in r.values)  # then every wire shows its shape
    drawn = [False] * len(g)
    n_uses = [len(u) for u in uses(r)]
    roots = [g.output]
    deferred = [False] * len(g)
    while roots:
        root = roots.pop(0)
        if drawn[root]:
            continue
        # stack of (node, parent gate, input position, guide prefix, branch text, depth)
        stack = [(root, None, 0, "", "", 0)]
        while stack:
            node, parent, k, prefix, branch, depth = stack.pop()
            local = ""
            if parent is not None and r.locals[parent] is not None and carries_gradient(r, node):
                local = wire_local(r, names, parent, k)
            op = g.ops[node]
            label = Text().append(prefix + branch, style=DIM)
            child_prefix = prefix + ("" if not branch else ("   " if branch.startswith("└") else "│  "))
            if op == "const":
                label.append(names[node], style=DIM)
                rows.append((label, node, fmt(r.values[node]), "", local, Text(""), child_prefix))
                continue
            fork = n_uses[node] > 1
            if drawn[node]:
                label.append(f"{names[node]} ↑", style="bold")
                note = Text(f"fork: {n_uses[node]} uses", style=DIM)
                rows.append((label, node, "", "", local, note, child_prefix))
                continue
            if op != "var" and depth >= max_depth and node != root:
                label.append(f"{names[node]} ↓", style="bold")
                rows.append((label, node, "", "", local, Text(""), child_prefix))
                if not deferred[node]:
                    deferred[node] = True
                    roots.append(node)
                continue
            drawn[node] = True
            grad = fmt_cell(r.grads[node]) if carries_gradient(r, node) or node == g.output else ""
            note = Text(f"fork: {n_uses[node]} uses", style=DIM) if fork else Text("")
            if op == "var":
                label.append(names[node], style="bold cyan")
                rows.append((label, node, fmt_cell(r.values[node]), grad, local, note, child_prefix))
                continue
            label.append(g.label(node), style="bold")
            label.append(f"  {names[node]}", style=DIM)
            args = g.args[node]
            live = [carries_gradient(r, a) for a in args]
            inputs = [g.params[a] if g.ops[a] == "const" else names[a] for a in args]
            text = pattern_text(op, g.params[node], len(args), names[node], inputs, live)
            pattern = Text(text, style="bold" if GATES[op].pattern else "")
            if fork:
                pattern.append("; ").append_text(note)
            rows.append((label, node, fmt_cell(r.values[node]), grad, local, pattern, child_prefix + "│"))
            for pos in range(len(args) - 1, -1, -1):
                last = pos == len(args) - 1
                stack.append((args[pos], node, pos, child_prefix, "└─ " if last else "├─ ", depth + 1))
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1))
    table.add_column("gate / input", no_wrap=True, overflow="ellipsis")
    if arrays:  # CS231n's dimension analysis
        table.add_column("shape", no_wrap=True, style=DIM)
    table.add_column("value", justify="right", style=VALUE, header_style=f"bold {VALUE}", no_wrap=True)
    table.add_column("grad", justify="right", style=GRAD, header_style=f"bold {GRAD}", no_wrap=True)
    table.add_column("local", justify="right", no_wrap=True)
    table.add_column("pattern", no_wrap=console is not None and width is not None)
    room = None
    if console is not None and width is not None:
        # what the pattern column has left once the others (and 2 spaces between each) are set
        used = [max([len("gate / input")] + [row[0].cell_len for row in rows])]
        used += [
            max([len(h)] + [_width(row[c]) for row in rows])
            for c, h in ((2, "value"), (3, "grad"), (4, "local"))
        ]
        if arrays:
            used.append(max([len("shape")] + [len(_shape(r, row[1])) for row in rows]))
        room = max(16, width - sum(used) - 2 * len(used))  # 2 spaces between columns
    for label, node, value, grad, local, pattern, guide in rows:
        shape = [_shape(r, node)] if arrays else []
        lines = pattern.wrap(console, room) if room is not None and pattern.cell_len > room else [pattern]
        tall = max(str(cell).count("\n") for cell in (value, grad, local))
        if tall:  # a small matrix takes a line per row: the tree guides go on beside it
            label = label.copy().append("".join("\n" + guide for _ in range(tall)), style=DIM)
        table.add_row(label, *shape, value, grad, local, lines[0])
        for more in lines[1:]:
            # the tree goes on beside the wrapped words: siblings below, the gate's own inputs
            table.add_row(Text(guide, style=DIM), *[""] * len(shape), "", "", "", more)
    # numbers are never squeezed into ellipses (an array gate's local column holds a formula,
    # which may wrap like the pattern column)
    for column in table.columns[1 : 4 if arrays else 4]:
        column.min_width = max((_width(cell) for cell in column.cells), default=0)
    return table


def _width(cell) -> int:
    """The widest line of a cell (a small matrix is one line per row)."""
    return max((len(line) for line in str(cell).split("\n")), default=0)


def _shape(r: Result, node: int) -> str:
    return shape_text(r.values[node]) or "()"


def fork_lines(r: Result, names: list[str]) -> list[Text]:
    """One line per fork: its gradient as the sum of the contributions from each use,
    `dx = 3 (via q) + 3 (via q) + 1 (via f) = 7`, the numbers as the engine sent them."""
    lines = []
    for node, wires in enumerate(uses(r)):
        if len(wires) < 2:
            continue
        line = Text(f"  d{names[node]} = ")
        for n, (gate, k) in enumerate(wires[:_MAX_FORK_TERMS]):
            if n:
                line.append(" + ")
            line.append(fmt(r.contribs[gate][k]), style=GRAD)
            line.append(f" (via {names[gate]})", style=DIM)
        if len(wires) > _MAX_FORK_TERMS:
            line.append(f" + ... ({len(wires) - _MAX_FORK_TERMS} more)", style=DIM)
        line.append(" = ")
        line.append(fmt(r.grads[node]), style=f"bold {GRAD}")
        lines.append(line)
    return lines


def inputs_table(r: Result, max_rows: int = MAX_GATES) -> Table | Group:
    """Each input variable with its value and gradient, then the named intermediates."""
    g = r.graph
    table = Table(
        box=None,
        pad_edge=False,
        show_edge=False,
        padding=(0, 1),
    )
    table.add_column("name", no_wrap=True)
    arrays = any(is_array(v) for v in r.values)
    if arrays:
        table.add_column("shape", no_wrap=True, style=DIM)
    table.add_column("value", justify="right", style=VALUE, header_style=f"bold {VALUE}")
    table.add_column("gradient", justify="right", style=GRAD, header_style=f"bold {GRAD}")
    rows = [(name, node, "") for name, node in g.var_ids.items()]
    rows += [(name, node, " (intermediate)") for name, node in g.names.items()]
    for name, node, kind in rows[:max_rows]:
        shape = [shape_text(r.values[node]) or "()"] if arrays else []
        table.add_row(
            Text(name, style="bold cyan").append(kind, style=DIM),
            *shape,
            fmt_cell(r.values[node]),
            fmt_cell(r.grads[node]),
        )
    if len(rows) > max_rows:
        more = Text(f"... and {len(rows) - max_rows} more (all of them: --format plain or json)", style=DIM)
        return Group(table, more)
    return table


def picture(result: Result, max_gates: int = MAX_GATES) -> Picture:
    """The default view of `bp eval` as a Rich renderable."""
    return Picture(result, max_gates)


def print_picture(
    result: Result, file=None, max_gates: int = MAX_GATES, console: Console | None = None
) -> None:
    """Print the picture; the Console decides colour (none when piped or NO_COLOR) and width."""
    console = console or Console(file=file, highlight=False)
    console.print(Group(picture(result, max_gates)))
