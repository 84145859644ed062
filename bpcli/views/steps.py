"""`--steps`: the staged computation as the lecture writes it. The forward pass as numbered
assignments with their values (`q = x + y = 3`), then the backward pass in reverse with the
chain rule explicit (`dq = z * df = -4`), forks accumulating with `+=`.

The formulas are printed from the graph (each local gradient from its gate's `d` string in the
gate table); the numbers come from the Result.
"""

from __future__ import annotations

from rich.text import Text

from ..core.engine import Result
from ..core.expr import local_text
from ..core.gates import GATES, formula
from .common import carries_gradient, fmt, node_names, shape_text, stretched, uses, vjp_texts
from .latex import latex_formula, latex_name

VALUE, GRAD, DIM = "green", "red", "dim"


def _steps(result: Result):
    """The steps as data: ("forward", n, name, formula, value) and
    ("backward", n, target, op ("=" or "+="), local text, upstream name, contribution, total or None,
    final): at a fork (`+=`) the total is the gradient so far, `final` once every use has sent its
    part (then it is the node's gradient)."""
    g = result.graph
    names = node_names(g)
    gates = g.gate_ids()
    number = {node: n + 1 for n, node in enumerate(gates)}
    out = []
    for node in gates:
        text = formula(g.ops[node], [names[a] for a in g.args[node]], g.params[node])
        out.append(("forward", number[node], names[node], text, result.values[node]))
    wires = uses(result)
    remaining = [len(w) for w in wires]
    seen = [False] * len(g)
    out.append(("seed", number.get(g.output, 0), names[g.output], "=", "1", None, 1.0, None, True))
    so_far = [0.0] * len(g)  # a fork's running total, for the lines that add to it
    for node in reversed(gates):
        if result.contribs[node] is None:
            continue
        args = g.args[node]
        array_gate = GATES[g.ops[node]].shape is not None
        texts = vjp_texts(result, names, node) if array_gate else _local_texts(g, node, names, result.tie)
        for k, a in enumerate(args):
            if not carries_gradient(result, a) or result.contribs[node][k] is None:
                continue
            if array_gate:  # the whole vector-Jacobian product, CS231n's dW = transpose(X) @ dS
                up, local = None, texts[k]
            else:
                up = names[node]
                local = texts[k] if texts is not None else _factor(fmt(result.locals[node][k]))
                if stretched(result, node, k):
                    local = f"sum back to {shape_text(result.values[a]) or 'a number'}: {local}"
            op = "+=" if seen[a] else "="
            seen[a] = True
            remaining[a] -= 1
            sent = result.contribs[node][k]
            so_far[a] = so_far[a] + sent  # a new sum, never in place: arrays may be shared
            final = remaining[a] == 0
            total = (result.grads[a] if final else so_far[a]) if op == "+=" else None
            out.append(("backward", number[node], names[a], op, local, up, sent, total, final))
    return out


def _local_texts(g, node: int, names: list[str], tie: str):
    """Each input's local gradient as text over the wires' names (constants folded in), from the
    gate table's strings; None for a router, whose local gradient is shown as its number."""
    op = g.ops[node]
    if GATES[op].pattern == "router":
        return None
    args = g.args[node]
    inputs = [g.params[a] if g.ops[a] == "const" else names[a] for a in args]
    return local_text(op, inputs, names[node], g.params[node], tie=tie)


def _factor(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _lines(result: Result):
    """The steps as lines of (text, style) pieces: values green, gradients red, comments dim."""
    rows = _steps(result)
    forward = [r for r in rows if r[0] == "forward"]
    width = max((len(r[2]) for r in forward), default=1)
    yield [("# forward pass: a value on every wire", DIM)]
    for _, n, name, text, value in forward:
        yield [
            (f"({n}) ".rjust(6), DIM),
            (f"{name.ljust(width)} = {text} = ", None),
            (fmt(value), VALUE),
            *_shape_note(value),
        ]
    yield [("# backward pass, in reverse: gradient = local gradient * upstream gradient", DIM)]
    for row in rows:
        if row[0] == "seed":
            _, n, name, _, _, _, value, _, _ = row
            yield [
                (f"({n}) ".rjust(6) if n else "  ", DIM),
                (f"d{name} = ", None),
                (fmt(value), GRAD),
                (f"  # d{name}/d{name}", DIM),
            ]
        elif row[0] == "backward":
            _, n, target, op, local, up, value, total, final = row
            line = [
                (f"({n}) ".rjust(6), DIM),
                (f"d{target} {op} {local} * d{up} = " if up else f"d{target} {op} {local} = ", None),
                (fmt(value), GRAD),
                *_shape_note(value),
            ]
            if total is not None and final:
                line += [(f"  # fork: d{target} = ", DIM), (fmt(total), f"bold {GRAD}")]
            elif total is not None:
                line += [(f"  # d{target} so far = ", DIM), (fmt(total), GRAD)]
            yield line


def _shape_note(value) -> list:
    """`  # (500, 10)` after an array's step (dimension analysis, as CS231n asks); nothing for a
    number, or for a big array whose summary already starts with its shape."""
    text = shape_text(value)
    return [(f"  # {text}", DIM)] if text and fmt(value).startswith("[") else []


def steps_plain(result: Result) -> str:
    """The steps as plain text (what a pipe or NO_COLOR gets)."""
    return "".join("".join(text for text, _ in line) + "\n" for line in _lines(result))


def steps_text(result: Result) -> Text:
    """The steps as Rich Text, values green and gradients red."""
    t = Text()
    for line in _lines(result):
        for text, style in line:
            t.append(text, style=style)
        t.append("\n")
    return t


# -- LaTeX, for write-ups ---------------------------------------------------------------------
def _d(name: str, out: str = "f") -> str:
    return rf"\frac{{\partial {latex_name(out)}}}{{\partial {latex_name(name)}}}"


def steps_latex(result: Result) -> str:
    """The steps as a LaTeX `align*` block (amsmath), forward then backward."""
    lines = [r"\begin{align*}", r"\intertext{Forward pass}"]
    rows = _steps(result)
    for row in rows:
        if row[0] == "forward":
            _, n, name, text, value = row
            lines.append(rf"{latex_name(name)} &= {latex_formula(text)} = {fmt(value)} && ({n}) \\")
    lines.append(r"\intertext{Backward pass (local gradient $\cdot$ upstream gradient)}")
    for row in rows:
        if row[0] == "seed":
            _, n, name, _, _, _, value, _, _ = row
            out = name  # the seed row is the output's
            lines.append(rf"{_d(name, out)} &= {fmt(value)} && ({n}) \\")
        elif row[0] == "backward":
            _, n, target, op, local, up, value, total, final = row
            lhs = _d(target, out)
            rel = "&=" if op == "=" else "&\\mathrel{+}="
            word = "fork: total" if final else "so far"
            tail = rf" \quad \text{{({word} {fmt(total)})}}" if total is not None else ""
            times = rf" \cdot {_d(up, out)}" if up else ""
            lines.append(rf"{lhs} {rel} {latex_formula(local)}{times} = {fmt(value)}{tail} && ({n}) \\")
    lines[-1] = lines[-1].removesuffix(r" \\")
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"
