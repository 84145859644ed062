"""`evaluate_batch` computes in the namespace of its inputs (the array API standard), so CuPy or
JAX arrays never pass through NumPy; array-api-strict (which allows nothing outside the
standard) stands in for them here, and must give NumPy's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpcli.core.batch import evaluate_batch

xp = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test extra")
pytest.importorskip("array_api_compat", reason="array-api-compat is in the test extra")

EXPRESSIONS = [
    "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)",  # the lecture's staged function
    "q = x*y; f = exp(q) + log(abs(x) + 1) - sqrt(y*y + 1)",
    "max(x, y, 0.5) + min(x, 2) + relu(x - y) + tanh(x) * softplus(y)",
    "sin(x) * cos(y) / (2 + tan(x/4)) + x^3 - 2^y + pow(abs(y) + 1, x)",
    "cosh(x/2) * sinh(y/2) + sign(x) * y + step(y) * x + sqrt(x*x + 1)",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_array_api_strict_gives_numpys_numbers(expr):
    rng = np.random.default_rng(13)
    x, y = rng.uniform(-2, 2, size=200), rng.uniform(-2, 2, size=200)
    x[:5] = [0.0, 1.0, 0.5, 2.0, -1.0]  # kinks and ties: relu at 0, max/min ties
    y[:5] = [0.0, 1.0, 0.5, 0.0, -1.0]
    want = evaluate_batch(expr, {"x": x, "y": y})
    got = evaluate_batch(expr, {"x": xp.asarray(x), "y": xp.asarray(y)})
    assert type(got.value).__module__.startswith("array_api_strict")  # never a NumPy array
    assert type(got.gradient["x"]).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(got.value), want.value, rtol=1e-14, atol=1e-300)
    for name in ("x", "y"):
        np.testing.assert_allclose(
            np.asarray(got.gradient[name]), want.gradient[name], rtol=1e-14, atol=1e-300
        )
    for name in want.named:
        np.testing.assert_allclose(np.asarray(got.named[name]), want.named[name], rtol=1e-14)
    assert np.array_equal(np.asarray(got.bad), want.bad)
    assert np.array_equal(np.asarray(got.kinks), want.kinks)


def test_array_api_lecture_neuron_and_bad_rows():
    # the lecture's neuron at w = (2, -3, -3), x = (-1, -2): f = 0.73, df/dw0 = -0.2, df/dx0 = 0.39
    expr = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    b = evaluate_batch(expr, {"x0": xp.asarray([-1.0, 0.0])}, {"w0": 2, "w1": -3, "x1": -2, "w2": -3})
    s = 1 / (1 + math.exp(-1.0))
    assert math.isclose(float(b.value[0]), s, rel_tol=1e-15)
    assert math.isclose(float(b.gradient["w0"][0]), -1.0 * s * (1 - s), rel_tol=1e-14)
    assert math.isclose(float(b.gradient["x0"][0]), 2.0 * s * (1 - s), rel_tol=1e-14)
    # log(0) and 1/0 are bad rows, as the scalar engine refuses them
    b = evaluate_batch("log(x) + 1/y", {"x": xp.asarray([1.0, 0.0, 2.0]), "y": xp.asarray([1.0, 1.0, 0.0])})
    assert [bool(v) for v in b.bad] == [False, True, True]
    assert float(b.value[0]) == 1.0 and float(b.gradient["x"][0]) == 1.0 and float(b.gradient["y"][0]) == -1.0


def test_the_package_api_takes_array_api_arrays():
    # bpcli.evaluate_batch (the package API) hands non-NumPy arrays to the namespace engine
    import bpcli

    b = bpcli.evaluate_batch("x*y + y", {"x": xp.asarray([1.0, 2.0]), "y": 3})
    assert type(b.value).__module__.startswith("array_api_strict")
    assert [float(v) for v in b.value] == [6.0, 9.0]  # x*3 + 3
    assert [float(v) for v in b.gradient["x"]] == [3.0, 3.0] and [float(v) for v in b.gradient["y"]] == [
        2.0,
        3.0,
    ]
