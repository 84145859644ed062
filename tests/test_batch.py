"""Batch mode (the SIMD pass): the same numbers as the scalar engine, point by point, and the
CSV / grid / JSON Lines formats, error rows and kink warnings of `bp eval --csv/--grid`."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from bpcli.core.batch import run
from bpcli.core.engine import evaluate
from bpcli.core.errors import MathError
from bpcli.core.parse import parse

UNARY = ["exp", "log", "sqrt", "sigmoid", "tanh", "relu", "abs", "sin", "cos", "softplus", "-"]
BINARY = ["+", "-", "*", "/", "^"]


def random_expression(rng: random.Random, names, depth=0) -> str:
    r = rng.random()
    if depth >= 4 or r < 0.25:
        return rng.choice([*names, *names, "2", "0.5", "3"])
    if r < 0.5:
        f = rng.choice(UNARY)
        inner = random_expression(rng, names, depth + 1)
        return f"-({inner})" if f == "-" else f"{f}({inner})"
    if r < 0.6:
        f = rng.choice(["max", "min"])
        return f"{f}({random_expression(rng, names, depth + 1)}, {random_expression(rng, names, depth + 1)})"
    op = rng.choice(BINARY)
    return f"({random_expression(rng, names, depth + 1)}){op}({random_expression(rng, names, depth + 1)})"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def test_batch_equals_scalar_on_random_expressions_and_points():
    rng = random.Random(2026)
    names = ["x", "y", "z"]
    checked = refused = kinks = 0
    for _ in range(60):
        source = random_expression(rng, names)
        graph = parse(source)
        used = list(graph.var_ids)
        n = 40
        # random points, plus exact zeros and ties so kinks and errors (log 0, 1/0) occur too
        cols = {
            v: np.array([rng.choice([rng.uniform(-3, 3), 0.0, 1.0, -1.0]) for _ in range(n)]) for v in used
        }
        batch = run(graph, cols, {}, n=n)
        for r in range(n):
            point = {v: float(cols[v][r]) for v in used}
            try:
                res = evaluate(graph, point)
            except MathError:
                assert batch.bad[r], (source, point)
                refused += 1
                continue
            assert not batch.bad[r], (source, point)
            assert close(batch.value[r], res.value), (source, point)
            for v in used:
                assert close(batch.gradient[v][r], res.gradient[v]), (source, point, v)
            assert batch.kinks[r] == bool(res.warnings), (source, point)
            kinks += bool(res.warnings)
            checked += 1
    # the generator must exercise all three outcomes
    assert checked > 500 and refused > 20 and kinks > 5


def test_batch_constants_and_expand_agree_with_scalar():
    graph = parse("(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)")
    xs = np.linspace(-3, 3, 7)
    batch = run(graph, {"x": xs}, {"y": 0.5})
    for r, x in enumerate(xs):
        res = evaluate(graph, {"x": float(x), "y": 0.5})
        assert close(batch.value[r], res.value)
        assert close(batch.gradient["x"][r], res.gradient["x"])
        assert close(batch.gradient["y"][r], res.gradient["y"])


# -- CSV ----------------------------------------------------------------------------------------


def rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip().split("\n")]


def test_csv_lecture_example(bp, tmp_path):
    # (x+y)*z at (-2, 5, -4): f = -12, df/dx = df/dy = z = -4, df/dz = x+y = 3 (the lecture);
    # at (1, 2, 3): f = 9, df/dx = df/dy = 3, df/dz = 3
    f = tmp_path / "pts.csv"
    f.write_text("id,x,y,z\na,-2,5,-4\nb,1,2,3\n")
    r = bp("eval", "(x+y)*z", "--csv", str(f))
    assert r.code == 0, r.err
    out = rows(r.out)
    assert out[0] == ["id", "x", "y", "z", "f", "df/dx", "df/dy", "df/dz"]
    assert out[1] == ["a", "-2", "5", "-4", "-12.0", "-4.0", "-4.0", "3.0"]
    assert out[2] == ["b", "1", "2", "3", "9.0", "3.0", "3.0", "3.0"]


def test_csv_from_stdin_with_a_constant_binding(bp):
    # sigmoid(w*x) at w = 2: at x = 0, f = 1/2 and df/dx = w * 1/4 = 0.5, df/dw = x/4 = 0
    r = bp("eval", "sigmoid(w*x)", "--csv", "-", "--w", "2", "--format", "plain", stdin="x\n0\n")
    assert r.code == 0, r.err
    assert rows(r.out) == [["x", "f", "df/dw", "df/dx"], ["0", "0.5", "0.0", "0.5"]]


def test_csv_full_precision_and_quoted_pass_through(bp, tmp_path):
    # x/3 at x = 1: f = 0.3333333333333333 (repr of the double 1/3), df/dx = 1/3
    f = tmp_path / "q.csv"
    f.write_text('label,x\n"a, quoted",1\n')
    r = bp("eval", "x/3", "--csv", str(f))
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == '"a, quoted",1,0.3333333333333333,0.3333333333333333'


def test_csv_error_row_fail_skip_nan(bp, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("x\n1\n0\n-1\n4\n")  # log(0) = -inf (row 2), log(-1) = nan (row 3)
    r = bp("eval", "log(x)", "--csv", str(f))
    assert r.code == 3 and r.out == ""
    assert r.err.startswith("bp: row 2: math error: gate log") and "1 more row" in r.err
    r = bp("eval", "log(x)", "--csv", str(f), "--on-error", "skip")
    assert r.code == 0, r.err
    # log(1) = 0, d/dx = 1; log(4) = 2 ln 2, d/dx = 1/4
    assert rows(r.out) == [["x", "f", "df/dx"], ["1", "0.0", "1.0"], ["4", repr(2 * math.log(2)), "0.25"]]
    assert "2 rows skipped; first: row 2" in r.err
    r = bp("eval", "log(x)", "--csv", str(f), "--on-error", "nan")
    assert r.code == 0
    assert rows(r.out)[2:4] == [["0", "nan", "nan"], ["-1", "nan", "nan"]]


def test_csv_kinks_warn_once_with_a_count(bp):
    # relu'(0) = 0 and abs'(0) = 0: rows 1 and 3 sit at a kink
    r = bp("eval", "relu(x) + abs(x)", "--csv", "-", stdin="x\n0\n2\n0\n")
    assert r.code == 0, r.err
    assert rows(r.out)[1:] == [["0", "0.0", "0.0"], ["2", "4.0", "2.0"], ["0", "0.0", "0.0"]]
    assert r.err.count("warning") == 1 and "2 rows are at a non-differentiable point" in r.err


@pytest.mark.parametrize(
    "stdin, args, message",
    [
        ("x\n1\n", ["x*y"], "no value for 'y'"),
        ("x\n1\nabc\n", ["x"], "row 2, column 'x': not a finite number: 'abc'"),
        ("x,y\n1\n", ["x*y"], "row 1: 1 fields, the header has 2"),
        ("x\n1\n", ["x", "--x", "2"], "'x' is given both as a column and as a binding"),
        ("x\n1\n", ["x", "--on-error", "maybe"], "--on-error must be one of fail, skip, nan"),
        ("x,x\n1,2\n", ["x"], "column 'x' appears twice"),
        ("x\n", ["x"], "has a header but no rows"),
    ],
)
def test_csv_usage_errors(bp, stdin, args, message):
    r = bp("eval", *args, "--csv", "-", stdin=stdin)
    assert r.code == 2 and message in r.err, r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err


# -- grid and JSON Lines ------------------------------------------------------------------------


def test_grid_is_a_cartesian_product(bp):
    r = bp("eval", "x*y", "--grid", "x=0:1:3", "--grid", "y=-1:1:2")
    assert r.code == 0, r.err
    out = rows(r.out)
    assert out[0] == ["x", "y", "f", "df/dx", "df/dy"]
    # f = x y, df/dx = y, df/dy = x; x in (0, 0.5, 1) slowest, y in (-1, 1)
    want = [(x, y) for x in (0.0, 0.5, 1.0) for y in (-1.0, 1.0)]
    assert [[float(c) for c in row] for row in out[1:]] == [[x, y, x * y, y, x] for x, y in want]


def test_grid_json_lines(bp):
    # sigmoid(x) on x = -1, 0, 1: the slope s(1-s) peaks at 1/4 at x = 0, and s(-1) = 1 - s(1)
    r = bp("eval", "sigmoid(x)", "--grid", "x=-1:1:3", "--format", "json")
    assert r.code == 0, r.err
    objs = [json.loads(line) for line in r.out.splitlines()]
    assert [o["row"] for o in objs] == [1, 2, 3]
    assert objs[1] == {"row": 2, "inputs": {"x": 0.0}, "value": 0.5, "gradient": {"x": 0.25}}
    s1 = 1 / (1 + math.exp(-1))
    assert math.isclose(objs[2]["value"], s1, rel_tol=1e-15)
    assert math.isclose(objs[0]["value"], 1 - s1, rel_tol=1e-15)
    assert math.isclose(objs[2]["gradient"]["x"], s1 * (1 - s1), rel_tol=1e-15)


def test_csv_json_lines_keep_pass_through_text_and_nan_as_null(bp):
    r = bp(
        "eval",
        "log(x)",
        "--csv",
        "-",
        "--format",
        "json",
        "--on-error",
        "nan",
        stdin="name,x\nexact,1\nzero,0\n",
    )
    assert r.code == 0, r.err
    a, b = (json.loads(line) for line in r.out.splitlines())
    assert a == {"row": 1, "inputs": {"name": "exact", "x": 1.0}, "value": 0.0, "gradient": {"x": 1.0}}
    assert b["value"] is None and b["gradient"] == {"x": None}


@pytest.mark.parametrize("spec", ["x=1", "x=a:b:3", "x=0:1:0", "1x=0:1:3"])
def test_bad_grid_specs(bp, spec):
    r = bp("eval", "x", "--grid", spec)
    assert r.code == 2 and "--grid" in r.err, r.err
