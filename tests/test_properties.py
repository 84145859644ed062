"""Property tests (issue 2, Done 3): random expressions over every gate of the gate table.

Each random expression is built twice, side by side: as bp text, and as a plain-Python function
of the variables (the reference, written with `math`, independent of bp). Inputs are kept in each
gate's smooth domain: a sub-expression that lands too near a kink, a tie, a pole or the edge of
a domain is rewritten (e.g. log(A) becomes log(A^2 + 0.5)), and the reference function refuses to
evaluate if a finite-difference step comes within half that margin. Then:
- bp's value matches the reference, and every gradient matches centered finite differences of the
  reference (a fourth-order stencil, so truncation error is negligible next to the tolerance);
- `--expand` (the lecture's primitive gates) agrees with the merged graph to 1e-12 relative (or a
  tiny absolute amount near 0, where the two spellings round differently);
- the batch engine (NumpyMath) agrees with the scalar engine at many points in one pass.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpcli.core.array_gates import ARRAY_FUNCTIONS, ARRAY_OPS
from bpcli.core.engine import backward, evaluate, forward
from bpcli.core.errors import MathError
from bpcli.core.gates import FUNCTIONS, GATES, NumpyMath
from bpcli.core.graph import expand
from bpcli.core.parse import parse

VARS = ["x", "y", "w0", "θ"]
MARGIN = 0.1  # how far from a kink/tie/pole/domain edge a value is kept at the point itself
GUARD = MARGIN / 2  # how near a finite-difference step may come before the example is dropped
BOUND = 1e4  # every sub-expression stays below this in size (no overflow, sane conditioning)


class Unsafe(Exception):
    """A reference evaluation came too near a non-smooth point."""


def guard(ok: bool) -> None:
    if not ok:
        raise Unsafe


def sig(t: float) -> float:
    return 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))


# Every op reachable from text, and the spellings the text may use for it.
UNARY = {
    "exp": ["exp"],
    "log": ["log", "ln"],
    "sqrt": ["sqrt"],
    "sigmoid": ["sigmoid", "sigma", "σ"],
    "tanh": ["tanh"],
    "relu": ["relu"],
    "abs": ["abs"],
    "sin": ["sin"],
    "cos": ["cos"],
    "tan": ["tan"],
    "softplus": ["softplus"],
    "cosh": ["cosh"],
    "sinh": ["sinh"],
    "sign": ["sign"],
    "step": ["step"],
}
BINARY = ["add", "sub", "mul", "div", "pow"]
OTHER = ["neg", "max", "min", "powc", "scale", "shift", "recip"]
OPS = sorted(UNARY) + BINARY + OTHER


def test_generator_covers_every_gate():
    # the gates --expand introduces (scale, shift, recip, powc) come from constants in the text;
    # "id" comes from a staged statement (see `case`)
    # the array gates (dot, @, sum, ...) have their own generator in tests/test_arrays.py
    assert set(GATES) - ARRAY_OPS == set(OPS) | {"id"}
    assert {s for names in UNARY.values() for s in names} | {"max", "min", "pow"} == set(FUNCTIONS) - set(
        ARRAY_FUNCTIONS
    )


def positive(a):
    """A sub-expression kept above MARGIN: itself, or A^2 + 0.5."""
    text, fn, v = a
    if v >= MARGIN:
        return a
    return (f"(({text})^2 + 0.5)", lambda e: fn(e) ** 2 + 0.5, v * v + 0.5)


def away_from_zero(a):
    """A sub-expression kept at least MARGIN from 0: itself, or A + 0.5."""
    text, fn, v = a
    if abs(v) >= MARGIN:
        return a
    return (f"({text} + 0.5)", lambda e: fn(e) + 0.5, v + 0.5)


def checked(text, fn, e):
    """Node triple with its value at the point; rejects values that are too large."""
    v = fn(e)
    assume(math.isfinite(v) and abs(v) < BOUND)
    return (text, fn, v)


@st.composite
def node(draw, env, depth, top=False):
    if depth == 0 or (not top and draw(st.integers(0, 4)) == 0):
        if draw(st.integers(0, 2)):
            name = draw(st.sampled_from(VARS))
            return (name, lambda e, n=name: e[n], env[name])
        text, value = draw(
            st.sampled_from([("2", 2.0), ("0.5", 0.5), (".5", 0.5), ("3", 3.0), ("1e-1", 0.1), ("1.5", 1.5)])
        )
        return (text, lambda e, c=value: c, value)
    op = draw(st.sampled_from(OPS))
    sub = node(env, depth - 1)
    a = draw(sub)
    ta, fa, va = a
    if op in UNARY:
        name = draw(st.sampled_from(UNARY[op]))
        if op in ("exp", "cosh", "sinh"):
            g = {"exp": math.exp, "cosh": math.cosh, "sinh": math.sinh}[op]
            if abs(va) > 5:
                ta, fa = f"tanh({ta})", lambda e, f=fa: math.tanh(f(e))
            return checked(f"{name}({ta})", lambda e, f=fa, g=g: g(f(e)), env)
        if op in ("log", "sqrt"):
            ta, fa, _ = positive(a)

            def fn(e, f=fa, g=math.log if op == "log" else math.sqrt):
                u = f(e)
                guard(u > GUARD)
                return g(u)

            return checked(f"{name}({ta})", fn, env)
        if op in ("relu", "abs", "sign", "step"):
            ta, fa, _ = away_from_zero(a)
            g = {
                "relu": lambda u: max(u, 0.0),
                "abs": abs,
                "sign": lambda u: math.copysign(1.0, u),
                "step": lambda u: 1.0 if u > 0 else 0.0,
            }[op]

            def fn(e, f=fa, g=g):
                u = f(e)
                guard(abs(u) > GUARD)
                return g(u)

            return checked(f"{name}({ta})", fn, env)
        if op == "tan":
            if abs(math.cos(va)) < 0.3:
                ta, fa = f"sin({ta})", lambda e, f=fa: math.sin(f(e))

            def fn(e, f=fa):
                u = f(e)
                guard(abs(math.cos(u)) > 0.15)
                return math.tan(u)

            return checked(f"{name}({ta})", fn, env)
        ref = {
            "sigmoid": sig,
            "tanh": math.tanh,
            "sin": math.sin,
            "cos": math.cos,
            "softplus": lambda u: max(u, 0.0) + math.log1p(math.exp(-abs(u))),
        }[op]
        return checked(f"{name}({ta})", lambda e, f=fa, g=ref: g(f(e)), env)
    if op == "neg":
        minus = draw(st.sampled_from(["-", "−"]))
        return checked(f"{minus}({ta})", lambda e, f=fa: -f(e), env)
    # constants against an expression: --expand turns these into *a, +c, 1/x and ^c gates
    if op == "scale":
        c = draw(st.sampled_from([2.0, -3.0, 0.5]))
        form = draw(st.sampled_from(["{c}*({a})", "({a})*{c}", "{c}({a})", "({a})/{r}"]))
        text = form.format(c=c, a=ta, r=1 / c)
        return checked(text, lambda e, f=fa, c=c: c * f(e), env)
    if op == "shift":
        c = draw(st.sampled_from([1.0, -2.0, 0.25]))
        return checked(f"({ta}) + ({c})", lambda e, f=fa, c=c: f(e) + c, env)
    if op == "recip":
        ta, fa, _ = away_from_zero(a)

        def fn(e, f=fa):
            u = f(e)
            guard(abs(u) > GUARD)
            return 1 / u

        return checked(f"1/({ta})", fn, env)
    if op == "powc":
        c = draw(st.sampled_from([2.0, 3.0, -1.0, 0.5, 1.5, -2.0]))
        if c != int(c):
            ta, fa, _ = positive(a)
        elif c < 0:
            ta, fa, _ = away_from_zero(a)
        pow_ = draw(st.sampled_from(["^", "**"]))

        def fn(e, f=fa, c=c):
            u = f(e)
            guard(u > GUARD if c != int(c) else (c > 0 or abs(u) > GUARD))
            return u**c

        return checked(f"({ta}){pow_}({c})", fn, env)
    if op in ("max", "min"):
        args = [a] + [draw(sub) for _ in range(draw(st.integers(1, 2)))]
        # shift the arguments apart (by 0, k, 2k) so no two are within MARGIN: a tie is a kink
        for k in (0.0, 1.0, 2.5, 7.0):
            vals = [v + k * i for i, (_, _, v) in enumerate(args)]
            if all(abs(p - q) >= MARGIN for i, p in enumerate(vals) for q in vals[i + 1 :]):
                break
        texts = [t if k * i == 0 else f"{t} + {k * i}" for i, (t, _, _) in enumerate(args)]
        fns = [f for _, f, _ in args]
        pick = max if op == "max" else min

        def fn(e, fns=fns, k=k, pick=pick):
            vals = [f(e) + k * i for i, f in enumerate(fns)]
            guard(all(abs(p - q) > GUARD for i, p in enumerate(vals) for q in vals[i + 1 :]))
            return pick(vals)

        return checked(f"{op}({', '.join(texts)})", fn, env)
    # binary operators
    b = draw(sub)
    tb, fb, vb = b
    if op == "add":
        return checked(f"({ta}) + ({tb})", lambda e, f=fa, g=fb: f(e) + g(e), env)
    if op == "sub":
        minus = draw(st.sampled_from(["-", "−"]))
        return checked(f"({ta}) {minus} ({tb})", lambda e, f=fa, g=fb: f(e) - g(e), env)
    if op == "mul":
        form = draw(st.sampled_from(["({a})*({b})", "({a})·({b})", "({a})×({b})", "({a})({b})"]))
        return checked(form.format(a=ta, b=tb), lambda e, f=fa, g=fb: f(e) * g(e), env)
    if op == "div":
        tb, fb, _ = away_from_zero(b)

        def fn(e, f=fa, g=fb):
            d = g(e)
            guard(abs(d) > GUARD)
            return f(e) / d

        return checked(f"({ta}) / ({tb})", fn, env)
    # pow with an expression as exponent: a^b = exp(b ln a) needs a > 0; keep |b| small
    ta, fa, _ = positive(a)
    if abs(vb) > 3:
        tb, fb = f"sin({tb})", lambda e, g=fb: math.sin(g(e))

    def fn(e, f=fa, g=fb):
        u = f(e)
        guard(u > GUARD)
        return u ** g(e)

    form = draw(st.sampled_from(["({a})^({b})", "({a})**({b})", "pow({a}, {b})"]))
    return checked(form.format(a=ta, b=tb), fn, env)


@st.composite
def case(draw):
    """(text, reference function, point): a random expression over the gate table."""
    env = {v: draw(st.floats(-2.5, 2.5, allow_nan=False, allow_infinity=False)) for v in VARS}
    text, fn, _ = draw(node(env, draw(st.integers(1, 5)), top=True))
    if draw(st.integers(0, 4)) == 0:
        # a staged form: the whole as a named intermediate used twice (a fork, and the id gate)
        text, fn = f"t = {text}\nf = t*t", lambda e, f=fn: f(e) ** 2
        assume(abs(fn(env)) < BOUND)
    return text, fn, env


def fd(fn, env, name, h):
    """Fourth-order centered finite difference of fn along one variable."""

    def at(dx):
        e = dict(env)
        e[name] = env[name] + dx
        return fn(e)

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def agree(a: float, b: float, rel: float, abs_: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@SETTINGS
@given(case())
def test_gradients_match_finite_differences(c):
    text, fn, env = c
    graph = parse(text)
    bindings = {v: env[v] for v in graph.variables}
    r = evaluate(graph, bindings)
    assert r.warnings == []
    ref = fn(env)
    assert agree(r.value, ref, 1e-9, 1e-9), (text, r.value, ref)
    for name, g in r.gradient.items():
        h = 1e-4 * max(1.0, abs(env[name]))
        try:
            coarse, num = fd(fn, env, name, h), fd(fn, env, name, h / 2)
        except Unsafe:
            continue  # a step came near a kink: this variable's check would be meaningless
        # FD error: rounding ~ 1e-16 |f| / h, truncation ~ h^4 f^(5). The truncation is usually
        # negligible, but a fast-varying function (cos(exp(1/x^2))) can raise it: the gap between
        # the two step sizes measures it (the finer one is ~16x closer), and widens the tolerance.
        tol_abs = 1e-9 * max(1.0, abs(ref)) + 2 * abs(coarse - num)
        assert agree(g, num, 1e-8, tol_abs), (text, env, name, g, num, coarse)


@SETTINGS
@given(case())
def test_expand_agrees_with_merged(c):
    text, _, env = c
    graph = parse(text)
    bindings = {v: env[v] for v in graph.variables}
    merged = evaluate(graph, bindings)
    try:
        expanded = evaluate(graph, bindings, expand=True)
    except MathError as e:
        # the lecture's textbook forms overflow where the merged gates are computed stably:
        # softplus(800) = log(1 + exp(800)), σ(-800) = 1/(1 + exp(800)). Only that may differ.
        assert "gate exp" in e.message and "overflow" in e.message, (text, e.message)
        assume(False)
    assert all(GATES[op].primitive for op in set(expanded.graph.ops) - {"var", "const"})
    # the two graphs differ in rounding only (x/y vs x*(1/y), tanh vs 2σ(2x)-1, ...): 1e-12
    # relative, or a few ulps of the largest value in the graph where a result is near 0
    scale = max(1.0, *(abs(v) for v in merged.values))
    assert agree(expanded.value, merged.value, 1e-12, 1e-14 * scale), (text, expanded.value, merged.value)
    gscale = max(1.0, *(abs(v) for v in merged.grads)) * scale
    for name, g in merged.gradient.items():
        assert agree(expanded.gradient[name], g, 1e-12, 1e-13 * gscale), (
            text,
            name,
            expanded.gradient[name],
            g,
        )
    assert merged.intermediates.keys() == expanded.intermediates.keys()
    for k, v in merged.intermediates.items():
        assert agree(expanded.intermediates[k]["grad"], v["grad"], 1e-12, 1e-13 * gscale)


@SETTINGS
@given(case())
def test_batch_equals_scalar(c):
    text, fn, env = c
    graph = parse(text)
    names = graph.variables
    # a handful of points near the drawn one, each checked to be in the smooth domain
    points = []
    for k in range(8):
        e = {v: env[v] * (1 + 1e-3 * (k - 3.5)) + 1e-3 * k for v in VARS}
        try:
            fn(e)
        except Unsafe:
            continue
        points.append(e)
    assume(points)
    m = NumpyMath()
    with np.errstate(all="ignore"):
        values = forward(graph, {v: np.array([p[v] for p in points]) for v in names}, m=m)
        grads, *_ = backward(graph, values, "split", m=m)
    for j, p in enumerate(points):
        try:
            svalues = forward(graph, {v: p[v] for v in names})
        except Exception:
            continue  # an IEEE overflow at this point; the batch may hold inf there, and that is fine
        sgrads, *_ = backward(graph, svalues, "split")
        scale = max(1.0, *(abs(v) for v in svalues))
        out = np.broadcast_to(values[graph.output], (len(points),))[j]
        assert agree(float(out), svalues[graph.output], 1e-13, 1e-15 * scale), text
        gscale = max(1.0, *(abs(g) for g in sgrads)) * scale
        for v in names:
            node = graph.var_ids[v]
            bg = float(np.broadcast_to(grads[node], (len(points),))[j])
            assert agree(bg, sgrads[node], 1e-13, 1e-14 * gscale), (text, v, bg, sgrads[node])


@SETTINGS
@given(case())
def test_batch_equals_scalar_expanded(c):
    text, _, env = c
    graph = expand(parse(text))
    names = graph.variables
    m = NumpyMath()
    with np.errstate(all="ignore"):
        values = forward(graph, {v: np.array([env[v], env[v]]) for v in names}, m=m)
        grads, *_ = backward(graph, values, "split", m=m)
    try:
        svalues = forward(graph, {v: env[v] for v in names})
    except MathError:
        assume(False)  # the textbook form overflowed (see test_expand_agrees_with_merged)
    sgrads, *_ = backward(graph, svalues, "split")
    scale = max(1.0, *(abs(v) for v in svalues)) * max(1.0, *(abs(g) for g in sgrads))
    for v in names:
        node = graph.var_ids[v]
        bg = np.broadcast_to(grads[node], (2,))
        assert agree(float(bg[0]), sgrads[node], 1e-13, 1e-14 * scale) and bg[0] == bg[1]
