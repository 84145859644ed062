"""Views of training runs (bp descend, bp fit): a progress bar while they run, then tables and
terminal plots (plotext) through Rich, or one JSON object. Nothing here computes any math
beyond what a plot axis needs (log10 of losses for a log-scaled axis)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from . import num, short
from .common import dumps

PLOT_HEIGHT = 16
MAX_PLOT_WIDTH = 100


def _one_line(text: str) -> str:
    """A (possibly staged, multi-line) expression on one line, for titles."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def _json_num(v):
    """A number for JSON: the float at full precision, or null when it is not finite."""
    if v is None or not math.isfinite(v):
        return None
    return num(v)


def _json_map(d: dict) -> dict:
    return {k: _json_num(v) for k, v in d.items()}


# -- progress ------------------------------------------------------------------------------------
@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A transient Rich progress bar on standard error, only when it is a terminal (piped or
    captured output stays clean). Yields `advance(done)`, a no-op when there is no bar."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal or total < 1:
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


# -- plots ---------------------------------------------------------------------------------------
def _figure(width: int, title: str, xlabel: str):
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.theme("simple")
    fig.plot_size(min(width, MAX_PLOT_WIDTH), PLOT_HEIGHT)
    fig.title(title)
    fig.label(xlabel, axis="x")
    return fig


def _lines(fig, xs, ys, label: str | None, marker: str | None = None, lines: bool = True):
    s = fig.signal(list(xs), list(ys), marker=marker)
    if lines:
        s.lines()
    if label:
        s.label(label)
    fig.draw(s)


def _integer_ticks(fig, lo: int, hi: int) -> None:
    """Whole-number ticks on the x axis (steps and epochs are counts)."""
    ticks = sorted({round(lo + i * (hi - lo) / 6) for i in range(7)})
    fig.ruler("x").ticks(ticks, [str(t) for t in ticks])


def _legend(fig, points: list[tuple[float, float]]) -> None:
    """Put the legend in the corner of the plot with the fewest points under it."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    wx, wy = 0.45 * (x1 - x0), 0.5 * (y1 - y0)

    def crowd(right: bool, top: bool) -> int:
        return sum(
            1
            for x, y in points
            if (x >= x1 - wx if right else x <= x0 + wx) and (y >= y1 - wy if top else y <= y0 + wy)
        )

    right, top = min(((r, t) for t in (True, False) for r in (True, False)), key=lambda c: crowd(*c))
    fig.legend(
        x=x1 if right else x0,
        y=y1 if top else y0,
        ha="right" if right else "left",
        va="top" if top else "bottom",
        relative=True,
    )


def loss_plot(width: int, steps: list[int], series: dict[str, list[float]], xlabel: str):
    """The loss over the steps, one line per series; a log scale when every loss is positive
    and they span more than two decades (plotted as log10 with 1eK tick labels)."""
    from rich.text import Text

    finite = [v for ys in series.values() for v in ys if v is not None and math.isfinite(v)]
    if len(steps) < 2 or not finite:
        return None
    log = min(finite) > 0 and max(finite) / min(finite) > 100
    fig = _figure(width, "loss" + (" (log scale)" if log else ""), xlabel)
    drawn = []
    for label, ys in series.items():
        pts = [(s, y) for s, y in zip(steps, ys, strict=True) if y is not None and math.isfinite(y)]
        ly = [math.log10(y) if log else y for _, y in pts]
        drawn += zip([s for s, _ in pts], ly, strict=True)
        _lines(fig, [s for s, _ in pts], ly, label if len(series) > 1 else None)
    _integer_ticks(fig, steps[0], steps[-1])
    if log:
        lo, hi = math.floor(math.log10(min(finite))), math.ceil(math.log10(max(finite)))
        ks = sorted(range(hi, lo - 1, -max(1, math.ceil((hi - lo) / 4))))
        fig.ruler("y").ticks(ks, [f"1e{k}" for k in ks])
    if len(series) > 1:
        _legend(fig, drawn)
    return Text.from_ansi(str(fig.build()))


def fit_plot(width: int, result):
    """Target against network over the range, with the training and validation samples."""
    from rich.text import Text

    fig = _figure(width, f"target {_one_line(result.target)} vs network", result.var)
    pts = [(x, y) for x, y in zip(result.grid_x, result.grid_target, strict=True) if math.isfinite(y)]
    _lines(fig, [x for x, _ in pts], [y for _, y in pts], "target")
    _lines(fig, result.grid_x, result.grid_network, "network")
    _lines(fig, result.x_train, result.y_train, "training", marker="dot", lines=False)
    _lines(fig, result.x_val, result.y_val, "validation", marker="x", lines=False)
    pts += zip(result.grid_x, result.grid_network, strict=True)
    pts += zip(result.x_train + result.x_val, result.y_train + result.y_val, strict=True)
    _legend(fig, pts)
    return Text.from_ansi(str(fig.build()))


def _console():
    from rich.console import Console

    return Console(highlight=False)


# -- bp descend ----------------------------------------------------------------------------------
_MAX_ROWS = 50  #: variables the descend table shows (all of them are in --format json)
_STOPPED = {
    "steps": "all {steps} steps taken",
    "tol": "the gradient norm reached --tol {tol:g} after {steps} steps",
    "diverged": "diverged at step {steps}",
}


def descent_json(d) -> str:
    """The descent as one JSON object (see README: "bp descend --format json")."""
    obj = {
        "expression": d.source,
        "wrt": d.wrt,
        "lr": d.lr,
        "momentum": d.momentum,
        "tol": d.tol,
        "start": _json_map(d.start),
        "fixed": _json_map(d.fixed),
        "start_loss": _json_num(d.start_loss),
        "final": _json_map(d.final),
        "loss": _json_num(d.loss),
        "grad": _json_map(d.grad),
        "grad_norm": _json_num(d.grad_norm),
        "steps": d.steps,
        "stopped": d.stopped,
        "divergence": None
        if d.divergence is None
        else {
            "step": d.divergence.step,
            "variable": d.divergence.variable,
            "value": _json_num(d.divergence.value),
            "message": d.divergence.message(),
        },
        "trace": [
            {
                "step": r.step,
                "loss": _json_num(r.loss),
                "grad_norm": _json_num(r.grad_norm),
                "values": _json_map(r.values),
                "grad": _json_map(r.grad),
            }
            for r in d.trace
        ],
    }
    return dumps(obj)


def print_descent(d) -> None:
    """The Rich view: a table of start and final values, why it stopped, and the loss plot."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    how = f"lr {d.lr:g}" + (f", momentum {d.momentum:g}" if d.momentum else "")
    console.print(Text(f"gradient descent on {_one_line(d.source)}  ({how})", style="bold"))
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("variable")
    table.add_column("start", justify="right")
    table.add_column("final", justify="right", style="green")
    table.add_column("gradient", justify="right", style="red")
    # a picture of 1e5 variables is no picture (Rich took 50 s to lay the table out): the first
    # rows, then a count; --format json has every value
    rows = [(name, False) for name in d.wrt] + [(name, True) for name in d.fixed]
    for name, held in rows[:_MAX_ROWS]:
        if held:
            value = d.fixed[name]
            table.add_row(f"{name} (held)", short(value), short(value), "")
        else:
            grad = d.grad.get(name)
            table.add_row(name, short(d.start[name]), _short(d.final[name]), _short(grad))
    if len(rows) > _MAX_ROWS:
        table.add_row(f"... {len(rows) - _MAX_ROWS} more", "", "", "")
    console.print(table)
    summary = Table.grid(padding=(0, 2))
    summary.add_row("loss", f"{short(d.start_loss)} -> {_short(d.loss)}")
    summary.add_row("gradient norm", _short(d.grad_norm))
    summary.add_row("stopped", _STOPPED[d.stopped].format(steps=d.steps, tol=d.tol))
    console.print(summary)
    plot = loss_plot(console.width, [r.step for r in d.trace], {"loss": [r.loss for r in d.trace]}, "step")
    if plot is not None:
        console.print(plot)


def _short(v) -> str:
    return "-" if v is None else short(v)


# -- bp fit --------------------------------------------------------------------------------------
def fit_dict(r) -> dict:
    """One training run as a JSON-ready dict (see README: "bp fit --format json")."""
    return {
        "target": r.target,
        "variable": r.var,
        "range": [num(r.lo), num(r.hi)],
        "samples": len(r.x_train) + len(r.x_val),
        "train_samples": len(r.x_train),
        "validation_samples": len(r.x_val),
        "hidden": r.hidden,
        "activation": r.activation,
        "l2": r.l2,
        "optimizer": "adam",
        "lr": r.lr,
        "epochs": r.epochs,
        "seed": r.seed,
        "noise": r.noise,
        "train_loss": _json_num(r.train_loss),
        "validation_loss": _json_num(r.validation_loss),
        "seconds": round(r.seconds, 4),
        "params": _json_map(r.network.params),
        "expression": r.network.expression(),
        "curve": [
            {"epoch": e, "train_loss": _json_num(t), "validation_loss": _json_num(v)} for e, t, v in r.curve
        ],
    }


def fit_json(results: list, sweep: bool) -> str:
    """One run: its object. A sweep: {"sweep": [one run's object per --hidden value]}."""
    obj = {"sweep": [fit_dict(r) for r in results]} if sweep else fit_dict(results[0])
    return dumps(obj)


def print_fit(r) -> None:
    """The Rich view of one run: the losses, the loss curve, and target against network."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    console.print(
        Text(
            f"bp fit {_one_line(r.target)} on [{short(r.lo)}, {short(r.hi)}]: {r.hidden} {r.activation}"
            f" hidden unit{'s' if r.hidden != 1 else ''}, {r.epochs} epochs of Adam (lr {r.lr:g}),"
            f" l2 {r.l2:g}",
            style="bold",
        )
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("", "samples", "loss (MSE)"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("training", str(len(r.x_train)), short(r.train_loss))
    table.add_row("validation", str(len(r.x_val)), short(r.validation_loss))
    console.print(table)
    console.print(Text(f"trained in {r.seconds:.2f} s"))
    epochs = [e for e, _, _ in r.curve]
    plot = loss_plot(
        console.width,
        epochs,
        {"training": [t for _, t, _ in r.curve], "validation": [v for _, _, v in r.curve]},
        "epoch",
    )
    if plot is not None:
        console.print(plot)
    console.print(fit_plot(console.width, r))


def print_sweep(results: list) -> None:
    """The Rich view of a sweep: losses against the number of hidden units."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    first = results[0]
    console.print(
        Text(
            f"bp fit {_one_line(first.target)}: losses against hidden units"
            f" ({first.activation}, {first.epochs} epochs, l2 {first.l2:g})",
            style="bold",
        )
    )
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("hidden units", justify="right")
    table.add_column("training loss", justify="right", style="green")
    table.add_column("validation loss", justify="right", style="yellow")
    table.add_column("seconds", justify="right")
    for r in results:
        table.add_row(str(r.hidden), short(r.train_loss), short(r.validation_loss), f"{r.seconds:.2f}")
    console.print(table)
