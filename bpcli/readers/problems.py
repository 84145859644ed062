"""Reading homework: answers as written, TOML problem sets (with ranges and choices for a
variant per student), students' answer files (TOML or JSON), and writing a variant back as TOML.

An answer is a number (its written decimals kept: `-0.20` is two decimals), a constant
expression (`2/5`, `-1/(1+e)`, evaluated by bp's own parser and engine, never Python's eval), or
a formula in the problem's variables (`y*z`), which bp compares with the true partial at many
points. Nothing here grades; tools/check.py does."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.errors import BpError, UsageError
from .bindings import number

# unambiguous, so a failed match is linear in the text's length (no nested choices of digits)
_WRITTEN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?")
_MAX_PLACES = 50  # answers written to more places than this are compared at this many
_MAX_ANSWER = 2000  # characters: an answer is a number or a short formula


@dataclass
class Written:
    """An answer as the user wrote it.

    A number keeps the place of its last digit (`decimals`); a constant expression has a value
    and no decimals (it is exact); a formula (`formula` set) has variables and no single value."""

    text: str
    value: float | None
    decimals: int | None  #: 2 for `0.20`, 0 for `-12`, 4 for `1.2e-3`, -2 for `1.5e3`; None if exact
    formula: object = None  #: the parsed Graph of an answer in the problem's variables

    @property
    def kind(self) -> str:
        """`number`, `expression` (constant) or `formula` (has variables)."""
        if self.formula is not None:
            return "formula"
        return "number" if self.decimals is not None else "expression"


def written(text, what: str = "the answer") -> Written:
    """Read an answer: a number, a constant expression or a formula (UsageError otherwise).

    >>> written("-0.20").decimals, written("2/5").value, written("y*z").kind
    (2, 0.4, 'formula')
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UsageError(f"{what} is not a number: {text!r}")
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, float):  # a float whose spelling is lost (Python API): its shortest repr
        text = getattr(text, "text", None) or repr(text)
    clean = text.strip().replace("\u2212", "-")
    if len(clean) > _MAX_ANSWER:
        raise UsageError(f"{what} is too long ({len(clean)} characters; at most {_MAX_ANSWER})")
    m = _WRITTEN.fullmatch(clean.replace("_", ""))
    if m:
        clean = clean.replace("_", "")
        if len(m.group(1) or "") > 6:  # 1e-999999999999999999999: beyond any double and Decimal's range
            raise UsageError(f"{what} has an exponent out of range: {text.strip()[:40]!r}")
        mantissa = clean.split("e")[0].split("E")[0]
        frac = mantissa.split(".")[1] if "." in mantissa else ""
        decimals = len(frac) - int(m.group(1) or 0)
        value = float(clean)
        if not math.isfinite(value):
            raise UsageError(f"{what} is not a finite number: {text!r}")
        return Written(text.strip(), value, max(min(decimals, _MAX_PLACES), -_MAX_PLACES))
    return _expression(text.strip(), clean, what)


def _expression(text: str, clean: str, what: str) -> Written:
    from ..core.engine import forward
    from ..core.parse import parse

    if not clean:
        raise UsageError(f"{what} is empty")
    try:
        graph = parse(clean)
    except BpError as e:
        raise UsageError(f"{what} is not a number or an expression: {text!r} ({e.message})") from None
    if graph.var_ids:
        return Written(text, None, None, graph)
    try:
        value = forward(graph, {})[graph.output]
    except BpError:
        raise UsageError(f"{what} is not a finite number: {text!r}") from None
    return Written(text, value, None)


# -- problem sets ----------------------------------------------------------------------------

_PROBLEM_KEYS = {"name", "expression", "bindings", "expect", "ask", "points", "rtol", "atol", "tie"}
_TOP_KEYS = {"title", "seed", "problem", "rtol", "atol", "tie"}
_MAX_SPREAD = 1_000_000  # values a range may hold


@dataclass
class Spread:
    """A binding a variant draws: every value of a range on a step grid, or a list of choices."""

    values: list[float]
    spec: str  #: as a sheet or message shows it: `range [-5, 5], step 1`


@dataclass
class Problem:
    """One problem of a set: an expression, its bindings, the answers to check, its points.

    `ask` lists the questions a student answers (None: the names of `expect`, or when `expect`
    is empty too, the gradient of every input). Bindings may be Spreads until a variant is made."""

    name: str
    expression: str
    bindings: dict[str, float | Spread]
    expect: list[tuple[str, str]]
    points: float = 1.0
    rtol: float | None = None
    atol: float | None = None
    tie: str = "split"
    label: str = ""  #: how messages call it: `problem 'neuron'`, or `problem 3` when unnamed
    ask: list[str] | None = None
    explicit_name: bool = True

    @property
    def spreads(self) -> list[str]:
        """The names of bindings still to be drawn."""
        return [n for n, v in self.bindings.items() if isinstance(v, Spread)]


@dataclass
class ProblemSet:
    """A problem set as read: title, the seed it was made from (a variant), defaults, problems."""

    title: str | None
    problems: list[Problem]
    seed: str | None = None
    defaults: dict = field(default_factory=dict)


class _TomlFloat(float):
    text: str


def _float_text(text: str):
    """tomllib's and json's parse_float hook: a float that remembers how it was written (`-0.20`)."""
    value = _TomlFloat(text.replace("_", ""))
    value.text = text
    return value


def _toml(text: str, where: str) -> dict:
    import tomllib

    try:
        return tomllib.loads(text, parse_float=_float_text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{where} is not valid TOML: {e}") from None


def read_set(text: str, where: str = "problem set") -> ProblemSet:
    """Parse a TOML problem set; every mistake is a UsageError naming the file and the problem."""
    data = _toml(text, where)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown key {unknown[0]!r} (a problem set has {', '.join(sorted(_TOP_KEYS))};"
            " each problem is a [[problem]] table)"
        )
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise UsageError(f"{where}: title must be a string")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (str, int))):
        raise UsageError(f"{where}: seed must be a string or an integer")
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
        problems[-1].explicit_name = "name" in p
        if name in seen:
            raise UsageError(f"{at}: the name {name!r} is used twice")
        seen.add(name)
    return ProblemSet(title, problems, None if seed is None else str(seed), defaults)


def read_problem_set(text: str, where: str = "problem set") -> tuple[str | None, list[Problem]]:
    """(title, problems) of a TOML problem set (see read_set)."""
    s = read_set(text, where)
    return s.title, s.problems


def _problem(p: dict, name: str, at: str, defaults: dict) -> Problem:
    unknown = sorted(set(p) - _PROBLEM_KEYS)
    if unknown:
        raise UsageError(
            f"{at}: unknown key {unknown[0]!r} (a problem has {', '.join(sorted(_PROBLEM_KEYS))})"
        )
    if "expression" not in p:
        raise UsageError(f"{at}: missing key 'expression'")
    expression = p["expression"]
    if not isinstance(expression, str):
        raise UsageError(f"{at}: 'expression' must be a string")
    bindings = p.get("bindings", {})
    expect = p.get("expect", {})
    if not isinstance(bindings, dict):
        raise UsageError(f"{at}: 'bindings' must be a table of name = number")
    if not isinstance(expect, dict):
        raise UsageError(
            f'{at}: \'expect\' must be a table of name = answer (as in dx = -4 or "df/dx" = "-4.0")'
        )
    ask = p.get("ask")
    if ask is not None and (not isinstance(ask, list) or not all(isinstance(a, str) for a in ask)):
        raise UsageError(f'{at}: \'ask\' must be a list of names (as in ask = ["f", "dx", "dy"])')
    try:
        values = {n: _spread(n, v) if isinstance(v, dict) else number(n, v) for n, v in bindings.items()}
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
    problem = Problem(name, expression, values, answers, float(points), tol["rtol"], tol["atol"], tie)
    problem.ask = None if ask is None else [a.strip() for a in ask]
    return problem


def _exact(name: str, v) -> Decimal:
    """A TOML number as the exact decimal it was written as (0.1 is 1/10, not the double)."""
    number(name, v)  # the usual checks and message
    return Decimal(getattr(v, "text", None) or repr(v)).normalize() if isinstance(v, float) else Decimal(v)


def _spread(name: str, spec: dict) -> Spread:
    """`{range = [lo, hi], step = s}` (step 1 unless given) or `{choices = [a, b, ...]}`."""
    keys = set(spec)
    if keys == {"choices"}:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise UsageError(f"the choices for '{name}' must be a non-empty list of numbers")
        values = [number(name, c) for c in choices]
        return Spread(values, f"one of {', '.join(_num_text(v) for v in values)}")
    if "range" not in keys or not keys <= {"range", "step"}:
        raise UsageError(
            f"the binding '{name}' must be a number, {{range = [lo, hi], step = s}} or {{choices = [...]}}"
        )
    bounds = spec["range"]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise UsageError(f"the range for '{name}' must be [lo, hi]")
    lo, hi = (_exact(name, b) for b in bounds)
    step = _exact(name, spec.get("step", 1))
    if not (lo <= hi and step > 0):
        raise UsageError(f"the range for '{name}' needs lo <= hi and a step > 0")
    count = int((hi - lo) / step) + 1
    if count > _MAX_SPREAD:
        raise UsageError(
            f"the range for '{name}' holds {count} values (at most {_MAX_SPREAD}): use a larger step"
        )
    values = [float(lo + k * step) for k in range(count)]
    return Spread(
        values, f"range [{_num_text(float(lo))}, {_num_text(float(hi))}], step {_num_text(float(step))}"
    )


def draw(problem: Problem, seed: str, attempt: int) -> dict[str, float]:
    """The bindings of one draw: each Spread's value picked by SHA-256 of the seed, the problem's
    name, the attempt and the binding's name (stable across runs, machines and Python versions,
    unlike the salted built-in hash)."""
    out = {}
    for name, v in problem.bindings.items():
        if isinstance(v, Spread):
            key = f"bp variant\0{seed}\0{problem.name}\0{attempt}\0{name}".encode()
            index = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % len(v.values)
            out[name] = v.values[index]
        else:
            out[name] = v
    return out


# -- answer files ----------------------------------------------------------------------------


def read_answers(text: str, where: str = "answers", json_text: bool | None = None) -> dict:
    """A student's answers: {problem name: [(answer name, text), ...]} from TOML or JSON (one
    table per problem). `json_text` None: JSON when the text starts with `{`. A name given twice
    in one table is a UsageError (TOML itself refuses a repeated key)."""
    import json

    if json_text is None:
        json_text = text.lstrip().startswith("{")
    if json_text:

        def pairs(items):
            seen = set()
            for k, _ in items:
                if k in seen:
                    raise UsageError(f"{where}: {k!r} is answered twice")
                seen.add(k)
            return dict(items)

        try:
            data = json.loads(text, parse_float=_float_text, object_pairs_hook=pairs)
        except ValueError as e:
            raise UsageError(f"{where} is not valid JSON: {e}") from None
    else:
        data = _toml(text, where)
    if not isinstance(data, dict):
        raise UsageError(f"{where}: an answer file is a table per problem (as in [neuron] dw0 = -0.20)")
    out = {}
    for problem, table in data.items():
        if not isinstance(table, dict):
            raise UsageError(
                f"{where}: {problem!r} must be a table of answers for that problem (as in [{problem}] dx = -4)"
            )
        out[str(problem)] = [(str(n), v) for n, v in table.items()]
    return out


# -- writing a problem set (a variant) as TOML -------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped (TOML 1.0 §String).

    >>> print(toml_string('a "b"\\n'))
    "a \\"b\\"\\n"
    """
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(s: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    return s if _BARE_KEY.fullmatch(s) else toml_string(s)


def _num_text(v: float) -> str:
    """A finite double as TOML (and bp) read it back exactly: `-3`, `0.5`, `1e-05`."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def write_set(s: ProblemSet) -> str:
    """A problem set as TOML text, every binding a number (a variant), keys in a fixed order, so
    the same set always gives the same bytes."""
    lines = []
    if s.seed is not None:
        lines.append(f"# a variant made by bp problems make --seed {toml_string(s.seed)}")
    if s.title is not None:
        lines.append(f"title = {toml_string(s.title)}")
    if s.seed is not None:
        lines.append(f"seed = {toml_string(s.seed)}")
    for key in ("rtol", "atol"):
        if key in s.defaults:
            lines.append(f"{key} = {_num_text(float(s.defaults[key]))}")
    if "tie" in s.defaults:
        lines.append(f"tie = {toml_string(s.defaults['tie'])}")
    for p in s.problems:
        lines += ["", "[[problem]]"]
        if p.explicit_name:
            lines.append(f"name = {toml_string(p.name)}")
        lines.append(f"expression = {toml_string(p.expression)}")
        if p.points != 1:
            lines.append(f"points = {_num_text(p.points)}")
        for key in ("rtol", "atol"):
            v = getattr(p, key)
            if v is not None and s.defaults.get(key) != v:
                lines.append(f"{key} = {_num_text(v)}")
        if p.tie != s.defaults.get("tie", "split"):
            lines.append(f"tie = {toml_string(p.tie)}")
        values = ", ".join(f"{toml_key(n)} = {_num_text(v)}" for n, v in p.bindings.items())
        lines.append(f"bindings = {{ {values} }}" if values else "bindings = {}")
        ask = p.ask if p.ask is not None else [n for n, _ in p.expect]
        if ask:
            lines.append(f"ask = [{', '.join(toml_string(a) for a in ask)}]")
    return "\n".join(lines) + "\n"


def write_answers(key: dict[str, list[tuple[str, float]]]) -> str:
    """An answer file (TOML): one table per problem, each answer at full precision."""
    lines = []
    for problem, answers in key.items():
        if lines:
            lines.append("")
        lines.append(f"[{toml_key(problem)}]")
        lines += [f"{toml_key(n)} = {_num_text(v)}" for n, v in answers]
    return "\n".join(lines) + "\n"


def answer_template(asked: dict[str, list[str]]) -> str:
    """An answer file to fill in: one table per problem, each question `= ""` (an empty answer
    counts as no answer)."""
    lines = []
    for problem, names in asked.items():
        if lines:
            lines.append("")
        lines.append(f"[{toml_key(problem)}]")
        lines += [f'{toml_key(n)} = ""' for n in names]
    return "\n".join(lines) + "\n"
