"""The command line: turns words into library calls and results into exit codes. No math here.

Each command lives in its own module with its own `typer.Typer()`; `build()` adds the ones a
run needs to a fresh root app (bp eval loads only its own, since start-up time is measured)."""

from __future__ import annotations

import importlib
import sys

import typer

from .. import __version__
from ..core.errors import BpError
from ._options import plain_coercion

#: every command, in the order `bp --help` lists them: name -> module under bpcli.cli
COMMANDS = ("eval", "check", "problems", "explain", "gradcheck", "descend", "fit", "plot")


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
    """Run bp with `argv` (default: sys.argv[1:]) and return the exit code; never raises."""
    args = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(build(("eval",) if args[:1] == ["eval"] else COMMANDS))
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
