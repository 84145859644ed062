"""README.md's language reference holds every function and constant of the gate table, and each
derivative it writes (in bp's own language) matches centered finite differences of the function:
a new gate without a row, or a wrong derivative in the table, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bpcli.core.engine import evaluate
from bpcli.core.errors import BpError
from bpcli.core.gates import CONSTANTS, FUNCTIONS

README = Path(__file__).resolve().parent.parent / "README.md"
POINTS = (-1.7, -0.6, 0.3, 0.7, 1.9)


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- language:start"), text.index("<!-- language:end -->")
    return text[start:end]


def function_rows() -> dict[str, tuple[str, str]]:
    """function name -> (derivative cell, whole row), for each `| `name(...)` ... |` row."""
    rows = {}
    for line in section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([^\s`(]+)\(", cells[0]):
            rows[name] = (cells[1], line)
    return rows


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_a_row(name):
    assert name in function_rows(), f"README's language reference has no row for {name}(...)"


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_every_constant_is_listed(name):
    constants = next(line for line in section().splitlines() if line.startswith("Constants:"))
    assert f"`{name}`" in constants


def one_argument_derivatives():
    for name, (cell, _row) in sorted(function_rows().items()):
        forms = re.findall(r"`([^`]+)`", cell)
        if len(forms) == 1 and "x" in forms[0] and "y" not in forms[0] and "'" not in forms[0]:
            yield name, forms[0]


@pytest.mark.parametrize(("name", "derivative"), list(one_argument_derivatives()))
def test_each_written_derivative_matches_finite_differences(name, derivative):
    checked = 0
    for x in POINTS:
        try:
            exact = evaluate(derivative, {"x": x}).value
            h = 1e-6 * max(1.0, abs(x))
            up = evaluate(f"{name}(x)", {"x": x + h}).value
            down = evaluate(f"{name}(x)", {"x": x - h}).value
        except BpError:  # outside the domain (log of a negative number)
            continue
        assert abs((up - down) / (2 * h) - exact) <= 1e-6 * max(1.0, abs(exact)), (name, x)
        checked += 1
    assert checked >= 2, f"{name}: too few points in its domain"


def test_pow_derivatives_match_finite_differences():
    cell, _ = function_rows()["pow"]
    dx, dy = re.findall(r"`([^`]+)`", cell)
    for x, y in ((0.7, 2.5), (1.9, -0.4), (3.0, 1.5)):
        h = 1e-6
        fd_x = (
            evaluate("pow(x, y)", {"x": x + h, "y": y}).value
            - evaluate("pow(x, y)", {"x": x - h, "y": y}).value
        ) / (2 * h)
        fd_y = (
            evaluate("pow(x, y)", {"x": x, "y": y + h}).value
            - evaluate("pow(x, y)", {"x": x, "y": y - h}).value
        ) / (2 * h)
        assert evaluate(dx, {"x": x, "y": y}).value == pytest.approx(fd_x, rel=1e-6)
        assert evaluate(dy, {"x": x, "y": y}).value == pytest.approx(fd_y, rel=1e-6)


def test_eval_help_lists_the_functions(bp):
    r = bp("eval", "--help")
    assert r.code == 0
    for name in FUNCTIONS:
        assert re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", r.out), name
