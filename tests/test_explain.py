"""bp explain: the chain rule per path, the sum at forks, adjoints past the path limit, LaTeX.

Reference numbers are from the lecture and from derivations by hand (in comments)."""

from __future__ import annotations

import json
import math

import pytest

from bpcli.core.parse import parse
from bpcli.tools.explain import count_paths, explain
from bpcli.views.latex import latex_name

DOUBLING = "; ".join(["a1 = x + x", *(f"a{i} = a{i - 1} + a{i - 1}" for i in range(2, 51)), "f = a50"])


def test_lecture_single_path(bp):
    # lecture: df/dx = df/dq dq/dx = z * 1 = -4
    r = bp("explain", "q = x + y; f = q * z", "--x", "-2", "--y", "5", "--z", "-4", "--wrt", "x")
    assert r.code == 0, r.err
    assert "df/dx = df/dq · dq/dx = (-4)(1) = -4" in r.out
    assert "q = x + y = 3" in r.out


def test_three_paths_sum_to_seven(bp):
    # f = x*x + x: through the multiply gate's two wires (each local gradient = the other input
    # = 3, times the add gate's 1) and straight through the add gate (1): 3 + 3 + 1 = 7 = 2x + 1
    r = bp("explain", "x*x + x", "--x", "3", "--format", "json")
    assert r.code == 0
    obj = json.loads(r.out)
    assert obj["mode"] == "paths" and obj["path_count"] == 3
    assert [p["product"] for p in obj["paths"]] == [3.0, 3.0, 1.0]
    assert obj["sum"] == 7.0 and obj["gradient"] == 7.0
    text = bp("explain", "x*x + x", "--x", "3").out
    assert "3 paths" in text and "df/dx = 3 + 3 + 1 = 7" in text
    assert text.count("path ") >= 3


def test_doubling_graph_switches_to_adjoints(bp):
    # a_k = 2 a_{k-1}, so f = 2^50 x: 2^50 paths (each level doubles them), df/dx = 2^50
    r = bp("explain", DOUBLING, "--x", "1", "--format", "json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["mode"] == "adjoints" and obj["path_count"] == 2**50
    assert obj["gradient"] == 2.0**50 and obj["paths"] == []
    grads = {a["name"]: a["grad"] for a in obj["adjoints"]}
    # df/da_k = 2^(50-k): a_k is doubled 50 - k more times
    assert grads["a49"] == 2.0 and grads["a1"] == 2.0**49 and grads["x"] == 2.0**50
    text = bp("explain", DOUBLING, "--x", "1").out
    assert str(2**50) in text and "adjoints" in text and "more than 64 paths" in text


def test_max_paths_option():
    # x*x + x has 3 paths: with at most 2 it explains by adjoints; df/dx = 2x + 1 = 7
    e = explain("x*x + x", {"x": 3}, "x", max_paths=2)
    assert e.mode == "adjoints" and e.gradient == 7.0
    x_step = e.steps[-1]
    assert sum(t.upstream * t.local for t in x_step.terms) == 7.0


def test_count_paths_diamond():
    # a = x + x (2 paths to x), b = a * a (2 * 2 = 4), f = b + a (4 + 2 = 6)
    g = parse("a = x + x; b = a * a; f = b + a")
    count = count_paths(g, g.var_ids["x"])
    assert count[g.output] == 6


def test_many_levels_count_is_exact():
    # 200 doubling levels: 2^200 paths, beyond any float's exact range
    src = "; ".join(["a1 = x + x", *(f"a{i} = a{i - 1} + a{i - 1}" for i in range(2, 201))])
    g = parse(src)
    assert count_paths(g, g.var_ids["x"])[g.output] == 2**200


def test_lecture_fraction_paths():
    # f = (x + s(y)) / (s(x) + (x + y)^2) at x = 3, y = -4: x reaches f through the numerator,
    # through s(x), and through (x + y)^2: three paths; their sum is the quotient rule's value
    x, y = 3.0, -4.0
    s = lambda t: 1 / (1 + math.exp(-t))
    num, den = x + s(y), s(x) + (x + y) ** 2
    dfdx = (den - num * (s(x) * (1 - s(x)) + 2 * (x + y))) / den**2
    e = explain("(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)", {"x": x, "y": y}, "x")
    assert e.mode == "paths" and e.path_count == 3
    assert [len(p.factors) for p in e.paths] == [2, 3, 4]
    assert e.paths[0].product == pytest.approx(1 / den, rel=1e-12)  # d f/d num * d num/dx
    assert e.total == pytest.approx(dfdx, rel=1e-12)
    # y: through s(y) in the numerator and (x + y)^2 in the denominator
    ey = explain("(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)", {"x": x, "y": y}, "y")
    assert ey.path_count == 2


def test_wrt_intermediate_and_output():
    # df/dq = z = -4
    e = explain("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, "q")
    assert e.path_count == 1 and e.total == -4.0
    e = explain("q = x + y; q * z", {"x": -2, "y": 5, "z": -4}, "z")
    assert e.total == 3.0


def test_no_path(bp):
    r = bp("explain", "q = x * 2; f = y + 1", "--x", "1", "--y", "2", "--wrt", "x")
    assert r.code == 0 and "does not depend on x" in r.out


def test_long_chain_without_recursion(bp):
    # 5000 nested sines: one path with 5000 factors, too long to write out: adjoints
    src = "sin(" * 5000 + "x" + ")" * 5000
    r = bp("explain", src, "--x", "1", "--format", "json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["mode"] == "adjoints" and obj["path_count"] == 1 and len(obj["adjoints"]) == 5001
    text = bp("explain", src, "--x", "1").out
    assert "more steps" in text and len(text.splitlines()) < 400


def test_latex(bp):
    r = bp("explain", "x*x + x", "--x", "3", "--format", "latex")
    assert r.code == 0
    out = r.out
    assert "\\begin{align*}" in out and "\\end{align*}" in out
    assert "\\frac{\\partial f}{\\partial x}" in out and "&= 7" in out
    body = "".join(line for line in out.splitlines() if not line.startswith("%"))
    assert body.count("{") == body.count("}")
    r = bp(
        "explain",
        "q = x + y; f = q * z",
        "--x",
        "-2",
        "--y",
        "5",
        "--z",
        "-4",
        "--wrt",
        "x",
        "--format",
        "latex",
    )
    assert "\\frac{\\partial f}{\\partial q} \\frac{\\partial q}{\\partial x}" in r.out
    assert "(-4)(1)" in r.out
    r = bp("explain", DOUBLING, "--x", "1", "--format", "latex")
    assert r.code == 0 and "adjoints" in r.out and "\\times 10^{15}" in r.out


def test_latex_names():
    assert latex_name("w0") == "w_{0}"
    assert latex_name("x_1") == "x_{1}"
    assert latex_name("lr") == "\\mathit{lr}"
    assert latex_name("α") == "\\alpha"


@pytest.mark.parametrize(
    "args, message",
    [
        (("x*y", "--x", "1", "--y", "2"), "--wrt"),
        (("x*y", "--x", "1", "--y", "2", "--wrt", "w"), "w"),
        (("x*y", "--x", "1", "--y", "2", "--wrt", "x", "--format", "xml"), "--format"),
        (("x*", "--x", "1"), "syntax error"),
    ],
)
def test_usage_errors(bp, args, message):
    r = bp("explain", *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err
