"""`bp check`: compare a student's answers (or a problem set's) with bp's values and gradients."""

from __future__ import annotations

import sys

import typer

from ..core.errors import BpError, CheckFailed, UsageError
from .common import _FREE_WORDS, TIE_OPTION, VARS_OPTION, gather, one_of, warn

FORMATS = ("rich", "plain", "json", "gradescope")

HELP = """Check homework answers against bp's values and gradients.

Each --expect NAME=VALUE names one quantity: f (the output, or the last statement's own
name such as L), an input or intermediate name (its forward value: q=3), or a gradient:
dx, df/dx, dq, df/dq (dL/dx when the output is named L; a variable's own name wins, so a
variable called dx is its value). VALUE is a number (-0.20), a constant expression
(2/5, -1/(1+e)) or a formula in the expression's names (--expect "dz = x + y").

\b
The rule: a number is right when it equals bp's value at the precision you
wrote, but never coarser than the problem's (0.01 or 1%, whichever is larger):
-0.20 accepts -0.1966, -0.58 rejects -0.5898, 0 rejects 0.4 (and 0.4 and 2/5
accept it). An exact half accepts either neighbour (0.125 accepts 0.12, 0.13).
A constant expression is exact (to 1e-9 relative). A formula is right when it
equals the true quantity at the point and at 20 seeded points around it.
--rtol/--atol replace the rule by |answer - bp| <= atol + rtol * |bp|.

Bind variables as in bp eval (--x 2, --x=2, x=2, --vars FILE; EXPR may be -).

\b
Problem sets: bp check --file hw.toml grades every [[problem]] of a TOML file
(expression, bindings, expect or ask, optional points, rtol, atol) and prints a
score; --answers FILE grades a student's answers (TOML or JSON, one table per
problem) against the set as a key. See examples/lecture-homework.toml and
examples/course/. --format gradescope writes Gradescope's results.json.

\b
Examples:
  bp check "q = x + y; f = q * z" --x -2 --y 5 --z -4 --expect f=-12 --expect dx=-4
  bp check "1/(1+exp(-(w0*x0+w1*x1+w2)))" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --expect dw0=-0.20
  bp check "(x+y)*z" --x -2 --y 5 --z -4 --expect "dz = x + y"
  bp check --file examples/lecture-homework.toml --format json
  bp check --file alice-hw.toml --answers alice.toml --format gradescope > results.json

\b
Exit codes: 0 every answer right, 1 some answer wrong, 2 usage error (a name
that is not in the expression, a bad problem set or answer file), 3 math error.
"""


app = typer.Typer()


@app.command("check", context_settings=_FREE_WORDS, help=HELP)
def check_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    expect: list[str] | None = typer.Option(
        None, "--expect", metavar="NAME=VALUE", help="An answer to check (repeat for each)."
    ),
    file: str | None = typer.Option(None, "--file", metavar="FILE", help="Grade a TOML problem set."),
    answers: str | None = typer.Option(
        None,
        "--answers",
        metavar="FILE",
        help="A student's answers to the --file problem set (TOML or JSON).",
    ),
    rtol: float | None = typer.Option(
        None, "--rtol", help="Relative tolerance instead of the rounding rule."
    ),
    atol: float | None = typer.Option(
        None, "--atol", help="Absolute tolerance instead of the rounding rule."
    ),
    format: str = typer.Option("rich", "--format", help="rich | plain | json | gradescope"),
    tie: str = TIE_OPTION,
    vars_file: str | None = VARS_OPTION,
) -> None:
    from ..tools import check as lib
    from ..views import check as view

    one_of("--format", format, FORMATS)
    if file is not None:
        if words or expect or vars_file:
            raise UsageError("--file grades a problem set: give no expression, bindings or --expect with it")
        try:
            result = lib.check_file(file, rtol=rtol, atol=atol, answers=answers)
        except BpError as e:
            if format == "gradescope":  # the autograder still gets a results.json the student can read
                sys.stdout.write(view.gradescope_error(f"bp: {e.message}"))
            raise
        warn(w for g in result.graded for w in g.report.warnings)
        if format == "gradescope":
            sys.stdout.write(view.gradescope_set(result))
        elif format == "json":
            sys.stdout.write(view.set_json(result))
        elif format == "plain":
            sys.stdout.write(view.plain_set(result))
        else:
            view.print_set(result)
        if not result.passed:
            raise CheckFailed(
                f"score {view._points(result.score)} / {view._points(result.max_score)}: some answers are wrong"
            )
        return
    if answers is not None:
        raise UsageError("--answers grades a student's answer file against a problem set: give --file too")
    source, bindings = gather(words or [], vars_file)
    pairs = [lib.parse_expect(e) for e in expect or []]
    report = lib.check(source, bindings, pairs, rtol=rtol, atol=atol, tie=tie)
    warn(report.warnings)
    if format == "gradescope":
        sys.stdout.write(view.gradescope_one(report))
    elif format == "json":
        sys.stdout.write(view.as_json(report))
    elif format == "plain":
        sys.stdout.write(view.plain(report))
    else:
        view.print_report(report)
    if not report.passed:
        wrong = view.wrong_names(report)
        raise CheckFailed(f"{len(report.answers) - report.right} of {len(report.answers)} wrong: {wrong}")
