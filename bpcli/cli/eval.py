"""`bp eval`: the value and every partial derivative of an expression, in any view."""

from __future__ import annotations

import sys

import typer

from ..core.errors import UsageError
from .common import _FREE_WORDS, TIE_OPTION, VARS_OPTION, gather, one_of, warn, wrt_names

FORMATS = ("rich", "plain", "json", "dot", "mermaid", "latex", "html")

app = typer.Typer()

EVAL_HELP = """Evaluate EXPR and every partial derivative by backpropagation.

Bind variables with --x 2, --x=2 or x=2 (before or after EXPR; negative values work:
--y -3), or many at once with --vars FILE (a JSON object or name=value lines).
EXPR may be - to read it from standard input. A value may be an array: --w 2,-3,-3,
--W '[[1,2],[3,4]]', or --X @data.npy (.npy, .csv or .json); see the README's
"Vectors and matrices" for dot, @, sum, mean, softmax, logsumexp and indexing.

\b
Examples:
  bp eval "(x+y)*z" --x -2 --y 5 --z -4
  bp eval "q = x + y; f = q * z" --x -2 --y 5 --z -4 --format json
  bp eval "1/(1+exp(-(w0*x0+w1*x1+w2)))" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --expand
  bp eval "2*(x*y + max(z,w))" --x 3 --y -4 --z 2 --w -1 --wrt z
  echo "sigmoid(x)" | bp eval - --x 0 --format plain
  bp eval "sigmoid(dot(w, x))" --w 2,-3,-3 --x -1,-2,1

Functions: exp log ln sqrt sigmoid sigma σ tanh relu abs max min sin cos tan
cosh sinh softplus pow sign step. Constants: pi π e. --hessian adds every
second partial; bp diff EXPR prints the derivatives as formulas.

\b
Exit codes: 0 success, 2 usage or syntax error, 3 math error (a value or
gradient is not finite), 4 output not written, 130 interrupted.
"""


def _language() -> str:
    """The function and constant names for --help, read from the gate table."""
    from ..core.gates import CONSTANTS, FUNCTIONS

    return (
        "\n\b\nFunctions: " + " ".join(FUNCTIONS) + "\nConstants: " + " ".join(CONSTANTS) + "\n"
        "Operators: + - * / ^ ** (loosest first), implicit 2x; statements q = ...; # comments\n"
        "(README.md, 'The language', lists each derivative and domain.)\n"
    )


@app.command("eval", context_settings=_FREE_WORDS, help=EVAL_HELP + _language())
def eval_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    format: str = typer.Option("rich", "--format", help="rich | plain | json | dot | mermaid | latex | html"),
    wrt_values: list[str] | None = typer.Option(
        None,
        "--wrt",
        help="Print only the gradient of this variable, as a bare number; several: df/dx lines.",
    ),
    expand: bool = typer.Option(
        False, "--expand", help="Decompose composite gates into the lecture's primitive gates."
    ),
    tie: str = TIE_OPTION,
    graph: bool = typer.Option(False, "--graph", help="With --format json: include the annotated graph."),
    vars_file: str | None = VARS_OPTION,
    steps: bool = typer.Option(False, "--steps", help="Staged code: forward, then the chain rule backward."),
    compare: bool = typer.Option(False, "--compare", help="Composite gates beside their expansion."),
    out_file: str | None = typer.Option(
        None, "--out", metavar="FILE", help="Also draw FILE.svg, .png, .pdf or .html (batch: FILE.parquet)."
    ),
    max_gates: int = typer.Option(300, "--max-gates", help="Most gates the picture draws."),
    csv: str | None = typer.Option(
        None,
        "--csv",
        metavar="FILE",
        help="Batch: evaluate at every row of a CSV file with a header (- for stdin).",
    ),
    grid: list[str] | None = typer.Option(
        None,
        "--grid",
        metavar="NAME=A:B:N",
        help="Batch: evaluate on a grid; repeat for a cartesian product.",
    ),
    hessian: bool = typer.Option(
        False, "--hessian", help="Also every second partial d2f/dxdy at the point (plain, json)."
    ),
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        metavar="MODE",
        help="Batch: a row with a non-finite value or gradient: fail | skip | nan.",
    ),
    parquet: str | None = typer.Option(
        None, "--parquet", metavar="FILE", help="Batch: evaluate at every row of a Parquet file."
    ),
    threads: int | None = typer.Option(
        None, "--threads", metavar="N", help="Batch: threads to evaluate on (default: every core)."
    ),
    engine: str = typer.Option(
        "local", "--engine", metavar="NAME", help="Batch: local | dask (pip install bpcli[dask])."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", metavar="ADDRESS", help="Batch, --engine dask: an existing Dask cluster."
    ),
) -> None:
    from ..core.engine import TIES, evaluate

    names = wrt_names(wrt_values)
    wrt = names[0] if names else None

    one_of("--format", format, FORMATS)
    one_of("--tie", tie, TIES)
    from ..views.show import check_view

    batch = csv is not None or parquet is not None or bool(grid)
    check_view(format, steps, compare, None if batch else out_file)
    if max_gates < 0:
        raise UsageError(f"--max-gates must be 0 or more, not {max_gates}")
    if hessian and (batch or wrt is not None):
        raise UsageError("--hessian goes with one point and every input (not with --csv, --grid or --wrt)")
    if batch:  # the SIMD pass: many points, CSV or JSON Lines (or Parquet) out
        from ._stream import eval_batch

        if csv == "-" and ("-" in (words or []) or vars_file == "-"):
            raise UsageError("--csv - and the expression or --vars cannot both come from standard input")
        source, bindings = gather(words or [], vars_file)
        if names and len(names) > 1:
            raise UsageError("batch mode (--csv, --grid) takes one --wrt")
        opts = {"csv": csv, "parquet": parquet, "grids": grid or [], "on_error": on_error, "fmt": format}
        more = {"threads": threads, "engine": engine, "scheduler": scheduler, "out_path": out_file}
        return eval_batch(source, bindings, **opts, **more, tie=tie, expand=expand, wrt=wrt)
    source, bindings = gather(words or [], vars_file)
    result = evaluate(source, bindings, expand=expand and not compare, tie=tie)
    for name in names or ():
        if name not in result.graph.var_ids and name not in result.graph.names:
            have = ", ".join([*result.graph.var_ids, *result.graph.names][:10]) or "none"
            raise UsageError(f"--wrt {name}: not a variable of the expression (its variables: {have})")
    warn(result.warnings)
    second = None
    if hessian:
        from ..core.derive import hessian as hessian_at

        second = hessian_at(result.graph, bindings, tie)
    out = sys.stdout
    if out_file is not None and out_file.lower().endswith(".html"):
        from ..views.html import write_page

        write_page(result, out_file, max_gates)
    elif out_file is not None:
        from ..views.dot import write_image

        write_image(result, out_file)
    if wrt is None and (steps or compare or format in ("rich", "mermaid", "latex")):
        from ..views.show import show

        other = evaluate(result.graph, bindings, expand=True, tie=tie) if compare else None
        show(result, format, steps, other, max_gates)
        if second is not None:
            from ..views.text import hessian_lines

            out.write(hessian_lines(second, result.graph.output_name))
    elif names and len(names) > 1:
        from ..views.text import wrt_lines

        out.write(wrt_lines(result, names))
    elif wrt is not None:
        from ..views.text import wrt as wrt_view

        out.write(wrt_view(result, wrt))
    elif format == "plain":
        from ..views.text import plain

        out.write(plain(result, second))
    elif format == "json":
        from ..views.text import as_json

        out.write(as_json(result, with_graph=graph, hessian=second))
    elif format == "dot":
        from ..views.dot import dot

        out.write(dot(result))
    elif format == "html":
        from ..views.html import html_page

        out.write(html_page(result, max_gates))
