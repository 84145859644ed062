"""`--steps`: the staged computation as the lecture writes it. The forward pass as numbered
assignments with their values (`q = x + y = 3`), then the backward pass in reverse with the
chain rule explicit (`dq = z * df = -4`), forks accumulating with `+=`.

The formulas come from the gate table (`formula`, `local_text`); the numbers from the Result.
"""

from __future__ import annotations

import re

from rich.text import Text

from ..core.engine import Result
from ..core.gates import GATES, formula, local_formulas
from .common import carries_gradient, fmt, node_names, shape_text, uses

VALUE, GRAD, DIM = "green", "red", "dim"


def _steps(result: Result):
    """The steps as data: ("forward", n, name, formula, value) and
    ("backward", n, target, op ("=" or "+="), local text, upstream name, contribution, total or None)."""
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
    out.append(("seed", number.get(g.output, 0), names[g.output], "=", "1", None, 1.0, None))
    for node in reversed(gates):
        if result.contribs[node] is None:
            continue
        args = g.args[node]
        texts = local_formulas(g.ops[node], names[node], [names[a] for a in args], g.params[node])
        vjps = getattr(GATES[g.ops[node]], "vjp_text", ())
        for k, a in enumerate(args):
            if not carries_gradient(result, a) or result.contribs[node][k] is None:
                continue
            if vjps:  # an array gate: the whole vector-Jacobian product, CS231n's dW = transpose(X) @ dS
                up = None
                local = vjps[k].format(*[names[b] for b in args], up=f"d{names[node]}", out=names[node])
            else:
                up = names[node]
                local = texts[k] if texts[k] is not None else _factor(fmt(result.locals[node][k]))
                if _stretched(result, node, a):
                    local = f"sum back to {shape_text(result.values[a]) or 'a number'}: {local}"
            op = "+=" if seen[a] else "="
            seen[a] = True
            remaining[a] -= 1
            total = result.grads[a] if op == "+=" and remaining[a] == 0 else None
            out.append(("backward", number[node], names[a], op, local, up, result.contribs[node][k], total))
    return out


def _stretched(result: Result, node: int, arg: int) -> bool:
    """Broadcasting stretched this input to the gate's shape: its gradient is summed back."""
    v, x = result.values[node], result.values[arg]
    return getattr(v, "shape", ()) != getattr(x, "shape", ())


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
            _, n, name, _, _, _, value, _ = row
            yield [
                (f"({n}) ".rjust(6) if n else "  ", DIM),
                (f"d{name} = ", None),
                (fmt(value), GRAD),
                ("  # df/df", DIM),
            ]
        elif row[0] == "backward":
            _, n, target, op, local, up, value, total = row
            line = [
                (f"({n}) ".rjust(6), DIM),
                (f"d{target} {op} {local} * d{up} = " if up else f"d{target} {op} {local} = ", None),
                (fmt(value), GRAD),
                *_shape_note(value),
            ]
            if total is not None:
                line += [(f"  # fork: d{target} = ", DIM), (fmt(total), f"bold {GRAD}")]
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
_TOKEN = re.compile(r"\s*(\d+\.?\d*(?:e[-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|σ|\S)")
_FUNCS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh"}
_FUNCS |= {"max": r"\max", "min": r"\min", "σ": r"\sigma", "sign": r"\operatorname{sign}"}
_FUNCS |= {"relu": r"\operatorname{relu}", "abs": r"\operatorname{abs}", "sqrt": r"\operatorname{sqrt}"}
_FUNCS |= {"softplus": r"\operatorname{softplus}"}


def latex_name(name: str) -> str:
    """A variable name in LaTeX math: `x`, `w_{0}`, `x_{1}`, `\\mathit{sigy}`."""
    m = re.fullmatch(r"([A-Za-z])_?(\d+)", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if len(name) == 1:
        return name
    base, _, sub = name.partition("_")
    base = rf"\mathit{{{base}}}" if len(base) > 1 else base
    return f"{base}_{{\\mathit{{{sub}}}}}" if sub else base


def latex_formula(text: str) -> str:
    """One of the gate table's formulas (`(1 - s) * s`, `xpy^2`, `x^(y - 1)`) in LaTeX."""
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "^":
            # brace the exponent: a number (with its sign), a name, or a parenthesised group
            j, depth, group = i + 1, 0, []
            while j < len(tokens):
                group.append(tokens[j])
                depth += tokens[j] == "("
                depth -= tokens[j] == ")"
                j += 1
                if depth == 0 and group[-1] != "-":
                    break
            if group[0] == "(" and group[-1] == ")":
                group = group[1:-1]
            out.append("^{" + latex_formula(" ".join(group)) + "}")
            i = j
            continue
        if tok == "*":
            out.append(r"\cdot")
        elif tok in _FUNCS:
            out.append(_FUNCS[tok])
        elif tok[0].isalpha() or tok[0] == "_":
            out.append(latex_name(tok))
        else:
            out.append(tok)
        i += 1
    text = " ".join(out).replace("( ", "(").replace(" )", ")").replace(r" ^{", "^{")
    return text.replace("(- ", "(-")


def _d(name: str) -> str:
    return rf"\frac{{\partial f}}{{\partial {latex_name(name)}}}"


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
            _, n, name, _, _, _, value, _ = row
            lines.append(rf"{_d(name)} &= {fmt(value)} && ({n}) \\")
        elif row[0] == "backward":
            _, n, target, op, local, up, value, total = row
            lhs = _d(target)
            rel = "&=" if op == "=" else "&\\mathrel{+}="
            tail = rf" \quad \text{{(fork: total {fmt(total)})}}" if total is not None else ""
            times = rf" \cdot {_d(up)}" if up else ""
            lines.append(rf"{lhs} {rel} {latex_formula(local)}{times} = {fmt(value)}{tail} && ({n}) \\")
    lines[-1] = lines[-1].removesuffix(r" \\")
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"
