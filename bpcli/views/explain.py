"""Views of `bp explain`: the chain rule as text lines (printed by Rich or plain), LaTeX, JSON.
They read an explain.Explanation and never recompute any math."""

from __future__ import annotations

import math

from . import num, short
from .common import dumps
from .latex import latex_form, latex_name, latex_number

HEAD_STEPS = 100  #: adjoint steps shown before eliding the middle of a long chain
TAIL_STEPS = 20


def _paren(v: float) -> str:
    return f"({short(v)})"


def _d(e, gate: int, node: int, slot: int | None = None) -> str:
    """`dq/dx`, with `[k]` when the path enters `gate` through its k-th input and that input
    feeds the gate more than once (x * x)."""
    mark = f"[{slot + 1}]" if slot is not None and e.repeated(gate, slot) else ""
    return f"d{e.names[gate]}/d{e.names[node]}{mark}"


def _path_text(e, path) -> tuple[str, str]:
    g = e.result.graph
    symbols = " · ".join(_d(e, f.gate, g.args[f.gate][f.slot], f.slot) for f in path.factors)
    numbers = "".join(_paren(f.local) for f in path.factors)
    return symbols, numbers


def _term_text(e, node: int, t) -> tuple[str, str]:
    out = e.result.graph.output
    local = _d(e, t.gate, node, t.slot)
    if t.gate == out:  # df/df = 1 is not written
        return local, _paren(t.local)
    return f"d{e.out_name}/d{e.names[t.gate]} · {local}", f"{_paren(t.upstream)}{_paren(t.local)}"


def lines(e) -> list[str]:
    """The explanation as plain text lines."""
    g = e.result.graph
    f, x = e.out_name, e.wrt
    dfdx = f"d{f}/d{x}"
    shown = list(g.var_ids.items())
    if len(shown) > 8:  # a wide expression: the input explained, and how many others
        shown = [(n, i) for n, i in shown if n == x] or shown[:1]
    at = ", ".join(f"{n} = {short(e.result.values[i])}" for n, i in shown)
    if len(g.var_ids) > len(shown):
        at += f" (and {len(g.var_ids) - len(shown)} other inputs)"
    out = [f"{dfdx} by the chain rule, at {at}" if at else f"{dfdx} by the chain rule", ""]
    if e.mode == "none":
        out.append(f"{f} does not depend on {x}: no path leads from {f} back to {x}, so {dfdx} = 0")
        return out
    if e.gates:
        out.append(f"gates on the way from {f} back to {x} (forward values):")
        legend = _legend(e)
        if len(legend) > HEAD_STEPS + TAIL_STEPS + 1:
            legend = [*legend[:HEAD_STEPS], None, *legend[-TAIL_STEPS:]]
        for item in legend:
            if item is None:
                out.append(f"  ... {len(e.gates) + len(e.side) - HEAD_STEPS - TAIL_STEPS} more gates ...")
                continue
            i, definition, on_path = item
            note = "" if on_path else f"  (does not depend on {x})"
            out.append(
                f"  {e.names[i]} = {definition + ' = ' if definition else ''}{short(e.result.values[i])}{note}"
            )
        out.append("")
    n = e.path_count
    if e.mode == "paths":
        if n == 1:
            symbols, numbers = _path_text(e, e.paths[0])
            if not e.paths[0].factors:
                out.append(f"{dfdx} = 1 (the backward pass starts with 1 at {f})")
            else:
                out.append(f"1 path from {f} back to {x}, a product of local gradients:")
                chain = "" if symbols == dfdx else f" {symbols} ="
                out.append(f"  {dfdx} ={chain} {numbers} = {short(e.paths[0].product)}")
            return out
        out.append(f"{n} paths from {f} back to {x}; {dfdx} is their sum (gradients add up at forks):")
        width = len(str(n))
        for k, p in enumerate(e.paths, 1):
            symbols, numbers = _path_text(e, p)
            out.append(f"  path {k:>{width}}: {symbols} = {numbers} = {short(p.product)}")
        terms = " + ".join(_paren(p.product) if p.product < 0 else short(p.product) for p in e.paths)
        out.append(f"{dfdx} = {terms} = {short(e.total)}")
        if any(e.repeated(fc.gate, fc.slot) for p in e.paths for fc in p.factors):
            out.append(
                "([k]: the path enters the gate through its k-th input, which the gate uses more than once)"
            )
        return out
    out.append(
        f"{count_text(n)} paths lead from {f} back to {x}: {e.reason} to list. Instead, the backward"
        " pass's accumulated adjoints:"
    )
    out.append(
        f"each node's gradient d{f}/dnode is the sum, over the gates it feeds, of that gate's gradient"
        " times its local gradient; from the output back:"
    )
    steps = e.steps
    shown = steps if len(steps) <= HEAD_STEPS + TAIL_STEPS + 1 else None
    if shown is None:
        shown = [*steps[:HEAD_STEPS], None, *steps[-TAIL_STEPS:]]
    for s in shown:
        if s is None:
            out.append(
                f"  ... {len(steps) - HEAD_STEPS - TAIL_STEPS} more steps (--format json has them all) ..."
            )
            continue
        if s.node == g.output:
            out.append(f"  d{f}/d{f} = 1")
            continue
        parts = [_term_text(e, s.node, t) for t in s.terms]
        symbols = " + ".join(p[0] for p in parts)
        numbers = " + ".join(p[1] for p in parts)
        name = f"d{f}/d{e.names[s.node]}"
        if len(parts) == 1:
            out.append(f"  {name} = {symbols} = {numbers} = {short(s.grad)}")
        else:
            out.append(f"  {name} = {symbols}")
            out.append(f"  {' ' * len(name)} = {numbers} = {short(s.grad)}")
    return out


def _legend(e, latex: bool = False):
    """(node, definition or None, on a path?) for every gate the paths mention, inputs first. A gate
    off the paths is defined only when its own inputs have names (else just its value)."""
    g = e.result.graph
    on = set(e.gates)
    out = []
    for i in sorted([*e.side, *e.gates]):
        known = i in on or all(a in e.names for a in g.args[i])
        out.append((i, gate_text(g, i, e.names, latex) if known else None, i in on))
    return out


def text(e) -> str:
    return "\n".join(lines(e)) + "\n"


def print_explanation(e, file=None) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=True)
    body = lines(e)
    console.print(Text(body[0], style="bold"))
    for line in body[1:]:
        console.print(Text(line))


# -- LaTeX -----------------------------------------------------------------------------------


def _lnum(v: float) -> str:
    return latex_number(short(v))


def _lparen(v: float) -> str:
    return f"({_lnum(v)})"


def _ld(e, top: str, bottom: int, gate: int | None = None, slot: int | None = None) -> str:
    frac = f"\\frac{{\\partial {latex_name(top)}}}{{\\partial {latex_name(e.names[bottom])}}}"
    if gate is not None and e.repeated(gate, slot):
        frac += f"\\Big|_{{\\text{{input {slot + 1}}}}}"
    return frac


def latex(e) -> str:
    """The explanation as a LaTeX `align*` block (amsmath), ready for a write-up."""
    g = e.result.graph
    f = latex_name(e.out_name)
    dfdx = _ld(e, e.out_name, e.target)
    source = " ".join(g.source.split())
    source = source if len(source) <= 120 else source[:117] + "..."
    out = [f"% bp explain: d{e.out_name}/d{e.wrt} for {source}"]
    if e.mode == "none":
        out.append(f"\\[ {dfdx} = 0 \\quad\\text{{(no path from ${f}$ to ${latex_name(e.wrt)}$)}} \\]")
        return "\n".join(out) + "\n"
    rows = []
    for i, definition, _on in _legend(e, latex=True):
        rows.append(
            f"{latex_name(e.names[i])} &= {definition + ' = ' if definition else ''}{_lnum(e.result.values[i])}"
        )
    if rows:
        out += ["\\begin{align*}", " \\\\\n".join(rows), "\\end{align*}"]
    if e.mode == "paths":
        if not e.paths[0].factors:
            out.append(f"\\[ {dfdx} = 1 \\]")
            return "\n".join(out) + "\n"
        symbols, numbers = [], []
        for p in e.paths:
            symbols.append(
                " ".join(
                    _ld(e, e.names[fc.gate], g.args[fc.gate][fc.slot], fc.gate, fc.slot) for fc in p.factors
                )
            )
            numbers.append("".join(_lparen(fc.local) for fc in p.factors))
        out.append("\\begin{align*}")
        body = [f"{dfdx} &= {' + '.join(symbols)}", f"&= {' + '.join(numbers)}"]
        if len(e.paths) > 1:
            body.append(f"&= {' + '.join(_lparen(p.product) for p in e.paths)}")
        body.append(f"&= {_lnum(e.total)}")
        out += [" \\\\\n".join(body), "\\end{align*}"]
        return "\n".join(out) + "\n"
    out.append(
        f"% {count_text(e.path_count)} paths ({e.reason}): the backward pass's accumulated adjoints instead"
    )
    rows = []
    for s in e.steps:
        name = _ld(e, e.out_name, s.node)
        if s.node == g.output:
            rows.append(f"{name} &= 1")
            continue
        sym, nums = [], []
        for t in s.terms:
            local = _ld(e, e.names[t.gate], s.node, t.gate, t.slot)
            if t.gate == g.output:
                sym.append(local)
                nums.append(_lparen(t.local))
            else:
                sym.append(f"{_ld(e, e.out_name, t.gate)} {local}")
                nums.append(f"{_lparen(t.upstream)}{_lparen(t.local)}")
        rows.append(f"{name} &= {' + '.join(sym)} = {' + '.join(nums)} = {_lnum(s.grad)}")
    out += ["\\begin{align*}", " \\\\\n".join(rows), "\\end{align*}"]
    return "\n".join(out) + "\n"


# -- JSON ------------------------------------------------------------------------------------


def as_json(e) -> str:
    import math

    g = e.result.graph
    n = e.path_count
    obj = {
        "expression": g.source,
        "wrt": e.wrt,
        "output": e.out_name,
        "value": num(e.result.value),
        "gradient": num(e.gradient),
        "mode": e.mode,
        "path_count": n if n < 2**63 else None,
        "path_count_log10": math.log10(n) if n else None,
        "max_paths": e.max_paths,
        "reason": e.reason,
        "gates": [
            {"id": i, "name": e.names[i], "text": d, "on_path": on, "value": num(e.result.values[i])}
            for i, d, on in _legend(e)
        ],
        "paths": [
            {
                "factors": [
                    {
                        "gate": e.names[fc.gate],
                        "input": fc.slot + 1,
                        "of": e.names[g.args[fc.gate][fc.slot]],
                        "local": num(fc.local),
                    }
                    for fc in p.factors
                ],
                "product": num(p.product),
            }
            for p in e.paths
        ],
        "sum": num(e.total),
        "adjoints": [
            {
                "name": e.names[s.node],
                "grad": num(s.grad),
                "terms": [
                    {
                        "gate": e.names[t.gate],
                        "input": t.slot + 1,
                        "upstream": num(t.upstream),
                        "local": num(t.local),
                    }
                    for t in s.terms
                ],
            }
            for s in e.steps
        ],
    }
    return dumps(obj)


def gate_text(g, node: int, names: dict[int, str], latex: bool = False) -> str:
    """A gate written with its inputs' names: `x * y`, `σ(y)`, `max(z, w)`, `q^2` (or LaTeX)."""
    from ..core.expr import ATOM, UNARY, formula

    op, p = g.ops[node], g.params[node]
    xs = [names.get(a, g.label(a)) for a in g.args[node]]
    if latex:
        return latex_form(op, p, [(latex_name(x), UNARY if x.startswith("-") else ATOM) for x in xs])[0]
    return formula(op, xs, p)


def count_text(n: int) -> str:
    """A path count for people: exact up to 30 digits, else `about 1.13e+3010`."""
    if n < 10**30:
        return str(n)
    log = math.log10(n)
    return f"about {10 ** (log - math.floor(log)):.3g}e+{math.floor(log)}"
