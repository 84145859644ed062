"""`--format html` / `--out FILE.html`: one self-contained page that steps through the forward and
backward passes on the annotated graph, drawn left to right as the lecture draws it.

The page holds everything inline (its script, its styles, the vendored layout library and the
numbers as JSON), so it opens from disk offline and loads nothing from the network. Python only
gathers the numbers the engine computed; the page lays the graph out with dagre (vendored under
`assets/`, MIT, see assets/LICENSE-dagre.txt) and animates the steps.

Why dagre rather than Graphviz's own layout: it is small (49 KB minified), needs nothing installed,
and lays the graph out again in the browser each time a composite gate is expanded or collapsed
(Graphviz would have to lay out every combination in advance).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources

from ..core.engine import Result
from ..core.expr import local_text
from ..core.gates import GATES, formula
from . import num
from .common import carries_gradient, const_exponent, fmt, node_names
from .picture import MAX_GATES, pattern_text

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _asset(name: str) -> str:
    return resources.files("bpcli.views").joinpath("assets", name).read_text(encoding="utf-8")


def _node(result: Result, i: int, key: str, name: str, names: list[str], ref) -> dict:
    """One node of the page: what it is, its numbers (shown rounded, kept exact) and its wires."""
    g = result.graph
    op = g.ops[i]
    node = {"key": key, "name": name, "value": num(result.values[i]), "shown": fmt(result.values[i])}
    if op in ("var", "const"):
        node["kind"] = op
        node["grad"] = num(result.grads[i]) if op == "var" else None
        node["gshown"] = fmt(result.grads[i]) if op == "var" else ""
        return node
    args = g.args[i]
    in_names = [names[a] for a in args]
    row = GATES[op]
    # each local gradient as text over the wires' names (constants folded in), as --steps has it;
    # a router's is its number
    inputs = [g.params[a] if g.ops[a] == "const" else names[a] for a in args]
    router = row.pattern == "router"
    texts = [None] * len(args) if router else local_text(op, inputs, names[i], g.params[i], tie=result.tie)
    live = result.contribs[i] is not None
    flows = [carries_gradient(result, a) for a in args]
    node |= {
        "kind": "gate",
        "symbol": g.label(i),
        "pattern": pattern_text(op, g.params[i], len(args), names[i], inputs, flows),
        "patterned": row.pattern is not None,
        "about": row.label or pattern_text(op, g.params[i], len(args)),
        "formula": formula(op, in_names, g.params[i]),
        "grad": num(result.grads[i]) if live or i == g.output else None,
        "gshown": fmt(result.grads[i]) if live or i == g.output else "",
        "inputs": [],
    }
    if const_exponent(g, i):
        node["symbol"] = "^" + fmt(g.params[args[1]])
        args = args[:1]  # the exponent is part of the gate, not a wire into it
    for k, a in enumerate(args):
        wire = {"from": ref(a), "value": num(result.values[a]), "shown": fmt(result.values[a])}
        if live and carries_gradient(result, a):
            local = result.locals[i][k]
            sent = result.contribs[i][k]
            wire |= {
                "local": num(local),
                "lshown": fmt(local),
                "ltext": texts[k] if texts[k] is not None else fmt(local),
                "sent": num(sent),
                "sshown": fmt(sent),
            }
        node["inputs"].append(wire)
    return node


def _expansion(result: Result):
    """The same graph in primitive gates, evaluated by the engine, and where each node came from."""
    from ..core.engine import backward, forward
    from ..core.graph import expand

    g = result.graph
    trace: dict = {}
    e = expand(g, trace)
    bindings = {name: result.values[node] for name, node in g.var_ids.items()}
    values = forward(e, bindings)
    grads, locals_, contribs, _ = backward(e, values, result.tie)
    return Result(e, values, grads, locals_, contribs, [], result.tie), trace


def page_data(result: Result, max_gates: int = MAX_GATES) -> dict:
    """Everything the page shows, as JSON-ready data: the merged graph's nodes in topological
    order, and for each composite gate the primitive gates it expands into (same numbers)."""
    g = result.graph
    names = node_names(g)
    n_gates = len(g.gate_ids())
    data = {
        "expression": " ".join(g.source.split()),
        "output": f"m{g.output}",
        "outname": names[g.output],
        "value": num(result.value),
        "shown": fmt(result.value),
        "gates": n_gates,
        "max_gates": max_gates,
        "inputs": [
            {"name": name, "value": num(result.values[i]), "grad": num(result.grads[i])}
            for name, i in g.var_ids.items()
        ],
        "inputs_shown": [
            [name, fmt(result.values[i]), fmt(result.grads[i])] for name, i in g.var_ids.items()
        ],
        "nodes": [],
        "inner": {},
    }
    if n_gates > max_gates:
        return data  # the page shows the summary and the inputs
    users = g.users()
    for i in range(len(g)):
        if g.ops[i] == "const" and not users[i]:
            continue
        data["nodes"].append(_node(result, i, f"m{i}", names[i], names, lambda a: f"m{a}"))
    expanded, trace = _expansion(result)
    new, origin = trace["new"], trace["origin"]
    e = expanded.graph
    e_users = e.users()
    made: list[list[int]] = [[] for _ in range(len(g))]  # the nodes each source gate became
    for k, o in enumerate(origin):
        if e.ops[k] != "var" and (e.ops[k] != "const" or e_users[k]):
            made[o].append(k)
    # an expanded node is called after its composite gate (s, s1, s2, ... for the σ gate s), so
    # its names cannot clash with the merged graph's; one list for all of them
    label = [names[o] for o in origin]
    composites = []
    for i in g.gate_ids():
        inner = made[i]
        single = len(inner) == 1 and (e.ops[inner[0]] == g.ops[i] or const_exponent(g, i))
        if new[i] not in inner or single:
            continue  # a primitive gate: nothing to expand
        composites.append(i)
        gates = [k for k in inner if e.ops[k] != "const"]
        for n, k in enumerate(gates):
            label[k] = names[i] if k == new[i] else f"{names[i]}{n + 1}".translate(_SUBSCRIPTS)
        for k in inner:
            if e.ops[k] == "const":
                label[k] = e.label(k)
    for i in composites:

        def ref(a, i=i):
            return f"e{a}" if origin[a] == i else f"m{origin[a]}"

        data["inner"][f"m{i}"] = {
            "out": f"e{new[i]}",
            "nodes": [_node(expanded, k, f"e{k}", label[k], label, ref) for k in made[i]],
        }
    return data


def html_page(result: Result, max_gates: int = MAX_GATES) -> str:
    """The self-contained page (scripts, styles and data inline; nothing from the network)."""
    data = json.dumps(page_data(result, max_gates), ensure_ascii=False, allow_nan=False)
    # inside <script>, "</" could end the element early: escape it in the JSON
    data = data.replace("</", "<\\/")
    title = html.escape(" ".join(result.graph.source.split()) or "bp")
    parts = {"TITLE": title, "STYLE": _asset("page.css"), "DAGRE": _asset("dagre.min.js")}
    parts |= {"DATA": data, "SCRIPT": _asset("page.js")}
    # one pass, so no part's text is ever read as another placeholder
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))


def write_page(result: Result, path: str, max_gates: int = MAX_GATES) -> None:
    """Write the page to `path`; an OutputError (exit 4) when it cannot be written whole."""
    from .dot import write_file

    write_file(path, html_page(result, max_gates).encode("utf-8"), "--out")


def notebook_frame(result: Result, max_gates: int = MAX_GATES, height: int | None = None) -> str:
    """The page for a notebook cell (a Result's `_repr_html_`): an iframe holding the whole page
    in `srcdoc`, so the page's styles and script cannot touch the notebook's, and it still loads
    nothing from the network."""
    n_gates = len(result.graph.gate_ids())
    rows = len(result.graph.var_ids) + n_gates // 2
    height = height or min(900, 420 + 46 * rows)  # room for the controls, the graph, the inputs
    page = html.escape(html_page(result, max_gates), quote=True)
    return (
        f'<iframe srcdoc="{page}" style="width: 100%; height: {height}px; border: 1px solid #d0d7de;"'
        ' sandbox="allow-scripts" title="bp: the annotated gate graph"></iframe>'
    )
