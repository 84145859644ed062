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
from .common import carries_gradient, fmt, fmt_wire, gate_note, node_names

GREEN, RED = "#1a7f37", "#cf222e"
IMAGE_TYPES = ("svg", "png", "pdf")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _wire(value: float, grad: float | None) -> str:
    """An HTML-like edge label: value in green above, gradient in red below."""
    top = f'<FONT COLOR="{GREEN}">{_esc(fmt_wire(value))}</FONT>'
    if grad is None:
        return f"<{top}>"
    return f'<{top}<BR/><FONT COLOR="{RED}">{_esc(fmt(grad))}</FONT>>'


def dot(result: Result) -> str:
    """The annotated graph as a Graphviz digraph (valid input for `dot -Tsvg`)."""
    g = result.graph
    names = node_names(g)
    users = g.users()
    title = _esc(" ".join(g.source.split()))
    out = [
        "digraph bp {",
        "  rankdir=LR;",
        f'  graph [fontname="Helvetica", fontsize=11, labelloc=t, label="{title}"];',
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.6];',
        f"  // on each wire: forward value ({GREEN}, above) and gradient ({RED}, below)",
    ]
    for i, op in enumerate(g.ops):
        if op == "var":
            out.append(f"  n{i} [shape=plaintext, label=<<B>{_esc(names[i])}</B>>];")
        elif op == "const" and not users[i]:
            continue  # a constant --expand folded into a gate's parameter (the 1 of +1)
        elif op == "const":
            out.append(f'  n{i} [shape=plaintext, fontcolor=gray40, label="{_esc(names[i])}"];')
        else:
            note = gate_note(op, g.params[i], len(g.args[i]))
            label = (
                f'<B>{_esc(g.label(i))}</B><BR/><FONT POINT-SIZE="8">{_esc(names[i])}: {_esc(note)}</FONT>'
            )
            out.append(f"  n{i} [shape=circle, margin=0.02, label=<{label}>];")
    for i, args in enumerate(g.args):
        for k, a in enumerate(args):
            sent = (
                result.contribs[i][k]
                if result.contribs[i] is not None and carries_gradient(result, a)
                else None
            )
            out.append(f"  n{a} -> n{i} [label={_wire(result.values[a], sent)}];")
    o = g.output
    out.append('  out [shape=plaintext, label=""];')
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
