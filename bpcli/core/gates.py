"""The gate table: every gate bp knows, as one row of data each.

A row says how the gate computes its output (forward), the local gradient of each input
(multiplied by the upstream gradient in the backward pass), the lecture's name for how it moves
gradient (its pattern), a short label for the picture, and how it expands into the lecture's
primitive gates (`*`, `+`, `*a`, `+c`, `exp`, `1/x`, ...).

Forward and local-gradient functions take a math namespace `m` first, so the same row serves
the scalar engine (`SCALAR`, IEEE semantics on Python floats) and the batch engine (NumPy).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

INF = math.inf
NAN = math.nan


class ScalarMath:
    """Scalar math with IEEE results instead of Python exceptions (exp(1000) = inf, log(0) = -inf)."""

    @staticmethod
    def exp(x):
        try:
            return math.exp(x)
        except OverflowError:
            return INF

    @staticmethod
    def log(x):
        if x > 0:
            return math.log(x)
        return -INF if x == 0 else NAN

    @staticmethod
    def log1p(x):
        if x > -1:
            return math.log1p(x)
        return -INF if x == -1 else NAN

    @staticmethod
    def sqrt(x):
        return math.sqrt(x) if x >= 0 else NAN

    @staticmethod
    def div(a, b):
        try:
            return a / b
        except ZeroDivisionError:
            if a == 0 or a != a:
                return NAN
            return math.copysign(INF, a) * math.copysign(1.0, b)

    @staticmethod
    def pow(a, b):
        try:
            return math.pow(a, b)
        except OverflowError:
            # |a| > 1 with a huge exponent; the sign follows an odd integer exponent
            odd = b == int(b) and int(b) % 2 == 1 if math.isfinite(b) else False
            return -INF if (a < 0 and odd) else INF
        except ValueError:
            if a == 0:  # 0 to a negative power
                return INF
            return NAN

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def sign(x):
        return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)

    abs = staticmethod(abs)
    tanh = staticmethod(math.tanh)

    @staticmethod
    def sin(x):
        return math.sin(x) if math.isfinite(x) else NAN

    @staticmethod
    def cos(x):
        return math.cos(x) if math.isfinite(x) else NAN

    @staticmethod
    def tan(x):
        return math.tan(x) if math.isfinite(x) else NAN

    @staticmethod
    def maximum(a, b):
        return a if a >= b else b

    @staticmethod
    def minimum(a, b):
        return a if a <= b else b

    @staticmethod
    def equal(a, b):
        return 1.0 if a == b else 0.0


SCALAR = ScalarMath()


@dataclass(frozen=True)
class Gate:
    """One row of the gate table."""

    op: str  #: key used in the graph
    symbol: str  #: how the picture draws it (`+`, `*`, `σ`, ...)
    arity: int  #: number of inputs; 0 means two or more (max, min)
    forward: Callable  #: forward(m, *inputs, p) -> output
    local: Callable  #: local(m, out, *inputs, p) -> tuple of d out / d input_i
    pattern: str | None = None  #: "distributor" | "swapper" | "router" | None (JSON `pattern`)
    label: str = ""  #: short description of how it moves gradient, for the picture
    expand: Callable | None = None  #: expand(b, *inputs, p) -> node id in primitive gates, or None
    kink: Callable | None = None  #: kink(*inputs) -> what to warn at a non-differentiable point
    primitive: bool = True  #: one of the lecture's primitive gates (kept by --expand)
    #: the gate as a formula over its inputs' names, for staged steps (`{0} + {1}`, `exp({0})`);
    #: a str.format template (`{p}` the parameter, `{all}` every input) or a callable(names, p)
    formula: str | Callable = ""
    #: local(out, *inputs, p) as text over names or numbers, one per input, each written so that
    #: `text * upstream` reads right (`z`, `(1 - s) * s`, `(-1/d^2)`); None: show the number
    local_text: Callable | None = None


def _sigmoid(m, x):
    # stable on both sides: never exp of a large positive number
    e = m.exp(-m.abs(x))
    q = 1 / (1 + e)  # one division, shared by both sides (batch mode runs this on every point)
    return m.where(x >= 0, q, e * q)


def _softplus(m, x):
    return m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x)))


def _max_local(m, out, *xs, p=None, tie="split"):
    hits = [m.equal(x, out) for x in xs]
    if tie == "both":
        return tuple(hits)
    if tie == "first":
        taken = 0.0
        firsts = []
        for h in hits:
            firsts.append(h * (1 - taken))
            taken = taken + firsts[-1]
        return tuple(firsts)
    count = sum(hits)
    return tuple(h / count for h in hits)


def _tie_kink(name):
    def kink(*xs):
        best = max(xs) if name == "max" else min(xs)
        tied = [i for i, x in enumerate(xs) if x == best]
        if len(tied) > 1:
            return f"has tied inputs ({best!r} at arguments {', '.join(str(i + 1) for i in tied)})"
        return None

    return kink


def _pow_local(m, out, a, b, p=None):
    # d/da a^b = b a^(b-1) (0 when b = 0, even at a = 0)
    da = m.where(b == 0, 0.0, b * m.pow(a, b - 1))
    # d/db a^b = a^b ln a, for a > 0; its limit at a = 0 is 0 when b > 0; undefined for a < 0
    db = m.where(a > 0, out * m.log(m.where(a > 0, a, 1.0)), m.where(a == 0, m.where(b > 0, 0.0, NAN), NAN))
    return da, db


def _expand_add(b, x, y, p=None):
    if b.is_const(x):
        return b.gate("shift", y, param=b.const_value(x))
    if b.is_const(y):
        return b.gate("shift", x, param=b.const_value(y))
    return None


def _expand_mul(b, x, y, p=None):
    if b.is_const(y):
        x, y = y, x
    if b.is_const(x):
        # a constant factor is the lecture's *a gate; a factor of 1 is no gate at all
        return y if b.const_value(x) == 1 else b.gate("scale", y, param=b.const_value(x))
    return None


def _expand_pow(b, x, y, p=None):
    if b.is_const(y):
        return b.gate("powc", x, param=b.const_value(y))
    if b.is_const(x) and b.const_value(x) <= 0:
        return None  # 0^b, (-2)^b: no exp(b log a) form (log a is not finite); keep the ^ gate
    # a^b = exp(b log a): defined for a > 0
    return b.gate("exp", b.gate("mul", y, b.gate("log", x)))


def _powc_text(x, p):
    # d/dx x^c = c x^(c-1): the lecture writes (2 * xpy) for c = 2
    if p == 1:
        return "1"
    if p == 2:
        return f"(2 * {x})"
    return f"({_fmt(p)} * {x}^{_fmt(p - 1)})"


def _pow_text(x, y):
    # a number for the exponent (x^2 with the constant 2) reads as the lecture's (2 * xpy)
    if re.fullmatch(r"-?\d+(\.\d*)?(e[-+]?\d+)?", y):
        return _powc_text(x, float(y))
    return f"{y} * {x}^({y} - 1)"


def _fmt(p):
    """A gate parameter as the picture writes it: 2.0 -> 2, 0.5 -> 0.5."""
    return repr(int(p)) if p == int(p) and abs(p) < 1e15 else repr(p)


_ROWS = [
    # -- the lecture's primitive gates ------------------------------------------------------
    Gate(
        "add",
        "+",
        2,
        forward=lambda m, x, y, p=None: x + y,
        local=lambda m, o, x, y, p=None: (1.0, 1.0),
        pattern="distributor",
        label="distributor: passes the gradient to both inputs",
        expand=_expand_add,
        formula="{0} + {1}",
        local_text=lambda o, x, y, p=None: ("1", "1"),
    ),
    Gate(
        "mul",
        "*",
        2,
        forward=lambda m, x, y, p=None: x * y,
        local=lambda m, o, x, y, p=None: (y, x),
        pattern="swapper",
        label="swapper: each input gets the other input times the gradient",
        expand=_expand_mul,
        formula="{0} * {1}",
        local_text=lambda o, x, y, p=None: (y, x),
    ),
    Gate(
        "scale",
        "*a",
        1,
        forward=lambda m, x, p: p * x,
        local=lambda m, o, x, p: (p,),
        label="scale by a",
        formula=lambda n, p: f"{_fmt(p)} * {n[0]}",
        local_text=lambda o, x, p: (_fmt(p),),
    ),
    Gate(
        "shift",
        "+c",
        1,
        forward=lambda m, x, p: x + p,
        local=lambda m, o, x, p: (1.0,),
        pattern="distributor",
        label="distributor: passes the gradient through",
        formula=lambda n, p: f"{n[0]} {'+' if p >= 0 else '-'} {_fmt(abs(p))}",
        local_text=lambda o, x, p: ("1",),
    ),
    Gate(
        "recip",
        "1/x",
        1,
        forward=lambda m, x, p=None: m.div(1.0, x),
        local=lambda m, o, x, p=None: (-o * o,),
        label="×(−1/x²)",
        formula="1/{0}",
        local_text=lambda o, x, p=None: (f"(-1/{x}^2)",),
    ),
    Gate(
        "id",
        "id",
        1,
        forward=lambda m, x, p=None: x,
        local=lambda m, o, x, p=None: (1.0,),
        label="identity (q = x): passes the gradient through",
        formula="{0}",
        local_text=lambda o, x, p=None: ("1",),
    ),
    Gate(
        "exp",
        "exp",
        1,
        forward=lambda m, x, p=None: m.exp(x),
        local=lambda m, o, x, p=None: (o,),
        label="×e^x",
        formula="exp({0})",
        local_text=lambda o, x, p=None: (f"exp({x})",),
    ),
    Gate(
        "log",
        "log",
        1,
        forward=lambda m, x, p=None: m.log(x),
        local=lambda m, o, x, p=None: (m.div(1.0, x),),
        label="×1/x",
        formula="log({0})",
        local_text=lambda o, x, p=None: (f"(1/{x})",),
    ),
    Gate(
        "powc",
        "^c",
        1,
        forward=lambda m, x, p: m.pow(x, p),
        local=lambda m, o, x, p: (0.0 * x if p == 0 else p * m.pow(x, p - 1),),
        label="×c·x^(c−1)",
        formula="{0}^{p}",
        local_text=lambda o, x, p: (_powc_text(x, p),),
    ),
    Gate(
        "max",
        "max",
        0,
        forward=lambda m, *xs, p=None: _fold(m.maximum, xs),
        local=_max_local,
        pattern="router",
        label="router: the gradient goes to the largest input",
        kink=_tie_kink("max"),
        formula="max({all})",
    ),
    Gate(
        "min",
        "min",
        0,
        forward=lambda m, *xs, p=None: _fold(m.minimum, xs),
        local=_max_local,
        pattern="router",
        label="router: the gradient goes to the smallest input",
        kink=_tie_kink("min"),
        formula="min({all})",
    ),
    Gate(
        "relu",
        "relu",
        1,
        forward=lambda m, x, p=None: m.where(x > 0, x, 0.0),
        local=lambda m, o, x, p=None: (m.where(x > 0, 1.0, 0.0),),
        label="gate: passes the gradient where x > 0",
        kink=lambda x: "is at its kink x = 0; using relu'(0) = 0" if x == 0 else None,
        formula="relu({0})",
    ),
    Gate(
        "abs",
        "abs",
        1,
        forward=lambda m, x, p=None: m.abs(x),
        local=lambda m, o, x, p=None: (m.sign(x),),
        label="×sign(x)",
        kink=lambda x: "is at its kink x = 0; using abs'(0) = 0" if x == 0 else None,
        formula="abs({0})",
        local_text=lambda o, x, p=None: (f"sign({x})",),
    ),
    Gate(
        "sin",
        "sin",
        1,
        forward=lambda m, x, p=None: m.sin(x),
        local=lambda m, o, x, p=None: (m.cos(x),),
        label="×cos x",
        formula="sin({0})",
        local_text=lambda o, x, p=None: (f"cos({x})",),
    ),
    Gate(
        "cos",
        "cos",
        1,
        forward=lambda m, x, p=None: m.cos(x),
        local=lambda m, o, x, p=None: (-m.sin(x),),
        label="×(−sin x)",
        formula="cos({0})",
        local_text=lambda o, x, p=None: (f"(-sin({x}))",),
    ),
    # -- composite gates: --expand rewrites them into the primitives above --------------------
    Gate(
        "sub",
        "-",
        2,
        forward=lambda m, x, y, p=None: x - y,
        local=lambda m, o, x, y, p=None: (1.0, -1.0),
        label="distributor with a sign flip: +g to the left, −g to the right",
        expand=lambda b, x, y, p=None: b.gate("add", x, b.gate("scale", y, param=-1.0)),
        primitive=False,
        formula="{0} - {1}",
        local_text=lambda o, x, y, p=None: ("1", "(-1)"),
    ),
    Gate(
        "neg",
        "-",
        1,
        forward=lambda m, x, p=None: -x,
        local=lambda m, o, x, p=None: (-1.0,),
        label="scale by −1",
        expand=lambda b, x, p=None: b.gate("scale", x, param=-1.0),
        primitive=False,
        formula="-{0}",
        local_text=lambda o, x, p=None: ("(-1)",),
    ),
    Gate(
        "div",
        "/",
        2,
        forward=lambda m, x, y, p=None: m.div(x, y),
        local=lambda m, o, x, y, p=None: (m.div(1.0, y), -m.div(o, y)),
        label="×1/y to the top, ×(−x/y²) to the bottom",
        expand=lambda b, x, y, p=None: b.gate("mul", x, b.gate("recip", y)),
        primitive=False,
        formula="{0} / {1}",
        local_text=lambda o, x, y, p=None: (f"(1/{y})", f"(-{x}/{y}^2)"),
    ),
    Gate(
        "pow",
        "^",
        2,
        forward=lambda m, x, y, p=None: m.pow(x, y),
        local=_pow_local,
        label="×b·a^(b−1) to the base, ×a^b·ln a to the exponent",
        expand=_expand_pow,
        primitive=False,
        formula="{0}^{1}",
        local_text=lambda o, x, y, p=None: (_pow_text(x, y), f"{o} * log({x})"),
    ),
    Gate(
        "sqrt",
        "sqrt",
        1,
        forward=lambda m, x, p=None: m.sqrt(x),
        local=lambda m, o, x, p=None: (m.div(0.5, o),),
        label="×1/(2√x)",
        expand=lambda b, x, p=None: b.gate("powc", x, param=0.5),
        primitive=False,
        formula="sqrt({0})",
        local_text=lambda o, x, p=None: (f"(1/(2 * {o}))",),
    ),
    Gate(
        "sigmoid",
        "σ",
        1,
        forward=lambda m, x, p=None: _sigmoid(m, x),
        local=lambda m, o, x, p=None: ((1 - o) * o,),
        label="×σ(1−σ)",
        expand=lambda b, x, p=None: b.gate(
            "recip", b.gate("shift", b.gate("exp", b.gate("scale", x, param=-1.0)), param=1.0)
        ),
        primitive=False,
        formula="σ({0})",
        local_text=lambda o, x, p=None: (f"(1 - {o}) * {o}",),
    ),
    Gate(
        "tanh",
        "tanh",
        1,
        forward=lambda m, x, p=None: m.tanh(x),
        local=lambda m, o, x, p=None: (1 - o * o,),
        label="×(1−tanh²)",
        expand=lambda b, x, p=None: b.gate(
            "shift",
            b.gate(
                "scale",
                b.gate("recip", b.gate("shift", b.gate("exp", b.gate("scale", x, param=-2.0)), param=1.0)),
                param=2.0,
            ),
            param=-1.0,
        ),
        primitive=False,
        formula="tanh({0})",
        local_text=lambda o, x, p=None: (f"(1 - {o}^2)",),
    ),
    Gate(
        "softplus",
        "softplus",
        1,
        forward=lambda m, x, p=None: _softplus(m, x),
        local=lambda m, o, x, p=None: (_sigmoid(m, x),),
        label="×σ(x)",
        expand=lambda b, x, p=None: b.gate("log", b.gate("shift", b.gate("exp", x), param=1.0)),
        primitive=False,
        formula="softplus({0})",
        local_text=lambda o, x, p=None: (f"σ({x})",),
    ),
    Gate(
        "tan",
        "tan",
        1,
        forward=lambda m, x, p=None: m.tan(x),
        local=lambda m, o, x, p=None: (1 + o * o,),
        label="×(1+tan²)",
        expand=lambda b, x, p=None: b.gate("mul", b.gate("sin", x), b.gate("recip", b.gate("cos", x))),
        primitive=False,
        formula="tan({0})",
        local_text=lambda o, x, p=None: (f"(1 + {o}^2)",),
    ),
]


def _fold(f, xs):
    acc = xs[0]
    for x in xs[1:]:
        acc = f(acc, x)
    return acc


#: the gate table, by op
GATES: dict[str, Gate] = {g.op: g for g in _ROWS}

#: function names of the expression language -> gate op
FUNCTIONS: dict[str, str] = {
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "sqrt": "sqrt",
    "sigmoid": "sigmoid",
    "sigma": "sigmoid",
    "σ": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "abs": "abs",
    "max": "max",
    "min": "min",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "softplus": "softplus",
    "pow": "pow",
}

#: named constants; they cannot be bound as variables
CONSTANTS: dict[str, float] = {"pi": math.pi, "π": math.pi, "e": math.e}


def symbol(op: str, param: float | None = None) -> str:
    """The picture's symbol for a gate: `+`, `*-1`, `+1`, `^2`, `σ` ..."""
    if op == "scale":
        return f"*{_fmt(param)}"
    if op == "shift":
        return f"+{_fmt(param)}" if param >= 0 else f"-{_fmt(-param)}"
    if op == "powc":
        return f"^{_fmt(param)}"
    return GATES[op].symbol


def formula(op: str, names: list[str], param: float | None = None) -> str:
    """The gate as a formula over its inputs' names: `q + z`, `exp(s)`, `1/d`, `max(z, w)`."""
    row = GATES[op]
    if callable(row.formula):
        return row.formula(names, param)
    template = row.formula or row.symbol + "({all})"
    p = _fmt(param) if param is not None else ""
    return template.format(*names, p=p, all=", ".join(names))


def local_formulas(op: str, out: str, names: list[str], param: float | None = None) -> tuple:
    """The local gradient of each input as text over `out` and the inputs' names (or numbers);
    None for an input whose local gradient is best shown as its number (max, min, relu)."""
    row = GATES[op]
    if row.local_text is None:
        return (None,) * len(names)
    return row.local_text(out, *names, p=param)


class NumpyMath:
    """The same namespace over NumPy arrays, for the batch engine (one pass over many points).
    Callers run it under `numpy.errstate(all="ignore")` and check finiteness themselves."""

    def __init__(self):
        import numpy as np

        self.np = np
        self.exp, self.log, self.log1p, self.sqrt = np.exp, np.log, np.log1p, np.sqrt
        self.abs, self.tanh, self.sin, self.cos, self.tan = np.abs, np.tanh, np.sin, np.cos, np.tan
        self.sign, self.maximum, self.minimum = np.sign, np.maximum, np.minimum
        self.div, self.pow, self.where = np.divide, np.power, np.where

    def equal(self, a, b):
        return (a == b).astype(float)


# -- array gates: dot, @, reductions, transpose, softmax, logsumexp, indexing ------------------
# (their rows live in array_gates.py; every scalar row above also works elementwise on arrays)
from .array_gates import ARRAY_FUNCTIONS, ARRAY_ROWS  # noqa: E402

GATES.update({g.op: g for g in ARRAY_ROWS})
FUNCTIONS.update(ARRAY_FUNCTIONS)
