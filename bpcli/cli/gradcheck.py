"""`bp gradcheck`: backprop's gradient against centered finite differences."""

from __future__ import annotations

import sys

import typer

from ..core.errors import CheckFailed
from .common import _FREE_WORDS, VARS_OPTION, gather, one_of, warn, wrt_names

FORMATS = ("rich", "plain", "json")

HELP = """Compare backprop's gradient with centered finite differences.

For each input x: numerical = (f(x+h) - f(x-h)) / 2h, using bp's forward pass,
relative error = |backprop - numerical| / max(|backprop|, |numerical|) (0 if both 0).

\b
Verdicts (the usual course rule of thumb):
  good         relative error < 1e-7
  acceptable   1e-7 .. 1e-4: usual with kinks or float32, high otherwise
  suspicious   1e-4 .. 1e-2
  wrong        > 1e-2
  kink         x +- h crosses a kink (relu/abs input near 0, a max/min tie or
               near-tie within h): a finite difference there averages two
               slopes, so the mismatch is the kink, not a bug; it passes
  noise        the difference is below the rounding noise of the quotient
               (~4 eps |f| / h); it passes (try a larger --h)

h is an absolute step. Bind variables as in bp eval; --h is the step, so a
variable named h must be bound as h=VALUE (or in --vars FILE).

\b
Examples:
  bp gradcheck "(x+y)*z" --x -2 --y 5 --z -4
  bp gradcheck "relu(x)" --x 0          # a kink: says so, exits 0
  bp gradcheck "x*h" --x 2 h=3 --h 1e-6

\b
Exit codes: 0 every input within --threshold (or off only at a kink or at
the noise floor), 1 some input past it, 2 usage error, 3 math error (f not
finite at x +- h: try a smaller --h).
"""


app = typer.Typer()


@app.command("gradcheck", context_settings=_FREE_WORDS, help=HELP)
def gradcheck_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    h: float = typer.Option(1e-5, "--h", help="The finite-difference step (absolute)."),
    threshold: float = typer.Option(1e-7, "--threshold", help="Fail past this relative error."),
    wrt: list[str] | None = typer.Option(
        None, "--wrt", help="Check only these inputs: repeat it or give a comma list (--wrt x,y)."
    ),
    format: str = typer.Option("rich", "--format", help="rich | plain | json"),
    vars_file: str | None = VARS_OPTION,
) -> None:
    from ..tools.gradcheck import gradcheck
    from ..views import gradcheck as view

    one_of("--format", format, FORMATS)
    source, bindings = gather(words or [], vars_file)
    from ..views.training import progress

    with progress(1000, "checking gradients") as advance:
        report = gradcheck(
            source,
            bindings,
            h=h,
            threshold=threshold,
            wrt=wrt_names(wrt),
            on_progress=lambda share: advance(int(share * 1000)),
        )
    warn(report.warnings)
    for c in report.inputs:
        if c.kink:
            print(f"bp: warning: gradcheck {c.name}: {c.kink}", file=sys.stderr)
    if format == "json":
        sys.stdout.write(view.as_json(report))
    elif format == "plain":
        sys.stdout.write(view.plain(report))
    else:
        view.print_report(report)
    if not report.passed:
        bad = [c for c in report.inputs if not c.passed]
        worst = max(c.rel_error for c in bad)
        raise CheckFailed(
            f"gradient check failed for {', '.join(c.name for c in bad)} "
            f"(relative error {worst:.2e} > threshold {threshold:g})"
        )
