"""Picks the teaching view `bp eval` prints: the picture, --steps, --compare or mermaid."""

from __future__ import annotations

import sys

from ..core.engine import Result
from ..core.errors import UsageError


def check_view(format: str, steps: bool, compare: bool, out_file: str | None) -> None:
    """Usage errors (exit 2) for view options that do not go together, before any work."""
    if steps and compare:
        raise UsageError("--steps and --compare are two different views: pick one")
    if steps and format not in ("rich", "plain", "latex"):
        raise UsageError(f"--steps prints text or LaTeX: use --format rich, plain or latex, not {format}")
    if compare and format != "rich":
        raise UsageError(f"--compare draws the rich picture: drop --format {format}")
    if format == "latex" and not steps:
        raise UsageError("--format latex goes with --steps (bp eval EXPR --steps --format latex)")
    if out_file is not None and not out_file.lower().endswith(".html"):
        from .dot import check_image_target

        check_image_target(out_file)


def make_console(file=None, plain: bool = False):
    """A Console that decides colour and width. Piped output gets no escape codes at all; so does
    NO_COLOR (Rich alone would drop the colours but keep bold and dim) and `plain`."""
    from rich.console import Console

    console = Console(file=file, highlight=False)
    if plain or console.no_color:
        console = Console(file=file, highlight=False, color_system=None)
    return console


def show(
    result: Result, format: str, steps: bool, expanded: Result | None, max_gates: int, file=None
) -> None:
    """Print the chosen view of `result` (and of its expansion, for --compare)."""
    file = file or sys.stdout
    if format == "mermaid":
        from .mermaid import mermaid

        file.write(mermaid(result))
        return
    if steps and format == "latex":
        from .steps import steps_latex

        file.write(steps_latex(result))
        return
    console = make_console(file, plain=format == "plain")
    if steps:
        from .steps import steps_plain, steps_text

        if console.no_color or console.color_system is None:
            console.file.write(steps_plain(result))  # Rich chose no colour; thousands of lines stay fast
        else:
            console.print(steps_text(result), soft_wrap=True, end="")
    elif expanded is not None:
        from .compare import print_compare

        print_compare(result, expanded, max_gates, console=console)
    else:
        from .picture import print_picture

        print_picture(result, max_gates=max_gates, console=console)
