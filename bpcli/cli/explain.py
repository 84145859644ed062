"""`bp explain`: the chain rule for one input, written out with numbers."""

from __future__ import annotations

import sys

import typer

from ..core.errors import UsageError
from .common import _FREE_WORDS, TIE_OPTION, VARS_OPTION, gather, one_of, warn, wrt_names

FORMATS = ("rich", "plain", "json", "latex")

HELP = """Write out the chain rule for df/dx with numbers, path by path.

Each path from the output f down to x is a product of local gradients, one per
gate it passes; df/dx is the sum over the paths (gradients add up at forks):
df/dx = df/dq · dq/dx = (-4)(1) = -4. Unnamed gates are called g1, g2, ...
and listed with their forward values; [k] marks the k-th input wire of a gate
that uses the same input more than once (x*x).

Paths multiply at every fork, so bp counts them first; past --max-paths (or
2000 factors in all) it explains with the backward pass's accumulated adjoints
instead (df/dnode = sum over the gates it feeds of their gradient times their
local gradient), and says so.

Bind variables as in bp eval. --wrt may also name an intermediate (q).

\b
Examples:
  bp explain "q = x + y; f = q * z" --x -2 --y 5 --z -4 --wrt x
  bp explain "x*x + x" --x 3
  bp explain "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)" --x 3 --y -4 --wrt x --format latex

\b
Exit codes: 0 success, 2 usage or syntax error, 3 math error.
"""


app = typer.Typer()


@app.command("explain", context_settings=_FREE_WORDS, help=HELP)
def explain_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    wrt_values: list[str] | None = typer.Option(
        None, "--wrt", help="The input (or intermediate) to explain; optional with one input."
    ),
    max_paths: int = typer.Option(64, "--max-paths", help="List paths up to this many, else use adjoints."),
    format: str = typer.Option("rich", "--format", help="rich | plain | json | latex"),
    tie: str = TIE_OPTION,
    vars_file: str | None = VARS_OPTION,
) -> None:
    from ..tools.explain import explain
    from ..views import explain as view

    one_of("--format", format, FORMATS)
    names = wrt_names(wrt_values)
    if names and len(names) > 1:
        raise UsageError(f"explain follows one input at a time: give one --wrt, not {', '.join(names)}")
    wrt = names[0] if names else None
    source, bindings = gather(words or [], vars_file)
    e = explain(source, bindings, wrt, max_paths=max_paths, tie=tie)
    warn(e.result.warnings)
    if format == "json":
        sys.stdout.write(view.as_json(e))
    elif format == "latex":
        sys.stdout.write(view.latex(e))
    elif format == "plain":
        sys.stdout.write(view.text(e))
    else:
        view.print_explanation(e)
