"""Depth 10,000 and width 100,000 (issue 2, Done 5): no recursion anywhere on the way from text
to every view. Numbers are checked against closed forms or plain-Python iterations."""

from __future__ import annotations

import json
import math

import pytest

from bpcli.core.engine import evaluate

DEPTH = 10_000
WIDTH = 100_000


def rel(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(abs(b), 1e-300)


def test_nested_parentheses(bp):
    # ((((x)))) * 3 + 1 at x = 2: 7, d/dx = 3
    text = "(" * DEPTH + "x" + ")" * DEPTH + "*3 + 1"
    r = bp("eval", text, "--x", "2", "--format", "plain")
    assert (r.code, r.out) == (0, "f\t7.0\ndf/dx\t3.0\n"), r.err


def test_nested_parentheses_from_stdin_with_every_view(bp):
    text = "(" * DEPTH + "x*y" + ")" * DEPTH
    for fmt in ("rich", "plain", "json", "dot"):
        r = bp("eval", "-", "--x", "2", "--y", "5", "--format", fmt, stdin=text)
        assert r.code == 0, (fmt, r.err)
        assert "10" in r.out


def _sigmoid_chain(x: float, n: int) -> tuple[float, float]:
    """s_0 = x, s_k = σ(s_{k-1}); df/dx = Π σ'(s_{k-1}) = Π s_k (1 - s_k), in log space."""
    s, log_d = x, 0.0
    for _ in range(n):
        s = 1 / (1 + math.exp(-s))
        log_d += math.log(s * (1 - s))
    return s, log_d


@pytest.mark.parametrize("expand", [False, True])
def test_nested_sigmoids(expand):
    text = "sigmoid(" * DEPTH + "x" + ")" * DEPTH
    r = evaluate(text, {"x": 2.0}, expand=expand)
    value, log_d = _sigmoid_chain(2.0, DEPTH)
    assert rel(r.value, value, 1e-12)
    # σ' <= 1/4 each step, so the product underflows to 0: exactly what IEEE doubles give
    assert log_d < math.log(5e-324)
    assert r.gradient["x"] == 0.0


def test_nested_sigmoids_every_view(bp):
    text = "σ(" * DEPTH + "x" + ")" * DEPTH
    for fmt in ("rich", "plain", "json", "dot"):
        extra = ["--graph"] if fmt == "json" else []
        r = bp("eval", text, "--x", "2", "--format", fmt, *extra)
        assert r.code == 0 and "Traceback" not in r.err, (fmt, r.err)
    r = bp("eval", text, "--x", "2", "--format", "json", "--graph", "--expand")
    data = json.loads(r.out)
    # each sigmoid expands to the lecture's four gates: *-1, exp, +1, 1/x
    ops = [n["op"] for n in data["graph"]["nodes"] if n["op"] not in ("var", "const")]
    assert len(ops) == 4 * DEPTH and ops[:4] == ["scale", "exp", "shift", "recip"]


def test_nested_sines_gradient():
    # s_k = sin(s_{k-1}) shrinks slowly towards 0, so the gradient Π cos(s_{k-1}) stays well
    # away from 0 and from 1: a real check of 10,000 chained local gradients.
    text = "sin(" * DEPTH + "x" + ")" * DEPTH
    r = evaluate(text, {"x": 1.0})
    s, d = 1.0, 1.0
    for _ in range(DEPTH):
        d *= math.cos(s)
        s = math.sin(s)
    assert 1e-9 < d < 1e-3
    assert rel(r.value, s, 1e-9) and rel(r.gradient["x"], d, 1e-9)


def test_deep_unary_minus_and_power_chain(bp):
    # 10,000 minus signs: (-1)^10000 x = x; a right-associative tower x^1^1^...^1 = x
    r = bp("eval", "-", "--x", "3", "--format", "plain", stdin="-" * DEPTH + "x")
    assert (r.code, r.out) == (0, "f\t3.0\ndf/dx\t1.0\n"), r.err
    r = bp("eval", "-", "--x", "3", "--format", "plain", stdin="x" + "^1" * DEPTH)
    assert (r.code, r.out) == (0, "f\t3.0\ndf/dx\t1.0\n"), r.err


def test_long_staged_program(bp):
    # a0 = x; a_k = a_{k-1} + x (k = 1..N-1); f = a_{N-1} = N x, df/dx = N; df/da_k = 1
    n = DEPTH
    lines = ["a0 = x"] + [f"a{k} = a{k - 1} + x" for k in range(1, n)] + [f"f = a{n - 1} * 1"]
    r = bp("eval", "-", "--x", "0.5", "--format", "json", stdin="\n".join(lines))
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["value"] == n * 0.5 and data["gradient"] == {"x": float(n)}
    assert len(data["intermediates"]) == n
    # a0 = x is its own node: df/da0 = 1 (it feeds a1 once), not df/dx = N
    assert data["intermediates"]["a0"] == {"value": 0.5, "grad": 1.0}
    assert data["intermediates"][f"a{n - 2}"] == {"value": (n - 1) * 0.5, "grad": 1.0}


def _wide_values():
    xs = [float(i % 7 - 3) for i in range(WIDTH)]
    ws = [(i % 5) * 0.5 - 1.0 for i in range(WIDTH)]
    return xs, ws


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """The 100,000-term sum x0*w0 + x1*w1 + ..., its --vars file, and its closed form."""
    xs, ws = _wide_values()
    text = " + ".join(f"x{i}*w{i}" for i in range(WIDTH))
    path = tmp_path_factory.mktemp("wide") / "vars.json"
    path.write_text(
        json.dumps({**{f"x{i}": x for i, x in enumerate(xs)}, **{f"w{i}": w for i, w in enumerate(ws)}})
    )
    # every product is a multiple of 0.5 below 10 in size, so the float sum is exact
    return text, path, xs, ws, math.fsum(x * w for x, w in zip(xs, ws, strict=True))


def test_wide_sum_from_stdin_with_vars_file(bp, wide):
    text, path, xs, ws, total = wide
    r = bp("eval", "-", "--vars", str(path), "--format", "json", stdin=text)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["value"] == total
    grad = data["gradient"]
    assert len(grad) == 2 * WIDTH
    # order of first appearance: x0, w0, x1, w1, ...
    assert list(grad)[:4] == ["x0", "w0", "x1", "w1"]
    # df/dw_i = x_i, df/dx_i = w_i
    assert all(grad[f"w{i}"] == xs[i] for i in range(WIDTH))
    assert all(grad[f"x{i}"] == ws[i] for i in range(WIDTH))


def test_wide_sum_expanded(wide):
    text, path, xs, ws, total = wide
    from bpcli.readers.bindings import read_vars

    r = evaluate(text, read_vars(str(path)), expand=True)
    assert r.value == total
    g = r.gradient
    assert all(g[f"w{i}"] == xs[i] and g[f"x{i}"] == ws[i] for i in range(0, WIDTH, 997))
