"""The command line: turns words into library calls and results into exit codes. No math here.

Each command lives in its own module with its own `typer.Typer()`; `build()` adds the ones a
run needs to a fresh root app (bp eval loads only its own, since start-up time is measured)."""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import typer

from .. import __version__
from ..core.errors import BpError, CheckFailed, OutputError
from ._options import plain_coercion
from ._output import CheckedStdout

#: every command, in the order `bp --help` lists them: name -> module under bpcli.cli
COMMANDS = ("eval", "diff", "check", "problems", "explain", "gradcheck", "descend", "fit", "plot")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bp {__version__}")
        raise typer.Exit()


def build(names=COMMANDS) -> typer.Typer:
    """A root app with the named commands' sub-apps merged into it."""
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        help="bp: see how backpropagation computes every partial derivative of a formula.",
    )

    @app.callback()
    def _main(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ) -> None:
        """bp: see how backpropagation computes every partial derivative of a formula."""

    for name in names:
        app.add_typer(importlib.import_module(f"{__package__}.{name}").app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Run bp with `argv` (default: sys.argv[1:]) and return the exit code; never raises.

    Standard output goes through one checked path (`CheckedStdout`) for the whole run: a write
    that fails or falls short is exit 4, a reader that went away (`| head -1`) ends quietly."""
    args = sys.argv[1:] if argv is None else list(argv)
    # -h is --help everywhere; not a click option, since click would read the h of a free word
    # such as "-0.4*tanh(x)" (an expression that starts with a minus) as a cluster of short flags
    args = ["--help" if a == "-h" else a for a in args]
    real = sys.stdout
    out = sys.stdout = CheckedStdout(real)
    try:
        with warnings.catch_warnings():
            # NumPy's RuntimeWarnings (overflow in a plot's range...) carry file paths; bp
            # checks every value itself and says what is wrong in its own words
            warnings.simplefilter("ignore", RuntimeWarning)
            code = _dispatch(args, out)
        out.flush()
    except OutputError as e:
        _say(e.message)
        code = e.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        code = 130
    finally:
        sys.stdout = real
    return code


def _dispatch(args: list[str], out: CheckedStdout) -> int:
    """Run the command and turn what it raised into a message and an exit code."""
    command = typer.main.get_command(build(("eval",) if args[:1] == ["eval"] else COMMANDS))
    plain_coercion(command)
    try:
        command.main(args, prog_name="bp", standalone_mode=False)
    except OutputError:
        raise
    except BpError as e:
        _flush_before_error(out)
        if isinstance(e, CheckFailed) and out.reader_gone:
            return e.exit_code  # the reader went away: the verdict stays, quietly
        _say(e.message, e.detail)
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        _say("interrupted")
        return 130
    except KeyboardInterrupt:
        raise
    except Exception as e:  # click-style usage errors carry an exit code and a message
        code = getattr(e, "exit_code", None)
        fmt = getattr(e, "format_message", None)
        if isinstance(code, int) and fmt is not None:
            if type(e).__name__ == "NoArgsIsHelpError":  # bare `bp`: the help, not a "bp:" line
                _flush_before_error(out)
                if sys.stderr is not None:
                    print(fmt(), file=sys.stderr)
            else:
                _say(_cut(fmt()))  # click quotes the word it rejects: keep that short
            return code
        if isinstance(e, (RecursionError, MemoryError)):
            _say(f"the expression is too large to evaluate here ({type(e).__name__})")
            return 3
        _say(f"internal error (please report it): {type(e).__name__}: {e}")
        return 70
    return 0


def _cut(message: str, most: int = 300) -> str:
    """A usage message as one short line: control characters escaped, cut at `most`."""
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(message.split()))
    return message if len(message) <= most else message[: most - 3] + "..."


def _flush_before_error(out: CheckedStdout) -> None:
    """What the command printed comes before its error message (a terminal shows both)."""
    try:
        out.flush()
    except OutputError:
        pass  # the error being reported matters more than the output it interrupted


def _say(message: str, detail: str | None = None) -> None:
    if sys.stderr is None:  # stderr closed: print(file=None) would write to stdout
        return
    print(f"bp: {_cut(message, 1000)}", file=sys.stderr)  # a last guard against echoing megabytes
    if detail:
        print(detail, file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    _guard_standard_descriptors()
    sys.exit(main())


def _guard_standard_descriptors() -> None:
    """A closed descriptor 0, 1 or 2 (`bp ... >&-`) is reopened on /dev/null, so that no file
    bp opens later takes its number and receives output meant for the closed stream; Python has
    already set sys.stdin/stdout/stderr to None for it, which bp reports as closed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
