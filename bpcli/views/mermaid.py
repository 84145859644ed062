"""Mermaid view (`--format mermaid`) for Markdown notes; GitHub renders it. Inputs on the left,
gates as circles with their symbol and pattern; on each wire the forward value and the gradient
(its share of the gradient at a fork)."""

from __future__ import annotations

from ..core.engine import Result
from .common import carries_gradient, fmt, fmt_wire, gate_note, node_names


def _q(s: str) -> str:
    # Mermaid strings are double-quoted; entity codes keep its syntax characters inert
    return s.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(result: Result) -> str:
    """The annotated graph as a Mermaid flowchart (a ```mermaid block's content)."""
    g = result.graph
    names = node_names(g)
    users = g.users()
    out = ["flowchart LR", "  %% each wire: forward value, then gradient (df/d that wire)"]
    for i, op in enumerate(g.ops):
        if op == "var":
            out.append(f'  n{i}["{_q(names[i])}"]:::input')
        elif op == "const" and not users[i]:
            continue  # a constant --expand folded into a gate's parameter (the 1 of +1)
        elif op == "const":
            out.append(f'  n{i}["{_q(names[i])}"]:::const')
        else:
            note = gate_note(op, g.params[i], len(g.args[i]))
            out.append(f'  n{i}(("{_q(g.label(i))}<br/>{_q(names[i])}: {_q(note)}")):::gate')
    for i, args in enumerate(g.args):
        for k, a in enumerate(args):
            text = f"value {_q(fmt_wire(result.values[a]))}"
            if result.contribs[i] is not None and carries_gradient(result, a):
                text += f"<br/>grad {_q(fmt(result.contribs[i][k]))}"
            out.append(f'  n{a} -->|"{text}"| n{i}')
    o = g.output
    out.append(f'  n{o} -->|"value {_q(fmt(result.values[o]))}<br/>grad 1"| out(( ))')
    out.append("  classDef input fill:#eef6ff,stroke:#0969da")
    out.append("  classDef const fill:#f6f8fa,stroke:#8c959f")
    out.append("  classDef gate fill:#fff,stroke:#1f2328")
    return "\n".join(out) + "\n"
