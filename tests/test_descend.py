"""bp descend: gradient descent on bp's own engine.

Every number asserted here comes from a closed form worked out by hand in the comments, never
from bp's own output.
"""

from __future__ import annotations

import json
import math

import pytest

from bpcli.tools.descend import GROWTH, descend

QUAD = "(x-3)^2 + (y+1)^2"
NEURON_LOSS = "(1/(1+exp(-(w0*x0+w1*x1+w2))) - t)^2"
# the lecture's neuron: w0=2, x0=-1, w1=-3, x1=-2, w2=-3; target t = 1
NEURON_AT = ["w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3", "t=1"]

TOP_KEYS = {
    "expression",
    "wrt",
    "lr",
    "momentum",
    "tol",
    "start",
    "fixed",
    "start_loss",
    "final",
    "loss",
    "grad",
    "grad_norm",
    "steps",
    "stopped",
    "divergence",
    "trace",
}
RECORD_KEYS = {"step", "loss", "grad_norm", "values", "grad"}


def run_json(bp, *args):
    r = bp("descend", *args, "--format", "json")
    return r, json.loads(r.out)


# -- Done 1 ----------------------------------------------------------------------------------------
def test_done1_quadratic_reaches_minimum(bp):
    # f = (x-3)^2 + (y+1)^2 has its minimum at (3, -1)
    r = bp("descend", QUAD, "--x", "0", "--y", "0", "--lr", "0.1", "--steps", "200")
    assert r.code == 0, r.err
    assert "\x1b" not in r.out  # captured (not a terminal): plain text, no escape codes
    r, d = run_json(bp, QUAD, "--x", "0", "--y", "0", "--lr", "0.1", "--steps", "200")
    assert r.code == 0, r.err
    assert abs(d["final"]["x"] - 3) < 1e-6 and abs(d["final"]["y"] + 1) < 1e-6
    assert d["stopped"] in ("steps", "tol")


def test_quadratic_trace_follows_closed_form(bp):
    # x_{k+1} = x_k - lr * 2 (x_k - 3), so x_k - 3 = (1 - 2 lr)^k (x_0 - 3) = -3 * 0.8^k;
    # likewise y_k + 1 = 0.8^k, and the loss is 10 * 0.64^k, the gradient norm 2 sqrt(10) 0.8^k.
    _, d = run_json(bp, QUAD, "--x", "0", "--y", "0", "--lr", "0.1", "--steps", "30")
    assert [rec["step"] for rec in d["trace"]] == list(range(31))
    for rec in d["trace"]:
        k = rec["step"]
        assert rec["values"]["x"] == pytest.approx(3 - 3 * 0.8**k, rel=1e-12, abs=1e-14)
        assert rec["values"]["y"] == pytest.approx(-1 + 0.8**k, rel=1e-12, abs=1e-14)
        assert rec["loss"] == pytest.approx(10 * 0.64**k, rel=1e-12)
        assert rec["grad_norm"] == pytest.approx(2 * math.sqrt(10) * 0.8**k, rel=1e-12)
        assert rec["grad"]["x"] == pytest.approx(-6 * 0.8**k, rel=1e-12)


def test_done1_divergence_exit_3_names_step_and_variable(bp):
    # At lr 1.1 each step multiplies x-3 and y+1 by 1 - 2.2 = -1.2, so the loss is 10 * 1.44^k.
    # The rule: diverged once loss > start + GROWTH * max(1, |start|) = 10 + 1e6 * 10.
    limit = 10 + GROWTH * 10
    expect = next(k for k in range(1, 1000) if 10 * 1.44**k > limit)  # 38
    r = bp("descend", QUAD, "--x", "0", "--y", "0", "--lr", "1.1", "--steps", "200")
    assert r.code == 3
    assert r.err.count("\n") == 1 and r.err.startswith("bp: ")
    assert f"diverged at step {expect}" in r.err
    # x starts 3 from its minimum, y only 1: x moves most
    assert " x moved most" in r.err
    assert "Traceback" not in r.err
    # caught long before floats overflow: the loss is still around 1e7
    assert 10 * 1.44**expect < 1e8


def test_divergence_json_still_printed(bp):
    r, d = run_json(bp, QUAD, "--x", "0", "--y", "0", "--lr", "1.1", "--steps", "200")
    assert r.code == 3
    assert set(d) == TOP_KEYS
    assert d["stopped"] == "diverged"
    assert d["divergence"]["step"] == d["steps"] == 38
    assert d["divergence"]["variable"] == "x"
    # x_k - 3 = -3 * (-1.2)^k
    assert d["final"]["x"] == pytest.approx(3 - 3 * (-1.2) ** 38, rel=1e-9)
    assert d["trace"][-1]["step"] == 38
    assert "diverged at step 38" in r.err


def test_non_finite_divergence_names_step_and_variable(bp):
    # log(x)^2 from x = 2 at lr 10: the gradient is 2 ln(2)/2 = ln 2, so x_1 = 2 - 10 ln 2 < 0,
    # where log is not a real number: the very first step diverges.
    r, d = run_json(bp, "log(x)^2", "--x", "2", "--lr", "10")
    assert r.code == 3
    assert "diverged at step 1" in r.err and "x moved most" in r.err
    assert d["final"]["x"] == pytest.approx(2 - 10 * math.log(2), rel=1e-12)
    assert d["loss"] is None and d["grad_norm"] is None


# -- Done 2 ----------------------------------------------------------------------------------------
def test_done2_neuron_loss_falls_monotonically(bp):
    r, d = run_json(bp, NEURON_LOSS, *NEURON_AT, "--wrt", "w0,w1,w2", "--lr", "0.1", "--steps", "200")
    assert r.code == 0, r.err
    losses = [rec["loss"] for rec in d["trace"]]
    assert len(losses) == 201
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    # only the weights move; the inputs and the target are held
    assert d["fixed"] == {"x0": -1.0, "x1": -2.0, "t": 1.0}
    assert set(d["final"]) == {"w0", "w1", "w2"}


def test_neuron_first_step_matches_lecture_gradient(bp):
    # w0 x0 + w1 x1 + w2 = -2 + 6 - 3 = 1, so the neuron gives s = sigmoid(1) (the lecture's 0.73).
    # L = (s - t)^2, dL/dwi = 2 (s - t) * s (1 - s) * input_i (input of w2 is 1).
    s = 1 / (1 + math.exp(-1))
    up = 2 * (s - 1) * s * (1 - s)
    grad = {"w0": up * -1, "w1": up * -2, "w2": up * 1}
    start = {"w0": 2, "w1": -3, "w2": -3}
    _, d = run_json(bp, NEURON_LOSS, *NEURON_AT, "--wrt", "w0,w1,w2", "--lr", "0.1", "--steps", "1")
    assert d["start_loss"] == pytest.approx((s - 1) ** 2, rel=1e-14)
    for name, g in grad.items():
        assert d["trace"][0]["grad"][name] == pytest.approx(g, rel=1e-12)
        assert d["final"][name] == pytest.approx(start[name] - 0.1 * g, rel=1e-12)
    # the lecture's local gradients of the neuron itself: dw0 = -0.20, dw1 = -0.39, dw2 = 0.20
    assert d["trace"][0]["grad"]["w0"] / (2 * (s - 1)) == pytest.approx(-0.20, abs=0.005)


# -- Done 5: the JSON trace ------------------------------------------------------------------------
def test_json_shape_and_every(bp):
    r, d = run_json(bp, QUAD, "--x", "0", "--y", "0", "--steps", "200", "--every", "30")
    assert r.code == 0
    assert set(d) == TOP_KEYS
    assert d["expression"] == QUAD and d["wrt"] == ["x", "y"]
    assert d["start"] == {"x": 0.0, "y": 0.0} and d["start_loss"] == 10.0
    assert d["steps"] == 200 and d["divergence"] is None
    # step 0, every 30th step, and always the last
    assert [rec["step"] for rec in d["trace"]] == [0, 30, 60, 90, 120, 150, 180, 200]
    for rec in d["trace"]:
        assert set(rec) == RECORD_KEYS
        assert set(rec["values"]) == set(rec["grad"]) == {"x", "y"}
        assert rec["grad_norm"] == pytest.approx(math.hypot(*rec["grad"].values()), rel=1e-15)
    last = d["trace"][-1]
    assert last["values"] == d["final"] and last["loss"] == d["loss"] and last["grad"] == d["grad"]


def test_tolerance_stop(bp):
    # gradient norm after k steps: 2 sqrt(10) 0.8^k; the first k with norm <= 1e-3 stops
    expect = next(k for k in range(1000) if 2 * math.sqrt(10) * 0.8**k <= 1e-3)
    r, d = run_json(bp, QUAD, "--x", "0", "--y", "0", "--tol", "1e-3", "--steps", "1000")
    assert r.code == 0
    assert d["stopped"] == "tol" and d["steps"] == expect
    assert d["grad_norm"] <= 1e-3 < d["trace"][-2]["grad_norm"]


def test_tolerance_at_start(bp):
    r, d = run_json(bp, "(x-3)^2", "--x", "3")
    assert r.code == 0 and d["stopped"] == "tol" and d["steps"] == 0 and len(d["trace"]) == 1


def test_momentum_matches_hand_recurrence(bp):
    # f = (x-3)^2 from 0, lr 0.1, momentum 0.9: v <- 0.9 v + g, x <- x - 0.1 v
    # g0 = -6: v1 = -6, x1 = 0.6; g1 = 2(0.6-3) = -4.8: v2 = -5.4 - 4.8 = -10.2, x2 = 1.62
    _, d = run_json(bp, "(x-3)^2", "--x", "0", "--momentum", "0.9", "--steps", "2")
    assert [rec["values"]["x"] for rec in d["trace"]] == pytest.approx([0, 0.6, 1.62], rel=1e-14)


def test_wrt_subset_holds_others(bp):
    # only x moves: y stays at 5, and x still goes to 3
    _, d = run_json(bp, QUAD, "--x", "0", "--y", "5", "--wrt", "x")
    assert d["fixed"] == {"y": 5.0} and d["final"]["x"] == pytest.approx(3, abs=1e-9)
    assert d["loss"] == pytest.approx(36, rel=1e-9)


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, words",
    [
        (["--wrt", "z"], "--wrt z"),
        (["--wrt", ","], "--wrt"),
        (["--lr", "0"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--momentum", "1"], "--momentum"),
        (["--steps", "-1"], "--steps"),
        (["--every", "0"], "--every"),
        (["--tol", "-1"], "--tol"),
        (["--format", "dot"], "--format"),
    ],
)
def test_usage_errors(bp, args, words):
    r = bp("descend", QUAD, "--x", "0", "--y", "0", *args)
    assert r.code == 2
    assert r.err.startswith("bp: ") and words in r.err and "Traceback" not in r.err


def test_no_variables(bp):
    r = bp("descend", "2+3")
    assert r.code == 2 and "no variables" in r.err


def test_missing_binding_and_bad_start(bp):
    r = bp("descend", QUAD, "--x", "0")
    assert r.code == 2 and "'y'" in r.err
    r = bp("descend", "log(x)", "--x", "0")
    assert r.code == 3 and "starting point" in r.err


# -- library -------------------------------------------------------------------------------------
def test_parses_once(monkeypatch):
    import bpcli.core.parse

    calls = []
    real = bpcli.core.parse.parse

    def counting(source):
        calls.append(source)
        return real(source)

    monkeypatch.setattr(bpcli.core.parse, "parse", counting)
    d = descend(QUAD, {"x": 0.0, "y": 0.0}, steps=50)
    assert len(calls) == 1 and d.steps == 50


def test_kink_warning_reported_once(bp):
    # abs(x) from 1 at lr 0.5: x1 = 1 - 0.5 = 0.5, x2 = 0, where abs'(0) = 0 is used
    r = bp("descend", "abs(x)", "--x", "1", "--lr", "0.5", "--steps", "5", "--format", "json")
    assert r.code == 0
    assert r.err.count("warning") == 1 and "step 2" in r.err
    assert json.loads(r.out)["stopped"] == "tol"
