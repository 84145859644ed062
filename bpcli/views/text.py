"""Machine-readable views: plain (`name<TAB>number` lines), JSON, and a bare `--wrt` number."""

from __future__ import annotations

from ..core.engine import Result
from ..core.gates import GATES
from . import num
from .common import dumps


def plain(result: Result, hessian: dict | None = None) -> str:
    """`f<TAB>value`, then `df/dx<TAB>grad` per input variable, at full precision (repr); a named
    output (`...; L = q * z`) keeps its name: `L<TAB>value`, `dL/dx<TAB>grad`. An array variable
    gets one `df/dW[0,1]<TAB>grad` line per entry, in row-major order. With a Hessian, then
    `d2f/dxdy<TAB>number` for every pair of inputs."""
    out = result.graph.output_name
    lines = [f"{out}\t{num(result.value)!r}"]
    for name, g in result.gradient.items():
        if getattr(g, "ndim", 0):
            lines += [f"d{out}/d{name}[{','.join(map(str, k))}]\t{num(float(x))!r}" for k, x in _entries(g)]
        else:
            lines.append(f"d{out}/d{name}\t{num(g)!r}")
    return "\n".join(lines) + "\n" + hessian_lines(hessian or {}, out)


def hessian_lines(hessian: dict, out: str) -> str:
    """`d2f/dxdy<TAB>number` lines, row by row."""
    return "".join(f"d2{out}/d{x}d{y}\t{num(v)!r}\n" for x, row in hessian.items() for y, v in row.items())


def _entries(a):
    """(index tuple, entry) of an array in row-major order."""
    import numpy as np

    return np.ndenumerate(a)


def wrt(result: Result, name: str) -> str:
    """The gradient of one input or named intermediate, as a bare number."""
    g = result.graph
    node = g.var_ids.get(name, g.names.get(name))
    grad = result.grads[node]
    if getattr(grad, "ndim", 0):  # an array's gradient: nested lists of its shape, as in JSON
        return dumps(num(grad))
    return f"{num(grad)!r}\n"


def wrt_lines(result: Result, names: list[str]) -> str:
    """`df/dx<TAB>grad` for each of `names` (inputs or named intermediates), as plain writes them."""
    g, out = result.graph, result.graph.output_name
    grads = [result.grads[g.var_ids.get(name, g.names.get(name))] for name in names]
    return "".join(f"d{out}/d{name}\t{num(v)!r}\n" for name, v in zip(names, grads, strict=True))


def graph_dict(result: Result) -> dict:
    """The annotated graph: every node with its inputs, value, gradient and pattern."""
    g = result.graph
    nodes = []
    for i, op in enumerate(g.ops):
        node = {
            "id": i,
            "op": op,
            "symbol": g.label(i),
            "inputs": list(g.args[i]),
            "value": num(result.values[i]),
            "grad": num(result.grads[i]),
            "pattern": GATES[op].pattern if op in GATES else None,
        }
        if op == "var":
            node["name"] = g.params[i]
        if op not in ("var", "const") and result.locals[i] is not None:
            node["local"] = [num(x) for x in result.locals[i]]
        nodes.append(node)
    names = {node: name for name, node in g.names.items()}
    for node_id, name in names.items():
        nodes[node_id].setdefault("name", name)
    return {"nodes": nodes, "output": g.output}


def as_json(result: Result, with_graph: bool = False, hessian: dict | None = None) -> str:
    obj = {
        "expression": result.graph.source,
        "value": num(result.value),
        "gradient": {k: num(v) for k, v in result.gradient.items()},
        "intermediates": {
            k: {"value": num(v["value"]), "grad": num(v["grad"])} for k, v in result.intermediates.items()
        },
    }
    if hessian is not None:
        obj["hessian"] = {x: {y: num(v) for y, v in row.items()} for x, row in hessian.items()}
    if with_graph:
        obj["graph"] = graph_dict(result)
    obj["warnings"] = list(result.warnings)  # kinks and ties, as on standard error (and in bp check)
    return dumps(obj)
