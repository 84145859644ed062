"""Every error class: exactly its exit code, one `bp:` line (plus the expression and a caret for a
syntax error), nothing on stdout, never a traceback. Kinks warn and exit 0. Random text and random
argument lists never make an exception escape `bpcli.cli.main`."""

from __future__ import annotations

import string

import pytest
from conftest import run_bp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def one_line(r, code: int, *words: str) -> str:
    """Assert a one-line error with `code`, mentioning every word; return the message."""
    assert r.code == code, (r.code, r.out, r.err)
    assert "Traceback" not in r.err and "Traceback" not in r.out
    assert r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bp: "), r.err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def syntax(r, source_line: str, column: int, *words: str) -> str:
    """Assert a syntax error: exit 2, `bp: syntax error ...`, the line echoed, a caret under `column`."""
    assert r.code == 2, (r.code, r.err)
    assert "Traceback" not in r.err and r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 3, r.err
    assert lines[0].startswith("bp: syntax error at ") and f"column {column}" in lines[0], lines[0]
    assert lines[1] == "  " + source_line
    assert lines[2] == " " * (2 + column - 1) + "^"
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# -- syntax errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,column,words",
    [
        ("(x+y", 5, ["end of expression", "')'"]),
        ("x+*y", 3, ["'*'"]),
        ("x $ y", 3, ["'$'"]),
        ("2 +", 4, ["end"]),
        (")", 1, ["')'"]),
        ("x y z (", 8, ["end"]),
        ("max(x,)", 7, ["')'"]),
        ("f(x) = 2", 6, ["'='"]),
        ("x 2", 3, ["'2'"]),
        ("sin x", 1, ["'sin' is a function"]),
        ("2 = x", 3, []),
        ("x = ", 4, ["end"]),
        ("x^", 3, ["end"]),
        ("3..4", 3, []),
        ("x $ 2", 3, ["'$'"]),
        ("x + 1 )", 7, ["')'"]),
        ("ax²", 3, ["'²'"]),
    ],
)
def test_syntax_error_caret(bp, text, column, words):
    r = bp("eval", text, "--x", "1")
    syntax(r, text, column, *words)


def test_syntax_error_on_a_later_line_names_line_and_column(bp):
    r = bp("eval", "q = x + y\nf = q *\n", "--x", "1", "--y", "2")
    msg = syntax(r, "f = q *", 8)
    assert "line 2" in msg


def test_syntax_error_crlf_caret(bp):
    r = bp("eval", "q = x + y\r\nf = q * $\r\n", "--x", "1", "--y", "2")
    msg = syntax(r, "f = q * $", 9, "'$'")
    assert "line 2" in msg


def test_syntax_error_from_stdin(bp):
    r = bp("eval", "-", "--x", "1", stdin="x +\n")
    syntax(r, "x +", 4)


@pytest.mark.parametrize(
    "text,column,words",
    [
        ("foo(x)", 1, ["unknown function 'foo'"]),
        ("2*sigmoidd(x)", 3, ["unknown function 'sigmoidd'"]),
        ("x(y+1)", 1, ["x*("]),  # a variable followed by a bracket: tell how to multiply
    ],
)
def test_unknown_function(bp, text, column, words):
    syntax(bp("eval", text, "--x", "1", "--y", "1"), text, column, *words)


@pytest.mark.parametrize(
    "text,column,words",
    [
        ("max(x)", 1, ["max", "two or more", "got 1"]),
        ("min()", 1, ["min", "got 0"]),
        ("exp(x, x)", 1, ["exp", "1 argument", "got 2"]),
        ("pow(x)", 1, ["pow", "2 arguments", "got 1"]),
        ("2 + sqrt()", 5, ["sqrt", "got 0"]),
        ("log(x, 2)", 1, ["log", "got 2"]),
    ],
)
def test_wrong_arity(bp, text, column, words):
    syntax(bp("eval", text, "--x", "1"), text, column, *words)


@pytest.mark.parametrize(
    "text,words",
    [
        ("pi = 3; f = pi*x", ["'pi'", "constant"]),
        ("exp = 3; f = x", ["'exp'", "function"]),
        ("q = x; q = 2*x; f = q", ["'q'", "twice"]),
        ("f = q*2; q = x", ["'q'"]),
        ("x + 1; f = 2*x", ["only the last statement"]),
    ],
)
def test_bad_statements(bp, text, words):
    r = bp("eval", text, "--x", "1")
    assert r.code == 2 and r.out == "" and "Traceback" not in r.err
    lines = r.err.splitlines()
    assert lines[0].startswith("bp: syntax error") and len(lines) == 3
    assert lines[2].strip() == "^"
    for w in words:
        assert w in lines[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "# only a comment", ";", " ; \n ;"])
def test_empty_expression(bp, text):
    one_line(bp("eval", text), 2, "empty")


@pytest.mark.parametrize("stdin", ["", "\n", "  \r\n"])
def test_empty_stdin(bp, stdin):
    one_line(bp("eval", "-", "--x", "1", stdin=stdin), 2, "standard input", "empty")


def test_no_expression(bp):
    one_line(bp("eval"), 2, "no expression")
    one_line(bp("eval", "--x", "1"), 2, "no expression")


def test_two_expressions(bp):
    one_line(bp("eval", "x", "y", "--x", "1", "--y", "2"), 2, "more than one expression")


# -- binding errors -----------------------------------------------------------------------------------
def test_missing_variable(bp):
    one_line(bp("eval", "x*y*z", "--x", "1"), 2, "'y'", "'z'")


def test_unknown_variable(bp):
    one_line(bp("eval", "x", "--x", "1", "--q", "2"), 2, "'q'")
    one_line(bp("eval", "x", "--x", "1", "q=2"), 2, "'q'")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "Infinity", "1e999", "-1e400"])
def test_non_finite_value(bp, value):
    one_line(bp("eval", "x", "--x", value), 2, "'x'", "finite")


@pytest.mark.parametrize("value", ["abc", "", "1 5", "2x", "0x10", "--"])
def test_not_a_number(bp, value):
    one_line(bp("eval", "x", f"--x={value}"), 2, "'x'", "number")


@pytest.mark.parametrize(
    "argv", [["x+pi", "--x", "1", "--pi", "3"], ["x+e", "--x", "1", "e=3"], ["x*π", "--x", "1", "--π=3"]]
)
def test_binding_a_constant(bp, argv):
    name = argv[-2].lstrip("-") if argv[-2].startswith("--") else argv[-1].lstrip("-").split("=")[0]
    one_line(bp("eval", *argv), 2, f"'{name}'", "constant")


def test_binding_an_intermediate(bp):
    one_line(bp("eval", "q = x + 1; f = q*x", "--x", "1", "--q", "2"), 2, "'q'")


def test_bound_twice(bp):
    one_line(bp("eval", "x", "--x", "1", "--x", "2"), 2, "'x'", "twice")
    one_line(bp("eval", "x", "--x", "1", "x=2"), 2, "'x'", "twice")


def test_value_missing_after_option(bp):
    one_line(bp("eval", "x", "--x"), 2, "--x")


@pytest.mark.parametrize(
    "argv,words",
    [
        (["x", "--x", "1", "--format", "yaml"], ["--format", "yaml"]),
        (["x", "--x", "1", "--tie", "random"], ["--tie", "random"]),
        (["x", "--x", "1", "--wrt", "y"], ["--wrt", "y"]),
        (["x", "--x", "1", "--wrt"], ["--wrt"]),
        (["x", "--x", "1", "--format"], ["--format"]),
    ],
)
def test_bad_options(bp, argv, words):
    one_line(bp("eval", *argv), 2, *words)


def test_unknown_command(bp):
    r = bp("evaluate", "x")
    assert r.code == 2 and "Traceback" not in r.err and r.out == ""


# -- math errors (exit 3) -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv,words",
    [
        (["log(x)", "--x", "0"], ["log"]),
        (["ln(x)", "--x", "-1"], ["log"]),
        (["1/x", "--x", "0"], ["/"]),
        (["x/0", "--x", "1"], ["/"]),
        (["exp(x)", "--x", "1000"], ["exp", "overflow"]),
        (["sqrt(x)", "--x", "0"], ["sqrt", "gradient"]),  # value 0, slope 1/(2*0)
        (["sqrt(x)", "--x", "-1"], ["sqrt"]),
        (["9^9^9"], ["^"]),
        (["x*9^9^9", "--x", "2"], ["^"]),
        (["x^0.5", "--x", "0"], ["^", "gradient"]),
        (["x^-1", "--x", "0"], ["^"]),
        (["(-8)^x", "--x", "0.5"], ["^"]),
        (["x*1e308*10", "--x", "1"], ["*"]),
        (["1e999"], ["number"]),
        (["exp(exp(exp(x)))", "--x", "10"], ["exp"]),
        (["log(x) * 0", "--x", "0"], ["log"]),
    ],
)
def test_math_error(bp, argv, words):
    one_line(bp("eval", *argv), 3, "math error", *words)


@pytest.mark.parametrize("expand", [[], ["--expand"]])
def test_math_error_with_expand(bp, expand):
    one_line(bp("eval", "sigmoid(x)/x", "--x", "0", *expand), 3, "math error")


def test_huge_power_does_not_hang(bp):
    # 9^9^9 = 9^387420489: must come back at once as an overflow (exit 3), never compute big ints
    import time

    t = time.perf_counter()
    r = bp("eval", "9^9^9^9")
    assert r.code == 3 and time.perf_counter() - t < 5


# -- kinks: a warning on stderr, exit 0 -----------------------------------------------------------------
@pytest.mark.parametrize(
    "argv,grads,words",
    [
        (["relu(x)", "--x", "0"], ["0.0"], ["relu", "relu'(0) = 0"]),
        (["abs(x)", "--x", "0"], ["0.0"], ["abs", "abs'(0) = 0"]),
        (["max(x,y)", "--x", "2", "--y", "2"], ["0.5", "0.5"], ["max", "tied"]),
        (["min(x,y)", "--x", "2", "--y", "2"], ["0.5", "0.5"], ["min", "tied"]),
    ],
)
def test_kinks_warn_and_exit_0(bp, argv, grads, words):
    r = bp("eval", *argv, "--format", "plain")
    assert r.code == 0
    assert [line.split("\t")[1] for line in r.out.splitlines()[1:]] == grads
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bp: warning: ")
    for w in words:
        assert w in lines[0]


def test_kink_off_the_gradient_path_does_not_warn(bp):
    # relu(x - 5) at x = 5 is at its kink, but q feeds nothing, so no gradient passes it
    r = bp("eval", "q = relu(x - 5); f = x", "--x", "5", "--format", "plain")
    assert (r.code, r.out, r.err) == (0, "f\t5.0\ndf/dx\t1.0\n", "")


# -- nothing ever escapes main ----------------------------------------------------------------------
ALPHABET = string.ascii_letters[:12] + string.digits + "+-*/^()., =;#\n\t\r·×−σπθ[]{}$@!~'\"\\_e"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=ALPHABET, max_size=40),
    x=st.sampled_from(["1", "0", "-2.5", "1e308", "nan"]),
    fmt=st.sampled_from(["plain", "json", "dot", "rich"]),
    extra=st.sampled_from([[], ["--expand"], ["--graph"], ["--tie", "both"], ["--wrt", "a"]]),
)
def test_random_text_never_escapes(text, x, fmt, extra):
    r = run_bp("eval", text, "--a", x, "--format", fmt, *extra)
    assert r.code in (0, 2, 3), (text, r)
    assert "Traceback" not in r.err
    if r.code:
        assert r.err.startswith("bp: ") and r.out == ""


TOKENS = [
    "x",
    "y",
    "(x+y)*z",
    "log(x)",
    "max(x,y)",
    "-",
    "--x",
    "--y",
    "--z",
    "-2",
    "3",
    "x=1",
    "--x=2",
    "--format",
    "plain",
    "json",
    "dot",
    "rich",
    "--graph",
    "--expand",
    "--wrt",
    "--tie",
    "both",
    "first",
    "--vars",
    "/nonexistent",
    "--help",
    "--version",
    "nan",
    "",
    "=",
    "--",
    "--=",
    "-x",
    "eval",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.one_of(st.sampled_from(TOKENS), st.text(ALPHABET, max_size=8)), max_size=8),
    stdin=st.text(ALPHABET, max_size=20),
)
def test_random_argv_never_escapes(words, stdin):
    r = run_bp("eval", *words, stdin=stdin)
    assert r.code in (0, 2, 3), (words, r)
    assert "Traceback" not in r.err and "internal error" not in r.err
    if r.code:
        assert r.err.startswith("bp: ")


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.sampled_from(TOKENS), max_size=6))
def test_random_top_level_argv_never_escapes(words):
    r = run_bp(*words)
    assert r.code in (0, 2, 3), (words, r)
    assert "Traceback" not in r.err and "internal error" not in r.err


def test_bare_bp_prints_help_without_prefix(bp):
    r = bp()
    assert r.code == 2 and r.err.startswith("Usage: bp") and "eval" in r.err and "Traceback" not in r.err


def test_unknown_option_after_expression(bp):
    # --bogus reads as a binding of the variable 'bogus' that has no value
    one_line(bp("eval", "x", "--x", "1", "--bogus"), 2, "--bogus")
    one_line(bp("eval", "x", "--x", "1", "--bogus", "2"), 2, "'bogus'")


def test_caret_lines_up_under_tabs(bp):
    r = bp("eval", "x +\t$", "--x", "1")
    assert r.code == 2
    _, echoed, caret = r.err.splitlines()
    assert echoed == "  x +\t$" and caret == "     \t^"  # the tab is kept, so both expand alike


EXPR_TOKENS = [
    "a", "b", "(", ")", "+", "-", "−", "*", "·", "/", "^", "**", "2", "0", ".5", "1e3", "1e308", "pi", "e",
    ",", ";", "\n", "q = ", "q", "# c\n", " ",
    *(f"{name}(" for name in "exp log ln sqrt sigmoid σ tanh relu abs max min sin cos tan softplus pow".split()),
]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tokens=st.lists(st.sampled_from(EXPR_TOKENS), min_size=1, max_size=14),
    a=st.sampled_from(["1", "0", "-1", "700", "-0.5"]),
    extra=st.sampled_from([[], ["--expand"], ["--tie", "first"], ["--format", "json", "--graph"]]),
)
def test_random_token_soup_never_escapes(tokens, a, extra):
    # mostly near-expressions, so many parse and reach the engine: math errors, kinks, ties
    r = run_bp("eval", "".join(tokens), "--a", a, "--b", "2", "--format", "plain", *extra)
    assert r.code in (0, 2, 3), (tokens, r)
    assert "Traceback" not in r.err and "internal error" not in r.err
    if r.code:
        assert r.err.startswith("bp: ") and r.out == ""
    else:
        assert all(line.startswith("bp: warning: ") for line in r.err.splitlines())


FUNCS1 = "exp log ln sqrt sigmoid sigma σ tanh relu abs sin cos tan softplus".split()
LEAVES = st.sampled_from(["a", "b", "2", "0", "-1", ".5", "1e3", "1e308", "pi", "e", "a", "b"])
EXPRS = st.recursive(
    LEAVES,
    lambda s: st.one_of(
        st.tuples(s, st.sampled_from(["+", "-", "*", "/", "^", "**", "·", "−", ""]), s).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"
        ),
        st.tuples(st.sampled_from(FUNCS1), s).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), st.lists(s, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(s, s).map(lambda t: f"pow({t[0]}, {t[1]})"),
        s.map(lambda x: f"-{x}"),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=EXPRS,
    staged=st.booleans(),
    a=st.sampled_from(["1", "0", "-1", "700", "-0.5", "2"]),
    b=st.sampled_from(["2", "0", "1", "-3"]),
    extra=st.sampled_from(
        [[], ["--expand"], ["--tie", "first"], ["--tie", "both"], ["--format", "json", "--graph"]]
    ),
)
def test_random_expressions_never_escape(body, staged, a, b, extra):
    # well-formed expressions reach the engine: values, math errors, kinks and ties
    text = f"q = {body}\nf = q*a + b" if staged else f"({body}) + 0*a*b"
    r = run_bp("eval", text, "--a", a, "--b", b, "--format", "plain", *extra)
    assert r.code in (0, 3), (text, r)
    assert "Traceback" not in r.err and "internal error" not in r.err
    if r.code:
        assert r.err.startswith("bp: math error") and r.out == "" and r.err.count("\n") == 1
    else:
        assert all(line.startswith("bp: warning: ") for line in r.err.splitlines())


@pytest.mark.parametrize("text,x", [("softplus(x)", "800"), ("sigmoid(x)", "-800"), ("tanh(x)", "-400")])
def test_expanded_textbook_forms_overflow_where_merged_gates_do_not(bp, text, x):
    # softplus(800) = 800 and σ(-800) ≈ 0 are fine as one gate; the lecture's primitive forms
    # log(1 + exp(800)) and 1/(1 + exp(800)) overflow in exp: exit 3, naming the exp gate
    assert bp("eval", text, "--x", x, "--format", "plain").code == 0
    one_line(bp("eval", text, "--x", x, "--expand"), 3, "exp", "overflow")
