"""Views of `bp check` results: a Rich table per expression, plain TSV lines, and JSON for
autograders. They read a check.Report / check.SetReport and never recompute anything."""

from __future__ import annotations

from . import num, short
from .common import dumps


def _point(point: dict) -> str:
    return ", ".join(f"{n}={short(v)}" for n, v in point.items())


def _verdict(a, reveal: bool = True) -> str:
    """`right`, or what is wrong: for a number bp's value written as a right answer would be (see
    tools.check.hint); for a formula a point where it differs. `reveal` False keeps bp's values
    out (a course platform's feedback before the due date)."""
    if a.rel_error is not None:  # an array answer: CS231n's relative error
        return f"{'right' if a.right else 'wrong'} (relative error {a.rel_error:.2e})"
    if _is_array(a.actual) and not a.right:  # an array answer of the wrong shape
        return f"wrong: {a.rounded}"
    if a.right:
        if a.kind == "formula":
            return f"right (equal at {a.points_checked} point{'' if a.points_checked == 1 else 's'})"
        return "right"
    if a.written is None:
        return "no answer" + (f", right value {a.rounded}" if reveal else "")
    if a.kind == "formula":
        where = f"wrong at {_point(a.differs_at)}"
        if a.yours_there is None:
            return f"{where}: yours is undefined there" + (f", bp {short(a.bp_there)}" if reveal else "")
        return f"{where}: yours {short(a.yours_there)}" + (f", bp {short(a.bp_there)}" if reveal else "")
    return "wrong" + (f", right value {a.rounded}" if reveal else "")


def wrong_names(report) -> str:
    """The wrong answers for a one-line message: `dx, dz (wrong at x=1, y=2)`."""
    words = []
    for a in report.answers:
        if not a.right:
            words.append(a.name + (f" (wrong at {_point(a.differs_at)})" if a.differs_at else ""))
    return ", ".join(words)


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
        yours = "" if a.written is None else a.written.text
        table.add_row(Text(name), Text(yours), _short(a.actual), Text(_verdict(a), style=style))
    return table


def _summary(report) -> str:
    n = len(report.answers)
    rule = (
        "rule: bp's value rounded to your places, at most 0.01 or 1% off"
        if report.rule == "decimals"
        else f"tolerance: |answer - bp| <= {report.atol or 0:g} + {report.rtol or 0:g} * |bp|"
    )
    head = f"all {n} right" if report.passed else f"{report.right} of {n} right"
    if any(a.rel_error is not None for a in report.answers):
        rule += f"; an array from a file when max|a-b| / max(|a|+|b|) <= {report.array_bound:g}"
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
        f"{lead}{a.name}\t{'' if a.written is None else a.written.text}\t{num(a.actual)!r}\t"
        f"{'right' if a.right else 'wrong'}\n"
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
                "kind": a.kind,
                "answer": None if a.written is None else a.written.text,
                "expected": None if a.written is None or a.written.value is None else num(a.written.value),
                "decimals": a.written.decimals
                if a.written is not None and report.rule == "decimals"
                else None,
                "actual": num(a.actual),
                "rounded": a.rounded,
                "right": a.right,
                "differs_at": a.differs_at,
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
    return dumps(report_dict(report))


def set_json(set_report) -> str:
    problems = []
    for g in set_report.graded:
        d = {"name": g.problem.name, "points": g.problem.points, "score": g.score}
        d.update(report_dict(g.report))
        problems.append(d)
    obj = {
        "title": set_report.title,
        "file": set_report.source,
        "answers": set_report.answers_source,
        "score": set_report.score,
        "max_score": set_report.max_score,
        "passed": set_report.passed,
        "problems": problems,
    }
    return dumps(obj)


# -- Gradescope ---------------------------------------------------------------------------------
#: the keys Gradescope's autograder reads from results.json (its "Autograder Specifications")
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")


def _test_output(a, reveal: bool) -> str:
    label = a.name if a.name == a.quantity else f"{a.name} ({a.quantity})"
    if a.written is None:
        return f"{label}: {_verdict(a, reveal)}"
    return f"{label} = {a.written.text}: {_verdict(a, reveal)}"


def gradescope(graded, *, title: str | None = None, reveal: bool = False, visibility: str = "visible") -> str:
    """Gradescope's autograder results.json: one test per answer, each worth its share of the
    problem's points (partial credit), the total as `score`. `graded` is a list of
    (problem name, points, Report). bp's values stay out of the feedback unless `reveal`."""
    tests, lines = [], []
    for k, (name, points, report) in enumerate(graded, 1):
        share = round(points / len(report.answers), 6) if report.answers else 0.0
        for j, a in enumerate(report.answers, 1):
            tests.append(
                {
                    "name": f"{name}: {a.name}",
                    "number": f"{k}.{j}",
                    "score": share if a.right else 0.0,
                    "max_score": share,
                    "output": _test_output(a, reveal),
                    "tags": [name],
                    "visibility": visibility,
                }
            )
        at = ", ".join(f"{n}={short(v)}" for n, v in report.bindings.items())
        lines.append(
            f"problem {name}: {one_line(report.expression)} at {at}: {report.right}/{len(report.answers)} right"
        )
    score = round(sum(t["score"] for t in tests), 6)
    head = [title] if title else []
    obj = {
        "score": score,
        "output": "\n".join([*head, *lines]),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return dumps(obj, indent=2)


def gradescope_set(set_report, reveal: bool = False) -> str:
    """A graded problem set as Gradescope's results.json (see gradescope)."""
    graded = [(g.problem.name, g.problem.points, g.report) for g in set_report.graded]
    return gradescope(graded, title=set_report.title, reveal=reveal)


def gradescope_one(report, reveal: bool = False) -> str:
    """One `bp check` as Gradescope's results.json: one point per answer."""
    return gradescope([("check", float(len(report.answers)), report)], reveal=reveal)


def gradescope_error(message: str) -> str:
    """results.json for a submission bp could not grade (a bad answer file): score 0, and the
    reason where the student sees it."""
    obj = {
        "score": 0.0,
        "output": message,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }
    return dumps(obj, indent=2)
