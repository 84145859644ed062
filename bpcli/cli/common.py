"""What the commands share: option declarations, reading the expression and its bindings,
warnings on standard error. No command is registered here."""

from __future__ import annotations

import sys

import typer

from ..core.errors import UsageError

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


def read_expression(expr: str | None) -> str:
    """The expression text: the word itself, or standard input for `-`."""
    if expr is None:
        raise UsageError('no expression given (try: bp eval "(x+y)*z" --x -2 --y 5 --z -4)')
    if expr == "-":
        if sys.stdin is None:
            raise UsageError("cannot read the expression from standard input: it is closed")
        text = sys.stdin.read().removeprefix("\ufeff")  # a byte-order mark (PowerShell, Notepad)
        if not text.strip():
            raise UsageError("no expression on standard input (it is empty)")
        return text.rstrip()  # the final newline of `echo ... |` is not part of the expression
    return expr


def gather(words: list[str], vars_file: str | None) -> tuple[str, dict[str, float]]:
    """The expression and all bindings: the --vars file first, the command line over it."""
    from ..readers.bindings import read_vars, split_words

    expr, bindings = split_words(words)
    if expr == "-" and vars_file == "-":
        raise UsageError("the expression and --vars cannot both come from standard input")
    source = read_expression(expr)
    if vars_file is not None:
        bindings = {**read_vars(vars_file), **bindings}
    return source, bindings
