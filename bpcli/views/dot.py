"""Graphviz view: gates as nodes; on each wire the forward value (green) above the gradient (red)."""

from __future__ import annotations

from ..engine import Result
from ..gates import GATES
from . import short


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def dot(result: Result) -> str:
    g = result.graph
    names = {node: name for name, node in g.names.items()}
    out = [
        "digraph bp {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for i, op in enumerate(g.ops):
        label = g.label(i)
        if op == "var":
            shape = "plaintext"
        elif op == "const":
            shape = "plaintext"
        else:
            shape = "circle"
            pattern = GATES[op].pattern
            if i in names:
                label = f"{names[i]} = {label}"
            if pattern:
                label = f'{label}<BR/><FONT POINT-SIZE="8">{pattern}</FONT>'
                out.append(f"  n{i} [shape={shape}, label=<{_html_label(label)}>];")
                continue
        out.append(f'  n{i} [shape={shape}, label="{_esc(label)}"];')
    for i, args in enumerate(g.args):
        for k, a in enumerate(args):
            sent = result.contribs[i][k] if result.contribs[i] is not None else None
            grad = f'<BR/><FONT COLOR="red">{_esc(short(sent))}</FONT>' if sent is not None else ""
            out.append(
                f'  n{a} -> n{i} [label=<<FONT COLOR="darkgreen">{_esc(short(result.values[a]))}</FONT>{grad}>];'
            )
    o = g.output
    out.append('  out [shape=plaintext, label="f"];')
    out.append(
        f'  n{o} -> out [label=<<FONT COLOR="darkgreen">{_esc(short(result.values[o]))}</FONT>'
        f'<BR/><FONT COLOR="red">1</FONT>>];'
    )
    out.append("}")
    return "\n".join(out) + "\n"


def _html_label(label: str) -> str:
    head, sep, tail = label.partition("<BR/>")
    return _esc(head) + sep + tail
