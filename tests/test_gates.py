"""The gate table as data (issue 9): every local gradient is one string in its row, and the text
bp shows agrees with the number bp computes.

- For EVERY gate, the local-gradient text that `--steps` prints (over the wires' names) is
  evaluated by `bpcli.core.engine.evaluate` with those names bound to their values, and must give
  the engine's local gradient at random points.
- Rows with hand-written `code` (pow's edge limits, max/min of any arity) agree with their `d`.
- cosh, sinh, sign and step against closed forms and centered differences written here.
"""

from __future__ import annotations

import math
import random

import pytest

from bpcli.core.array_gates import ARRAY_OPS
from bpcli.core.engine import evaluate
from bpcli.core.expr import compile_text, generic_local_text, local_text
from bpcli.core.gates import GATES, SCALAR
from bpcli.core.parse import parse
from bpcli.views.common import node_names
from bpcli.views.steps import _steps, steps_plain

# one expression per gate, in the gate's smooth domain for x, y in [0.5, 2]; gates that only
# --expand makes (scale, shift, recip, powc) come from constants; id from a staged statement
CASES = {
    "add": ("x + y", False),
    "mul": ("x * y", False),
    "scale": ("3*x", True),
    "shift": ("x + 2", True),
    "recip": ("1/x", True),
    "id": ("q = x; q * y", False),
    "exp": ("exp(x)", False),
    "log": ("log(x)", False),
    "powc": ("x^3", True),
    "max": ("max(x, y)", False),
    "min": ("min(x, y, 1)", False),
    "relu": ("relu(x - 0.25)", False),
    "abs": ("abs(x - 3)", False),
    "sin": ("sin(x)", False),
    "cos": ("cos(x)", False),
    "sign": ("sign(x - 1.25) * y", False),
    "step": ("step(x - 1.25) * y", False),
    "sub": ("x - y", False),
    "neg": ("-x", False),
    "div": ("x / y", False),
    "pow": ("x ^ y", False),
    "sqrt": ("sqrt(x)", False),
    "sigmoid": ("sigmoid(x)", False),
    "tanh": ("tanh(x)", False),
    "softplus": ("softplus(x)", False),
    "tan": ("tan(x)", False),
    "cosh": ("cosh(x)", False),
    "sinh": ("sinh(x)", False),
}


SCALAR_GATES = set(GATES) - ARRAY_OPS


def test_cases_cover_every_gate():
    # the array gates' products are checked in tests/test_array_gates.py
    assert set(CASES) == SCALAR_GATES


def _eval_text(text: str, env: dict[str, float]) -> float:
    g = parse(text)
    return evaluate(g, {n: env[n] for n in g.var_ids}).value


@pytest.mark.parametrize("op", sorted(SCALAR_GATES))
def test_steps_text_evaluates_to_the_engines_local_gradient(op):
    source, expand = CASES[op]
    rng = random.Random(op)
    for _ in range(10):
        point = {"x": rng.uniform(0.5, 2.0), "y": rng.uniform(0.5, 2.0)}
        result = evaluate(source, {n: point[n] for n in parse(source).var_ids}, expand=expand)
        g = result.graph
        assert op in g.ops
        names = node_names(g)
        env = {names[i]: result.values[i] for i in range(len(g)) if g.ops[i] != "const"}
        wire = {}  # (gate name, input name) -> local gradient from the engine
        for i in g.gate_ids():
            if result.locals[i] is not None:
                for k, a in enumerate(g.args[i]):
                    wire[(names[i], names[a])] = result.locals[i][k]
        rows = [r for r in _steps(result) if r[0] == "backward"]
        assert rows
        for _, _n, target, _op, local, up, _value, _total, _final in rows:
            want = wire[(up, target)]
            assert _eval_text(local, env) == pytest.approx(want, rel=1e-12, abs=1e-15), (op, local)


@pytest.mark.parametrize("op", sorted(SCALAR_GATES))
def test_every_gates_strings_compute_its_local_gradient(op):
    """Each row's `d` strings (compiled, and as printed text with the numbers put in) against the
    engine's local gradient (`code` where the row has it), at random points."""
    row = GATES[op]
    rng = random.Random(op + "d")
    n = row.arity or 3
    names = row.input_names(n)
    for _ in range(20):
        xs = [rng.uniform(0.5, 2.0) for _ in range(n)]
        if not row.arity:
            xs = [float(rng.randint(0, 2)) for _ in range(n)]  # ties on purpose
        p = rng.choice([2.0, 3.0, -1.0, 0.5]) if op in ("scale", "shift", "powc") else None
        out = row.forward(SCALAR, *xs, p=p)
        for tie in ("split", "first", "both") if not row.arity else ("split",):
            want = row.local(SCALAR, out, *xs, p=p, **({"tie": tie} if not row.arity else {}))
            strings = row.derivatives(n, tie)
            texts = local_text(op, [repr(x) for x in xs], repr(out), p, tie=tie)
            for k, name in enumerate(names):
                f, _, _ = compile_text(strings[name], ("out", *names, "p"))
                assert f(SCALAR, (out, *xs, p)) == pytest.approx(want[k], rel=1e-12, abs=1e-15)
                assert _eval_text(texts[k], {}) == pytest.approx(want[k], rel=1e-12, abs=1e-15)


def test_pow_code_keeps_the_limits_its_strings_cannot_write():
    pow_ = GATES["pow"].local
    assert pow_(SCALAR, 0.0, 0.0, 2.0) == (0.0, 0.0)  # d/db a^b at a = 0, b > 0: the limit 0
    assert pow_(SCALAR, 1.0, 0.0, 0.0)[0] == 0.0  # d/da a^0 is 0, even at a = 0
    assert GATES["powc"].local(SCALAR, 1.0, 0.0, 0.0) == (0.0,)


def test_generic_text_for_pictures():
    assert generic_local_text("sigmoid") == ("(1 - σ(x)) * σ(x)",)
    assert generic_local_text("div", n=2) == ("1 / y", "(-x / y^2)")
    assert generic_local_text("powc", 2.0) == ("2 * x",)


def test_steps_fold_constants_into_the_text():
    out = steps_plain(evaluate("x^2 * 3", {"x": 5}))
    assert "dx = 2 * x * dq = 30" in out


# -- the new functions, against closed forms written here ------------------------------------


@pytest.mark.parametrize(
    "fn, f, df",
    [
        ("cosh", lambda t: (math.exp(t) + math.exp(-t)) / 2, lambda t: (math.exp(t) - math.exp(-t)) / 2),
        ("sinh", lambda t: (math.exp(t) - math.exp(-t)) / 2, lambda t: (math.exp(t) + math.exp(-t)) / 2),
    ],
)
@pytest.mark.parametrize("t", [-3.0, -0.5, 0.0, 0.7, 2.5])
def test_cosh_sinh_values_and_gradients(fn, f, df, t):
    r = evaluate(f"{fn}(2*x)", {"x": t / 2})
    assert r.value == pytest.approx(f(t), rel=1e-14, abs=1e-15)
    assert r.gradient["x"] == pytest.approx(2 * df(t), rel=1e-13, abs=1e-15)
    h = 1e-5  # centered differences of the closed form
    assert r.gradient["x"] == pytest.approx((f(t + 2 * h) - f(t - 2 * h)) / (2 * h), rel=1e-8)
    expanded = evaluate(f"{fn}(2*x)", {"x": t / 2}, expand=True)
    assert expanded.gradient["x"] == pytest.approx(r.gradient["x"], rel=1e-12, abs=1e-14)


def test_cosh_sinh_overflow_is_a_math_error(bp):
    r = bp("eval", "cosh(x)", "--x", "1000", "--format", "plain")
    assert r.code == 3 and r.err.startswith("bp: ")


@pytest.mark.parametrize(
    "x, sign, step", [(-2.0, -1.0, 0.0), (0.0, 0.0, 0.0), (1e-300, 1.0, 1.0), (3.0, 1.0, 1.0)]
)
def test_sign_and_step(x, sign, step):
    assert evaluate("sign(x)", {"x": x}).value == sign
    assert evaluate("step(x)", {"x": x}).value == step
    assert evaluate("sign(x) + step(x)", {"x": x}).gradient == {"x": 0.0}
    # relu' is step and abs' is sign, the subgradients bp eval uses at the kink too
    assert evaluate("relu(x)", {"x": x}).gradient["x"] == step
    assert evaluate("abs(x)", {"x": x}).gradient["x"] == sign


def test_a_vjp_row_compiles_and_differentiates_with_up(monkeypatch):
    """A row may give vector-Jacobian products over `up` instead of `d` (the array gates' form);
    a scalar stand-in checks the compiler and the gradient graph use them as written."""
    from bpcli.core import gates
    from bpcli.core.derive import Derivatives, print_program
    from bpcli.core.graph import Graph

    row = gates.Gate(
        "vmul", "v*", ("A", "B"), forward=lambda m, a, b, p=None: a * b, vjp={"A": "up*B", "B": "A*up"}
    )
    monkeypatch.setitem(gates.GATES, "vmul", row)
    assert row.pullback(SCALAR, 6.0, 2.0, 3.0, None, 10.0) == (30.0, 20.0)
    g = Graph()
    g.output = g.gate("vmul", g.var("a"), g.gate("sin", g.var("b")))
    d = Derivatives(g)
    grads = d.gradient()
    assert print_program(d.b.g, grads["a"], g.var_ids) == "sin(b)"
    assert print_program(d.b.g, grads["b"], g.var_ids) == "cos(b) * a"  # sin's local times the vjp a*up
