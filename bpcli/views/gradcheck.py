"""Views of `bp gradcheck`: a Rich table, plain TSV lines, JSON. They never recompute anything."""

from __future__ import annotations

from . import num, short
from .common import dumps

_WORDS = {
    "good": "good",
    "acceptable": "acceptable (fine with kinks or float32)",
    "suspicious": "suspicious",
    "wrong": "WRONG",
    "kink": "kink, not a bug",
    "noise": "at the rounding-noise floor",
    "step": "within the step's truncation error",
}
_STYLE = {"good": "green", "acceptable": "yellow", "suspicious": "bold yellow", "wrong": "bold red"}


def _e(x: float) -> str:
    return f"{x:.2e}"


def print_report(report, file=None) -> None:
    """The table of inputs (backprop, numerical, relative error, verdict), then notes and summary."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False)
    console.print(
        Text(f"gradient check of {report.expression.strip()}  (h = {report.h:g}, f = {short(report.value)})")
    )
    if not report.inputs:
        console.print(Text("no inputs: nothing to check"))
        return
    table = Table(show_edge=False, pad_edge=False)
    for col, just in (("input", "left"), ("value", "right"), ("backprop", "right"), ("numerical", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    table.add_column("rel. error", justify="right")
    table.add_column("verdict")
    for c in report.inputs:
        v = c.verdict
        table.add_row(
            Text(c.name),
            short(c.value),
            f"{num(c.analytic):.10g}",
            f"{num(c.numeric):.10g}",
            _e(c.rel_error),
            Text(_WORDS[v], style=_STYLE.get(v, "cyan")),
        )
    console.print(table)
    for note in report.notes:
        console.print(Text(f"note: {note}"))
    for c in report.inputs:
        if c.kink:
            console.print(
                Text(
                    f"note: {c.name}: {c.kink}; a finite difference across a kink averages two slopes, "
                    "so a mismatch there is expected"
                )
            )
        elif c.verdict == "step":
            console.print(
                Text(
                    f"note: {c.name}: the difference {_e(abs(c.analytic - c.numeric))} is within the "
                    f"truncation error of step h (~{_e(c.truncation)}, from a second step 2h); "
                    "try a smaller --h"
                )
            )
        elif c.verdict == "noise":
            console.print(
                Text(
                    f"note: {c.name}: the difference {_e(abs(c.analytic - c.numeric))} is below the "
                    f"rounding noise of the difference quotient (~{_e(c.noise)}); try a larger --h"
                )
            )
    counted = [c for c in report.inputs if c.verdict not in ("kink", "noise", "step")]
    excused = [c.name for c in report.inputs if c.verdict in ("kink", "noise", "step")]
    worst = max((c.rel_error for c in counted), default=0.0)
    if report.passed:
        line = (
            f"passed: max relative error {_e(worst)} (threshold {report.threshold:g})"
            if counted
            else "passed"
        )
        if excused:
            line += f"; not counted: {', '.join(excused)} (see the notes)"
    else:
        bad = ", ".join(c.name for c in report.inputs if not c.passed)
        line = f"FAILED for {bad}: relative error above the threshold {report.threshold:g}"
    console.print(Text(line, style="bold green" if report.passed else "bold red"))


def plain(report) -> str:
    """`name<TAB>backprop<TAB>numerical<TAB>relative error<TAB>verdict` per input, full precision."""
    return "".join(
        f"{c.name}\t{num(c.analytic)!r}\t{num(c.numeric)!r}\t{c.rel_error!r}\t{c.verdict}\n"
        for c in report.inputs
    )


def as_json(report) -> str:
    obj = {
        "expression": report.expression,
        "bindings": {k: num(v) for k, v in report.bindings.items()},
        "h": report.h,
        "threshold": report.threshold,
        "value": num(report.value),
        "inputs": [
            {
                "name": c.name,
                "value": c.value,
                "analytic": num(c.analytic),
                "numeric": num(c.numeric),
                "rel_error": c.rel_error,
                "band": c.band,
                "verdict": c.verdict,
                "kink": c.kink,
                "noise": c.noise,
                "truncation": c.truncation,
                "passed": c.passed,
            }
            for c in report.inputs
        ],
        "passed": report.passed,
        "warnings": list(report.warnings),
        "notes": list(report.notes),
    }
    return dumps(obj)
