"""Graphviz view in the lecture's style: inputs on the left, gates as circles labelled with their
symbol, name and flow pattern; on every wire the forward value (green) above the gradient (red).
At a fork each outgoing wire carries its own contribution; the node's gradient is their sum.
`write_image` renders it to SVG or PNG through the Graphviz `dot` program."""

from __future__ import annotations

import os
import shutil
import subprocess

from ..core.engine import Result
from ..core.errors import OutputError, UsageError
from .common import carries_gradient, const_exponent, fmt, fmt_wire, node_names, uses
from .picture import pattern_text

GREEN, RED = "#1a7f37", "#cf222e"
IMAGE_TYPES = ("svg", "png", "pdf")
_TITLE = 100  #: most characters of the expression in the graph's title


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _wire(value: float, grad: float | None) -> str:
    """An HTML-like edge label drawn as a piece of wire: the value in green above a line, the
    gradient in red (italic) below it, so neither can be read as another wire's."""
    top = f'<TR><TD><FONT COLOR="{GREEN}">{_esc(fmt_wire(value))}</FONT></TD></TR>'
    low = f'<I><FONT COLOR="{RED}">{_esc(fmt(grad))}</FONT></I>' if grad is not None else " "
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
    return f'<{table}{top}<TR><TD SIDES="T" BORDER="1" COLOR="#57606a">{low}</TD></TR></TABLE>>'


def _total(result: Result, node: int, names: list[str], wires) -> str:
    """`df/dx = 3 + 3 + 1 = 7`: a node's gradient, as the sum of its wires' at a fork."""
    out = names[result.graph.output]
    head = f"∂{out}/∂{names[node]} = "
    if len(wires) < 2:
        return head + fmt(result.grads[node])
    terms = " + ".join(fmt(result.contribs[gate][k]) for gate, k in wires[:6])
    more = " + ..." if len(wires) > 6 else ""
    return f"{head}{terms}{more} = {fmt(result.grads[node])}"


def dot(result: Result) -> str:
    """The annotated graph as a Graphviz digraph (valid input for `dot -Tsvg`): small gate
    circles with the gate symbol, the node name and pattern in small text below, each wire's
    value above and gradient below it, each input's total gradient (its sum at a fork)."""
    g = result.graph
    names = node_names(g)
    wires = uses(result)
    users = g.users()
    exponent_of = {g.args[i][1] for i in range(len(g)) if const_exponent(g, i)}
    # constants drawn inside a gate: the 1 of +1 (--expand folded it), the 2 of ^2
    hidden = {
        i
        for i, op in enumerate(g.ops)
        if op == "const"
        and all(const_exponent(g, u) and g.args[u] == (g.args[u][0], i) for u in users[i])
        and (users[i] == [] or i in exponent_of)
    }
    # the title is the expression cut short: Graphviz rejects a quoted string of megabytes, and a
    # backslash would escape the closing quote
    title = " ".join(g.source.split())
    title = title if len(title) <= _TITLE else title[: _TITLE - 3] + "..."
    title = _esc("".join(c if c.isprintable() else " " for c in title)).replace("\\", "\\\\")
    out = [
        "digraph bp {",
        "  rankdir=LR; nodesep=0.4; ranksep=0.7; forcelabels=true;",
        f'  graph [fontname="Helvetica", fontsize=12, labelloc=t, label="{title}"];',
        '  node [fontname="Helvetica", fontsize=13];',
        '  edge [fontname="Helvetica", fontsize=11, arrowsize=0.6];',
        f"  // on each wire: forward value ({GREEN}, above the line) and gradient ({RED}, below it)",
    ]
    for i, op in enumerate(g.ops):
        if i in hidden:
            continue
        if op == "var":
            total = f'<FONT POINT-SIZE="10" COLOR="{RED}"><I>{_esc(_total(result, i, names, wires[i]))}</I></FONT>'
            out.append(f"  n{i} [shape=plaintext, label=<<B>{_esc(names[i])}</B><BR/>{total}>];")
        elif op == "const":
            out.append(f'  n{i} [shape=plaintext, fontcolor=gray40, label="{_esc(names[i])}"];')
        else:
            args = g.args[i]
            live = [carries_gradient(result, a) for a in args]
            inputs = [g.params[a] if g.ops[a] == "const" else names[a] for a in args]
            symbol = "^" + fmt(g.params[args[1]]) if const_exponent(g, i) else g.label(i)
            note = pattern_text(op, g.params[i], len(args), names[i], inputs, live)
            note = _esc(f"{names[i]}: {note}")
            if len(wires[i]) > 1:
                note += "<BR/>" + _esc(_total(result, i, names, wires[i]))
            size = 13 if len(symbol) <= 2 else 10
            out.append(
                f"  n{i} [shape=circle, fixedsize=true, width=0.42, fontsize={size}, label=<<B>{_esc(symbol)}</B>>,"
                f' xlabel=<<FONT POINT-SIZE="9" COLOR="#57606a">{note}</FONT>>];'
            )
    for i, args in enumerate(g.args):
        for k, a in enumerate(args):
            if a in hidden:
                continue
            sent = (
                result.contribs[i][k]
                if result.contribs[i] is not None and carries_gradient(result, a)
                else None
            )
            out.append(f"  n{a} -> n{i} [label={_wire(result.values[a], sent)}];")
    o = g.output
    out.append(f'  out [shape=plaintext, label="{_esc(names[o])}"];')
    out.append(f"  n{o} -> out [label={_wire(result.values[o], 1.0)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def check_image_target(path: str) -> str:
    """The image type for `--out PATH` (svg, png or pdf), or a UsageError (exit 2) when the
    suffix is unknown or Graphviz is not installed."""
    kind = os.path.splitext(path)[1].lower().lstrip(".")
    if kind not in IMAGE_TYPES:
        raise UsageError(f"--out {path}: the file name must end in .svg, .png or .pdf")
    if shutil.which("dot") is None:
        raise UsageError(
            "--out needs the Graphviz 'dot' program, which is not installed "
            "(Debian/Ubuntu: apt-get install graphviz)"
        )
    return kind


def write_image(result: Result, path: str) -> None:
    """Render the graph to `path` (.svg, .png or .pdf) with Graphviz `dot`."""
    kind = check_image_target(path)
    try:
        # dot writes to a pipe and bp writes the file, checking every byte (Graphviz does not
        # report a full disk)
        done = subprocess.run(
            ["dot", f"-T{kind}"], input=dot(result).encode(), capture_output=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"--out {path}: Graphviz dot failed ({e})") from None
    if done.returncode != 0:
        why = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise UsageError(f"--out {path}: Graphviz dot failed: {why}")
    write_file(path, done.stdout, "--out")


def write_file(path: str, data: bytes, option: str) -> None:
    """Write `data` to `path` completely, or raise OutputError (exit 4) and leave no partial file."""
    try:
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a full disk may only say so here
    except OSError as e:
        if os.path.isfile(path):
            try:
                os.unlink(path)
            except OSError:
                pass
        raise OutputError(f"{option} {path}: cannot write the file ({e.strerror or e})") from None
