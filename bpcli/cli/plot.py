"""bp plot: a function and its derivative along one variable, drawn in the terminal (plotext).

The curve is one batch pass (bpcli/core/batch.py) over evenly spaced points: the same numbers as
`bp eval` at each of them."""

from __future__ import annotations

import re
import sys

import typer

from ..core.errors import MathError, UsageError
from .common import _FREE_WORDS, VARS_OPTION, gather

PLOT_HELP = """Plot EXPR and its derivative along one variable, in the terminal.

Give the variable's range as --x A:B (or x=A:B); bind any other variable as in bp eval.
With one variable and no range, the range is -6:6.

\b
Examples:
  bp plot "sigmoid(x)" --x -6:6
  bp plot "tanh(w*x)" --x -3:3 --w 2
  bp plot "relu(x) - 0.1*x^2" --x -2:5 --points 401
"""

_RANGE = re.compile(r"^(?:--)?([A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])(?:=(.*))?$", re.S)
_SPAN = re.compile(r"^([^:]+):([^:]+)$")  # float() strips the spaces; \s* around [^:]+ backtracked


def take_range(words: list[str]) -> tuple[list[str], str | None, tuple[float, float] | None]:
    """Remove the one `--x A:B` / `--x=A:B` / `x=A:B` from the free words: (rest, name, (a, b))."""
    rest: list[str] = []
    found: tuple[str, tuple[float, float]] | None = None
    i = 0
    while i < len(words):
        word = words[i]
        m = _RANGE.match(word)
        value, width = None, 1
        if m and word.startswith("--") and m.group(2) is None and i + 1 < len(words):
            value, width = words[i + 1], 2
        elif m and m.group(2) is not None and (word.startswith("--") or "=" in word):
            value = m.group(2)
        span = _SPAN.match(value.replace("\u2212", "-")) if value is not None else None
        if span:
            try:
                a, b = float(span.group(1)), float(span.group(2))
            except ValueError:
                raise UsageError(
                    f"{word} {value if width == 2 else ''}: a range is A:B, as in --x -6:6"
                ) from None
            if found is not None:
                raise UsageError(
                    f"plot one variable at a time: both '{found[0]}' and '{m.group(1)}' have a range"
                )
            if not (a < b) or any(v != v or abs(v) == float("inf") for v in (a, b, b - a)):
                raise UsageError(f"the range of '{m.group(1)}' must be finite with A < B, not {value}")
            found = (m.group(1), (a, b))
            i += width
            continue
        rest.append(word)
        i += 1
    return rest, *(found if found else (None, None))


#: a terminal plot shows a few hundred columns; more points only cost memory (1e9 passed 8 GB)
MAX_POINTS = 100_000

app = typer.Typer()


@app.command("plot", context_settings=_FREE_WORDS, help=PLOT_HELP)
def plot_cmd(
    words: list[str] | None = typer.Argument(None, metavar="EXPR --x A:B [BINDINGS]...", show_default=False),
    points: int = typer.Option(201, "--points", help="How many evenly spaced points to evaluate."),
    width: int | None = typer.Option(
        None, "--width", help="Plot width in columns (default: the terminal's)."
    ),
    height: int | None = typer.Option(
        None, "--height", help="Plot height in rows (default: from the terminal)."
    ),
    vars_file: str | None = VARS_OPTION,
) -> None:
    import os
    import shutil

    import numpy as np

    from ..core.batch import run
    from ..core.engine import check_bindings
    from ..core.parse import parse
    from ..views import short

    rest, name, span = take_range(list(words or []))
    source, bindings = gather(rest, vars_file)
    graph = parse(source)
    from ..core.array_gates import require_scalar

    require_scalar(graph, bindings, "plot")
    if name is None:
        free = [v for v in graph.var_ids if v not in bindings]
        if len(free) != 1:
            raise UsageError("give the range of the variable to plot, as in --x -6:6")
        name, span = free[0], (-6.0, 6.0)
    if name in bindings:
        raise UsageError(f"'{name}' has a range and a value; give one")
    check_bindings(graph, {**bindings, name: 0.0})
    if not 2 <= points <= MAX_POINTS:
        raise UsageError(f"--points must be from 2 to {MAX_POINTS}, not {points}")
    for option, value, low, high in (("--width", width, 20, 1000), ("--height", height, 5, 500)):
        if value is not None and not low <= value <= high:
            raise UsageError(f"{option} must be from {low} to {high}, not {value}")
    xs = np.linspace(span[0], span[1], points)
    batch = run(graph, {name: xs}, bindings)
    ok = ~batch.bad
    if not ok.any():
        raise MathError(
            f"math error: '{source.strip()}' or its slope is not finite anywhere on {name} = {span[0]:g}..{span[1]:g}"
        )
    if batch.bad.any():
        print(
            f"bp: warning: left out {int(batch.bad.sum())} points where the value or slope is not finite",
            file=sys.stderr,
        )
    if batch.kinks.any():
        print(
            f"bp: warning: {int(batch.kinks.sum())} points sit at a non-differentiable point (subgradients used)",
            file=sys.stderr,
        )
    x, f, df = xs[ok], batch.value[ok], batch.gradient[name][ok]

    import plotext

    cols, rows = shutil.get_terminal_size((80, 24))
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width or min(cols, 120), height or max(10, min(rows - 3, 30)))
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    fig.theme("default" if color else "colorless")
    label = " ".join(source.split())
    # no labels inside the canvas: plotext draws its legend box over the data (x < -2.3 of x^2
    # on -3:3 was hidden); the legend is a line under the plot, the two series told apart by
    # their markers (braille, dots) with or without colour
    fig.draw(fig.signal(x.tolist(), f.tolist(), marker="braille").lines())
    fig.draw(fig.signal(x.tolist(), df.tolist(), marker="dot").lines())
    fig.title(label if len(label) <= 60 else label[:57] + "...")
    fig.label(name)
    print(fig.build().string(colorless=not color))
    print(f"legend: \u2822\u2822 f (braille line)   \u2022\u2022 df/d{name} (dots)")
    lo, hi = int(np.argmin(df)), int(np.argmax(df))
    print(
        f"f from {short(f.min())} to {short(f.max())}; df/d{name} from {short(df[lo])} at {name} = {short(x[lo])}"
        f" to {short(df[hi])} at {name} = {short(x[hi])}"
    )
