"""Views of `bp diff`: derivatives as bp text (plain lines, JSON) or LaTeX, from the derivative
nodes `bpcli.core.derive` built. Nothing here differentiates."""

from __future__ import annotations

from ..core.derive import program
from .common import dumps
from .latex import latex_form, latex_name


def _label(out: str, xs: tuple[str, ...]) -> str:
    return f"d{out}/d{xs[0]}" if len(xs) == 1 else f"d2{out}/d{xs[0]}d{xs[1]}"


def _items(nodes: dict) -> list[tuple[tuple[str, ...], int]]:
    """((x,), node) for order 1, ((x, y), node) for order 2, in order."""
    out = []
    for x, v in nodes.items():
        if isinstance(v, dict):
            out += [((x, y), node) for y, node in v.items()]
        else:
            out.append(((x,), v))
    return out


def plain(texts: dict, out: str, bare: bool) -> str:
    """`df/dx<TAB>EXPR` lines (`d2f/dxdy<TAB>EXPR` for order 2), or the bare expression."""
    items = _items(texts)
    if bare and len(items) == 1:
        return f"{items[0][1]}\n"
    return "".join(f"{_label(out, xs)}\t{text}\n" for xs, text in items)


def as_json(texts: dict, source: str, order: int) -> str:
    """{"expression", "order", "derivatives": {"x": "..."}} ({"x": {"y": "..."}} for order 2)."""
    return dumps({"expression": source, "order": order, "derivatives": texts})


def latex(d, nodes: dict, out: str) -> str:
    """An `align*` block: each derivative, its staged parts as `where` lines beneath it."""
    g, reserved = d.b.g, d.source.var_ids
    lines = [r"\begin{align*}"]
    for xs, node in _items(nodes):
        _, _, staged = program(g, node, reserved)
        statements, final, _ = program(g, node, reserved, latex_form, staged)
        top, bottom = latex_name(out), " ".join(rf"\partial {latex_name(x)}" for x in xs)
        order = "^{2}" if len(xs) == 2 else ""
        lines.append(rf"\frac{{\partial{order} {top}}}{{{bottom}}} &= {final} \\")
        lines += [rf"&\quad\text{{where }} {latex_name(name)} = {text} \\" for name, text in statements]
    lines[-1] = lines[-1].removesuffix(r" \\")
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"
