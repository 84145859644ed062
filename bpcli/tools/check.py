"""Checking answers against bp: the answer-matching rule, `bp check`, and problem sets.

The rule a student expects: an answer is right when bp's value, rounded to as many decimals as
the answer was written with, equals it (`0.20` accepts 0.1966, `-0.58` rejects -0.5898, `-12`
accepts -12.0). In numbers: right when |answer - value| <= half a unit in the answer's last
written place. An exact half accepts either neighbour (0.125 accepts 0.12 and 0.13), and bp's own
value may be off by 4 units in its last place (2.675 is stored as 2.67499..., yet `2.68` is right).
Scientific notation counts places of the written mantissa shifted by the exponent: `1.2e-3` is
written to 4 decimals (a unit of 0.0001), `1.5e3` to the hundreds. With `rtol`/`atol` the rule is
instead |answer - value| <= atol + rtol * |value| (NumPy's isclose, relative to bp's value).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from ..core.errors import BpError, UsageError
from ..readers.bindings import number

_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])"
_WRITTEN = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$")
_LAST_ASSIGN = re.compile(rf"^\s*({_NAME})\s*=")
_PREC = 1200  # decimal digits: enough for any double, exactly, at up to _MAX_PLACES places
_MAX_PLACES = 50  # answers written to more places than this are compared at this many


@dataclass
class Written:
    """An answer as the user wrote it: the text, its value, and the place of its last digit."""

    text: str
    value: float
    decimals: int  #: 2 for `0.20`, 0 for `-12`, 4 for `1.2e-3`, -2 for `1.5e3`


def written(text, what: str = "the answer") -> Written:
    """Read an answer, keeping how many decimals it was written with (UsageError if not a number)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UsageError(f"{what} is not a number: {text!r}")
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, float):  # a float whose spelling is lost (Python API): its shortest repr
        text = getattr(text, "text", None) or repr(text)
    clean = text.strip().replace("\u2212", "-").replace("_", "")
    m = _WRITTEN.match(clean)
    if not m:
        raise UsageError(f"{what} is not a number: {text!r}")
    mantissa = clean.split("e")[0].split("E")[0]
    frac = mantissa.split(".")[1] if "." in mantissa else ""
    decimals = len(frac) - int(m.group(1) or 0)
    value = float(clean)
    if not math.isfinite(value):
        raise UsageError(f"{what} is not a finite number: {text!r}")
    return Written(text.strip(), value, max(min(decimals, _MAX_PLACES), -_MAX_PLACES))


def matches(answer: Written, actual: float, rtol: float | None = None, atol: float | None = None) -> bool:
    """The answer-matching rule (see the module docstring)."""
    if rtol is not None or atol is not None:
        return abs(answer.value - actual) <= (atol or 0.0) + (rtol or 0.0) * abs(actual)
    # exact decimal arithmetic: Decimal(float) is the double's exact binary value (<= 770 digits)
    with localcontext(prec=_PREC):
        half = Decimal(5).scaleb(-answer.decimals - 1)
        slack = Decimal(4 * math.ulp(actual))
        gap = abs(Decimal(answer.text.replace("\u2212", "-").replace("_", "")) - Decimal(actual))
        return gap <= half + slack


def rounded(actual: float, decimals: int) -> str:
    """bp's value rounded to the answer's last place, as text (`-0.59`, `3`, `1500`)."""
    with localcontext(prec=_PREC):
        q = Decimal(actual).quantize(Decimal(1).scaleb(-decimals))
        return format(abs(q) if q == 0 else q, "f")  # never "-0.00"


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
    """`NAME=VALUE` from `--expect` -> (name, value text)."""
    name, sep, value = word.partition("=")
    name = name.strip().replace("\u2202", "d")  # ∂f/∂x is df/dx
    if not sep or not name or not value.strip():
        raise UsageError(f"--expect {word!r}: write NAME=VALUE (as in --expect dx=-4)")
    return name, value.strip()


@dataclass
class Answer:
    """One checked answer."""

    name: str  #: as the user wrote it (`dx`)
    quantity: str  #: what it is (`df/dx`, `f`, `q`)
    written: Written
    actual: float
    right: bool
    rounded: str | None  #: bp's value at the answer's precision (None under rtol/atol)
    #: for an array answer: CS231n's relative error max|a - b| / max(|a| + |b|)
    rel_error: float | None = None


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


def check(
    source,
    bindings: dict[str, float],
    expect,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    tie: str = "split",
) -> Report:
    """Check answers (`[(name, value text), ...]` or a dict) against bp's values and gradients.

    >>> check("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, {"dz": "4"}).passed
    False
    """
    from ..core.engine import evaluate

    for what, tol in (("--rtol", rtol), ("--atol", atol)):
        if tol is not None and not (math.isfinite(tol) and tol >= 0):
            raise UsageError(f"{what} must be a finite number >= 0, not {tol!r}")
    pairs = list(expect.items()) if isinstance(expect, dict) else list(expect)
    if not pairs:
        raise UsageError("nothing to check: give answers with --expect NAME=VALUE (as in --expect dx=-4)")
    result = evaluate(source, bindings, tie=tie)
    src = result.graph.source if isinstance(source, str) else source.source
    out = output_name(src)
    table = quantities(result, out)
    answers = []
    for name, text in pairs:
        name = name.strip().replace("\u2202", "d")
        if name not in table:
            raise UsageError(
                f"--expect {name}: '{name}' is not a name in this expression; "
                f"it could be: {_names_hint(result, out)}"
            )
        quantity, actual = table[name]
        if getattr(actual, "ndim", 0) or _looks_like_array(text):
            answers.append(array_answer(name, quantity, text, actual, rtol, atol))
            continue
        w = written(text, f"the answer for {name}")
        right = matches(w, actual, rtol, atol)
        exact = rtol is None and atol is None
        answers.append(
            Answer(name, quantity, w, actual, right, rounded(actual, w.decimals) if exact else None)
        )
    return Report(src, dict(bindings), answers, rtol, atol, list(result.warnings))


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
    w = Written(text.strip(), float("nan"), 0)
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
    return Answer(name, quantity, w, actual, right, None, rel)


# -- problem sets ----------------------------------------------------------------------------

_PROBLEM_KEYS = {"name", "expression", "bindings", "expect", "points", "rtol", "atol", "tie"}
_TOP_KEYS = {"title", "problem", "rtol", "atol", "tie"}


@dataclass
class Problem:
    """One problem of a set: an expression, its bindings, the answers to check, its points."""

    name: str
    expression: str
    bindings: dict[str, float]
    expect: list[tuple[str, str]]
    points: float = 1.0
    rtol: float | None = None
    atol: float | None = None
    tie: str = "split"
    label: str = ""  #: how messages call it: `problem 'neuron'`, or `problem 3` when unnamed


@dataclass
class Graded:
    """One problem's report and score (points in proportion to the answers right)."""

    problem: Problem
    report: Report

    @property
    def score(self) -> float:
        answers = self.report.answers
        return self.problem.points * self.report.right / len(answers)


@dataclass
class SetReport:
    """A graded problem set."""

    title: str | None
    source: str  #: the file name (or `-`)
    graded: list[Graded]

    @property
    def score(self) -> float:
        return sum(g.score for g in self.graded)

    @property
    def max_score(self) -> float:
        return sum(g.problem.points for g in self.graded)

    @property
    def passed(self) -> bool:
        return all(g.report.passed for g in self.graded)


def _float_text(text: str):
    """tomllib's parse_float hook: a float that remembers how it was written (`-0.20`)."""
    value = _TomlFloat(text.replace("_", ""))
    value.text = text
    return value


class _TomlFloat(float):
    text: str


def read_problem_set(text: str, where: str = "problem set") -> tuple[str | None, list[Problem]]:
    """Parse a TOML problem set; every mistake is a UsageError naming the file and the problem."""
    import tomllib

    try:
        data = tomllib.loads(text, parse_float=_float_text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{where} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown key {unknown[0]!r} (a problem set has {', '.join(sorted(_TOP_KEYS))};"
            " each problem is a [[problem]] table)"
        )
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise UsageError(f"{where}: title must be a string")
    defaults = {k: data[k] for k in ("rtol", "atol", "tie") if k in data}
    raw = data.get("problem")
    if not raw:
        raise UsageError(f"{where}: no problems (add [[problem]] tables with expression, bindings, expect)")
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise UsageError(f"{where}: 'problem' must be an array of tables ([[problem]])")
    problems, seen = [], set()
    for k, p in enumerate(raw, 1):
        name = str(p.get("name", k))
        label = f"problem {name!r}" if "name" in p else f"problem {k}"
        at = f"{where}, {label}"
        problems.append(_problem(p, name, at, defaults))
        problems[-1].label = label
        if name in seen:
            raise UsageError(f"{at}: the name {name!r} is used twice")
        seen.add(name)
    return title, problems


def _problem(p: dict, name: str, at: str, defaults: dict) -> Problem:
    unknown = sorted(set(p) - _PROBLEM_KEYS)
    if unknown:
        raise UsageError(
            f"{at}: unknown key {unknown[0]!r} (a problem has {', '.join(sorted(_PROBLEM_KEYS))})"
        )
    for key in ("expression", "expect"):
        if key not in p:
            raise UsageError(f"{at}: missing key {key!r}")
    expression = p["expression"]
    if not isinstance(expression, str):
        raise UsageError(f"{at}: 'expression' must be a string")
    bindings = p.get("bindings", {})
    expect = p["expect"]
    if not isinstance(bindings, dict):
        raise UsageError(f"{at}: 'bindings' must be a table of name = number")
    if not isinstance(expect, dict) or not expect:
        raise UsageError(
            f'{at}: \'expect\' must be a table of name = answer (as in dx = -4 or "df/dx" = "-4.0")'
        )
    try:
        values = {n: number(n, v) for n, v in bindings.items()}
        answers = [(n, written(v, f"the answer for {n}").text) for n, v in expect.items()]
    except UsageError as e:
        raise UsageError(f"{at}: {e.message}") from None
    points = p.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not (0 <= points < math.inf):
        raise UsageError(f"{at}: 'points' must be a number >= 0, not {points!r}")
    tol = {}
    for key in ("rtol", "atol"):
        v = p.get(key, defaults.get(key))
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0):
            raise UsageError(f"{at}: {key!r} must be a number >= 0, not {v!r}")
        tol[key] = None if v is None else float(v)
    tie = p.get("tie", defaults.get("tie", "split"))
    if tie not in ("split", "first", "both"):
        raise UsageError(f"{at}: 'tie' must be split, first or both, not {tie!r}")
    return Problem(name, expression, values, answers, float(points), tol["rtol"], tol["atol"], tie)


def grade(problems: list[Problem], *, title: str | None = None, source: str = "problem set") -> SetReport:
    """Check every problem; an error in one (syntax, unknown name, math) names that problem."""
    graded = []
    for p in problems:
        try:
            report = check(p.expression, p.bindings, p.expect, rtol=p.rtol, atol=p.atol, tie=p.tie)
        except BpError as e:
            e.message = f"{source}, {p.label or 'problem ' + repr(p.name)}: {e.message}"
            raise
        graded.append(Graded(p, report))
    return SetReport(title, source, graded)


def check_file(path: str, *, rtol: float | None = None, atol: float | None = None) -> SetReport:
    """Read and grade a TOML problem set (`-` reads standard input); `rtol`/`atol` override it."""
    import sys

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as e:
        raise UsageError(f"cannot read problem set {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"problem set {path!r} is not UTF-8 text") from None
    title, problems = read_problem_set(text, path)
    if rtol is not None or atol is not None:
        for p in problems:
            p.rtol, p.atol = rtol, atol
    return grade(problems, title=title, source=path)
