"""gradcheck recomputes each gate only at the perturbed points it depends on (tools/gradcheck.py
`_perturbed`). Its difference quotients must equal those of whole, independent forward passes
at x + h and x - h (the scalar engine), on expressions with forks, kinks and staged names."""

from __future__ import annotations

import random

import pytest

from bpcli.core.engine import evaluate
from bpcli.core.parse import parse
from bpcli.tools.gradcheck import gradcheck

H = 1e-5


def random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["x", "y", "z", "w", "1.5", "x", "y"])
    kind = rng.randrange(6)
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    if kind == 0:
        return f"({a} + {b})"
    if kind == 1:
        return f"({a} * {b})"
    if kind == 2:
        return f"({a} - {b})"
    if kind == 3:
        return f"{rng.choice(['sigmoid', 'tanh', 'sin', 'relu', 'abs'])}({a})"
    if kind == 4:
        return f"max({a}, {b})"
    return f"({a})^2"


CASES = [random_expression(random.Random(seed), 5) for seed in range(40)] + [
    "q = x * y; r = q + z; f = r * q + sigmoid(r) * w",
    "x + y + z + w",
    "x * (y + (z * (w + x)))",
    "max(x, y) + relu(z - 0.5) + abs(w + 0.25)",
]


@pytest.mark.parametrize("source", CASES)
def test_difference_quotients_match_whole_forward_passes(source):
    point = {"x": 0.7, "y": -1.3, "z": 0.4, "w": 2.1}
    names = [n for n in point if n in parse(source).var_ids]
    bindings = {n: point[n] for n in names}
    report = gradcheck(source, bindings, h=H)
    for check in report.inputs:
        plus = evaluate(source, {**bindings, check.name: bindings[check.name] + H}).value
        minus = evaluate(source, {**bindings, check.name: bindings[check.name] - H}).value
        reference = (plus - minus) / (2 * H)
        # NumPy and math may differ in the last bit of a gate: a few ulps of f over 2h
        slack = 8 * 2.0**-52 * max(abs(plus), abs(minus), 1.0) / H
        assert abs(check.numeric - reference) <= slack, (source, check.name)


def test_a_sum_of_many_inputs_checks_every_one():
    n = 3000
    source = "+".join(f"x{i}*x{i}" for i in range(n))
    bindings = {f"x{i}": (i % 11) * 0.25 - 1.0 for i in range(n)}
    report = gradcheck(source, bindings)
    assert report.passed and len(report.inputs) == n
    for c in report.inputs[::97]:
        assert c.numeric == pytest.approx(2 * c.value, abs=1e-6)  # d/dx x^2 = 2x, by hand


@pytest.mark.parametrize(
    ("source", "x"), [("sin(100*x)", 0.3), ("sin(300*x)", 0.3), ("exp(3*x)*sin(40*x)", 1.1)]
)
def test_smooth_fast_changing_correct_gradients_pass(source, x):
    # the centered quotient's truncation error (h^2/6 times the third derivative) exceeded the
    # 1e-7 threshold: a correct gradient failed
    report = gradcheck(source, {"x": x})
    assert report.passed
    assert report.inputs[0].verdict in ("good", "step")


@pytest.mark.parametrize("source", ["sin(100*x)", "sin(x)", "sin(x) * x"])
def test_a_wrong_local_gradient_still_fails(monkeypatch, source):
    import dataclasses

    from bpcli.core import gates

    row = gates.GATES["sin"]
    wrong = dataclasses.replace(row, d={"x": "1.001*cos(x)"})  # 0.1% off
    monkeypatch.setitem(gates.GATES, "sin", wrong)
    report = gradcheck(source, {"x": 0.3})
    assert not report.passed
