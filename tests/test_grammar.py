"""Every syntax form of the contract parses, and means what the contract says: each case checks
the value (and where it matters the gradient) against a hand-computed number."""

from __future__ import annotations

import math

import pytest

from bpcli.core.engine import evaluate
from bpcli.core.parse import parse


def val(text: str, **bindings: float) -> float:
    return evaluate(text, bindings).value


def grad(text: str, **bindings: float) -> dict:
    return evaluate(text, bindings).gradient


def approx(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


# -- numbers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("2", 2.0),
        ("-3", -3.0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("6.02E23", 6.02e23),
        ("1E+2", 100.0),
        ("3.", 3.0),
        ("0.125e1", 1.25),
        ("007", 7.0),
    ],
)
def test_numbers(text, expected):
    assert val(text) == expected


def test_signed_literal_is_one_constant():
    g = parse("-3")
    assert g.ops == ["const"] and g.params == [-3.0]


# -- identifiers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x", "w0", "x_1", "lr", "_t", "Xy9", "θ", "α", "β", "Ω", "λ"])
def test_identifiers(name):
    # f = 3*name + 1 at name = 2 -> 7, df/dname = 3
    r = evaluate(f"3*{name} + 1", {name: 2.0})
    assert r.value == 7.0 and r.gradient == {name: 3.0}


def test_xy_is_one_variable():
    g = parse("xy + x")
    assert g.variables == ["xy", "x"]
    assert val("xy", xy=4.0) == 4.0


def test_variables_in_order_of_first_appearance():
    assert parse("z*y + x*z").variables == ["z", "y", "x"]


# -- operators, precedence, associativity ---------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("2^3^2", 512.0),  # 2^(3^2) = 2^9
        ("2**3**2", 512.0),
        ("2^3**2", 512.0),
        ("(2^3)^2", 64.0),
        ("-2^2", -4.0),  # -(2^2)
        ("2^-1", 0.5),  # a signed exponent
        ("2^-1^2", 0.5),  # 2^(-(1^2))
        ("1+2*3", 7.0),
        ("(1+2)*3", 9.0),
        ("8/4/2", 1.0),  # left-assoc: (8/4)/2
        ("8-4-2", 2.0),  # left-assoc
        ("2*3^2", 18.0),
        ("-3*-2", 6.0),
        ("--3", 3.0),
        ("+3", 3.0),
        ("2+-3", -1.0),
        ("6/2*3", 9.0),  # (6/2)*3
        ("7 − 2", 5.0),  # U+2212 minus
        ("−2", -2.0),
        ("3·4", 12.0),  # middle dot
        ("3×4", 12.0),  # times sign
        ("12÷4", 3.0),
        ("2^ 3", 8.0),
        ("  1 +\t2  ", 3.0),
    ],
)
def test_operators(text, expected):
    assert val(text) == expected


def test_neg_x_squared_is_negated_square():
    # -x^2 at x = 3 is -(9); d/dx = -2x = -6
    r = evaluate("-x^2", {"x": 3.0})
    assert r.value == -9.0 and r.gradient == {"x": -6.0}


# -- implicit multiplication ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,bindings,expected",
    [
        ("2x", {"x": 3.0}, 6.0),
        ("2 x", {"x": 3.0}, 6.0),
        ("3(x+1)", {"x": 2.0}, 9.0),
        ("(x+y)z", {"x": 1.0, "y": 2.0, "z": 3.0}, 9.0),
        ("(a)(b)", {"a": 2.0, "b": 5.0}, 10.0),
        ("2x^2", {"x": 3.0}, 18.0),  # 2*(x^2)
        ("2 sin(x)", {"x": 0.0}, 0.0),
        ("2pi", {}, 2 * math.pi),
        ("x y", {"x": 2.0, "y": 5.0}, 10.0),
        ("1/2x", {"x": 4.0}, 2.0),  # implicit multiplication binds like '*': (1/2)*x
        ("-2x", {"x": 3.0}, -6.0),
    ],
)
def test_implicit_multiplication(text, bindings, expected):
    assert approx(val(text, **bindings), expected)


def test_implicit_multiplication_gradient():
    # f = 3(x+1) -> df/dx = 3; f = (x+y)z -> df/dz = x+y
    assert grad("3(x+1)", x=2.0) == {"x": 3.0}
    assert grad("(x+y)z", x=1.0, y=2.0, z=3.0) == {"x": 3.0, "y": 3.0, "z": 3.0}


# -- functions ----------------------------------------------------------------------------------------
S = 1 / (1 + math.exp(-0.5))  # σ(0.5)
FUNCTION_CASES = [
    # (text, x, value, d/dx), every value and derivative by hand
    ("exp(x)", 1.0, math.e, math.e),
    ("log(x)", 2.0, math.log(2), 0.5),
    ("ln(x)", 2.0, math.log(2), 0.5),
    ("sqrt(x)", 4.0, 2.0, 0.25),  # 1/(2 sqrt 4)
    ("sigmoid(x)", 0.5, S, S * (1 - S)),
    ("sigma(x)", 0.5, S, S * (1 - S)),
    ("σ(x)", 0.5, S, S * (1 - S)),
    ("tanh(x)", 0.5, math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
    ("relu(x)", 2.0, 2.0, 1.0),
    ("relu(x)", -2.0, 0.0, 0.0),
    ("abs(x)", -2.0, 2.0, -1.0),
    ("abs(x)", 2.0, 2.0, 1.0),
    ("sin(x)", 0.5, math.sin(0.5), math.cos(0.5)),
    ("cos(x)", 0.5, math.cos(0.5), -math.sin(0.5)),
    ("tan(x)", 0.5, math.tan(0.5), 1 / math.cos(0.5) ** 2),
    ("softplus(x)", 0.5, math.log(1 + math.exp(0.5)), S),
    ("pow(x, 3)", 2.0, 8.0, 12.0),
    ("pow(2, x)", 3.0, 8.0, 8 * math.log(2)),
    ("max(x, 1)", 2.0, 2.0, 1.0),
    ("max(1, x, 3)", 2.0, 3.0, 0.0),
    ("max(1, x, 0, -5)", 2.0, 2.0, 1.0),
    ("min(x, 1)", 2.0, 1.0, 0.0),
    ("min(5, x, 3)", 2.0, 2.0, 1.0),
    ("min (x, 1)", 0.0, 0.0, 1.0),  # a space before the bracket is fine
]


@pytest.mark.parametrize("text,x,value,dx", FUNCTION_CASES)
def test_functions(text, x, value, dx):
    r = evaluate(text, {"x": x})
    assert approx(r.value, value), (r.value, value)
    assert approx(r.gradient["x"], dx), (r.gradient["x"], dx)


def test_every_contract_function_is_covered():
    names = "exp log ln sqrt sigmoid sigma σ tanh relu abs max min sin cos tan softplus pow".split()
    covered = {t.split("(")[0].strip() for t, *_ in FUNCTION_CASES}
    assert set(names) <= covered


# -- constants ---------------------------------------------------------------------------------------
def test_constants():
    assert val("pi") == math.pi
    assert val("e") == math.e
    assert val("2*pi*r", r=1.0) == 2 * math.pi
    assert val("e^x", x=1.0) == math.e
    # a constant is not a variable: no gradient entry
    assert grad("pi*x", x=1.0) == {"x": math.pi}


def test_names_that_start_like_constants_are_variables():
    assert val("ex + pie + e1", ex=1.0, pie=2.0, e1=3.0) == 6.0


# -- staged statements and comments -------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "q = x + y; f = q * z",
        "q = x + y\nf = q * z",
        "q = x + y\r\nf = q * z\r\n",
        "q = x + y;\nf = q * z;",
        "\n\nq = x + y ;; f = q * z\n\n",
        "# the lecture's first example\nq = x + y  # the add gate\nf = q * z  # the multiply gate\n",
        "q = x + y; q * z",  # the last line may be a bare expression
    ],
)
def test_staged(text):
    # q = -2+5 = 3, f = 3*-4 = -12; df/dq = z = -4
    r = evaluate(text, {"x": -2.0, "y": 5.0, "z": -4.0})
    assert r.value == -12.0
    assert r.gradient == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert r.intermediates == {"q": {"value": 3.0, "grad": -4.0}}


def test_staged_intermediate_used_twice_adds_at_the_fork():
    # q = x*y; f = q + q*q at x=2, y=3: q = 6, f = 42, df/dq = 1 + 2q = 13, df/dx = 13y = 39
    r = evaluate("q = x*y; f = q + q*q", {"x": 2.0, "y": 3.0})
    assert r.value == 42.0
    assert r.intermediates == {"q": {"value": 6.0, "grad": 13.0}}
    assert r.gradient == {"x": 39.0, "y": 26.0}


def test_comment_only_lines_and_trailing_comment():
    assert val("# just a note\n2*x # doubled", x=4.0) == 8.0


# -- whole CLI forms -------------------------------------------------------------------------------------
def test_version(bp):
    from bpcli import __version__

    r = bp("--version")
    assert r.code == 0 and r.out.strip() == f"bp {__version__}"


def test_help_has_examples(bp):
    r = bp("eval", "--help")
    assert r.code == 0
    assert "Examples:" in r.out
    assert 'bp eval "(x+y)*z" --x -2 --y 5 --z -4' in r.out
    for opt in ("--format", "--wrt", "--expand", "--tie", "--graph", "--vars"):
        assert opt in r.out
    top = bp("--help")
    assert top.code == 0 and "eval" in top.out


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "bpcli",
            "eval",
            "(x+y)*z",
            "--x",
            "-2",
            "--y",
            "5",
            "--z",
            "-4",
            "--wrt",
            "x",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (p.returncode, p.stdout) == (0, "-4.0\n"), p.stderr


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize(
    "text,bindings,value,gradient,intermediates",
    [
        # a = x; f = a*x at x = 3: f = 9; df/da = x = 3 (a is its own node), df/dx = 2x = 6
        ("a = x; f = a*x", {"x": 3.0}, 9.0, {"x": 6.0}, {"a": (3.0, 3.0)}),
        # q = 2; f = q*x at x = 3: df/dq = x = 3 although q is a constant
        ("q = 2; f = q*x", {"x": 3.0}, 6.0, {"x": 2.0}, {"q": (2.0, 3.0)}),
        # q = 2+3; r = q*3; f = r*x at x = 2: df/dr = 2, df/dq = 3*2 = 6
        ("q = 2+3; r = q*3; f = r*x", {"x": 2.0}, 30.0, {"x": 15.0}, {"q": (5.0, 6.0), "r": (15.0, 2.0)}),
        # q = x*y; p = q; f = p + q at 2, 3: df/dp = 1, df/dq = 1 (direct) + 1 (through p) = 2
        (
            "q = x*y; p = q; f = p + q",
            {"x": 2.0, "y": 3.0},
            12.0,
            {"x": 6.0, "y": 4.0},
            {"q": (6.0, 2.0), "p": (6.0, 1.0)},
        ),
        # q = x*1; f = q*q at x = 3: df/dq = 2q = 6 (expand must not fold q away)
        ("q = x*1; f = q*q", {"x": 3.0}, 9.0, {"x": 6.0}, {"q": (3.0, 6.0)}),
        # q = 3; f = -q*x at x = 2: df/dq = -x = -2
        ("q = 3; f = -q*x", {"x": 2.0}, -6.0, {"x": -3.0}, {"q": (3.0, -2.0)}),
        # an unused intermediate has gradient 0
        ("q = x*2; f = x", {"x": 2.0}, 2.0, {"x": 1.0}, {"q": (4.0, 0.0)}),
    ],
)
def test_named_intermediates_are_their_own_nodes(text, bindings, value, gradient, intermediates, expand):
    r = evaluate(text, bindings, expand=expand)
    assert r.value == value and r.gradient == gradient
    assert {k: (v["value"], v["grad"]) for k, v in r.intermediates.items()} == intermediates


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("x", [0.0, 2.0, -3.0])
def test_power_zero_is_constant_one(x, expand):
    # x^0 = 1 everywhere (IEEE pow), so d/dx (y x^0) = 0 even at x = 0, and d/dy = 1
    r = evaluate("y*x^0", {"x": x, "y": 2.0}, expand=expand)
    assert r.value == 2.0 and r.gradient == {"y": 1.0, "x": 0.0}


@pytest.mark.parametrize("expand", [False, True])
def test_zero_to_a_variable_power(expand):
    # 0^x = 0 for x > 0, so d/dx = 0 (the limit of a^x ln a as a -> 0+); 2^x: d/dx = 2^x ln 2
    r = evaluate("0^x + 2^x", {"x": 2.0}, expand=expand)
    assert r.value == 4.0 and approx(r.gradient["x"], 4 * math.log(2))
