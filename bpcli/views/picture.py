"""The Rich view: the annotated gate graph read from the output back to the inputs, then the
inputs table. Rich decides colour and width; piped or with NO_COLOR it is plain readable text."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..engine import Result
from ..gates import GATES
from . import short

MAX_GATES = 300


def _ref(g, node: int, names: dict) -> str:
    if g.ops[node] in ("var", "const"):
        return g.label(node)
    return names.get(node, f"#{node}")


def picture(result: Result, max_gates: int = MAX_GATES) -> Group:
    g = result.graph
    names = {node: name for name, node in g.names.items()}
    gates = g.gate_ids()
    parts = []
    table = Table(
        title="gates, from the output back to the inputs",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("gate", no_wrap=True)
    table.add_column("inputs")
    table.add_column("value", style="green", justify="right")
    table.add_column("grad", style="red", justify="right")
    table.add_column("local grads", justify="right")
    table.add_column("pattern")
    shown = gates[::-1][:max_gates]
    for i in shown:
        row = GATES[g.ops[i]]
        name = names.get(i, f"#{i}")
        if i == g.output:
            name = f"{name} (f)" if i in names else "f"
        loc = result.locals[i]
        table.add_row(
            f"{name} = {g.label(i)}",
            ", ".join(_ref(g, a, names) for a in g.args[i]),
            short(result.values[i]),
            short(result.grads[i]),
            ", ".join(short(x) for x in loc) if loc is not None else "-",
            row.pattern or row.label,
        )
    parts.append(Text(f"f = {short(result.value)}", style="bold"))
    if gates:
        parts.append(table)
    if len(gates) > len(shown):
        parts.append(Text(f"... {len(gates) - len(shown)} more gates (showing {len(shown)} of {len(gates)})"))
    inputs = Table(title="inputs", title_justify="left", show_edge=False, pad_edge=False)
    inputs.add_column("name")
    inputs.add_column("value", style="green", justify="right")
    inputs.add_column("df/dname", style="red", justify="right")
    for name, node in g.var_ids.items():
        inputs.add_row(name, short(result.values[node]), short(result.grads[node]))
    for name, node in g.names.items():
        inputs.add_row(f"{name} (intermediate)", short(result.values[node]), short(result.grads[node]))
    parts.append(inputs)
    return Group(*parts)


def print_picture(result: Result, file=None) -> None:
    Console(file=file, highlight=False).print(picture(result))
