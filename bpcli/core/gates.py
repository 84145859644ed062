"""The gate table: every gate bp knows, as one row of data each (like PyTorch's derivatives.yaml).

A row (`Gate`) holds:

- `op`, `symbol`, `inputs`: the graph's key, the picture's symbol, and the names the row gives its
  inputs (`("x", "y")`; `()` for max/min, which take two or more, named x1, x2, ...);
- `forward(m, *inputs, p)`: the output, as code (stable where stability needs it: sigmoid,
  softplus), over a math namespace `m`, so the same row serves the scalar engine (`SCALAR`, IEEE
  semantics on Python floats) and the batch engine (`NumpyMath`);
- `d`: each input's local gradient, written ONCE as a bp expression over the input names, `out`
  (the gate's output) and `p` (its parameter, e.g. the `a` of `*a`): `mul: {"x": "y", "y": "x"}`,
  `sigmoid: {"x": "(1 - out)*out"}`. For max/min, `d` is a function (arity, tie rule) -> strings.
  Everything else is derived from these strings (`bpcli.core.expr`): the engines' numbers
  (`row.local`, compiled once, on first use, into closures), the text of `--steps`, the picture,
  `--compare` and LaTeX, and the backward pass as a graph (`bp diff`, `--hessian`);
- `vjp` (array gates, instead of `d`): each input's vector-Jacobian product over the input
  names, `out`, `p` and `up` (the upstream gradient): `{"A": "up @ transpose(B)", ...}`. It is
  compiled once into `row.pullback(m, out, *inputs, p, up)`, and the gradient graph
  (`bpcli.core.derive`) instantiates it with `up` bound to the upstream node; the engine's
  backward pass still multiplies `local` by `up`, so an array gate also needs a branch there
  that sends `row.pullback(...)` down its wires instead;
- `code`: hand-written local gradients, only where the strings alone cannot give the number (a
  limit at an edge point; max/min of any arity in one pass); tests check it against `d`;
- `pattern` (distributor, swapper, router), `label` (words for the picture), `kink` (what to warn
  at a non-differentiable point), `expand` (the gate in the lecture's primitive gates `*`, `+`,
  `*a`, `+c`, `exp`, `1/x`, ...), `primitive`, and for array gates `shape` and `formula`. The
  gate as text (`x + y`, `σ(x)`) is printed by `bpcli.core.expr` from the op itself (a row's
  `formula` template where the printer has no form of its own: `A @ B`, `a[i]`).

Adding a scalar function is one row here plus its name in `FUNCTIONS` (and in the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from .numbers import number_text

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

    @staticmethod
    def nonneg(x):
        """1.0 where x >= 0, else 0.0 (the stable sigmoid's choice of side)."""
        return 1.0 if x >= 0 else 0.0

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
    def cosh(x):
        try:
            return math.cosh(x)
        except OverflowError:
            return INF

    @staticmethod
    def sinh(x):
        try:
            return math.sinh(x)
        except OverflowError:
            return math.copysign(INF, x)

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
    """One row of the gate table (see the module docstring for the row format)."""

    op: str  #: key used in the graph
    symbol: str  #: how the picture draws it (`+`, `*`, `σ`, ...)
    inputs: tuple[str, ...]  #: the inputs' names in `d`; () for two or more inputs (max, min)
    forward: Callable  #: forward(m, *inputs, p) -> output
    #: each input's local gradient as a bp expression over the input names, `out` and `p`; or,
    #: for a variadic gate, a function (n inputs, tie rule) -> {"x1": ..., "x2": ..., ...}
    d: dict[str, str] | Callable = field(default_factory=dict)
    #: instead of `d` (array gates): each input's vector-Jacobian product over the input names,
    #: `out`, `p` and `up` (the upstream gradient), e.g. {"A": "up @ transpose(B)"}
    vjp: dict[str, str] | None = None
    pattern: str | None = None  #: "distributor" | "swapper" | "router" | None (JSON `pattern`)
    label: str = ""  #: words for the picture where the local gradient alone does not say it
    expand: Callable | None = None  #: expand(b, *inputs, p) -> node id in primitive gates, or None
    kink: Callable | None = None  #: kink(*inputs) -> what to warn at a non-differentiable point
    primitive: bool = True  #: one of the lecture's primitive gates (kept by --expand)
    #: numeric code for the local gradients instead of the compiled `d`, only where `d` alone
    #: cannot give the value: a limit at an edge point (pow at a = 0) or a variadic gate whose
    #: strings grow with its arity (max, min). tests/test_gates.py checks it against `d`.
    code: Callable | None = None
    #: array gates: shape(input shapes, p) -> the output's shape (ValueError if they do not fit)
    shape: Callable | None = None
    #: array gates: the gate as text where `bpcli.core.expr`'s printer has no form of its own
    #: (`{0} @ {1}`, `a[i]`): a str.format template (`{p}` the parameter, `{all}` every input)
    #: or a callable(names, p)
    formula: str | Callable = ""

    @property
    def arity(self) -> int:
        """Number of inputs; 0 means two or more (max, min)."""
        return len(self.inputs)

    def input_names(self, n: int) -> tuple[str, ...]:
        """The inputs' names in the derivative strings, for a gate with `n` inputs."""
        return self.inputs or tuple(f"x{k + 1}" for k in range(n))

    def derivatives(self, n: int | None = None, tie: str = "split") -> dict[str, str]:
        """{input name: local gradient string}, for `n` inputs under the tie rule `tie`."""
        return self.d(n, tie) if callable(self.d) else self.d

    @cached_property
    def local(self) -> Callable:
        """local(m, out, *inputs, p) -> tuple of d out / d input_i: `code`, or `d` compiled."""
        return self.code or _compile_local(self)

    @cached_property
    def pullback(self) -> Callable:
        """For a `vjp` row: pullback(m, out, *inputs, p, up) -> each input's gradient (its
        vector-Jacobian product with the upstream gradient `up`), compiled once from `vjp`."""
        from .expr import compile_text

        names = self.inputs
        fns = [compile_text(self.vjp[name], ("out", *names, "p", "up"))[0] for name in names]

        def pullback(m, out, *rest):
            *xs, p, up = rest
            v = (out, *xs, p, up)
            return tuple(f(m, v) for f in fns)

        return pullback


def _compile_local(row: Gate) -> Callable:
    """The row's `d` strings as one function of (m, out, *inputs, p), compiled once. Constant
    and bare-name gradients (add, mul, exp's `out`, ...) skip the closures entirely."""
    from .expr import compile_text

    slots = ("out", *row.inputs, "p")
    parts = [compile_text(row.d[name], slots) for name in row.inputs]
    kinds = [kind for _, kind, _ in parts]
    what = [payload for _, _, payload in parts]
    if len(parts) == 1:
        (f, kind, c), (k,) = parts[0], what
        if kind == "const":
            return lambda m, o, x, p=None: (c,)
        if kind == "slot":
            return [lambda m, o, x, p=None: (o,), lambda m, o, x, p=None: (x,), lambda m, o, x, p=None: (p,)][
                k
            ]
        return lambda m, o, x, p=None: (f(m, (o, x, p)),)
    if kinds == ["const", "const"]:
        consts = tuple(what)
        return lambda m, o, x, y, p=None: consts
    if kinds == ["slot", "slot"] and what == [2, 1]:
        return lambda m, o, x, y, p=None: (y, x)  # the swapper
    f0, f1 = (f for f, _, _ in parts)

    def local(m, o, x, y, p=None):
        v = (o, x, y, p)
        return f0(m, v), f1(m, v)

    return local


def _sigmoid(m, x):
    # stable on both sides: never exp of a large positive number. With e = exp(-|x|) and
    # q = 1/(1 + e), sigmoid is q for x >= 0 and e*q for x < 0; as e <= 1, that is
    # q * max(e, 1) and q * max(e, 0): the same doubles as a where(), but no branch or select
    # over the points (batch mode runs this on every point; one division serves both sides)
    e = m.exp(-m.abs(x))
    q = 1 / (1 + e)
    return q * m.maximum(e, m.nonneg(x))


def _softplus(m, x):
    return m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x)))


def _router_d(name: str):
    """max/min's local gradients as strings, per arity and tie rule, written with `step`:
    input k is a winner when out - xk is not > 0 (max), so its indicator is 1 - step(out - xk);
    `split` divides by the number of winners, `first` keeps the first, `both` keeps all."""

    def d(n: int, tie: str = "split") -> dict[str, str]:
        gap = (lambda k: f"out - x{k}") if name == "max" else (lambda k: f"x{k} - out")
        hit = [f"(1 - step({gap(k)}))" for k in range(1, n + 1)]
        if tie == "both":
            texts = hit
        elif tie == "first":
            texts = [" * ".join([hit[k], *(f"step({gap(j)})" for j in range(1, k + 1))]) for k in range(n)]
        else:
            texts = [f"{h} / ({' + '.join(hit)})" for h in hit]
        return {f"x{k + 1}": t for k, t in enumerate(texts)}

    return d


def _max_local(m, out, *xs, p=None, tie="split"):
    # the same numbers as _router_d's strings (tests/test_gates.py), in one pass for any arity
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
    # d's strings, with their limits at the edges: d/da is 0 when b = 0 (even at a = 0, where
    # b * a^(b-1) is 0 * inf); d/db = a^b ln a is 0 at a = 0 when b > 0 (not 0 * -inf)
    da = m.where(b == 0, 0.0, b * m.pow(a, b - 1))
    db = m.where(a > 0, out * m.log(m.where(a > 0, a, 1.0)), m.where(a == 0, m.where(b > 0, 0.0, NAN), NAN))
    return da, db


def _tanh_local(m, out, x, p=None):
    # d's string 1 - out^2, computed as sech(x)^2 from x: near saturation 1 - out^2 cancels
    # (out = 0.99999...), and the last bit of math.tanh vs numpy.tanh became a 5e-6 relative gap
    # between batch and scalar gradients
    e = m.exp(-2 * m.abs(x))
    return (4 * e / ((1 + e) * (1 + e)),)


def _powc_local(m, out, x, p):
    # d's string p*x^(p - 1), and 0 for p = 0 even at x = 0 (where it is 0 * inf)
    return (0.0 * x if p == 0 else p * m.pow(x, p - 1),)


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


X, XY = ("x",), ("x", "y")
_ROWS = [
    # -- the lecture's primitive gates ------------------------------------------------------
    Gate(
        "add",
        "+",
        XY,
        forward=lambda m, x, y, p=None: x + y,
        d={"x": "1", "y": "1"},
        pattern="distributor",
        expand=_expand_add,
    ),
    Gate(
        "mul",
        "*",
        XY,
        forward=lambda m, x, y, p=None: x * y,
        d={"x": "y", "y": "x"},
        pattern="swapper",
        expand=_expand_mul,
    ),
    Gate(
        "scale",
        "*a",
        X,
        forward=lambda m, x, p: p * x,
        d={"x": "p"},
    ),
    Gate(
        "shift",
        "+c",
        X,
        forward=lambda m, x, p: x + p,
        d={"x": "1"},
        pattern="distributor",
    ),
    Gate("recip", "1/x", X, forward=lambda m, x, p=None: m.div(1.0, x), d={"x": "-1/x^2"}),
    Gate(
        "id",
        "id",
        X,
        forward=lambda m, x, p=None: x,
        d={"x": "1"},
        label="identity: passes the gradient through",
    ),
    Gate("exp", "exp", X, forward=lambda m, x, p=None: m.exp(x), d={"x": "out"}),
    Gate("log", "log", X, forward=lambda m, x, p=None: m.log(x), d={"x": "1/x"}),
    Gate(
        "powc",
        "^c",
        X,
        forward=lambda m, x, p: m.pow(x, p),
        d={"x": "p*x^(p - 1)"},
        code=_powc_local,
    ),
    Gate(
        "max",
        "max",
        (),
        forward=lambda m, *xs, p=None: _fold(m.maximum, xs),
        d=_router_d("max"),
        code=_max_local,
        pattern="router",
        kink=_tie_kink("max"),
    ),
    Gate(
        "min",
        "min",
        (),
        forward=lambda m, *xs, p=None: _fold(m.minimum, xs),
        d=_router_d("min"),
        code=_max_local,
        pattern="router",
        kink=_tie_kink("min"),
    ),
    Gate(
        "relu",
        "relu",
        X,
        forward=lambda m, x, p=None: m.where(x > 0, x, 0.0),
        d={"x": "step(x)"},
        label="passes the gradient where its input > 0",
        kink=lambda x: "is at its kink x = 0; using relu'(0) = 0" if x == 0 else None,
    ),
    Gate(
        "abs",
        "abs",
        X,
        forward=lambda m, x, p=None: m.abs(x),
        d={"x": "sign(x)"},
        kink=lambda x: "is at its kink x = 0; using abs'(0) = 0" if x == 0 else None,
    ),
    Gate("sin", "sin", X, forward=lambda m, x, p=None: m.sin(x), d={"x": "cos(x)"}),
    Gate("cos", "cos", X, forward=lambda m, x, p=None: m.cos(x), d={"x": "-sin(x)"}),
    # sign and step are flat (gradient 0); bp diff writes relu', abs', max' and min' with them
    Gate("sign", "sign", X, forward=lambda m, x, p=None: m.sign(x), d={"x": "0"}),
    Gate(
        "step",
        "step",
        X,
        forward=lambda m, x, p=None: m.where(x > 0, 1.0, 0.0),
        d={"x": "0"},
    ),
    # -- composite gates: --expand rewrites them into the primitives above --------------------
    Gate(
        "sub",
        "-",
        XY,
        forward=lambda m, x, y, p=None: x - y,
        d={"x": "1", "y": "-1"},
        label="distributor with a sign flip: +1 to the left, −1 to the right",
        expand=lambda b, x, y, p=None: b.gate("add", x, b.gate("scale", y, param=-1.0)),
        primitive=False,
    ),
    Gate(
        "neg",
        "-",
        X,
        forward=lambda m, x, p=None: -x,
        d={"x": "-1"},
        expand=lambda b, x, p=None: b.gate("scale", x, param=-1.0),
        primitive=False,
    ),
    Gate(
        "div",
        "/",
        XY,
        forward=lambda m, x, y, p=None: m.div(x, y),
        d={"x": "1/y", "y": "-x/y^2"},
        expand=lambda b, x, y, p=None: b.gate("mul", x, b.gate("recip", y)),
        primitive=False,
    ),
    Gate(
        "pow",
        "^",
        XY,
        forward=lambda m, x, y, p=None: m.pow(x, y),
        d={"x": "y*x^(y - 1)", "y": "out*log(x)"},
        code=_pow_local,
        expand=_expand_pow,
        primitive=False,
    ),
    Gate(
        "sqrt",
        "sqrt",
        X,
        forward=lambda m, x, p=None: m.sqrt(x),
        d={"x": "1/(2*out)"},
        expand=lambda b, x, p=None: b.gate("powc", x, param=0.5),
        primitive=False,
    ),
    Gate(
        "sigmoid",
        "σ",
        X,
        forward=lambda m, x, p=None: _sigmoid(m, x),
        d={"x": "(1 - out)*out"},
        expand=lambda b, x, p=None: b.gate(
            "recip", b.gate("shift", b.gate("exp", b.gate("scale", x, param=-1.0)), param=1.0)
        ),
        primitive=False,
    ),
    Gate(
        "tanh",
        "tanh",
        X,
        forward=lambda m, x, p=None: m.tanh(x),
        d={"x": "1 - out^2"},
        code=_tanh_local,
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
    ),
    Gate(
        "softplus",
        "softplus",
        X,
        forward=lambda m, x, p=None: _softplus(m, x),
        d={"x": "sigmoid(x)"},
        expand=lambda b, x, p=None: b.gate("log", b.gate("shift", b.gate("exp", x), param=1.0)),
        primitive=False,
    ),
    Gate(
        "tan",
        "tan",
        X,
        forward=lambda m, x, p=None: m.tan(x),
        d={"x": "1 + out^2"},
        expand=lambda b, x, p=None: b.gate("mul", b.gate("sin", x), b.gate("recip", b.gate("cos", x))),
        primitive=False,
    ),
    Gate(
        "cosh",
        "cosh",
        X,
        forward=lambda m, x, p=None: m.cosh(x),
        d={"x": "sinh(x)"},
        expand=lambda b, x, p=None: b.gate(
            "scale", b.gate("add", b.gate("exp", x), b.gate("exp", b.gate("scale", x, param=-1.0))), param=0.5
        ),
        primitive=False,
    ),
    Gate(
        "sinh",
        "sinh",
        X,
        forward=lambda m, x, p=None: m.sinh(x),
        d={"x": "cosh(x)"},
        expand=lambda b, x, p=None: b.gate(
            "scale",
            b.gate(
                "add",
                b.gate("exp", x),
                b.gate("scale", b.gate("exp", b.gate("scale", x, param=-1.0)), param=-1.0),
            ),
            param=0.5,
        ),
        primitive=False,
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
    "cosh": "cosh",
    "sinh": "sinh",
    "sign": "sign",
    "step": "step",
}

#: named constants; they cannot be bound as variables
CONSTANTS: dict[str, float] = {"pi": math.pi, "π": math.pi, "e": math.e}


def formula(op: str, names: list[str], param: float | None = None) -> str:
    """The gate as a formula over its inputs' names: `q + z`, `σ(s)`, `1 / d`, `A @ B`."""
    from .expr import formula as printed

    return printed(op, names, param)


def template_text(op: str, names: list[str], param: float | None = None) -> str:
    """A row's own `formula` template filled in (array gates)."""
    row = GATES[op]
    if callable(row.formula):
        return row.formula(names, param)
    p = number_text(param) if param is not None else ""
    return row.formula.format(*names, p=p, all=", ".join(names))


def symbol(op: str, param: float | None = None) -> str:
    """The picture's symbol for a gate: `+`, `*-1`, `+1`, `^2`, `σ` ..."""
    if op == "scale":
        return f"*{number_text(param)}"
    if op == "shift":
        return f"+{number_text(param)}" if param >= 0 else f"-{number_text(-param)}"
    if op == "powc":
        return f"^{number_text(param)}"
    return GATES[op].symbol


class NumpyMath:
    """The same namespace over NumPy arrays, for the batch engine (one pass over many points).
    Callers run it under `numpy.errstate(all="ignore")` and check finiteness themselves."""

    def __init__(self):
        import numpy as np

        self.np = np
        self.exp, self.log, self.log1p, self.sqrt = np.exp, np.log, np.log1p, np.sqrt
        self.abs, self.tanh, self.sin, self.cos, self.tan = np.abs, np.tanh, np.sin, np.cos, np.tan
        self.cosh, self.sinh = np.cosh, np.sinh
        self.sign, self.maximum, self.minimum = np.sign, np.maximum, np.minimum
        self.div, self.pow, self.where = np.divide, np.power, np.where

    def equal(self, a, b):
        return (a == b).astype(float)

    def nonneg(self, x):
        return self.np.greater_equal(x, 0.0).astype(self.np.float64)


# -- array gates: dot, @, reductions, transpose, softmax, logsumexp, indexing ------------------
# Every scalar row above also works elementwise on arrays (arrays.py). These rows' backward pass
# is a vector-Jacobian product: `vjp` writes each input's product once, in CS231n's vectorised
# form over the input names, `out`, `p` and `up` (for matrices and whole-array reductions); `code`
# gives its numbers for every rank and axis (tests/test_array_gates.py checks it against the
# strings) and `shape` checks the inputs' shapes before any arithmetic. NumPy is loaded on the
# first use of an array gate, never by a scalar expression.
from . import array_gates as _A  # noqa: E402

_ARRAY_ROWS = [
    Gate(
        "matmul",
        "@",
        ("A", "B"),
        forward=lambda m, a, b, p=None: _A.np.matmul(a, b),
        vjp={"A": "up @ transpose(B)", "B": "transpose(A) @ up"},
        code=_A.matmul_vjp,
        shape=_A.matmul_shape,
        pattern="swapper",
        label="swapper with transposes: dA = up @ transpose(B), dB = transpose(A) @ up",
        formula="{0} @ {1}",
    ),
    Gate(
        "dot",
        "dot",
        ("a", "b"),
        forward=lambda m, a, b, p=None: _A.np.dot(a, b),
        vjp={"a": "up * b", "b": "up * a"},
        code=_A.dot_vjp,
        shape=_A.dot_shape,
        pattern="swapper",
        label="swapper: each input gets the other times the gradient",
        formula="dot({0}, {1})",
    ),
    Gate(
        "sum",
        "sum",
        ("a",),
        forward=_A.sum_forward,
        vjp={"a": "up"},  # copied to every entry (along the axis, with one)
        code=_A.sum_vjp,
        shape=_A.reduce_shape,
        pattern="distributor",
        label="distributor: every entry gets the gradient",
        formula=_A.axis_formula("sum"),
    ),
    Gate(
        "mean",
        "mean",
        ("a",),
        forward=_A.mean_forward,
        vjp={"a": "up / size(a)"},
        code=_A.mean_vjp,
        shape=_A.reduce_shape,
        pattern="distributor",
        label="distributor: every entry gets the gradient / count",
        formula=_A.axis_formula("mean"),
    ),
    Gate(
        "amax",
        "max",
        ("a",),
        forward=lambda m, a, p=None: _A.np.max(a),
        vjp={"a": "up * (1 - step(out - a)) / sum(1 - step(out - a))"},  # split among tied entries
        code=_A.extreme_vjp,
        shape=_A.extreme_shape,
        pattern="router",
        label="router: the gradient goes to the largest entry",
        formula="max({0})",
    ),
    Gate(
        "amin",
        "min",
        ("a",),
        forward=lambda m, a, p=None: _A.np.min(a),
        vjp={"a": "up * (1 - step(a - out)) / sum(1 - step(a - out))"},
        code=_A.extreme_vjp,
        shape=_A.extreme_shape,
        pattern="router",
        label="router: the gradient goes to the smallest entry",
        formula="min({0})",
    ),
    Gate(
        "transpose",
        "ᵀ",
        ("a",),
        forward=lambda m, a, p=None: _A.np.transpose(a),
        vjp={"a": "transpose(up)"},  # no code: the engine compiles the string
        shape=_A.transpose_shape,
        label="transposes the gradient back",
        formula="transpose({0})",
    ),
    Gate(
        "softmax",
        "softmax",
        ("a",),
        forward=lambda m, a, p=None: _A.softmax(a),
        vjp={"a": "out * (up - sum(up * out))"},  # per row of a matrix
        code=_A.softmax_vjp,
        shape=_A.vector_shape("softmax"),
        label="×(diag(s) − s sᵀ) along the last axis",
        formula="softmax({0})",
    ),
    Gate(
        "logsumexp",
        "logsumexp",
        ("a",),
        forward=lambda m, a, p=None: _A.logsumexp(a),
        vjp={"a": "up * softmax(a)"},  # per row of a matrix
        code=_A.logsumexp_vjp,
        shape=_A.vector_shape("logsumexp"),
        label="×softmax along the last axis",
        formula="logsumexp({0})",
    ),
    Gate(
        "size",
        "size",
        ("a",),
        forward=lambda m, a, p=None: float(_A.np.size(a)),
        vjp={"a": "0"},
        code=_A.no_gradient,
        shape=_A.size_shape,
        label="a count: no gradient",
        formula="size({0})",
    ),
    Gate(
        "index",
        "[]",
        (),  # the array, then one or more indices
        forward=_A.index_forward,
        code=_A.index_vjp,  # a scatter: up into the picked entries, 0 elsewhere (no bp string)
        shape=_A.index_shape,
        pattern="router",
        label="router: the gradient goes to the picked entries",
        formula=lambda n, p: f"{n[0]}[{', '.join(n[1:])}]",
    ),
]
GATES.update({g.op: g for g in _ARRAY_ROWS})
FUNCTIONS.update(_A.ARRAY_FUNCTIONS)
