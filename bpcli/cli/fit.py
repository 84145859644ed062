"""`bp fit`: a one-hidden-layer neural network fitted to a target (library: bpcli/tools/fit.py)."""

from __future__ import annotations

import math
import sys

import typer

from ..core.errors import UsageError
from .common import _FREE_WORDS, gather, one_of

FIT_HELP = """Fit a one-hidden-layer neural network to samples of TARGET, a formula of one variable:
y = v1*act(w1*x + b1) + ... + vH*act(wH*x + bH) + c, trained by bp's own backward pass
(all samples at once) with full-batch Adam.

SAMPLES points are drawn uniformly from --range (seeded) and sorted; every fourth is held out
for validation. The losses are mean squared errors; --l2 adds l2*sum(w^2 + v^2) to the
training objective. Other variables of TARGET are bound like bp eval (--a 2).

\b
Examples:
  bp fit "sin(x)" --range -3:3 --hidden 8 --seed 0
  bp fit "abs(x)" --hidden 1,2,4,8,16            # the table of losses against hidden units
  bp fit "x^3 - x" --range -2:2 --activation tanh --format json
  bp fit "sin(x)" --print-expr > net.txt && bp eval "$(cat net.txt)" --x 0.5

\b
Exit codes: 0 done, 2 usage or syntax error, 3 the target is not finite or training diverged.
"""

FORMATS = ("rich", "json")
MAX_EPOCHS = 10_000_000
MAX_SAMPLES = 1_000_000  # each sample is a row of the network's arrays


app = typer.Typer()


@app.command("fit", context_settings=_FREE_WORDS, help=FIT_HELP)
def fit_cmd(
    words: list[str] | None = typer.Argument(None, metavar="TARGET [BINDINGS]...", show_default=False),
    range_: str = typer.Option("-3:3", "--range", metavar="LOW:HIGH", help="Interval of the samples."),
    samples: int = typer.Option(64, "--samples", help="Number of samples (one in four held out)."),
    hidden: str = typer.Option(
        "8", "--hidden", help="Hidden units, or a comma list for a sweep: 1,2,4,8,16."
    ),
    activation: str = typer.Option("sigmoid", "--activation", help="sigmoid | tanh | relu"),
    l2: float = typer.Option(1e-4, "--l2", help="L2 penalty on the weights w and v."),
    epochs: int = typer.Option(2000, "--epochs", help="Training epochs (one full-batch Adam step each)."),
    lr: float = typer.Option(0.05, "--lr", help="Adam learning rate."),
    seed: int = typer.Option(0, "--seed", help="Random seed for the samples and the starting weights."),
    noise: float = typer.Option(
        0.0, "--noise", help="Gaussian noise (std dev) added to the sampled targets."
    ),
    print_expr: bool = typer.Option(
        False, "--print-expr", help="Print only the trained network as a bp expression."
    ),
    format: str = typer.Option("rich", "--format", help="rich | json"),
) -> None:
    from ..tools.fit import fit, parse_hidden, parse_range
    from ..views.training import fit_json, print_fit, print_sweep, progress

    one_of("--format", format, FORMATS)
    if not 0 <= seed < 2**63:  # NumPy's generator takes a non-negative seed
        raise UsageError(f"--seed must be a whole number from 0 to 2**63-1, not {seed}")
    if not 0 <= epochs <= MAX_EPOCHS:
        raise UsageError(f"--epochs must be from 0 to {MAX_EPOCHS}, not {epochs}")
    if not 4 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be from 4 to {MAX_SAMPLES}, not {samples}")
    lo, hi = parse_range(range_)
    if not math.isfinite(hi - lo):
        raise UsageError(f"--range {range_}: the interval is too wide (HIGH - LOW must be a finite number)")
    sizes = parse_hidden(hidden)
    sweep = "," in hidden
    if print_expr and sweep:
        raise UsageError("--print-expr needs a single --hidden value, not a sweep")
    if print_expr and format == "json":
        raise UsageError("--print-expr prints only the expression; the JSON carries it as 'expression'")
    if not words:
        raise UsageError('no target given (try: bp fit "sin(x)" --range -3:3)')
    target, bindings = gather(words, None)
    results = []
    for h in sizes:
        label = f"training {h} hidden unit{'s' if h != 1 else ''}"
        with progress(epochs, label) as advance:
            results.append(
                fit(
                    target,
                    bindings,
                    lo=lo,
                    hi=hi,
                    samples=samples,
                    hidden=h,
                    activation=activation,
                    l2=l2,
                    epochs=epochs,
                    lr=lr,
                    seed=seed,
                    noise=noise,
                    on_epoch=advance,
                )
            )
    if print_expr:
        sys.stdout.write(results[0].network.expression() + "\n")
    elif format == "json":
        sys.stdout.write(fit_json(results, sweep))
    elif sweep:
        print_sweep(results)
    else:
        print_fit(results[0])
