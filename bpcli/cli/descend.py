"""`bp descend`: gradient descent on an expression's output (library: bpcli/tools/descend.py)."""

from __future__ import annotations

import sys

import typer

from ..core.errors import MathError, UsageError
from .common import _FREE_WORDS, TIE_OPTION, VARS_OPTION, gather, one_of, warn, wrt_names

DESCEND_HELP = """Minimise EXPR by gradient descent, using bp's own forward and backward passes.

Bind the starting values like bp eval (--x 0, x=0, --vars FILE). --wrt picks the variables
to update (default: all); the others stay fixed (data, targets). Each step:
v <- momentum*v + grad, then x <- x - lr*v.

\b
Stops when the steps run out, when the gradient norm is <= --tol, or when it diverges
(a value, loss or gradient is not finite, or the loss grows past
start + 1e6*max(1, |start|)): exit 3, naming the step and the variable.

\b
Examples:
  bp descend "(x-3)^2 + (y+1)^2" --x 0 --y 0 --lr 0.1 --steps 200
  bp descend "(sigmoid(w0*x0 + w1*x1 + w2) - t)^2" --wrt w0,w1,w2 \\
      w0=2 w1=-3 w2=-3 x0=-1 x1=-2 t=1 --lr 0.5 --steps 100
  bp descend "(x-3)^2" --x 0 --format json --every 10

\b
A variable named like an option (lr, steps, tol, ...) is bound with name=value.
Exit codes: 0 done, 2 usage or syntax error, 3 diverged or a math error.
"""

FORMATS = ("rich", "json")


app = typer.Typer()


@app.command("descend", context_settings=_FREE_WORDS, help=DESCEND_HELP)
def descend_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    wrt: list[str] | None = typer.Option(
        None, "--wrt", help="Variables to update: repeat it or give a comma list (default: all)."
    ),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate (step size)."),
    steps: int = typer.Option(200, "--steps", help="Number of update steps at most."),
    momentum: float = typer.Option(0.0, "--momentum", help="Momentum, 0 <= momentum < 1 (0: plain descent)."),
    tol: float = typer.Option(0.0, "--tol", help="Stop when the gradient norm is <= tol."),
    every: int | None = typer.Option(
        None, "--every", help="Keep every k-th step in the trace (default: json 1, rich about 1000 points)."
    ),
    tie: str = TIE_OPTION,
    format: str = typer.Option("rich", "--format", help="rich | json"),
    vars_file: str | None = VARS_OPTION,
) -> None:
    from ..core.engine import TIES
    from ..tools.descend import descend
    from ..views.training import descent_json, print_descent, progress

    one_of("--format", format, FORMATS)
    one_of("--tie", tie, TIES)
    if not words:
        raise UsageError('no expression given (try: bp descend "(x-3)^2 + (y+1)^2" --x 0 --y 0)')
    source, bindings = gather(words, vars_file)
    if every is None:  # JSON keeps every step; the picture needs no more points than it can draw
        every = 1 if format == "json" else max(1, steps // 1000)
    with progress(steps, "descending") as advance:
        d = descend(
            source,
            bindings,
            wrt=",".join(wrt_names(wrt)) if wrt else None,
            lr=lr,
            steps=steps,
            momentum=momentum,
            tol=tol,
            every=every,
            tie=tie,
            on_step=advance,
        )
    warn(d.warnings)
    if format == "json":
        sys.stdout.write(descent_json(d))
    else:
        print_descent(d)
    if d.divergence is not None:
        raise MathError(d.divergence.message())
