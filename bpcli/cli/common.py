"""What the commands share: option declarations, reading the expression and its bindings,
warnings on standard error. No command is registered here."""

from __future__ import annotations

import re
import sys

import typer

from ..core.errors import UsageError

_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9]")
_COMMENT = re.compile(r"#[^\n]*")
_MAX_WARNING = 300  #: characters of one warning line
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


WRT_HELP = "repeat it or give a comma list (--wrt x --wrt y, --wrt x,y)"


def wrt_names(values: list[str] | None) -> list[str] | None:
    """--wrt as every command reads it: repeatable, each naming one variable, comma lists
    accepted (`--wrt x --wrt y` = `--wrt x,y`); None when not given."""
    if not values:
        return None
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                raise UsageError(f"--wrt {value[:40]!r}: expected variable names, as in --wrt x,y")
            if name in names:
                raise UsageError(f"--wrt {name}: named twice")
            names.append(name)
    return names


def warn(messages) -> None:
    """Each warning as one `bp: warning:` line on standard error."""
    if sys.stderr is None:
        return
    for message in messages:
        # one short line each: a tie among 1e5 arguments listed them all (689 KB)
        message = " ".join(message.split())
        if len(message) > _MAX_WARNING:
            message = message[: _MAX_WARNING - 3] + "..."
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

    expr, bindings = split_words(words, _option_names())
    if expr == "-" and vars_file == "-":
        raise UsageError("the expression and --vars cannot both come from standard input")
    source = read_expression(expr)
    if vars_file is not None:
        # a --vars file may hold more names than this expression uses (one parameter file for
        # many expressions): keep only names that occur in the text, outside comments
        used = set(_NAMES.findall(_COMMENT.sub("", source)))
        from_file = {k: v for k, v in read_vars(vars_file).items() if k in used}
        bindings = {**from_file, **bindings}
    return source, bindings


def _option_names() -> list[str]:
    """The running command's own option names (for "did you mean --format?")."""
    try:
        from typer._click.globals import get_current_context  # Typer's own copy of click
    except ImportError:
        return []
    ctx = get_current_context(silent=True)
    if ctx is None:
        return []
    return [o for p in ctx.command.params for o in getattr(p, "opts", ()) if o.startswith("--")]
