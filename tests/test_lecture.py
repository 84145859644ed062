"""The lecture's worked examples (issue 2, Done 1-2), checked against the lecture's own numbers,
hand-derived closed forms and centered finite differences: never against bp's own output."""

from __future__ import annotations

import json
import math

import pytest

from bpcli.core.engine import evaluate

TOL = 1e-12


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def sig(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


# -- (x+y)*z ----------------------------------------------------------------------------------
# f = (x+y)z = (-2+5)(-4) = -12; df/dx = df/dy = z = -4; df/dz = x+y = 3.
FIRST = ("(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4")


def test_first_example_plain(bp):
    r = bp("eval", *FIRST, "--format", "plain")
    assert r.code == 0, r.err
    assert r.out == "f\t-12.0\ndf/dx\t-4.0\ndf/dy\t-4.0\ndf/dz\t3.0\n"
    assert r.err == ""


def test_first_example_json(bp):
    r = bp("eval", *FIRST, "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["expression"] == "(x+y)*z"
    assert data["value"] == -12.0
    assert data["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert list(data["gradient"]) == ["x", "y", "z"]  # order of first appearance
    assert data["intermediates"] == {}


def test_first_example_wrt(bp):
    r = bp("eval", *FIRST, "--wrt", "z")
    assert (r.code, r.out) == (0, "3.0\n")
    assert bp("eval", *FIRST, "--wrt", "x").out == "-4.0\n"


def test_first_example_staged_reports_q(bp):
    # q = x + y = 3, df/dq = z = -4
    r = bp("eval", "q = x + y; f = q * z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "json")
    data = json.loads(r.out)
    assert data["value"] == -12.0
    assert data["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert data["intermediates"] == {"q": {"value": 3.0, "grad": -4.0}}


def test_named_output_keeps_its_name_in_plain(bp):
    # CONTRACT: when the last statement names the output (L = ...), L replaces f
    r = bp("eval", "q = x + y; L = q * z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "plain")
    assert r.code == 0
    assert r.out.splitlines() == ["L\t-12.0", "dL/dx\t-4.0", "dL/dy\t-4.0", "dL/dz\t3.0"]


def test_first_example_rich_piped_has_numbers_no_escapes(bp):
    r = bp("eval", *FIRST)
    assert r.code == 0, r.err
    assert "\x1b[" not in r.out
    for word in ("-12", "-4", "3", "distributor", "swapper"):
        assert word in r.out


# -- the neuron -------------------------------------------------------------------------------
NEURON_AT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
NEURON_VALUE = 0.7310585786300049
NEURON_GRADS = {
    "w0": -0.19661193324148185,
    "x0": 0.3932238664829637,
    "w1": -0.3932238664829637,
    "x1": -0.5898357997244456,
    "w2": 0.19661193324148185,
}
NEURON_TEXTS = [
    "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "sigmoid(w0*x0+w1*x1+w2)",
    "σ(w0*x0 + w1*x1 + w2)",
    "sigma(w0 x0 + w1 x1 + w2)",
]


def _neuron_args():
    return [f"{k}={v}" for k, v in NEURON_AT.items()]


@pytest.mark.parametrize("text", NEURON_TEXTS)
@pytest.mark.parametrize("expand", [False, True])
def test_neuron(bp, text, expand):
    r = bp("eval", text, *_neuron_args(), "--format", "json", *(["--expand"] if expand else []))
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert close(data["value"], NEURON_VALUE)
    assert list(data["gradient"]) == list(NEURON_GRADS)
    for k, g in NEURON_GRADS.items():
        assert close(data["gradient"][k], g), (k, data["gradient"][k], g)


def test_neuron_closed_form_agrees_with_lecture_numbers():
    # The lecture's numbers themselves, re-derived: s = w0x0+w1x1+w2 = 1, f = σ(1),
    # df/ds = σ(1)(1-σ(1)), and ds/dw0 = x0, ds/dx0 = w0, ... ds/dw2 = 1.
    s = 2 * -1 + -3 * -2 + -3
    f = sig(s)
    ds = f * (1 - f)
    assert close(f, NEURON_VALUE)
    assert close(ds * -1, NEURON_GRADS["w0"]) and close(ds * 2, NEURON_GRADS["x0"])
    assert close(ds * -2, NEURON_GRADS["w1"]) and close(ds * -3, NEURON_GRADS["x1"])
    assert close(ds, NEURON_GRADS["w2"])


def test_neuron_expanded_gates_are_the_lecture_figure(bp):
    r = bp("eval", NEURON_TEXTS[0], *_neuron_args(), "--format", "json", "--graph", "--expand")
    nodes = json.loads(r.out)["graph"]["nodes"]
    gates = [n["symbol"] for n in nodes if n["op"] not in ("var", "const")]
    assert sorted(gates) == sorted(["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"])
    # in the figure's order, from the inputs to the output
    assert gates == ["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"]
    assert [n["op"] for n in nodes if n["op"] not in ("var", "const")] == [
        "mul",
        "mul",
        "add",
        "add",
        "scale",
        "exp",
        "shift",
        "recip",
    ]
    # the figure's wire values: -2, 6, 4, 1, -1, 0.37, 1.37, 0.73 (the lecture's rounded numbers)
    values = [n["value"] for n in nodes if n["op"] not in ("var", "const")]
    assert values[:5] == [-2.0, 6.0, 4.0, 1.0, -1.0]
    assert close(values[5], math.exp(-1)) and close(values[6], 1 + math.exp(-1))
    assert close(values[7], NEURON_VALUE)
    # and the figure's gradients: 1/x: 1, +1: -0.53, exp: -0.53, *-1: -0.2, the adds 0.2
    grads = [n["grad"] for n in nodes if n["op"] not in ("var", "const")]
    inv = 1 + math.exp(-1)
    assert close(grads[7], 1.0)
    assert close(grads[6], -1 / inv**2) and close(grads[5], -1 / inv**2)
    assert close(grads[4], -1 / inv**2 * math.exp(-1))
    assert close(grads[3], 1 / inv**2 * math.exp(-1))
    assert close(grads[3], NEURON_GRADS["w2"])


def test_sigmoid_gate_merged_is_one_gate(bp):
    r = bp("eval", NEURON_TEXTS[1], *_neuron_args(), "--format", "json", "--graph")
    nodes = json.loads(r.out)["graph"]["nodes"]
    assert [n["op"] for n in nodes if n["op"] not in ("var", "const")] == [
        "mul",
        "mul",
        "add",
        "add",
        "sigmoid",
    ]
    # the lecture: (1 - 0.73) * 0.73 * 1 = 0.2 is the sigmoid gate's local gradient
    sig_node = nodes[-1]
    assert close(sig_node["local"][0], NEURON_VALUE * (1 - NEURON_VALUE))


# -- the staged example: f = (x + σ(y)) / (σ(x) + (x+y)^2) at x=3, y=-4 ---------------------------
STAGED_VALUE = 1.5456448841066441
X, Y = 3.0, -4.0


def staged_reference(x: float, y: float) -> dict:
    """Closed form, derived by hand with the quotient rule.

    N = x + σ(y), D = σ(x) + (x+y)^2, f = N/D.
    dN/dx = 1, dN/dy = σ(y)(1-σ(y)); dD/dx = σ(x)(1-σ(x)) + 2(x+y), dD/dy = 2(x+y).
    df/dx = (dN/dx D - N dD/dx)/D^2, df/dy = (dN/dy D - N dD/dy)/D^2.
    Intermediates (the lecture's staged code, f = num * invden):
      df/dnum = invden = 1/D, df/dinvden = num = N, df/dden = -N/D^2,
      df/dsigx = df/dxpysqr = df/dden, df/dxpy = df/dxpysqr * 2 xpy, df/dsigy = df/dnum.
    """
    sy, sx = sig(y), sig(x)
    n = x + sy
    d = sx + (x + y) ** 2
    dden = -n / d**2
    return {
        "f": n / d,
        "dx": (d - n * (sx * (1 - sx) + 2 * (x + y))) / d**2,
        "dy": (sy * (1 - sy) * d - n * 2 * (x + y)) / d**2,
        "inter": {
            "sigy": (sy, 1 / d),
            "num": (n, 1 / d),
            "sigx": (sx, dden),
            "xpy": (x + y, dden * 2 * (x + y)),
            "xpysqr": ((x + y) ** 2, dden),
            "den": (d, dden),
            "invden": (1 / d, n),
        },
    }


def fd(f, x, y, h=1e-6):
    """Centered finite differences of a plain-Python f(x, y)."""
    return (f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h)


def _plain_f(x, y):
    return (x + sig(y)) / (sig(x) + (x + y) ** 2)


def test_staged_reference_matches_lecture_and_finite_differences():
    ref = staged_reference(X, Y)
    assert close(ref["f"], STAGED_VALUE)
    fx, fy = fd(_plain_f, X, Y)
    assert abs(ref["dx"] - fx) < 1e-8 and abs(ref["dy"] - fy) < 1e-8
    assert f"{ref['dx']:.5f}".startswith("2.0595") and f"{ref['dy']:.5f}".startswith("1.5922")


STAGED_FORMS = [
    "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)",
    "(x + σ(y)) / (σ(x) + (x + y)**2)",
    "(x+1/(1+exp(-y)))/(1/(1+exp(-x))+(x+y)*(x+y))",
]


@pytest.mark.parametrize("text", STAGED_FORMS)
@pytest.mark.parametrize("expand", [False, True])
def test_staged_example_one_expression(text, expand):
    ref = staged_reference(X, Y)
    r = evaluate(text, {"x": X, "y": Y}, expand=expand)
    assert close(r.value, STAGED_VALUE)
    assert close(r.gradient["x"], ref["dx"]) and close(r.gradient["y"], ref["dy"])
    fx, fy = fd(_plain_f, X, Y)
    assert abs(r.gradient["x"] - fx) < 1e-8 and abs(r.gradient["y"] - fy) < 1e-8


# the lecture's staged code (cs231n's "backprop in practice: staged computation"), one line each
STAGED_CODE = """\
sigy = 1.0 / (1 + exp(-y))   # sigmoid in numerator
num = x + sigy               # numerator
sigx = 1.0 / (1 + exp(-x))   # sigmoid in denominator
xpy = x + y
xpysqr = xpy**2
den = sigx + xpysqr          # denominator
invden = 1.0 / den
f = num * invden             # done!
"""


@pytest.mark.parametrize("sep", ["\n", "; ", "\r\n"])
def test_staged_code_reports_every_intermediate(bp, sep):
    text = sep.join(line for line in STAGED_CODE.splitlines()) if sep != "; " else None
    if text is None:  # ';' form: comments would swallow the rest of the line, so drop them
        text = "; ".join(line.split("#")[0].strip() for line in STAGED_CODE.splitlines())
    r = bp("eval", text, "--x", "3", "--y", "-4", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    ref = staged_reference(X, Y)
    assert close(data["value"], STAGED_VALUE)
    assert close(data["gradient"]["x"], ref["dx"]) and close(data["gradient"]["y"], ref["dy"])
    assert list(data["intermediates"]) == ["sigy", "num", "sigx", "xpy", "xpysqr", "den", "invden"]
    for name, (value, grad) in ref["inter"].items():
        got = data["intermediates"][name]
        assert close(got["value"], value), name
        assert close(got["grad"], grad), name
    # the output's own name is not an intermediate
    assert "f" not in data["intermediates"]


def test_staged_code_wrt_intermediate(bp):
    r = bp("eval", STAGED_CODE, "--x", "3", "--y", "-4", "--wrt", "den")
    assert r.code == 0, r.err
    assert close(float(r.out), staged_reference(X, Y)["inter"]["den"][1])


def test_staged_code_from_stdin(bp):
    r = bp("eval", "-", "--x", "3", "--y", "-4", "--format", "plain", stdin=STAGED_CODE)
    assert r.code == 0, r.err
    lines = dict(line.split("\t") for line in r.out.splitlines())
    ref = staged_reference(X, Y)
    assert close(float(lines["f"]), STAGED_VALUE)
    assert close(float(lines["df/dx"]), ref["dx"]) and close(float(lines["df/dy"]), ref["dy"])


# -- the pattern circuit: 2*(x*y + max(z,w)) at x=3, y=-4, z=2, w=-1 ------------------------------
# x*y = -12, max(2,-1) = 2, sum -10, f = -20. The *2 gate sends 2 down; the add distributes 2 to
# both; the multiply swaps: dx = 2*y = -8, dy = 2*x = 6; the max routes 2 to z, 0 to w.
PATTERN = ("2*(x*y + max(z,w))", "--x", "3", "--y", "-4", "--z", "2", "--w", "-1")


def test_pattern_circuit(bp):
    r = bp("eval", *PATTERN, "--format", "json", "--graph")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["value"] == -20.0
    assert data["gradient"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    patterns = {n["op"]: n["pattern"] for n in data["graph"]["nodes"]}
    assert patterns["add"] == "distributor"
    assert patterns["max"] == "router"
    # the lecture's "swapper" is the two-input multiply x*y
    muls = [n for n in data["graph"]["nodes"] if n["op"] == "mul"]
    assert any(n["pattern"] == "swapper" for n in muls)
    assert r.err == ""


@pytest.mark.parametrize("name,expected", [("x", "-8.0"), ("y", "6.0"), ("z", "2.0"), ("w", "0.0")])
def test_pattern_circuit_wrt(bp, name, expected):
    assert bp("eval", *PATTERN, "--wrt", name).out == expected + "\n"


def test_pattern_circuit_expanded(bp):
    r = bp("eval", *PATTERN, "--format", "json", "--expand")
    data = json.loads(r.out)
    assert data["value"] == -20.0
    assert data["gradient"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
