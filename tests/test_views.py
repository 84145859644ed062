"""The teaching views of `bp eval`: the Rich picture, --steps, --compare, dot, mermaid, --out.

Every number asserted here comes from the lecture's figures or is worked out by hand in a
comment (or by centered finite differences); none is copied from bp's output. The pictures
show 2 decimals (the lecture's figures do too); full precision is tested in plain/json.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
FIRST = ("(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4")
PATTERNS = ("2*(x*y + max(z,w))", "--x", "3", "--y", "-4", "--z", "2", "--w", "-1")
FORK = ("x*x + x", "--x", "3")
NEURON = ("1/(1+exp(-(w0*x0+w1*x1+w2)))", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
SIGMOID_NEURON = ("sigmoid(w0*x0+w1*x1+w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
# the lecture's "another example", staged exactly as its code is (cs231n's staged computation)
STAGED = (
    "sigy = sigmoid(y); num = x + sigy; sigx = sigmoid(x); xpy = x + y; xpysqr = xpy^2;"
    " den = sigx + xpysqr; invden = 1/den; f = num*invden"
)
ANOTHER = "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)"
WRAP = "q = a - b; L = q^c + relu(a) + 3*a"


@pytest.fixture
def show(bp, monkeypatch):
    """Run bp at a fixed width with colour off; returns stdout with trailing blanks stripped."""

    def run(*argv, width=80):
        monkeypatch.setenv("COLUMNS", str(width))
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        r = bp("eval", *argv)
        assert r.code == 0, r.err
        assert "\x1b" not in r.out  # piped: no escape codes
        return "\n".join(line.rstrip() for line in r.out.splitlines()) + "\n"

    return run


def circuit_rows(out: str) -> list[list[str]]:
    """The circuit table's rows as word lists, tree guides removed."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("gate / input"))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("grad = df/d"):
            break
        rows.append(line.lstrip("│├└─ ").split())
    return rows


def row(out: str, name: str) -> list[str]:
    """The one fully drawn row of a node: a gate `[symbol, name, value, grad, ...]` or an input
    `[name, value, grad, local, ...]`."""
    found = [r for r in circuit_rows(out) if (r[0] == name or r[1:2] == [name]) and "↑" not in r[:3]]
    assert len(found) == 1, (name, found)
    return found[0]


# -- Done means 1: the lecture's first figure ---------------------------------------------------
def test_first_figure_patterns_values_gradients(show):
    out = show(*FIRST)
    # f = (x+y)z = 3 * -4 = -12; q = x + y = 3 gets df/dq = z = -4; dz = q = 3; dx = dy = dq = -4
    assert row(out, "f")[:5] == ["*", "f", "-12", "1", "swapper"]
    assert row(out, "q")[:6] == ["+", "q", "3", "-4", "-4", "distributor"]  # local of q under * is z
    assert row(out, "x")[:4] == ["x", "-2", "-4", "1"]
    assert row(out, "y")[:4] == ["y", "5", "-4", "1"]
    assert row(out, "z")[:4] == ["z", "-4", "3", "3"]
    assert out.startswith("f = -12")


# -- Done means 2: the patterns circuit -----------------------------------------------------------
def test_patterns_distributor_router_swapper(show):
    out = show(*PATTERNS)
    # f = 2(xy + max(z, w)) = 2(-12 + 2) = -20; the add and max gates get 2 from the *2
    assert row(out, "f")[:4] == ["*", "f", "-20", "1"]
    assert row(out, "s")[:4] == ["+", "s", "-10", "2"] and "distributor" in row(out, "s")
    assert row(out, "r")[:4] == ["max", "r", "2", "2"] and "router" in row(out, "r")
    assert row(out, "q")[:4] == ["*", "q", "-12", "2"] and "swapper" in row(out, "q")
    assert row(out, "z")[:3] == ["z", "2", "2"]  # z is the max: it gets all of the gradient
    assert row(out, "w")[:3] == ["w", "-1", "0"]  # w is not: 0
    assert row(out, "x")[:3] == ["x", "3", "-8"]  # swapped: y * 2 = -8
    assert row(out, "y")[:3] == ["y", "-4", "6"]  # swapped: x * 2 = 6


# -- Done means 3: a fork -------------------------------------------------------------------------
def test_fork_drawn_once_and_summed(show):
    out = show(*FORK)
    rows = circuit_rows(out)
    # x is drawn once (value 3, gradient 2x + 1 = 7) and referred to at its two other uses
    assert row(out, "x")[:3] == ["x", "3", "7"]
    assert sum(1 for r in rows if r[:2] == ["x", "↑"]) == 2
    # x*x sends x * 1 = 3 down each of its two wires; + sends 1 * 1 = 1: 3 + 3 + 1 = 7
    assert "dx = 3 (via q) + 3 (via q) + 1 (via f) = 7" in out
    assert "fork: 3 uses" in out


def test_fork_gate_and_named_intermediates(show):
    # s = x + y is used twice: f = s * s + s, at x = 1, y = 2: s = 3, df/ds = 2s + 1 = 7
    out = show("s = x + y; f = s * s + s", "--x", "1", "--y", "2")
    assert row(out, "s")[:4] == ["+", "s", "3", "7"]
    assert "ds = 3 (via q) + 3 (via q) + 1 (via f) = 7" in out
    assert "s (intermediate)" in out


# -- Done means 4: the neuron, expanded -----------------------------------------------------------
def test_neuron_expanded_gates_values_gradients(show):
    out = show(*NEURON, "--expand")
    rows = [r for r in circuit_rows(out) if r[0] not in ("w0", "x0", "w1", "x1", "w2")]
    assert sorted(r[0] for r in rows) == sorted(["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"])
    values = {r[0] + r[1]: (r[2], r[3]) for r in rows}
    # the lecture's figure: w0x0 = -2, w1x1 = 6, sum 4, +w2 = 1, *-1 = -1, exp = 0.37, +1 = 1.37,
    # 1/x = 0.73; gradients 1.00 at the output, -1/1.37^2 = -0.53, -0.53, * e^-1 = -0.20, then
    # *-1 flips it to 0.20 and the add gates distribute 0.20
    assert values["1/xf"] == ("0.73", "1")
    assert [r[2:4] for r in rows if r[0] == "+1"] == [["1.37", "-0.53"]]
    assert [r[2:4] for r in rows if r[0] == "exp"] == [["0.37", "-0.53"]]
    assert [r[2:4] for r in rows if r[0] == "*-1"] == [["-1", "-0.20"]]
    assert sorted(tuple(r[2:4]) for r in rows if r[0] == "+") == [("1", "0.20"), ("4", "0.20")]
    assert sorted(tuple(r[2:4]) for r in rows if r[0] == "*") == [("-2", "0.20"), ("6", "0.20")]
    # inputs: dw0 = x0 * 0.20 = -0.20, dx0 = w0 * 0.20 = 0.39, dw1 = -0.39, dx1 = -0.59, dw2 = 0.20
    for name, value, grad in [("w0", "2", "-0.20"), ("x0", "-1", "0.39"), ("w1", "-3", "-0.39")]:
        assert row(out, name)[:3] == [name, value, grad]
    assert row(out, "x1")[:3] == ["x1", "-2", "-0.59"] and row(out, "w2")[:3] == ["w2", "-3", "0.20"]


def _another(x, y):
    sig = lambda v: 1 / (1 + math.exp(-v))
    return (x + sig(y)) / (sig(x) + (x + y) ** 2)


def test_steps_reproduce_the_lecture_staged_code(show):
    out = show(STAGED, "--x", "3", "--y", "-4", "--steps")
    # hand values: sigy = σ(-4) = 0.0180, num = 3.018, sigx = σ(3) = 0.953, xpy = -1, xpysqr = 1,
    # den = 1.953, invden = 0.512, f = 1.546
    forward = [
        "(1) sigy   = σ(y) = 0.018",
        "(2) num    = x + sigy = 3.02",
        "(3) sigx   = σ(x) = 0.95",
        "(4) xpy    = x + y = -1",
        "(5) xpysqr = xpy^2 = 1",
        "(6) den    = sigx + xpysqr = 1.95",
        "(7) invden = 1 / den = 0.51",
        "(8) f      = num * invden = 1.55",
    ]
    # backward, the lecture's code line by line: dden = -1/den^2 * 3.018 = -0.79,
    # dxpy = 2 * -1 * -0.79 = 1.58, dx += (1 - 0.953) 0.953 (-0.79) = -0.036, dy += σ'(-4) 0.512 = 0.009
    backward = [
        "(8) df = 1  # df/df",
        "(8) dnum = invden * df = 0.51",
        "(8) dinvden = num * df = 3.02",
        "(7) dden = (-1 / den^2) * dinvden = -0.79",
        "(6) dsigx = 1 * dden = -0.79",
        "(6) dxpysqr = 1 * dden = -0.79",
        "(5) dxpy = 2 * xpy * dxpysqr = 1.58",
        "(4) dx = 1 * dxpy = 1.58",
        "(4) dy = 1 * dxpy = 1.58",
        # the running total at the fork: 1.583 - 0.036 = 1.547
        "(3) dx += (1 - sigx) * sigx * dsigx = -0.036  # dx so far = 1.55",
        "(2) dx += 1 * dnum = 0.51  # fork: dx = 2.06",
        "(2) dsigy = 1 * dnum = 0.51",
        "(1) dy += (1 - sigy) * sigy * dsigy = 0.009  # fork: dy = 1.59",
    ]
    lines = [line.strip() for line in out.splitlines() if not line.startswith("#")]
    assert lines == forward + backward
    # the fork totals against centered finite differences of the formula
    h = 1e-6
    dx = (_another(3 + h, -4) - _another(3 - h, -4)) / (2 * h)
    dy = (_another(3, -4 + h) - _another(3, -4 - h)) / (2 * h)
    assert (f"{dx:.2f}", f"{dy:.2f}") == ("2.06", "1.59")


def test_steps_unstaged_names_its_intermediates(show):
    out = show(ANOTHER, "--x", "3", "--y", "-4", "--steps")
    assert "(1) q = σ(y) = 0.018" in out and "(7) f = r / v = 1.55" in out
    assert out.count("dx +=") == 2 and out.count("dy +=") == 1
    assert "# fork: dx = 2.06" in out and "# fork: dy = 1.59" in out


def test_steps_first_example_chain_rule(show):
    out = show(*FIRST, "--steps")
    for line in ["(1) q = x + y = 3", "(2) f = q * z = -12", "(2) dq = z * df = -4", "(2) dz = q * df = 3"]:
        assert line in out
    assert "(1) dx = 1 * dq = -4" in out and "(1) dy = 1 * dq = -4" in out


def test_steps_latex(bp):
    r = bp("eval", STAGED, "--x", "3", "--y", "-4", "--steps", "--format", "latex")
    assert r.code == 0, r.err
    assert r.out.startswith("\\begin{align*}") and r.out.rstrip().endswith("\\end{align*}")
    assert "\\mathit{sigy} &= \\sigma (y) = 0.018" in r.out
    assert "\\frac{\\partial f}{\\partial x} &\\mathrel{+}= 1 \\cdot" in r.out
    assert r.out.count("&\\mathrel{+}=") == 3  # dx twice, dy once


# -- --compare: the modularity slide ------------------------------------------------------------
def test_compare_sigmoid_gate(show):
    out = show(*SIGMOID_NEURON, "--compare")
    # the lecture: (1 - σ) σ at σ = 0.73, times the upstream 1: (1 - 0.73) * 0.73 * 1 = 0.2
    assert "σ f, into t: (1 - 0.73) * 0.73 * 1 = 0.20" in out
    assert "expanded into primitive gates: f = 0.73" in out
    assert "DIFFERENT" not in out and out.count(" same") == 6  # f and the five inputs


def test_compare_wide_is_side_by_side(show):
    out = show(*SIGMOID_NEURON, "--compare", width=160)
    first = out.splitlines()[0]
    assert "composite gates: f = 0.73" in first and "expanded into primitive gates" in first


# -- large graphs ---------------------------------------------------------------------------------
def test_large_graph_prints_summary_and_says_how_to_see_all(show):
    src = "+".join(f"x{i}" for i in range(302))  # 301 add gates
    binds = [f"x{i}=1" for i in range(302)]
    out = show(src, *binds)
    assert "301 gates is more than --max-gates 300" in out and "--max-gates 301" in out
    assert "circuit" not in out
    assert (
        "x299 " in out
        and "x300 " not in out
        and "... and 2 more (all of them: --format plain or json)" in out
    )
    out = show(src, *binds, "--max-gates", "400")
    assert "circuit, from the output back to the inputs" in out
    assert "dx0" not in out  # no forks here


def test_deep_graph_continues_below_and_stays_in_width(show):
    src = "sin(" * 60 + "x" + ")" * 60
    out = show(src, "--x", "0.5", width=80)
    assert "↓" in out  # too deep for 80 columns: a branch continues as its own tree below
    assert max(len(line) for line in out.splitlines()) <= 80
    deep = "sin(" * 10000 + "x" + ")" * 10000  # 10,000 deep: the summary, no recursion
    assert "10000 gates" in show(deep, "--x", "0.5")


def test_no_color_env_means_no_escape_codes(bp, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    r = bp("eval", *FIRST)
    assert "\x1b[" in r.out  # forced colour: Rich colours it
    monkeypatch.setenv("NO_COLOR", "1")
    r = bp("eval", *FIRST)
    assert "\x1b" not in r.out and "distributor" in r.out


# -- dot, mermaid, --out ------------------------------------------------------------------------------
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@needs_dot
@pytest.mark.parametrize("argv", [FIRST, PATTERNS, FORK, (*NEURON, "--expand"), (STAGED, "x=3", "y=-4")])
def test_dot_is_valid_for_graphviz(bp, argv):
    r = bp("eval", *argv, "--format", "dot")
    assert r.code == 0, r.err
    done = subprocess.run(["dot", "-Tsvg"], input=r.out.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert b"<svg" in done.stdout


def test_dot_lecture_style(bp):
    out = bp("eval", *FIRST, "--format", "dot").out
    # the + gate: value 3 above the line (green), gradient -4 below it (red) on its wire into *
    assert "q: distributor" in out and "f: swapper" in out
    assert '<FONT COLOR="#1a7f37">3</FONT></TD></TR><TR><TD SIDES="T"' in out
    assert '<I><FONT COLOR="#cf222e">-4</FONT></I>' in out
    assert out.count(" -> ") == 5  # x, y into +; q, z into *; f out
    # small fixed circles with the gate symbol; each input with its total gradient
    assert out.count("shape=circle, fixedsize=true") == 2
    assert "∂f/∂x = -4" in out and "∂f/∂z = 3" in out


def test_dot_shows_the_sum_at_a_fork_and_a_constant_exponent_as_one_gate(bp):
    out = bp("eval", "(x+y)^2 + x*x", "--x", "3", "--y", "-4", "--format", "dot").out
    # d/dx = 2(x+y) + 2x = -2 + 6 = 4: the fork sums what its three wires send back
    assert "∂f/∂x = -2 + 3 + 3 = 4" in out
    assert "<B>^2</B>" in out and 'label="2"' not in out  # ^2 is one gate; no constant 2 drawn
    assert out.count(" -> ") == 8  # x, y into +; + into ^2; x, x into *; ^2, * into +; f out


def test_mermaid(bp):
    r = bp("eval", *FORK, "--format", "mermaid")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "flowchart LR"
    assert sum("-->" in line for line in lines) == 5  # x twice into *, x and q into +, f out
    # x*x sends 3 down each wire, + sends 1 (the fork sums to 7)
    assert lines.count('  n0 -->|"value 3<br/>grad 3"| n1') == 2
    assert '  n0 -->|"value 3<br/>grad 1"| n2' in lines
    assert "swapper" in r.out and "distributor" in r.out


@needs_dot
@pytest.mark.parametrize("suffix, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_out_writes_an_image(bp, tmp_path, suffix, magic):
    target = tmp_path / f"graph.{suffix}"
    r = bp("eval", *FIRST, "--format", "plain", "--out", str(target))
    assert r.code == 0, r.err
    assert r.out == "f\t-12.0\ndf/dx\t-4.0\ndf/dy\t-4.0\ndf/dz\t3.0\n"
    assert magic in target.read_bytes()[:400]


def test_out_without_graphviz_names_the_package(bp, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    r = bp("eval", *FIRST, "--out", str(tmp_path / "g.svg"))
    assert r.code == 2 and r.out == ""
    assert r.err.count("\n") == 1 and "graphviz" in r.err and "dot" in r.err


def test_view_option_errors(bp):
    for argv, word in [
        (("--out", "g.gif"), ".svg"),
        (("--steps", "--format", "json"), "--steps"),
        (("--format", "latex"), "--steps"),
        (("--steps", "--compare"), "pick one"),
        (("--compare", "--format", "plain"), "--compare"),
    ]:
        r = bp("eval", *FIRST, *argv)
        assert r.code == 2 and word in r.err and r.err.count("\n") == 1, (argv, r.err)


# -- golden pictures ------------------------------------------------------------------------------
GOLDEN_CASES = {
    "first_80": (FIRST, 80),
    "first_100": (FIRST, 100),
    "patterns_80": (PATTERNS, 80),
    "fork_80": (FORK, 80),
    "neuron_expand_80": ((*NEURON, "--expand"), 80),
    "neuron_expand_100": ((*NEURON, "--expand"), 100),
    "staged_80": (("q = x + y; f = q * z", "--x", "-2", "--y", "5", "--z", "-4"), 80),
    "steps_lecture_80": ((STAGED, "--x", "3", "--y", "-4", "--steps"), 80),
    "steps_first_80": ((*FIRST, "--steps"), 80),
    "compare_sigmoid_80": ((*SIGMOID_NEURON, "--compare"), 80),
    "compare_sigmoid_160": ((*SIGMOID_NEURON, "--compare"), 160),
    # issue 11, after a newcomer's trial: the same pictures at 120 columns, the lecture's "another
    # example" (the division labelled with its own inputs' names), and a label too long for 80
    # columns wrapping beside unbroken tree lines, under an output that keeps its name L
    "first_120": (FIRST, 120),
    "patterns_120": (PATTERNS, 120),
    "fork_120": (FORK, 120),
    "neuron_expand_120": ((*NEURON, "--expand"), 120),
    "another_80": ((ANOTHER, "--x", "3", "--y", "-4"), 80),
    "another_120": ((ANOTHER, "--x", "3", "--y", "-4"), 120),
    "wrap_80": ((WRAP, "--a", "3", "--b", "1", "--c", "2"), 80),
    "wrap_120": ((WRAP, "--a", "3", "--b", "1", "--c", "2"), 120),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(show, name):
    """The rendered text, colour off, at a fixed width. The numbers in these files were checked
    against the lecture and the hand values the tests above assert. Regenerate with
    BP_UPDATE_GOLDEN=1 and review the diff."""
    argv, width = GOLDEN_CASES[name]
    out = show(*argv, width=width)
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("BP_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_readme_view_examples_are_real_output(show):
    """Each ```text block of README.md that starts with `$ bp eval ...` shows what bp prints."""
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```text\n")[1:]]
    checked = 0
    for block in blocks:
        first, _, expected = block.partition("\n")
        if not first.startswith("$ bp eval "):
            continue
        argv = shlex.split(first[len("$ bp eval ") :])
        assert show(*argv, width=80) == expected, first
        checked += 1
    assert checked >= 5
