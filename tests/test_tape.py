"""Batch mode's recorded pass (bpcli.core.tape): replaying it gives the engine's own doubles.

The reference is the engine itself run on each chunk's arrays (batch mode's path without a plan,
and the one it takes for a chunk with a floating-point exception): every value, gradient, named
gradient, bad-row and kink mark must be equal bit for bit, on random expressions over every
scalar gate, at points that include domain errors, overflow, kinks and ties.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from test_properties import OPS

import bpcli.core.batch as batch
from bpcli.core.gates import GATES, SCALAR, NumpyMath
from bpcli.core.parse import parse
from bpcli.core.tape import Untraceable, record, select

UNARY = ["exp", "log", "sqrt", "sigmoid", "tanh", "relu", "abs", "sin", "cos", "tan", "softplus"]
UNARY += ["cosh", "sinh", "sign", "step", "-"]
BINARY = ["+", "-", "*", "/", "^"]


def expression(rng: random.Random, names, depth=0) -> str:
    r = rng.random()
    if depth >= 4 or r < 0.2:
        return rng.choice([*names, *names, "2", "0.5", "3", "-1"])
    if r < 0.5:
        f = rng.choice(UNARY)
        inner = expression(rng, names, depth + 1)
        return f"-({inner})" if f == "-" else f"{f}({inner})"
    if r < 0.6:
        f = rng.choice(["max", "min"])
        args = [expression(rng, names, depth + 1) for _ in range(rng.choice([2, 3]))]
        return f"{f}({', '.join(args)})"
    op = rng.choice(BINARY)
    return f"({expression(rng, names, depth + 1)}){op}({expression(rng, names, depth + 1)})"


def points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mostly ordinary numbers, with zeros, ties, negatives and huge values among them."""
    p = rng.normal(scale=2, size=n)
    p[rng.random(n) < 0.05] = 0.0
    p[rng.random(n) < 0.02] = 800.0
    p[rng.random(n) < 0.02] = -800.0
    p[rng.random(n) < 0.05] = 1.0
    return p


def bits(a) -> np.ndarray:
    a = np.asarray(a)
    return a.view(np.int64) if a.dtype == np.float64 else a


def same(a, b) -> bool:
    return a.n == b.n and all(
        np.array_equal(bits(x), bits(y))
        for x, y in [
            (a.value, b.value),
            (a.bad, b.bad),
            (a.kinks, b.kinks),
            *[(a.gradient[k], b.gradient[k]) for k in a.gradient],
            *[(a.named[k], b.named[k]) for k in a.named],
        ]
    )


def engine_only(monkeypatch):
    monkeypatch.setattr(batch, "_plan", lambda *args: None)


def test_every_scalar_gate_is_recorded():
    # a gate the stand-ins cannot follow would silently run batch mode on the slower path
    for op in OPS:
        row = GATES[op]
        text = {"max": "max(x, y, x*y)", "min": "min(x, y)", "neg": "-x", "powc": "x^3"}.get(op)
        text = text or {"scale": "3*x", "shift": "x+3", "recip": "1/x", "sub": "x-y", "add": "x+y"}.get(op)
        text = text or {"mul": "x*y", "div": "x/y", "pow": "x^y"}.get(op) or f"{row.op}(x + y)"
        record(parse(text), ("x", "y"), {}, "split")


@pytest.mark.parametrize("seed", range(6))
def test_tape_gives_the_engines_doubles(monkeypatch, seed):
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    for _ in range(40):
        text = expression(rng, ["x", "y"])
        g = parse(text)
        if not g.var_ids:
            continue
        n = int(gen.integers(1, 300))
        cols = {name: points(gen, n) for name in g.var_ids}
        for tie in ("split", "first", "both"):
            with monkeypatch.context() as mp:
                mp.setattr(batch, "CHUNK", 64)  # several passes, and a short last one
                taped = batch.run(g, cols, {}, tie)
                engine_only(mp)
                plain = batch.run(g, cols, {}, tie)
            assert same(taped, plain), (text, tie)


def test_tape_with_constants_names_and_threads(monkeypatch):
    text = "q = x*y + c; s = sigmoid(q) * max(x, c); L = s / (1 + q*q)"
    g = parse(text)
    gen = np.random.default_rng(7)
    cols = {"x": points(gen, 5000), "y": points(gen, 5000)}
    monkeypatch.setattr(batch, "CHUNK", 256)
    taped = batch.run(g, cols, {"c": 0.5}, threads=2)
    assert taped.named.keys() == {"q", "s"}
    with monkeypatch.context() as mp:
        engine_only(mp)
        plain = batch.run(g, cols, {"c": 0.5}, threads=1)
    assert same(taped, plain)


def test_buffers_are_shared_by_results_whose_lives_do_not_overlap():
    # 100 nested sigmoids: each sigmoid's output is read again by the backward pass, so it keeps
    # a buffer until then; every other result (over 700 of them) shares the few that are left
    text = "x"
    for k in range(100):
        text = f"sigmoid({text}) * {1 + k % 3}"
    plan = record(parse(text), ("x",), {}, "split")
    assert len(plan.plan) > 800
    assert len(plan.buffers) <= 100 + 5
    # a sum of 100 products keeps no value for the backward pass (add's local gradients are 1,
    # x*c's is c)
    plan = record(parse(" + ".join(f"x * {k + 1}" for k in range(100))), ("x",), {}, "split")
    assert len(plan.plan) > 190
    assert len(plan.buffers) <= 5


def test_an_untraceable_pass_runs_on_the_engine(monkeypatch):
    # a gate whose code does what a stand-in cannot follow (here: converts to an array)
    row = dataclasses.replace(GATES["exp"], forward=lambda m, x, p=None: m.exp(np.asarray(x)))
    monkeypatch.setitem(GATES, "exp", row)
    with pytest.raises(Untraceable):
        record(parse("exp(x)"), ("x",), {}, "split")
    batch._PLANS.clear()
    b = batch.run(parse("exp(x) * y"), {"x": np.array([0.0, 1.0]), "y": np.array([2.0, 3.0])}, {})
    assert b.value.tolist() == [2.0, 3 * np.exp(1.0)]
    assert b.gradient["y"].tolist() == [1.0, np.exp(1.0)]
    batch._PLANS.clear()


def test_sigmoid_is_the_same_double_as_the_select_it_replaced():
    # sigmoid was where(x >= 0, q, e*q); it is now q * max(e, nonneg(x)), to spare batch mode a
    # select over every point: the two must agree bit for bit, in both engines
    gen = np.random.default_rng(3)
    x = np.concatenate(
        [
            gen.normal(scale=s, size=20000)
            for s in (1e-300, 1e-8, 1, 30, 800)  # subnormal-sized to saturated
        ]
        + [np.array([0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 745.2, -745.2])]
    )
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        q = 1 / (1 + e)
        old = np.where(x >= 0, q, e * q)
        new = GATES["sigmoid"].forward(NumpyMath(), x)
    assert np.array_equal(old.view(np.int64), new.view(np.int64))
    for t in x[::97]:
        t = float(t)
        e = SCALAR.exp(-abs(t))
        q = 1 / (1 + e)
        assert np.float64(GATES["sigmoid"].forward(SCALAR, t)).view(np.int64) == np.float64(
            q if t >= 0 else e * q
        ).view(np.int64)


def test_select_is_np_where_bit_for_bit():
    # the engine path and the tape share this select, so it is checked against NumPy directly
    gen = np.random.default_rng(5)
    cond = gen.random(1000) < 0.5
    a, b = gen.normal(size=1000), np.concatenate([[0.0, -0.0, np.inf, -np.inf], gen.normal(size=996)])
    for x, y in [(a, b), (a, 2.5), (-0.0, b), (np.float64(3.0), 0.0)]:
        out = select(cond, x, y, np.empty(1000), np.empty(1000, np.int64))
        assert np.array_equal(out.view(np.int64), np.where(cond, x, y).view(np.int64))
