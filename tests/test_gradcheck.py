"""bp gradcheck: centered differences against backprop, verdict bands, kinks, noise.

Reference numbers are closed forms worked out by hand (in comments), never bp's own output."""

from __future__ import annotations

import json
import math

import pytest

from bpcli.tools.gradcheck import band, gradcheck, relative_error

LECTURE = [
    ("(x+y)*z", ("--x", "-2", "--y", "5", "--z", "-4")),
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", ("w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")),
    ("(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)", ("--x", "3", "--y", "-4")),
    ("2*(x*y + max(z,w))", ("--x", "3", "--y", "-4", "--z", "2", "--w", "-1")),
]


@pytest.mark.parametrize("expr, at", LECTURE)
def test_lecture_examples_agree(bp, expr, at):
    r = bp("gradcheck", expr, *at, "--format", "json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["passed"] is True and obj["h"] == 1e-5 and obj["threshold"] == 1e-7
    for c in obj["inputs"]:
        assert c["rel_error"] < 1e-7, c
        assert c["band"] == "good" and c["verdict"] == "good" and c["kink"] is None
        assert c["rel_error"] == relative_error(c["analytic"], c["numeric"])


def test_lecture_numbers_against_hand_derivation():
    # (x+y)z at (-2, 5, -4): df/dx = df/dy = z = -4, df/dz = x + y = 3
    r = gradcheck("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    ref = {"x": -4.0, "y": -4.0, "z": 3.0}
    for c in r.inputs:
        assert c.numeric == pytest.approx(ref[c.name], rel=1e-8)
        assert c.analytic == ref[c.name]


def test_rich_table(bp):
    r = bp("gradcheck", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4")
    assert r.code == 0
    assert "rel. error" in r.out and "good" in r.out and "passed" in r.out


def test_plain(bp):
    r = bp("gradcheck", "x*y", "--x", "2", "--y", "3", "--format", "plain")
    assert r.code == 0
    rows = [line.split("\t") for line in r.out.splitlines()]
    assert [row[0] for row in rows] == ["x", "y"]
    # d(xy)/dx = y = 3, d(xy)/dy = x = 2
    assert float(rows[0][1]) == 3.0 and float(rows[1][1]) == 2.0
    assert all(row[4] == "good" for row in rows)


def test_relu_at_zero_is_a_kink_not_a_bug(bp):
    # relu'(0) = 0 by convention, but (relu(h) - relu(-h)) / 2h = 0.5: relative error 1
    r = bp("gradcheck", "relu(x)", "--x", "0", "--format", "json")
    assert r.code == 0
    c = json.loads(r.out)["inputs"][0]
    assert c["analytic"] == 0.0 and c["numeric"] == pytest.approx(0.5)
    assert c["rel_error"] == pytest.approx(1.0) and c["band"] == "wrong"
    assert c["verdict"] == "kink" and "kink" in c["kink"] and c["passed"] is True
    assert "kink" in r.err
    r = bp("gradcheck", "relu(x)", "--x", "0")
    assert r.code == 0 and "kink" in r.out


@pytest.mark.parametrize(
    "expr, at",
    [
        ("abs(x)", ("--x", "0")),
        ("relu(x)", ("--x", "3e-6")),  # within h of the kink: x - h < 0 < x
        ("relu(2*x - 1)", ("--x", "0.5")),  # the kink of an inner expression
        ("max(x, y)", ("--x", "1", "--y", "1.000004")),  # a near-tie within h
    ],
)
def test_kinks_near_the_point(bp, expr, at):
    r = bp("gradcheck", expr, *at, "--wrt", "x", "--format", "json")
    assert r.code == 0, r.out
    c = json.loads(r.out)["inputs"][0]
    assert c["kink"] is not None and c["passed"]


def test_no_kink_far_from_it():
    r = gradcheck("relu(x) + abs(y)", {"x": 0.5, "y": -2})
    assert all(c.kink is None and c.band == "good" for c in r.inputs)


def test_large_h_is_suspicious_and_fails(bp):
    # d/dx exp(x) = e^x; the centered difference is e^x sinh(h)/h, so the relative error is
    # 1 - h/sinh(h) = 1.6658e-3 at h = 0.1: "suspicious" (1e-4 .. 1e-2), past the threshold
    r = bp("gradcheck", "exp(x)", "--x", "1", "--h", "0.1", "--format", "json")
    assert r.code == 1
    c = json.loads(r.out)["inputs"][0]
    assert c["rel_error"] == pytest.approx(1 - 0.1 / math.sinh(0.1), rel=1e-6)
    assert c["band"] == "suspicious" and c["passed"] is False
    assert "failed" in r.err
    # a looser threshold accepts it
    assert bp("gradcheck", "exp(x)", "--x", "1", "--h", "0.1", "--threshold", "1e-2").code == 0


def test_bands():
    assert band(0.0) == "good" and band(9e-8) == "good"
    assert band(1e-7) == "acceptable" and band(5e-5) == "acceptable"
    assert band(1e-4) == "suspicious" and band(1e-2) == "suspicious"
    assert band(0.011) == "wrong"
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, 0.0) == 1.0
    assert relative_error(-4.0, -4.4) == pytest.approx(0.4 / 4.4)


def test_rounding_noise_floor():
    # f = 1e8 + x: each f(x +- h) is rounded to ~1.5e-8, so the quotient is off by ~1e-4
    r = gradcheck("1e8 + x", {"x": 1})
    (c,) = r.inputs
    assert c.analytic == 1.0 and c.rel_error > 1e-7
    assert c.verdict == "noise" and r.passed


def test_variable_named_h(bp):
    # f = x h at x = 2, h = 3: df/dx = 3, df/dh = 2; --h is the step
    r = bp("gradcheck", "x*h", "--x", "2", "h=3", "--h", "1e-6", "--format", "json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["h"] == 1e-6
    assert {c["name"]: c["analytic"] for c in obj["inputs"]} == {"x": 3.0, "h": 2.0}


def test_wrt_restricts_inputs(bp):
    r = bp("gradcheck", "x*y", "--x", "2", "--y", "3", "--wrt", "y", "--format", "json")
    assert [c["name"] for c in json.loads(r.out)["inputs"]] == ["y"]
    assert bp("gradcheck", "x*y", "--x", "2", "--y", "3", "--wrt", "q").code == 2


@pytest.mark.parametrize("args", [("--h", "0"), ("--h", "-1e-5"), ("--threshold", "-1"), ("--format", "xml")])
def test_usage_errors(bp, args):
    r = bp("gradcheck", "x*y", "--x", "2", "--y", "3", *args)
    assert r.code == 2 and r.err.startswith("bp: ") and "Traceback" not in r.err


def test_not_finite_beside_the_point(bp):
    # sqrt(x) at x = 1e-6 with h = 1e-5: x - h < 0 is outside the domain
    r = bp("gradcheck", "sqrt(x)", "--x", "1e-6")
    assert r.code == 3 and "smaller --h" in r.err and "Traceback" not in r.err
    # with h = 1e-8 it runs; the centered difference's truncation error relative to f' is
    # f3(x) h^2 / (6 f'(x)) = (3 / 4x^2) h^2 / 6 = h^2 / 8x^2 = 1.25e-5: "acceptable" by the
    # bands, and excused as the step's own error (a second step 2h measures it; issue 14)
    r = bp("gradcheck", "sqrt(x)", "--x", "1e-6", "--h", "1e-8", "--format", "json")
    assert r.code == 0
    c = json.loads(r.out)["inputs"][0]
    assert c["rel_error"] == pytest.approx(1.25e-5, rel=1e-2) and c["band"] == "acceptable"
    assert c["verdict"] == "step" and c["truncation"] == pytest.approx(1.25e-5 * c["analytic"], rel=0.1)


def test_many_inputs_batched():
    # f = sum_i sin(x_i) x_i: df/dx_i = sin(x_i) + x_i cos(x_i); the centered differences of all
    # 300 inputs run as batched forward passes
    xs = {f"x{i}": 0.01 * i - 1.5 for i in range(300)}
    src = " + ".join(f"sin({n})*{n}" for n in xs)
    r = gradcheck(src, xs)
    assert r.passed and len(r.inputs) == 300
    noise = 4 * 2.0**-52 * abs(math.fsum(x * math.sin(x) for x in xs.values())) / 1e-5
    for c in r.inputs:
        x = xs[c.name]
        # within the quotient's rounding noise, ~4 eps |f| / h, plus its truncation error h^2 |f3| / 6
        assert abs(c.numeric - (math.sin(x) + x * math.cos(x))) <= noise + 1e-9


def test_math_error_names_the_right_input(bp):
    # only b's step leaves the domain: b - h = 1e-6 - 1e-5 < 0
    r = bp("gradcheck", "sqrt(a) + sqrt(b) + c", "a=1", "b=1e-6", "c=2")
    assert r.code == 3 and "gradcheck b:" in r.err
