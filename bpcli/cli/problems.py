"""`bp problems make|key|sheet`: a variant of a problem set per student, its answer key, and a
printable sheet."""

from __future__ import annotations

import sys

import typer

from ..core.errors import BpError, UsageError
from .common import one_of

HELP = """Homework for a course: a variant of a problem set per student, its key, a sheet.

\b
A problem set's bindings may be ranges or choices to draw from:
  bindings = { x = {range = [-5, 5], step = 1}, y = {choices = [0.5, 2]} }
and each problem may list its questions (ask = ["f", "dx", "dy"]; by default
the names of its expect table, else every input's gradient).

\b
  bp problems make hw.toml --seed alice --out alice-hw.toml
  bp problems key alice-hw.toml > alice-key.toml
  bp problems sheet alice-hw.toml --out alice-hw.md     (--format latex)
  bp check --file alice-hw.toml --answers alice.toml --format gradescope
"""

app = typer.Typer()
problems = typer.Typer(
    name="problems", help=HELP, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]}
)
app.add_typer(problems, name="problems")


def _write(text: str, out: str | None) -> None:
    """To standard output, or completely to --out (exit 4 and no partial file if it fails)."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    from ..views.dot import write_file

    write_file(out, text.encode("utf-8"), "--out")


FILE = typer.Argument(..., metavar="FILE", help="A TOML problem set (- reads standard input).")
OUT = typer.Option(None, "--out", metavar="FILE", help="Write here instead of standard output.")


@problems.command("make")
def make_cmd(
    file: str = FILE,
    seed: str = typer.Option(..., "--seed", help="The student's seed: a name, an id, a number."),
    out: str | None = OUT,
) -> None:
    """One student's variant: every range or choice drawn from --seed (the same seed always gives
    the same file), redrawn off kinks, ties, zero gradients and non-finite values."""
    from ..readers.problems import write_set
    from ..tools import check as lib

    variant = lib.make_variant(lib.load_set(file), seed, file)
    _write(write_set(variant), out)


@problems.command("key")
def key_cmd(
    file: str = FILE,
    format: str = typer.Option("toml", "--format", help="toml (an answer file) | json"),
    out: str | None = OUT,
) -> None:
    """The answer key: bp's value for every question, as an answer file (--answers reads it)."""
    import json

    from ..readers.problems import write_answers
    from ..tools import check as lib

    one_of("--format", format, ("toml", "json"))
    key = lib.answer_key(lib.load_set(file), file)
    if format == "json":
        text = (
            json.dumps({p: dict(answers) for p, answers in key.items()}, ensure_ascii=False, indent=2) + "\n"
        )
    else:
        text = write_answers(key)
    _write(text, out)


@problems.command("sheet")
def sheet_cmd(
    file: str = FILE,
    format: str = typer.Option("markdown", "--format", help="markdown | latex"),
    picture: str = typer.Option("text", "--picture", help="The graph of each problem: text | dot | none"),
    out: str | None = OUT,
) -> None:
    """A printable sheet: each problem, what to find, its graph of gates (no numbers on it), and
    an answer file to fill in."""
    from ..core.parse import parse
    from ..readers.problems import answer_template
    from ..tools import check as lib
    from ..views.sheet import sheet

    one_of("--format", format, ("markdown", "latex"))
    one_of("--picture", picture, ("text", "dot", "none"))
    pset = lib.load_set(file)
    graphs = []
    for p in pset.problems:
        if p.spreads:
            raise UsageError(
                f"{file}, {p.label}: make a student's variant first (bp problems make FILE --seed NAME)"
            )
        try:
            graphs.append(parse(p.expression))
        except BpError as e:
            e.message = f"{file}, {p.label}: {e.message}"
            raise
    asked = [lib.asked(p, g) for p, g in zip(pset.problems, graphs, strict=True)]
    template = answer_template({p.name: a for p, a in zip(pset.problems, asked, strict=True)})
    _write(sheet(pset, graphs, asked, template, format, picture), out)
