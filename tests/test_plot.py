"""bp plot: the function and its slope along one variable, drawn with plotext."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_plot_sigmoid_snapshot(bp):
    # Fixed size, not a terminal: plotext draws without colour, so the text is deterministic.
    r = bp("plot", "sigmoid(x)", "--x", "-6:6", "--width", "60", "--height", "16")
    assert r.code == 0, r.err
    assert r.out == (SNAPSHOTS / "plot_sigmoid_60x16.txt").read_text()


def test_plot_summary_line_sigmoid_slope_peaks_at_a_quarter(bp):
    # sigma'(x) = sigma(x)(1 - sigma(x)) peaks at x = 0 with 1/4; on -6..6 the curve runs from
    # sigma(-6) = 1/(1+e^6) to sigma(6) = 1/(1+e^-6) (6 significant digits in the summary)
    r = bp("plot", "sigmoid(x)", "--x", "-6:6", "--width", "60", "--height", "16")
    last = r.out.strip().splitlines()[-1]
    lo, hi = 1 / (1 + math.exp(6)), 1 / (1 + math.exp(-6))
    assert last.startswith(f"f from {lo:.6g} to {hi:.6g}; df/dx from ")
    assert last.endswith("to 0.25 at x = 0")


def test_plot_binds_other_variables_and_defaults_the_range(bp):
    r = bp("plot", "tanh(w*x)", "x=-1:1", "--w", "2", "--width", "40", "--height", "12")
    assert r.code == 0, r.err
    assert "df/dx" in r.out and "tanh(w*x)" in r.out
    r = bp("plot", "x^2", "--width", "40", "--height", "12")  # one variable: -6..6
    assert r.code == 0, r.err
    # d/dx x^2 = 2x runs from -12 at x = -6 to 12 at x = 6
    assert r.out.strip().splitlines()[-1] == "f from 0 to 36; df/dx from -12 at x = -6 to 12 at x = 6"


def test_plot_leaves_out_points_where_it_is_not_finite(bp):
    r = bp("plot", "log(x)", "--x", "-1:1", "--points", "5", "--width", "40", "--height", "12")
    assert r.code == 0
    assert "left out 3 points" in r.err  # x = -1, -0.5 (nan) and 0 (-inf)


@pytest.mark.parametrize(
    "args, message",
    [
        (["x*y", "--x", "0:1"], "no value for 'y'"),
        (["x*y"], "give the range of the variable to plot"),
        (["x", "--x", "1:0"], "must be finite with A < B"),
        (["x*y", "--x", "0:1", "--y", "0:1"], "one variable at a time"),
        (["x", "--x", "0:1", "--x", "2"], "has a range and a value"),
    ],
)
def test_plot_usage_errors(bp, args, message):
    r = bp("plot", *args)
    assert r.code == 2 and message in r.err, r.err


def test_plot_nowhere_finite_is_a_math_error(bp):
    r = bp("plot", "log(x)", "--x", "-2:-1")
    assert r.code == 3 and "not finite anywhere" in r.err
