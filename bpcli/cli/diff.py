"""`bp diff`: the derivative as a bp expression, built as a graph by the backward pass."""

from __future__ import annotations

import sys

import typer

from ..core.errors import UsageError
from .common import TIE_OPTION, one_of, read_expression, wrt_names

FORMATS = ("plain", "json", "latex")

HELP = """Print the derivative of EXPR as a bp expression that bp eval accepts.

bp builds the backward pass as a graph of gates (each gate's local gradient
from the gate table, times its upstream gradient, summed at forks), simplifies
it (constants folded; no *1, +0 or *0 terms) and prints it. A subexpression the
derivative uses several times is written once as a staged statement
(q1 = ...; ...) when that is shorter, so the text grows linearly.

\b
Examples:
  bp diff "(x+y)*z"                       # df/dx, df/dy, df/dz
  bp diff "sigmoid(x)" --wrt x            # the bare expression
  bp diff "x^3*y" --order 2               # every second partial d2f/dxdy
  bp diff "x^3*y" --wrt x --format latex
  bp eval "$(bp diff 'sigmoid(x)' --wrt x)" --x 0.5 --format plain

\b
Exit codes: 0 success, 2 usage or syntax error.
"""

app = typer.Typer()
OPTIONS = ("--wrt", "--order", "--format", "--tie", "--help")


def _expression(words: list[str]) -> str | None:
    """EXPR from the words left over: one word, which may start with `-` (`bp diff "-x^2"`)."""
    for w in words[1:] if words and not words[0].startswith("--") else words:
        import difflib

        close = difflib.get_close_matches(w.split("=", 1)[0], OPTIONS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        what = "option" if w.startswith("-") else "argument"
        shown = w if len(w) <= 60 else w[:57] + "..."
        raise UsageError(f"no such {what}: {shown}{hint}")
    return words[0] if words else None


@app.command("diff", help=HELP, context_settings={"ignore_unknown_options": True})
def diff_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR", show_default=False),
    wrt: list[str] | None = typer.Option(
        None, "--wrt", metavar="NAME", help="Differentiate by NAME (repeat, or a comma list; default: all)."
    ),
    order: int = typer.Option(1, "--order", metavar="N", help="1: the gradient; 2: every second partial."),
    format: str = typer.Option("plain", "--format", help="plain | json | latex"),
    tie: str = TIE_OPTION,
) -> None:
    from ..core.engine import TIES
    from ..core.parse import parse

    one_of("--format", format, FORMATS)
    one_of("--tie", tie, TIES)
    if order not in (1, 2):
        raise UsageError(f"--order must be 1 or 2, not {order}")
    expr = _expression(words or [])
    if expr is None:
        raise UsageError('no expression given (try: bp diff "(x+y)*z")')
    graph = parse(read_expression(expr))
    names = wrt_names(wrt) or []  # one meaning of --wrt in every command
    for name in names:
        if name not in graph.var_ids:
            have = ", ".join(graph.var_ids) or "none"
            raise UsageError(f"--wrt {name}: not a variable of the expression (its variables: {have})")
    from ..core.derive import derivatives, print_program
    from ..views import derivatives as view

    d, nodes = derivatives(graph, names or None, order, tie)
    out = graph.output_name
    if format == "latex":
        sys.stdout.write(view.latex(d, nodes, out))
        return
    g, reserved = d.b.g, graph.var_ids
    if order == 1:
        texts = {x: print_program(g, n, reserved) for x, n in nodes.items()}
    else:
        texts = {x: {y: print_program(g, n, reserved) for y, n in row.items()} for x, row in nodes.items()}
    if format == "json":
        sys.stdout.write(view.as_json(texts, graph.source, order))
    else:
        sys.stdout.write(view.plain(texts, out, bare=len(names) == 1))
