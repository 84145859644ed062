"""A printable homework sheet of a problem set (Markdown or LaTeX): each problem's expression,
its point, what to find, and the graph of gates without any value or gradient on it (those are
the student's work), then an answer-file template to fill in. Reads parsed graphs; no math."""

from __future__ import annotations

from ..core.graph import Graph
from .check import one_line
from .common import gate_note, node_names

_UNICODE = ("├─ ", "└─ ", "│  ", "   ", " ↑")
_ASCII = ("|- ", "`- ", "|  ", "   ", " (above)")  # LaTeX's verbatim has no box-drawing characters
# the gate table's labels in plain ASCII, so pdflatex's verbatim can print them
_TO_ASCII = str.maketrans({"×": "*", "−": "-", "²": "^2", "σ": "sigma", "·": "*", "ᵀ": "^T", "√": "sqrt"})


def structure(graph: Graph, ascii_only: bool = False) -> str:
    """The circuit from the output back to the inputs, as the picture draws it, with gate
    symbols, node names and patterns only. A fork is drawn once and referred to (`x ↑`) after.
    Iterative (a deep expression cannot overflow the stack)."""
    mid, last, bar, blank, above = _ASCII if ascii_only else _UNICODE
    names = node_names(graph)
    drawn = [False] * len(graph)
    lines = []
    stack = [(graph.output, "", "")]
    while stack:
        node, prefix, branch = stack.pop()
        op = graph.ops[node]
        if op in ("var", "const"):
            lines.append(prefix + branch + names[node])
            continue
        if drawn[node]:
            lines.append(prefix + branch + names[node] + above)
            continue
        drawn[node] = True
        note = gate_note(op, graph.params[node], len(graph.args[node]))
        lines.append(f"{prefix}{branch}{graph.label(node)}  {names[node]}   ({note})")
        child = prefix + ("" if not branch else (blank if branch == last else bar))
        args = graph.args[node]
        for pos in range(len(args) - 1, -1, -1):
            stack.append((args[pos], child, last if pos == len(args) - 1 else mid))
    text = "\n".join(lines)
    return text.translate(_TO_ASCII) if ascii_only else text


def structure_dot(graph: Graph) -> str:
    """The gate graph as Graphviz, gates as circles with their symbol and name, no numbers."""
    names = node_names(graph)
    users = graph.users()

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph bp {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for i, op in enumerate(graph.ops):
        if op in ("var", "const"):
            if users[i]:
                out.append(f"  n{i} [shape=plaintext, label={q(names[i])}];")
        else:
            out.append(f"  n{i} [shape=circle, label={q(graph.label(i) + chr(10) + names[i])}];")
    for i, args in enumerate(graph.args):
        out += [f"  n{a} -> n{i};" for a in args]
    out.append("}")
    return "\n".join(out)


_NAMES = (
    "A name alone asks for its forward value (q, f); dx asks for the gradient df/dx of the output"
    " with respect to x. The graph below each problem is drawn from the output back to the inputs."
)


def _latex_escape(s: str) -> str:
    table = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "^": r"\^{}",
        "_": r"\_",
        "%": r"\%",
        "~": r"\~{}",
    }
    return "".join(table.get(c, c) for c in s)


def _shown(expression: str, graph: Graph) -> str:
    """The expression on one line; `f = ...` unless its statements name their own values."""
    line = one_line(expression)
    return line if graph.names else f"f = {line}"


def _number(v: float) -> str:
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def sheet(
    pset,
    graphs: list[Graph],
    asked: list[list[str]],
    template: str,
    fmt: str = "markdown",
    picture: str = "text",
) -> str:
    """The sheet as Markdown (`fmt` "markdown") or a LaTeX document ("latex") of a problem set,
    its parsed graphs, each problem's questions and the answer-file template to end with;
    `picture` is "text" (the circuit as text), "dot" (Graphviz source) or "none"."""
    latex = fmt == "latex"
    title = pset.title or "Backpropagation homework"
    out: list[str] = []
    if latex:
        out += [
            r"\documentclass{article}",
            r"\usepackage[margin=2cm]{geometry}",
            r"\begin{document}",
            rf"\section*{{{_latex_escape(title)}}}",
        ]
        if pset.seed is not None:
            out.append(rf"Variant: \texttt{{{_latex_escape(pset.seed)}}}\par")
        out.append(_latex_escape(_NAMES) + r"\par")
    else:
        out.append(f"# {title}")
        if pset.seed is not None:
            out += ["", f"Variant: `{pset.seed}`"]
        out += ["", _NAMES]
    for k, (p, g, questions) in enumerate(zip(pset.problems, graphs, asked, strict=True), 1):
        points = f"{_number(p.points)} point{'' if p.points == 1 else 's'}"
        head = f"Problem {k}" + (f": {p.name}" if p.explicit_name else "") + f" ({points})"
        at = ", ".join(f"{n} = {_number(v)}" for n, v in p.bindings.items())
        if picture == "text":
            drawing = structure(g, ascii_only=latex)
        elif picture == "dot":
            drawing = structure_dot(g)
        else:
            drawing = None
        if latex:
            out += [
                rf"\subsection*{{{_latex_escape(head)}}}",
                rf"\texttt{{{_latex_escape(_shown(p.expression, g))}}}\par",
                rf"at \texttt{{{_latex_escape(at)}}}\par" if at else "",
                rf"Find: \texttt{{{_latex_escape(', '.join(questions))}}}\par",
            ]
            if drawing is not None:
                out += [r"\begin{verbatim}", drawing, r"\end{verbatim}"]
        else:
            out += ["", f"## {head}", "", f"    {_shown(p.expression, g)}", ""]
            if at:
                out.append(f"at {at}")
                out.append("")
            out.append("Find: " + ", ".join(f"`{a}`" for a in questions))
            if drawing is not None:
                out += ["", "```" + ("dot" if picture == "dot" else "text"), drawing, "```"]
    intro = (
        "Answers: fill in this file (a number such as -0.20, a fraction such as 1/4, or a formula"
        " in the problem's variables) and hand it in."
    )
    body = template.rstrip("\n").splitlines()
    if latex:
        out += [
            r"\subsection*{Answer file}",
            _latex_escape(intro),
            r"\begin{verbatim}",
            *body,
            r"\end{verbatim}",
        ]
        out.append(r"\end{document}")
    else:
        out += ["", "## Answer file", "", intro, "", "```toml", *body, "```"]
    return "\n".join(line for line in out if line is not None) + "\n"
