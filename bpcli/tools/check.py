"""Checking answers against bp: the grading rule, formula answers, `bp check`, problem sets,
answer files and a variant per student.

The rule is fair both ways. A number is right when it equals bp's value at the precision it was
written with, but never at a precision coarser than the problem's: |answer - value| must be at
most half a unit in the answer's last written place AND at most the problem's tolerance,
max(0.01, 1% of |value|) by default. So `-0.20` accepts -0.1966 (off by 0.0034), `-0.58` rejects
-0.5898, and `0` rejects 0.4 (half a unit is 0.5, but the problem asks for 0.01). An exact half
accepts either neighbour (0.125 accepts 0.12 and 0.13), and bp's own value may be off by 4 units
in its last place (2.675 is stored as 2.67499..., yet `2.68` is right). Scientific notation
counts the places of the written mantissa shifted by the exponent: `1.2e-3` is written to 4
decimals. A constant expression (`2/5`, `-1/(1+e)`) is exact: right when it equals bp's value up
to double rounding (1e-9 relative). With `rtol`/`atol` (a problem file or the command line) the
rule is instead |answer - value| <= atol + rtol * |value| (NumPy's isclose, relative to bp).

A formula answer (`dz = x + y`) is right when it equals the true quantity at the given point and
at 20 seeded random points around it (1e-6 relative), skipping points where either side is
undefined (a math error) or bp is at a kink or tie; otherwise it is wrong at a named point.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext

from ..core.errors import BpError, MathError, UsageError
from ..core.names import node_names
from ..readers.problems import (  # noqa: F401  (read_problem_set, written: this module's API too)
    Problem,
    ProblemSet,
    Written,
    draw,
    read_answers,
    read_problem_set,
    read_set,
    written,
)

_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])"
_LAST_ASSIGN = re.compile(rf"^\s*({_NAME})\s*=")
_PREC = 1200  # decimal digits: enough for any double, exactly, at up to 50 places
_MAX_PLACES = 50

#: the problem's precision when neither it nor the command line sets one
DEFAULT_ATOL = 0.01
DEFAULT_RTOL = 0.01
_EXACT_RTOL = 1e-9  # a constant-expression answer equals bp's value up to double rounding
FORMULA_RTOL = 1e-6
FORMULA_POINTS = 20
VARIANT_TRIES = 1000
_DISCONTINUOUS = ("sign", "step")  # gates whose input at 0 is a jump: a variant avoids it


def tolerance(actual: float, rtol: float | None = None, atol: float | None = None) -> float:
    """The problem's precision at bp's value: atol + rtol * |value| when either is set, else
    max(DEFAULT_ATOL, DEFAULT_RTOL * |value|)."""
    if rtol is None and atol is None:
        return max(DEFAULT_ATOL, DEFAULT_RTOL * abs(actual))
    return (atol or 0.0) + (rtol or 0.0) * abs(actual)


def _half_unit(decimals: int) -> Decimal:
    return Decimal(5).scaleb(-decimals - 1)


def matches(answer: Written, actual: float, rtol: float | None = None, atol: float | None = None) -> bool:
    """The grading rule for a number or constant expression (see the module docstring)."""
    if answer.value is None:
        raise ValueError("a formula answer is checked by check(), not matches()")
    tol = tolerance(actual, rtol, atol)
    if rtol is not None or atol is not None:
        return abs(answer.value - actual) <= tol
    if answer.decimals is None:  # an exact expression
        return abs(answer.value - actual) <= _EXACT_RTOL * max(1.0, abs(answer.value), abs(actual))
    # exact decimal arithmetic: Decimal(float) is the double's exact binary value (<= 770 digits)
    with localcontext(prec=_PREC):
        allowed = min(_half_unit(answer.decimals), Decimal(tol))
        slack = Decimal(4 * math.ulp(actual))
        gap = abs(Decimal(answer.text.replace("\u2212", "-").replace("_", "")) - Decimal(actual))
        return gap <= allowed + slack


def rounded(actual: float, decimals: int) -> str:
    """bp's value rounded to a given place, as text (`-0.59`, `3`, `1500`)."""
    with localcontext(prec=_PREC):
        q = Decimal(actual).quantize(Decimal(1).scaleb(-decimals))
        return format(abs(q) if q == 0 else q, "f")  # never "-0.00"


def hint(
    actual: float, decimals: int | None = None, rtol: float | None = None, atol: float | None = None
) -> str:
    """bp's value written so that it is itself a right answer and not misleading: to the answer's
    own places, or finer when the problem's precision asks for more (0 against -0.731 hints
    `-0.73`, never `-1`), and to at least two significant digits (`0.0040`, not `0.00`); an
    exact value without padding zeros (`-4`, not `-4.00`).

    >>> hint(-0.731, 0), hint(0.004, 1), hint(-4.0, 0), hint(-0.5898, 2)
    ('-0.73', '0.0040', '-4', '-0.59')
    """
    tol = tolerance(actual, rtol, atol)
    if not tol > 0:
        return repr(0.0 if actual == 0 else actual)
    places = max(decimals if decimals is not None else -_MAX_PLACES, math.ceil(-math.log10(2 * tol)))
    while places <= _MAX_PLACES and 0.5 * 10.0**-places > tol:  # log10's rounding, made safe
        places += 1
    if actual != 0:
        places = max(places, 1 - math.floor(math.log10(abs(actual))))
    if places > _MAX_PLACES:  # finer than any answer is read: bp's value exactly
        return repr(actual)
    text = rounded(actual, places)
    if places < 0:  # written so that its own precision is the tens or more: 1.23e+06, not 1230000
        digits = len(text.lstrip("-")) + places
        return format(Decimal(text), f".{max(digits - 1, 0)}e")
    with localcontext(prec=_PREC):
        if "." in text and Decimal(text) == Decimal(actual):  # exact: no padding zeros (`-4`)
            keep = max(decimals or 0, 0)
            whole, frac = text.split(".")
            frac = frac.rstrip("0").ljust(keep, "0")
            text = f"{whole}.{frac}" if frac else whole
    return text


def output_name(source: str) -> str | None:
    """The name the last statement gives the output (`L` in `...; L = ...`), if any."""
    statements = [s for line in source.splitlines() for s in line.split("#", 1)[0].split(";")]
    statements = [s for s in statements if s.strip()]
    if not statements:
        return None
    m = _LAST_ASSIGN.match(statements[-1])
    return m.group(1) if m else None


def quantities(result, out_name: str | None = None) -> dict[str, tuple[str, float]]:
    """Every name an answer may use -> (what it is, bp's value).

    The output is `f` (or the last statement's own name); an input or intermediate name is its
    forward value; `dx`, `df/dx` (and `dL/dx` when the output is named L) is a gradient.
    A name of the expression wins over a shorthand (a variable called `dx` is its value)."""
    g = result.graph
    outs = ["f"] + ([out_name] if out_name and out_name != "f" else [])
    table: dict[str, tuple[str, float]] = {}
    nodes = {**g.var_ids, **g.names}
    # unnamed gates too, by the names the picture, --steps and explain give them (q, r, ...)
    every = node_names(g)
    nodes |= {every[i]: i for i in g.gate_ids() if i != g.output and every[i] not in nodes}
    for name, node in nodes.items():
        grad = ("df/d" + name, result.grads[node])
        table["d" + name] = grad
        for out in outs:
            table[f"d{out}/d{name}"] = grad
    for out in outs:
        table[out] = ("f", result.value)
    for name, node in nodes.items():
        table[name] = (name, result.values[node])
    return table


def _names_hint(result, out_name: str | None) -> str:
    g = result.graph
    nodes = [*g.var_ids, *g.names]
    values = ", ".join(["f" + (f" (or {out_name})" if out_name and out_name != "f" else ""), *nodes])
    grads = ", ".join("d" + n for n in nodes)
    example = f" (also written df/d{nodes[0]})" if nodes else ""
    return f"values {values}; gradients {grads}{example}"


def parse_expect(word: str) -> tuple[str, str]:
    """`NAME=VALUE` from `--expect` -> (name, value text); VALUE may be a formula (`dz = x + y`)."""
    name, sep, value = word.partition("=")
    name = name.strip().replace("\u2202", "d")  # ∂f/∂x is df/dx
    if not sep or not name or not value.strip():
        raise UsageError(f"--expect {word!r}: write NAME=VALUE (as in --expect dx=-4)")
    return name, value.strip()


@dataclass
class Answer:
    """One checked answer (`written` None: the question was not answered)."""

    name: str  #: as the user wrote it (`dx`), or as the problem asks it
    quantity: str  #: what it is (`df/dx`, `f`, `q`)
    written: Written | None
    actual: float
    right: bool
    rounded: str | None  #: bp's value as a right answer (see hint); None for a formula answer
    differs_at: dict[str, float] | None = None  #: a formula: a point where it differs
    yours_there: float | None = None  #: the formula's value there (None: undefined there)
    bp_there: float | None = None  #: bp's value there
    points_checked: int = 0  #: a formula: at how many points it was compared
    #: an array answer: CS231n's relative error max|a - b| / max(|a| + |b|)
    rel_error: float | None = None

    @property
    def kind(self) -> str:
        return "missing" if self.written is None else self.written.kind


@dataclass
class Report:
    """The result of checking one expression's answers."""

    expression: str
    bindings: dict[str, float]
    answers: list[Answer]
    rtol: float | None = None
    atol: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def right(self) -> int:
        return sum(a.right for a in self.answers)

    @property
    def passed(self) -> bool:
        return all(a.right for a in self.answers)

    @property
    def rule(self) -> str:
        return "decimals" if self.rtol is None and self.atol is None else "tolerance"

    @property
    def array_bound(self) -> float:
        """The largest relative error `max|a-b| / max(|a|+|b|)` an array answer may have."""
        return self.rtol if self.rtol is not None else ARRAY_REL_ERROR


def _normal(name: str) -> str:
    return name.strip().replace("\u2202", "d")


def check(
    source,
    bindings: dict[str, float],
    expect,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    tie: str = "split",
    ask: list[str] | None = None,
    what: str = "--expect",
) -> Report:
    """Check answers (`[(name, value text), ...]` or a dict) against bp's values and gradients.

    With `ask` (the questions, by name; an empty list means the gradient of every input) each
    question is graded against the answer that names the same quantity (`dx` answers `df/dx`),
    an unanswered question is wrong, and an answer to no question is not graded (a warning).
    Two answers for one quantity are a UsageError. `what` is how messages name an answer.

    >>> check("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, {"dz": "4"}).passed
    False
    """
    from ..core.engine import evaluate
    from ..core.parse import parse

    for opt, tol in (("--rtol", rtol), ("--atol", atol)):
        if tol is not None and not (math.isfinite(tol) and tol >= 0):
            raise UsageError(f"{opt} must be a finite number >= 0, not {tol!r}")
    pairs = list(expect.items()) if isinstance(expect, dict) else list(expect)
    if not pairs and ask is None:
        raise UsageError("nothing to check: give answers with --expect NAME=VALUE (as in --expect dx=-4)")
    graph = parse(source) if isinstance(source, str) else source
    result = evaluate(graph, bindings, tie=tie)
    out = output_name(graph.source)
    table = quantities(result, out)
    by_quantity = {q: v for q, v in table.values()}

    def resolve(name: str, lead: str) -> str:
        if name not in table:
            raise UsageError(
                f"{lead} {name}: '{name}' is not a name in this expression; "
                f"it could be: {_names_hint(result, out)}"
            )
        return table[name][0]

    def _grade(name: str, quantity: str, text) -> Answer:
        if getattr(by_quantity[quantity], "ndim", 0) or (isinstance(text, str) and _looks_like_array(text)):
            return array_answer(name, quantity, text, by_quantity[quantity], rtol, atol)
        w = written(text, f"the answer for {name}")
        if w.formula is not None:
            return _formula_answer(name, quantity, w, result, out, bindings, tie)
        actual = by_quantity[quantity]
        return Answer(
            name, quantity, w, actual, matches(w, actual, rtol, atol), hint(actual, w.decimals, rtol, atol)
        )

    given: dict[str, tuple[str, object]] = {}
    resolved = [(_normal(name), text) for name, text in pairs]
    resolved = [(name, resolve(name, what), text) for name, text in resolved]
    warnings = list(result.warnings)
    if ask is None:  # grade every answer given, as given (the command line, a set's own expect)
        return Report(
            graph.source, dict(bindings), [_grade(n, q, t) for n, q, t in resolved], rtol, atol, warnings
        )
    for name, quantity, text in resolved:
        if isinstance(text, str) and not text.strip():  # a template's blank: not answered
            continue
        if quantity in given:
            raise UsageError(f"{what} {name}: {quantity} is answered twice ({given[quantity][0]} and {name})")
        given[quantity] = (name, text)
    names = [_normal(a) for a in ask] or ["d" + v for v in graph.var_ids]
    questions = [(n, resolve(n, "ask")) for n in names]
    asked = {q for _, q in questions}
    warnings += [
        f"the answer {n} is not asked for, so it is not graded"
        for q, (n, _) in given.items()
        if q not in asked
    ]
    answers = []
    for name, quantity in questions:
        if quantity in given:
            answers.append(_grade(given[quantity][0], quantity, given[quantity][1]))
        else:
            actual = by_quantity[quantity]
            answers.append(Answer(name, quantity, None, actual, False, hint(actual, None, rtol, atol)))
    return Report(graph.source, dict(bindings), answers, rtol, atol, warnings)


def _around(bindings: dict[str, float], quantity: str) -> list[dict[str, float]]:
    """FORMULA_POINTS points near the given one, the same every run (seeded by the quantity):
    each input moved by up to max(1, |value|), rounded to 2 decimals so a message can name it."""
    rng = random.Random(f"bp formula\0{quantity}")
    return [
        {n: v + round(rng.uniform(-1, 1) * max(1.0, abs(v)), 2) for n, v in bindings.items()}
        for _ in range(FORMULA_POINTS)
    ]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= FORMULA_RTOL * max(abs(a), abs(b)) + 1e-12


def _formula_answer(name, quantity, w: Written, result, out, bindings, tie) -> Answer:
    """Compare a formula with bp's quantity at the given point and at the points around it."""
    from ..core.engine import evaluate, forward

    g = result.graph
    known = {**g.var_ids, **g.names}
    unknown = [v for v in w.formula.var_ids if v not in known]
    if unknown:
        raise UsageError(
            f"the answer for {name} is not a number, and {unknown[0]!r} is not a variable of the expression"
            f" (a formula answer may use: {', '.join(known) or 'no names'})"
        )
    used = list(w.formula.var_ids)
    actual = result_value(result, out, quantity)
    at_point = None  # the formula's value at the given point
    checked = 0
    for k, point in enumerate([dict(bindings), *_around(bindings, quantity)]):
        if k == 0:
            r = result
        else:
            try:
                r = evaluate(g, point, tie=tie)
            except MathError:
                continue
            if r.warnings:  # a kink or tie: the derivative is not defined there
                continue
        truth = result_value(r, out, quantity)
        try:
            yours = forward(w.formula, {v: r.values[known[v]] for v in used})[w.formula.output]
        except BpError:
            if k == 0:  # undefined where the problem is asked: wrong there
                return Answer(name, quantity, w, actual, False, None, point, None, truth, 1)
            continue
        if k == 0:
            at_point = yours
        checked += 1
        if not _close(yours, truth):
            return Answer(
                name, quantity, replace(w, value=at_point), actual, False, None, point, yours, truth, checked
            )
    return Answer(name, quantity, replace(w, value=at_point), actual, True, None, points_checked=checked)


def result_value(result, out: str | None, quantity: str) -> float:
    """bp's value of a quantity (`df/dx`, `f`, `q`) in an evaluated result."""
    return {q: v for q, v in quantities(result, out).values()}[quantity]


# -- array answers (dW=@dW.npy, dw=-0.20,-0.39,0.20, dW=[[...]]) ------------------------------

#: an array answer read from a file is right when its relative error is below this (CS231n's
#: "1e-7 and less you should be happy"); --rtol sets another bound
ARRAY_REL_ERROR = 1e-7


def _looks_like_array(text: str) -> bool:
    t = text.strip()
    return t.startswith(("[", "@")) or "," in t


def cs231n_rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|), 0 when both are all zeros (CS231n's rel_error)."""
    import numpy as np

    scale = float(np.max(np.abs(a) + np.abs(b))) if np.size(a) else 0.0
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b))) / scale


def _entry_texts(text: str):
    """The entries of an inline answer as the user wrote them (so each keeps its decimals)."""
    import json

    t = text.strip()
    if t.startswith("["):
        try:
            return json.loads(t, parse_float=str, parse_int=str)
        except ValueError:
            return None
    return [part.strip() for part in t.split(",")]


def array_answer(name, quantity, text, actual, rtol, atol) -> Answer:
    """An array answer: right when its shape is bp's and, written inline, every entry matches
    by the usual rule; read from a file (`@dW.npy`), when the relative error is small."""
    import numpy as np

    from ..readers.bindings import value

    mine = np.asarray(value(f"the answer for {name}", text), dtype=float)
    bp_value = np.asarray(actual, dtype=float)
    w = Written(text.strip(), None, None)
    if mine.shape != bp_value.shape:
        return Answer(name, quantity, w, actual, False, f"shape {bp_value.shape}, not {mine.shape}")
    rel = cs231n_rel_error(mine, bp_value)
    texts = None if text.strip().startswith("@") else _entry_texts(text)
    if texts is not None and np.shape(texts) == mine.shape and rtol is None and atol is None:
        right = all(
            matches(written(t, f"the answer for {name}"), float(v), rtol, atol)
            for t, v in zip(np.ravel(np.asarray(texts, dtype=object)), bp_value.ravel(), strict=True)
        )
    elif atol is not None:
        right = bool(np.all(np.abs(mine - bp_value) <= atol + (rtol or 0.0) * np.abs(bp_value)))
    else:
        right = rel <= (ARRAY_REL_ERROR if rtol is None else rtol)
    return Answer(name, quantity, w, actual, right, None, rel_error=rel)


# -- problem sets ----------------------------------------------------------------------------


@dataclass
class Graded:
    """One problem's report and score (points in proportion to the answers right)."""

    problem: Problem
    report: Report

    @property
    def score(self) -> float:
        answers = self.report.answers
        return self.problem.points * self.report.right / len(answers) if answers else 0.0


@dataclass
class SetReport:
    """A graded problem set."""

    title: str | None
    source: str  #: the file name (or `-`)
    graded: list[Graded]
    answers_source: str | None = None  #: the answer file graded, if any

    @property
    def score(self) -> float:
        return sum(g.score for g in self.graded)

    @property
    def max_score(self) -> float:
        return sum(g.problem.points for g in self.graded)

    @property
    def passed(self) -> bool:
        return all(g.report.passed for g in self.graded)


def questions(p: Problem) -> list[str]:
    """What a problem asks: its `ask`, else its `expect` names ([] means every input's gradient)."""
    return p.ask if p.ask is not None else [n for n, _ in p.expect]


def asked(p: Problem, graph) -> list[str]:
    """The questions of a problem, the default (every input's gradient) spelled out."""
    return questions(p) or ["d" + v for v in graph.var_ids]


def _fixed(p: Problem, source: str) -> None:
    if p.spreads:
        raise UsageError(
            f"{source}, {p.label}: {', '.join(p.spreads)} {'is a range' if len(p.spreads) == 1 else 'are ranges'}"
            " to draw from; make a student's variant first (bp problems make FILE --seed NAME)"
        )


def grade(
    problems: list[Problem],
    *,
    title: str | None = None,
    source: str = "problem set",
    answers: dict | None = None,
    answers_source: str = "answers",
) -> SetReport:
    """Check every problem: against its own `expect` answers, or with `answers` (a student's
    file, {problem: [(name, text)]}) against that. An error names the problem (and the file)."""
    if answers is not None:
        names = {p.name for p in problems}
        stray = [n for n in answers if n not in names]
        if stray:
            raise UsageError(
                f"{answers_source}: there is no problem {stray[0]!r} in {source}"
                f" (its problems: {', '.join(p.name for p in problems)})"
            )
    graded = []
    for p in problems:
        _fixed(p, source)
        try:
            if answers is None:
                if not p.expect:
                    raise UsageError(
                        "no answers to check (this problem set is a key: give a student's with --answers FILE)"
                    )
                report = check(p.expression, p.bindings, p.expect, rtol=p.rtol, atol=p.atol, tie=p.tie)
            else:
                report = check(
                    p.expression,
                    p.bindings,
                    answers.get(p.name, []),
                    rtol=p.rtol,
                    atol=p.atol,
                    tie=p.tie,
                    ask=questions(p),
                    what="answer",
                )
        except BpError as e:
            where = f"{answers_source} against {source}" if answers is not None else source
            e.message = f"{where}, {p.label or 'problem ' + repr(p.name)}: {e.message}"
            raise
        graded.append(Graded(p, report))
    return SetReport(title, source, graded, answers_source if answers is not None else None)


def read_text(path: str, what: str) -> str:
    """A UTF-8 file's text (`-`: standard input), or a UsageError naming it."""
    import sys

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as e:
        raise UsageError(f"cannot read {what} {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path!r} is not UTF-8 text") from None
    return text.removeprefix("\ufeff")


def load_set(path: str) -> ProblemSet:
    """Read a TOML problem set from a file (`-` reads standard input)."""
    return read_set(read_text(path, "problem set"), path)


def check_file(
    path: str, *, rtol: float | None = None, atol: float | None = None, answers: str | None = None
) -> SetReport:
    """Read and grade a TOML problem set (`-` reads standard input); `rtol`/`atol` override it;
    `answers` is a student's answer file (TOML, or JSON when it ends in .json or starts with `{`)."""
    if path == "-" and answers == "-":
        raise UsageError("the problem set and --answers cannot both come from standard input")
    pset = load_set(path)
    if rtol is not None or atol is not None:
        for p in pset.problems:
            p.rtol, p.atol = rtol, atol
    given = None
    if answers is not None:
        text = read_text(answers, "answer file")
        given = read_answers(text, answers, True if answers.lower().endswith(".json") else None)
    return grade(
        pset.problems, title=pset.title, source=path, answers=given, answers_source=answers or "answers"
    )


# -- a variant per student -------------------------------------------------------------------


def _blocked(r) -> list[bool]:
    """Per node: its gradient is exactly 0 because a max/min router or a relu sends nothing back
    along every use (the lesson of the router, not a degenerate draw)."""
    from ..core.gates import GATES

    g = r.graph
    users = g.users()
    blocked = [False] * len(g)
    for node in range(len(g) - 2, -1, -1):  # gates have larger ids than their inputs
        if r.grads[node] != 0 or not users[node] or node == g.output:
            continue
        blocked[node] = True
        for gate in users[node]:
            row = GATES[g.ops[gate]]
            routed = (row.pattern == "router" or g.ops[gate] == "relu") and r.locals[gate] is not None
            slots = [k for k, a in enumerate(g.args[gate]) if a == node]
            if not (blocked[gate] or (routed and all(r.locals[gate][k] == 0 for k in slots))):
                blocked[node] = False
                break
    return blocked


def _fair(graph, values: dict[str, float], p: Problem) -> bool:
    """A draw a student can be asked about: finite, off every kink, tie and jump, and no asked
    gradient so near zero that the answer 0 would be right (unless a router or relu blocks it)."""
    from ..core.engine import evaluate

    try:
        r = evaluate(graph, values, tie=p.tie)
    except MathError:
        return False
    if r.warnings:
        return False
    for i, op in enumerate(graph.ops):
        if op in _DISCONTINUOUS and r.values[graph.args[i][0]] == 0:
            return False
    table = quantities(r, output_name(graph.source))
    nodes = {**graph.var_ids, **graph.names}
    blocked = None
    zero = written("0")
    for name in asked(p, graph):
        if _normal(name) not in table:
            raise UsageError(f"ask {name}: '{name}' is not a name in this expression")
        quantity, value = table[_normal(name)]
        if not quantity.startswith("df/d") or not matches(zero, value, p.rtol, p.atol):
            continue
        blocked = blocked or _blocked(r)
        if not blocked[nodes[quantity[4:]]]:
            return False
    return True


def make_variant(
    pset: ProblemSet, seed, source: str = "problem set", tries: int = VARIANT_TRIES
) -> ProblemSet:
    """One student's problem set: every range or choice drawn from `seed` (a string or integer),
    redrawn while a draw is unfair (see _fair). The same seed always gives the same variant."""
    from ..core.parse import parse

    seed = str(seed)
    if not seed:
        raise UsageError("--seed must not be empty")
    problems = []
    for p in pset.problems:
        values = dict(p.bindings)  # fixed numbers are the teacher's choice (a tie on purpose)
        if p.spreads:
            try:
                graph = parse(p.expression)
                for attempt in range(tries):
                    values = draw(p, seed, attempt)
                    if _fair(graph, values, p):
                        break
                else:
                    raise UsageError(
                        f"no fair point in {tries} draws of {', '.join(p.spreads)}: each lands on a kink,"
                        " tie, zero gradient or non-finite value"
                    )
            except BpError as e:
                e.message = f"{source}, {p.label}: {e.message}"
                raise
        problems.append(replace(p, bindings=values, ask=questions(p), expect=[]))
    return ProblemSet(pset.title, problems, seed, dict(pset.defaults))


def answer_key(pset: ProblemSet, source: str = "problem set") -> dict[str, list[tuple[str, float]]]:
    """bp's answer to every question of every problem: {problem: [(name, value)]}."""
    key = {}
    for p in pset.problems:
        _fixed(p, source)
        try:
            report = check(
                p.expression, p.bindings, [], rtol=p.rtol, atol=p.atol, tie=p.tie, ask=questions(p)
            )
        except BpError as e:
            e.message = f"{source}, {p.label}: {e.message}"
            raise
        key[p.name] = [(a.name, a.actual) for a in report.answers]
    return key
