"""bp fit: a one-hidden-layer network trained by bp's own (batch) backward pass.

References: the network's output and the training objective are recomputed here in plain NumPy
from the parameters, and the gradient is checked by centered finite differences of that
independent objective. Nothing asserted is copied from bp's output.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bpcli.tools.fit import LossGraph, fit, network_text, param_names

ACTS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}

FIT_KEYS = {
    "target",
    "variable",
    "range",
    "samples",
    "train_samples",
    "validation_samples",
    "hidden",
    "activation",
    "l2",
    "optimizer",
    "lr",
    "epochs",
    "seed",
    "noise",
    "train_loss",
    "validation_loss",
    "seconds",
    "params",
    "expression",
    "curve",
}


def numpy_network(params: dict, hidden: int, activation: str, x):
    """y = sum_j v_j act(w_j x + b_j) + c, written out independently of bp."""
    x = np.asarray(x, dtype=float)
    act = ACTS[activation]
    y = np.full_like(x, params["c"])
    for j in range(1, hidden + 1):
        y = y + params[f"v{j}"] * act(params[f"w{j}"] * x + params[f"b{j}"])
    return y


def fit_json(bp, *args):
    r = bp("fit", *args, "--format", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)


# -- Done 3 ----------------------------------------------------------------------------------------
def test_done3_exact_command(bp):
    # Its time ("under 10 s here") is measured by bench/bench_fit.py, not asserted in a test.
    r = bp("fit", "sin(x)", "--range", "-3:3", "--hidden", "8", "--seed", "0")
    assert r.code == 0, r.err
    assert "\x1b" not in r.out  # captured (not a terminal): no escape codes, no progress bar
    match = re.search(r"validation\s*\S\s*16\s*\S\s*(\S+)", r.out)
    assert match, r.out
    assert float(match.group(1)) < 1e-2
    assert "target sin(x) vs network" in r.out and "loss" in r.out


def test_done3_validation_mse_from_json(bp):
    d = fit_json(bp, "sin(x)", "--range", "-3:3", "--hidden", "8", "--seed", "0")
    assert set(d) == FIT_KEYS
    assert d["validation_loss"] < 1e-2
    assert d["hidden"] == 8 and d["epochs"] == 2000 and d["activation"] == "sigmoid"
    assert d["samples"] == 64 and d["train_samples"] == 48 and d["validation_samples"] == 16


def test_done3_sweep_training_loss_falls_with_hidden_units(bp):
    # sin(2x) on [-3, 3] has about four bumps: every doubling of the units helps
    d = fit_json(bp, "sin(2x)", "--hidden", "1,2,4,8,16", "--epochs", "600")
    assert list(d) == ["sweep"]
    runs = d["sweep"]
    assert [run["hidden"] for run in runs] == [1, 2, 4, 8, 16]
    assert all(set(run) == FIT_KEYS for run in runs)
    train = [run["train_loss"] for run in runs]
    assert all(b < a for a, b in zip(train, train[1:], strict=False)), train
    # the same samples for every run of a sweep (same seed)
    assert len({run["train_samples"] for run in runs}) == 1


def test_done3_sweep_sin_without_penalty(bp):
    # the Done-3 target: with --l2 0 nothing but capacity limits the fit, and the training loss
    # falls with every doubling of the units (with the default l2 it levels off past 4 units,
    # where the penalty, not the number of units, sets the floor)
    d = fit_json(bp, "sin(x)", "--range", "-3:3", "--hidden", "1,2,4,8,16", "--seed", "0", "--l2", "0")
    train = [run["train_loss"] for run in d["sweep"]]
    assert all(b < a for a, b in zip(train, train[1:], strict=False)), train
    assert train[-1] < 1e-3 < train[0]


def test_overfitting_and_l2_visible(bp):
    # 24 noisy training samples (noise variance 0.25) and 16 units: without a penalty the network
    # fits the noise (training loss far below the noise level, validation far above it); the
    # penalty keeps it near the noise level and closes most of the gap
    args = ["x^3 - x", "--range", "-2:2", "--noise", "0.5", "--samples", "32", "--hidden", "16"]
    free = fit_json(bp, *args, "--l2", "0")
    held = fit_json(bp, *args, "--l2", "0.01")
    assert free["train_loss"] < 0.25 / 2 and free["validation_loss"] > 5 * free["train_loss"]
    gap = lambda d: d["validation_loss"] - d["train_loss"]  # noqa: E731
    assert gap(held) < gap(free) / 2


def test_sweep_table(bp):
    r = bp("fit", "sin(x)", "--hidden", "1,2", "--epochs", "50")
    assert r.code == 0, r.err
    assert "hidden units" in r.out and "training loss" in r.out


# -- Done 4 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_done4_print_expr_round_trip(bp, activation):
    args = ["sin(x)", "--hidden", "4", "--epochs", "100", "--activation", activation]
    r = bp("fit", *args, "--print-expr")
    assert r.code == 0, r.err
    expr = r.out.strip()
    assert "\n" not in expr
    d = fit_json(bp, *args)
    assert d["expression"] == expr  # same seed, same network
    for x in (-2.5, -0.3, 0.0, 0.7, 2.9):
        e = bp("eval", expr, "--x", repr(x), "--format", "plain")
        assert e.code == 0, e.err
        value = float(e.out.splitlines()[0].split("\t")[1])
        want = numpy_network(d["params"], 4, activation, x)
        assert value == pytest.approx(float(want), rel=1e-12, abs=1e-14)


def test_print_expr_equals_network_predict_exactly():
    from bpcli.core.engine import evaluate

    r = fit("x^3 - x", lo=-2, hi=2, hidden=5, epochs=50, seed=3)
    net = r.network
    expr = net.expression()
    assert any(v < 0 for v in net.params.values())  # negative numbers are written correctly
    xs = np.array([-1.9, -0.5, 0.25, 1.75])
    predicted = net.predict(xs)
    for x, p in zip(xs, predicted, strict=True):
        assert evaluate(expr, {"x": float(x)}).value == p  # bit for bit: the same gates in order
    assert predicted == pytest.approx(numpy_network(net.params, 5, "sigmoid", xs), rel=1e-12)


def test_print_expr_uses_target_variable(bp):
    r = bp("fit", "a*sin(u)", "--a", "2", "--hidden", "2", "--epochs", "5", "--print-expr")
    assert r.code == 0, r.err
    assert "*u " in r.out and "x" not in r.out
    assert bp("eval", r.out.strip(), "--u", "1").code == 0


# -- the training gradient: bp's batch backward pass vs finite differences ------------------------
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_batch_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(7)
    hidden, l2 = 3, 0.01
    xs = np.sort(rng.uniform(-2, 2, 12))
    ys = np.cos(xs)
    held = np.arange(12) % 4 == 3
    theta = rng.normal(size=3 * hidden + 1)
    names = param_names(hidden)

    def objective(th):
        p = dict(zip(names, th, strict=True))
        err = (numpy_network(p, hidden, activation, xs) - ys) ** 2
        penalty = sum(p[f"w{j}"] ** 2 + p[f"v{j}"] ** 2 for j in range(1, hidden + 1))
        return err[~held].mean() + l2 * penalty, err[~held].mean(), err[held].mean()

    train, val, grad = LossGraph(hidden, activation, l2, xs, ys, held)(theta)
    _, want_train, want_val = objective(theta)
    assert train == pytest.approx(want_train, rel=1e-12)
    assert val == pytest.approx(want_val, rel=1e-12)
    h = 1e-6
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        fd = (objective(up)[0] - objective(down)[0]) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9), names[i]


# -- samples, split, JSON --------------------------------------------------------------------------
def test_split_rule_and_curve():
    r = fit("sin(x)", lo=-1, hi=2, samples=20, hidden=2, epochs=30, every=10)
    assert len(r.x_train) == 15 and len(r.x_val) == 5
    everything = sorted(r.x_train + r.x_val)
    # every fourth sample, in sorted order, is held out
    assert r.x_val == everything[3::4]
    assert all(-1 <= x <= 2 for x in everything)
    assert r.y_train == pytest.approx(np.sin(r.x_train).tolist(), rel=1e-15)
    assert [e for e, _, _ in r.curve] == [0, 10, 20, 30]
    # the last point of the curve is the reported loss, recomputed independently here
    want = numpy_network(r.network.params, 2, "sigmoid", r.x_val) - np.sin(r.x_val)
    assert r.curve[-1][2] == r.validation_loss == pytest.approx(float(np.mean(want**2)), rel=1e-10)


def test_json_curve_and_params(bp):
    d = fit_json(bp, "abs(x)", "--hidden", "3", "--epochs", "200", "--l2", "0")
    assert [p["epoch"] for p in d["curve"]] == list(range(0, 201, 2))
    assert d["curve"][-1]["train_loss"] == d["train_loss"]
    assert set(d["params"]) == set(param_names(3))
    assert d["curve"][-1]["train_loss"] < d["curve"][0]["train_loss"]


def _structure(value):
    """The shape of a JSON value: keys (recursively) and types, not the numbers."""
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_structure(v) for v in value[:1]]
    return type(value).__name__ if value is not None else "null"


def _readme_json(marker: str):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = text.split(marker, 1)[1].split("```json", 1)[1].split("```", 1)[0]
    return json.loads(block)


def test_readme_documents_json_shapes(bp):
    # Done 5: the README's JSON examples have exactly the shape bp prints
    documented = _readme_json("<!-- fit-json -->")
    assert _structure(fit_json(bp, "sin(x)", "--hidden", "1", "--epochs", "2")) == _structure(documented)
    r = bp("descend", "(x-3)^2 + (y+1)^2", "--x", "0", "--y", "0", "--steps", "2", "--format", "json")
    assert _structure(json.loads(r.out)) == _structure(_readme_json("<!-- descend-json -->"))
    readme = (__import__("pathlib").Path(__file__).resolve().parent.parent / "README.md").read_text()
    for key in FIT_KEYS:
        assert f"`{key}`" in readme, key


def test_network_text_shape():
    assert network_text(2, "tanh") == "v1*tanh(w1*x + b1) + v2*tanh(w2*x + b2) + c"
    p = {"w1": -1.5, "b1": -0.25, "v1": -2.0, "c": 1e-05}
    assert network_text(1, "relu", "x", p) == "-2.0*relu(-1.5*x - 0.25) + 1e-05"


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, code, words",
    [
        (["x*y"], 2, "one free variable"),
        (["log(x)"], 3, "not finite at x"),
        (["sin(x)", "--range", "3:-3"], 2, "--range"),
        (["sin(x)", "--range", "a:b"], 2, "--range"),
        (["sin(x)", "--hidden", "0"], 2, "--hidden"),
        (["sin(x)", "--hidden", "two"], 2, "--hidden"),
        (["sin(x)", "--activation", "softmax"], 2, "--activation"),
        (["sin(x)", "--samples", "3"], 2, "--samples"),
        (["sin(x)", "--lr", "0"], 2, "--lr"),
        (["sin(x)", "--l2", "-1"], 2, "--l2"),
        (["sin(x)", "--hidden", "1,2", "--print-expr"], 2, "--print-expr"),
        (["sin(x)", "--print-expr", "--format", "json"], 2, "--print-expr"),
        (["sin(x", "--epochs", "1"], 2, "syntax error"),
        (["sin(x)", "--lr", "1e300", "--epochs", "5"], 3, "diverged"),
    ],
)
def test_errors(bp, args, code, words):
    r = bp("fit", *args)
    assert r.code == code, (r.code, r.err)
    assert r.err.startswith("bp: ") and words in r.err and "Traceback" not in r.err
