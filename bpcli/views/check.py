"""Views of `bp check` results: a Rich table per expression, plain TSV lines, and JSON for
autograders. They read a check.Report / check.SetReport and never recompute anything."""

from __future__ import annotations

import json

from . import num, short


def _verdict(a) -> str:
    if a.rel_error is not None:  # an array answer: CS231n's relative error
        return f"{'right' if a.right else 'wrong'} (relative error {a.rel_error:.2e})"
    if _is_array(a.actual):  # an array answer of the wrong shape
        return f"wrong: {a.rounded}"
    if a.right:
        return "right"
    # the right value written to the answer's own precision (bp's full value is in the bp column)
    return f"wrong, right value {a.rounded if a.rounded is not None else short(a.actual)}"


def one_line(expression: str) -> str:
    """A staged program on one line, statements joined by `; ` (comments dropped)."""
    lines = [line.split("#", 1)[0].strip() for line in expression.splitlines()]
    return "; ".join(line for line in lines if line)


def _is_array(v) -> bool:
    return bool(getattr(v, "ndim", 0))


def _short(v) -> str:
    if _is_array(v):  # an array: whole when small, else its shape and a summary
        from .common import fmt

        return fmt(v)
    return short(v)


def _points(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.2f}"


def _table(report):
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False)
    table.add_column("answer", no_wrap=True)
    table.add_column("yours", justify="right")
    table.add_column("bp", justify="right")
    table.add_column("verdict")
    for a in report.answers:
        name = a.name if a.name == a.quantity else f"{a.name} ({a.quantity})"
        style = "green" if a.right else "bold red"
        table.add_row(Text(name), Text(a.written.text), _short(a.actual), Text(_verdict(a), style=style))
    return table


def _summary(report) -> str:
    n = len(report.answers)
    rule = (
        "answers count as right when bp's value rounds to them"
        if report.rule == "decimals"
        else f"tolerance: |answer - bp| <= {report.atol or 0:g} + {report.rtol or 0:g} * |bp|"
    )
    head = f"all {n} right" if report.passed else f"{report.right} of {n} right"
    if any(a.rel_error is not None for a in report.answers):
        from ..tools.check import ARRAY_REL_ERROR

        bound = report.rtol if report.rtol is not None else ARRAY_REL_ERROR
        rule += f"; an array from a file when max|a-b| / max(|a|+|b|) <= {bound:g}"
    return f"{head} ({rule})"


def print_report(report, file=None) -> None:
    """The Rich view of one `bp check`: the table, then how many answers are right."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False)
    console.print(Text(f"checking {one_line(report.expression)}", style="bold"))
    console.print(_table(report))
    console.print(Text(_summary(report), style="bold green" if report.passed else "bold red"))


def print_set(set_report, file=None) -> None:
    """The Rich view of a problem set: each problem's table and score, then the total score."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False)
    if set_report.title:
        console.print(Text(set_report.title, style="bold"))
    for g in set_report.graded:
        p, r = g.problem, g.report
        title = Text(f"problem {p.name}: ", style="bold")
        title.append(f"{r.right}/{len(r.answers)} right, {_points(g.score)}/{_points(p.points)} points")
        title.append("" if r.passed else "  (some answers wrong)", style="bold red")
        console.print(title)
        console.print(Text(f"  {one_line(r.expression)}"))
        console.print(_table(r))
        console.print()
    verdict = "all right" if set_report.passed else "some answers are wrong"
    console.print(
        Text(
            f"score: {_points(set_report.score)} / {_points(set_report.max_score)} ({verdict})",
            style="bold green" if set_report.passed else "bold red",
        )
    )


def plain(report, problem: str | None = None) -> str:
    """One `name<TAB>answer<TAB>bp value<TAB>right|wrong` line per answer (bp at full precision);
    in a problem set each line starts with the problem's name."""
    lead = f"{problem}\t" if problem is not None else ""
    return "".join(
        f"{lead}{a.name}\t{a.written.text}\t{num(a.actual)!r}\t{'right' if a.right else 'wrong'}\n"
        for a in report.answers
    )


def plain_set(set_report) -> str:
    lines = "".join(plain(g.report, g.problem.name) for g in set_report.graded)
    return lines + f"score\t{_points(set_report.score)}\t{_points(set_report.max_score)}\n"


def report_dict(report) -> dict:
    """One check as a JSON-ready dict (the shape is documented in the README)."""
    return {
        "expression": report.expression,
        "bindings": {k: num(v) for k, v in report.bindings.items()},
        "rule": report.rule,
        "rtol": report.rtol,
        "atol": report.atol,
        "answers": [
            {
                "name": a.name,
                "quantity": a.quantity,
                "answer": a.written.text,
                "expected": None if _is_array(a.actual) else a.written.value,
                "decimals": a.written.decimals
                if report.rule == "decimals" and not _is_array(a.actual)
                else None,
                "actual": num(a.actual),
                "rounded": a.rounded,
                "right": a.right,
                **({"rel_error": a.rel_error} if a.rel_error is not None else {}),
            }
            for a in report.answers
        ],
        "right": report.right,
        "total": len(report.answers),
        "passed": report.passed,
        "warnings": list(report.warnings),
    }


def as_json(report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False) + "\n"


def set_json(set_report) -> str:
    problems = []
    for g in set_report.graded:
        d = {"name": g.problem.name, "points": g.problem.points, "score": g.score}
        d.update(report_dict(g.report))
        problems.append(d)
    obj = {
        "title": set_report.title,
        "file": set_report.source,
        "score": set_report.score,
        "max_score": set_report.max_score,
        "passed": set_report.passed,
        "problems": problems,
    }
    return json.dumps(obj, ensure_ascii=False) + "\n"
