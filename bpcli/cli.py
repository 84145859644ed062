"""The command line: turns words into library calls and results into exit codes. No math here."""

from __future__ import annotations

import sys

import typer

from . import __version__
from ._options import plain_coercion
from .errors import BpError, UsageError

FORMATS = ("rich", "plain", "json", "dot", "mermaid", "latex")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="bp: see how backpropagation computes every partial derivative of a formula.",
)

_FREE_WORDS = {"allow_extra_args": True, "ignore_unknown_options": True}

# Options several commands share, declared once.
VARS_OPTION = typer.Option(
    None, "--vars", metavar="FILE", help="Bind variables from a JSON object or name=value lines."
)
TIE_OPTION = typer.Option("split", "--tie", help="Gradient at a max/min tie: split | first | both.")


def one_of(option: str, value: str, choices) -> None:
    """A UsageError unless `value` is one of `choices` (for --format, --tie, ...)."""
    if value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def warn(messages) -> None:
    """Each warning as one `bp: warning:` line on standard error."""
    for message in messages:
        print(f"bp: warning: {message}", file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """bp: see how backpropagation computes every partial derivative of a formula."""


EVAL_HELP = """Evaluate EXPR and every partial derivative by backpropagation.

Bind variables with --x 2, --x=2 or x=2 (before or after EXPR; negative values work:
--y -3), or many at once with --vars FILE (a JSON object or name=value lines).
EXPR may be - to read it from standard input.

\b
Examples:
  bp eval "(x+y)*z" --x -2 --y 5 --z -4
  bp eval "q = x + y; f = q * z" --x -2 --y 5 --z -4 --format json
  bp eval "1/(1+exp(-(w0*x0+w1*x1+w2)))" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --expand
  bp eval "2*(x*y + max(z,w))" --x 3 --y -4 --z 2 --w -1 --wrt z
  echo "sigmoid(x)" | bp eval - --x 0 --format plain

\b
Exit codes: 0 success, 2 usage or syntax error, 3 math error (a value or
gradient is not finite).
"""


def read_expression(expr: str | None) -> str:
    """The expression text: the word itself, or standard input for `-`."""
    if expr is None:
        raise UsageError('no expression given (try: bp eval "(x+y)*z" --x -2 --y 5 --z -4)')
    if expr == "-":
        text = sys.stdin.read().removeprefix("\ufeff")  # a byte-order mark (PowerShell, Notepad)
        if not text.strip():
            raise UsageError("no expression on standard input (it is empty)")
        return text.rstrip()  # the final newline of `echo ... |` is not part of the expression
    return expr


def gather(words: list[str], vars_file: str | None) -> tuple[str, dict[str, float]]:
    """The expression and all bindings: the --vars file first, the command line over it."""
    from .bindings import read_vars, split_words

    expr, bindings = split_words(words)
    if expr == "-" and vars_file == "-":
        raise UsageError("the expression and --vars cannot both come from standard input")
    source = read_expression(expr)
    if vars_file is not None:
        bindings = {**read_vars(vars_file), **bindings}
    return source, bindings


@app.command("eval", context_settings=_FREE_WORDS, help=EVAL_HELP)
def eval_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR [BINDINGS]...", show_default=False),
    format: str = typer.Option("rich", "--format", help="rich | plain | json | dot | mermaid | latex"),
    wrt: str | None = typer.Option(
        None, "--wrt", help="Print only the gradient of this variable, as a bare number."
    ),
    expand: bool = typer.Option(
        False, "--expand", help="Decompose composite gates into the lecture's primitive gates."
    ),
    tie: str = TIE_OPTION,
    graph: bool = typer.Option(False, "--graph", help="With --format json: include the annotated graph."),
    vars_file: str | None = VARS_OPTION,
    steps: bool = typer.Option(False, "--steps", help="Staged code: forward, then the chain rule backward."),
    compare: bool = typer.Option(False, "--compare", help="Composite gates beside their expansion."),
    out_file: str | None = typer.Option(None, "--out", metavar="FILE", help="Also draw FILE.svg or .png."),
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
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        metavar="MODE",
        help="Batch: a row with a non-finite value or gradient: fail | skip | nan.",
    ),
) -> None:
    from .engine import TIES, evaluate

    one_of("--format", format, FORMATS)
    one_of("--tie", tie, TIES)
    from .views.show import check_view

    check_view(format, steps, compare, out_file)
    if max_gates < 0:
        raise UsageError(f"--max-gates must be 0 or more, not {max_gates}")
    if csv is not None or grid:  # the SIMD pass: many points, CSV or JSON Lines out
        from .batch import eval_batch

        if csv == "-" and ("-" in (words or []) or vars_file == "-"):
            raise UsageError("--csv - and the expression or --vars cannot both come from standard input")
        source, bindings = gather(words or [], vars_file)
        opts = {"csv": csv, "grids": grid or [], "on_error": on_error, "fmt": format, "tie": tie}
        return eval_batch(source, bindings, **opts, expand=expand, wrt=wrt)
    source, bindings = gather(words or [], vars_file)
    result = evaluate(source, bindings, expand=expand and not compare, tie=tie)
    if wrt is not None and wrt not in result.graph.var_ids and wrt not in result.graph.names:
        have = ", ".join([*result.graph.var_ids, *result.graph.names]) or "none"
        raise UsageError(f"--wrt {wrt}: not a variable of the expression (its variables: {have})")
    warn(result.warnings)
    out = sys.stdout
    if out_file is not None:
        from .views.dot import write_image

        write_image(result, out_file)
    if wrt is None and (steps or compare or format in ("rich", "mermaid", "latex")):
        from .views.show import show

        other = evaluate(result.graph, bindings, expand=True, tie=tie) if compare else None
        show(result, format, steps, other, max_gates)
    elif wrt is not None:
        from .views.text import wrt as wrt_view

        out.write(wrt_view(result, wrt))
    elif format == "plain":
        from .views.text import plain

        out.write(plain(result))
    elif format == "json":
        from .views.text import as_json

        out.write(as_json(result, with_graph=graph))
    elif format == "dot":
        from .views.dot import dot

        out.write(dot(result))


def main(argv: list[str] | None = None) -> int:
    """Run bp with `argv` (default: sys.argv[1:]) and return the exit code; never raises."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] != ["eval"]:
        load_commands()
    command = typer.main.get_command(app)
    plain_coercion(command)
    try:
        command.main(args, prog_name="bp", standalone_mode=False)
    except BpError as e:
        _say(e.message, e.detail)
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        _say("aborted")
        return 130
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # click-style usage errors carry an exit code and a message
        code = getattr(e, "exit_code", None)
        fmt = getattr(e, "format_message", None)
        if isinstance(code, int) and fmt is not None:
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `bp`: the help, not a "bp:" line
                print(fmt(), file=sys.stderr)
            else:
                _say(fmt())
            return code
        if isinstance(e, (RecursionError, MemoryError)):
            _say(f"the expression is too large to evaluate here ({type(e).__name__})")
            return 3
        _say(f"internal error (please report it): {type(e).__name__}: {e}")
        return 70
    return 0


def _say(message: str, detail: str | None = None) -> None:
    print(f"bp: {message}", file=sys.stderr)
    if detail:
        print(detail, file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(code)


def load_commands() -> None:
    """Register the commands beyond eval: each lives in its own module under bpcli/commands/ and
    adds itself to `app` when imported. `bp eval` skips this, since start-up time is measured."""
    from .commands import _registered  # noqa: F401
