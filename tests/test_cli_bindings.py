"""Binding forms, output formats and --tie, through the CLI entry point (contract: Binding values,
Output, Non-differentiable points). Numbers are the lecture's or worked by hand."""

from __future__ import annotations

import json

import pytest

EXPR = "(x+y)*z"
PLAIN = "f\t-12.0\ndf/dx\t-4.0\ndf/dy\t-4.0\ndf/dz\t3.0\n"


@pytest.mark.parametrize(
    "argv",
    [
        [EXPR, "--x", "-2", "--y", "5", "--z", "-4"],
        [EXPR, "--x=-2", "--y=5", "--z=-4"],
        [EXPR, "x=-2", "y=5", "z=-4"],
        ["--x", "-2", EXPR, "--y", "5", "--z", "-4"],  # before and after the expression
        ["--x", "-2", "--y", "5", "--z", "-4", EXPR],
        ["x=-2", "--y=5", EXPR, "--z", "-4"],  # mixed forms
        [EXPR, "--x", "−2", "--y", "5", "--z", "−4"],  # U+2212 minus in a value
        [EXPR, "x=−2", "--y=+5", "--z", " -4 "],
        [EXPR, "--x", "-2e0", "--y", "5.0", "--z", "-4."],
        ["--format", "plain", EXPR, "--x", "-2", "--y", "5", "--z", "-4"],
    ],
)
def test_binding_forms(bp, argv):
    r = bp("eval", *argv, *([] if "--format" in argv else ["--format", "plain"]))
    assert (r.code, r.out, r.err) == (0, PLAIN, "")


def test_greek_binding(bp):
    r = bp("eval", "θ^2", "--θ", "3", "--format", "plain")
    assert r.out == "f\t9.0\ndf/dθ\t6.0\n"


def test_vars_json_file(bp, tmp_path):
    f = tmp_path / "v.json"
    f.write_text('{"x": -2, "y": 5.0, "z": -4}')
    assert bp("eval", EXPR, "--vars", str(f), "--format", "plain").out == PLAIN


def test_vars_lines_file(bp, tmp_path):
    f = tmp_path / "v.txt"
    f.write_text("# the lecture's point\nx = -2\ny=5\r\n\nz: -4   # a colon works too\n")
    assert bp("eval", EXPR, "--vars", str(f), "--format", "plain").out == PLAIN


def test_command_line_overrides_vars_file(bp, tmp_path):
    f = tmp_path / "v.json"
    f.write_text('{"x": 100, "y": 5, "z": -4}')
    assert bp("eval", EXPR, "--vars", str(f), "--x", "-2", "--format", "plain").out == PLAIN


def test_vars_from_stdin(bp):
    r = bp("eval", EXPR, "--vars", "-", "--format", "plain", stdin='{"x": -2, "y": 5, "z": -4}')
    assert r.out == PLAIN


def test_expression_from_stdin(bp):
    r = bp("eval", "-", "--x", "-2", "--y", "5", "--z", "-4", "--format", "plain", stdin="(x+y)*z\n")
    assert (r.code, r.out) == (0, PLAIN)


def test_expression_and_vars_both_from_stdin_is_usage_error(bp):
    r = bp("eval", "-", "--vars", "-", stdin="x")
    assert r.code == 2 and r.err.startswith("bp: ") and r.err.count("\n") == 1


@pytest.mark.parametrize(
    "content,message",
    [
        ("[1, 2]", "JSON object"),
        ('{"x": "abc"}', "'x'"),
        ('{"x": true}', "'x'"),
        ('{"x": null}', "'x'"),
        ("{x: 1}", "not valid JSON"),
        ("x 1", "line 1"),
        ("x = abc", "'x'"),
        ("x = inf", "'x'"),
        ('{"x": 1e999}', "'x'"),
    ],
)
def test_bad_vars_file(bp, tmp_path, content, message):
    f = tmp_path / "v"
    f.write_text(content)
    r = bp("eval", "x", "--vars", str(f))
    assert r.code == 2, r
    assert r.err.startswith("bp: ") and r.err.count("\n") == 1 and message in r.err


def test_missing_vars_file(bp, tmp_path):
    r = bp("eval", "x", "--vars", str(tmp_path / "nope.json"))
    assert r.code == 2 and "nope.json" in r.err and r.err.count("\n") == 1


# -- formats -----------------------------------------------------------------------------------------
def test_plain_full_precision(bp):
    # 1/3 * x at x = 1: value 0.3333333333333333 (repr), gradient the same
    r = bp("eval", "x/3", "--x", "1", "--format", "plain")
    assert r.out == f"f\t{1 / 3!r}\ndf/dx\t{1 / 3!r}\n"


def test_plain_negative_zero_prints_as_zero(bp):
    # f = -x*y at x = 0, y = 1: value -0.0 in IEEE; bp prints 0.0
    r = bp("eval", "-x*y", "--x", "0", "--y", "1", "--format", "plain")
    assert r.out.splitlines()[0] == "f\t0.0"


def test_json_graph_shape(bp):
    r = bp(
        "eval", "q = x + y; f = q * z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "json", "--graph"
    )
    data = json.loads(r.out)
    assert set(data) == {"expression", "value", "gradient", "intermediates", "graph", "warnings"}
    graph = data["graph"]
    assert set(graph) >= {"nodes", "output"}
    nodes = graph["nodes"]
    for n in nodes:
        assert {"id", "op", "inputs", "value", "grad", "pattern"} <= set(n)
        assert n["pattern"] in ("distributor", "swapper", "router", None)
        assert all(isinstance(i, int) and i < n["id"] for i in n["inputs"])
    assert [n["id"] for n in nodes] == list(range(len(nodes)))
    by_op = {n["op"]: n for n in nodes}
    out = nodes[graph["output"]]
    assert out["op"] == "mul" and out["value"] == -12.0 and out["grad"] == 1.0
    assert out["pattern"] == "swapper"
    assert by_op["add"]["pattern"] == "distributor"
    assert (by_op["add"]["value"], by_op["add"]["grad"]) == (3.0, -4.0)
    # inputs carry their values and gradients: x = -2 with -4, z = -4 with 3
    var = {n.get("name"): n for n in nodes if n["op"] == "var"}
    assert (var["x"]["value"], var["x"]["grad"]) == (-2.0, -4.0)
    assert (var["z"]["value"], var["z"]["grad"]) == (-4.0, 3.0)


def test_json_without_graph_has_no_graph(bp):
    r = bp("eval", EXPR, "--x", "-2", "--y", "5", "--z", "-4", "--format", "json")
    assert "graph" not in json.loads(r.out)


def test_dot_format(bp):
    r = bp("eval", EXPR, "--x", "-2", "--y", "5", "--z", "-4", "--format", "dot")
    assert r.code == 0
    assert r.out.lstrip().startswith("digraph") and r.out.rstrip().endswith("}")
    assert "-12" in r.out


def test_rich_format_piped_is_plain_text(bp, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    r = bp("eval", EXPR, "--x", "-2", "--y", "5", "--z", "-4", "--format", "rich")
    assert r.code == 0 and "\x1b" not in r.out and "-12" in r.out


def test_wrt_unknown_name(bp):
    r = bp("eval", EXPR, "--x", "-2", "--y", "5", "--z", "-4", "--wrt", "q")
    assert r.code == 2 and "'q'" in r.err or "q" in r.err
    assert r.err.startswith("bp: ") and r.err.count("\n") == 1 and r.out == ""


def test_wrt_constant(bp):
    r = bp("eval", "pi*x", "--x", "1", "--wrt", "pi")
    assert r.code == 2 and r.err.startswith("bp: ") and "pi" in r.err


# -- ties -----------------------------------------------------------------------------------------------
# f = 2*max(x, y, z) at x = y = 3, z = 1: upstream into max is 2.
#   split: x and y each get 2/2 = 1, z 0;  first: x gets 2, y 0;  both: x and y each 2.
@pytest.mark.parametrize(
    "tie,expected",
    [("split", [1.0, 1.0, 0.0]), ("first", [2.0, 0.0, 0.0]), ("both", [2.0, 2.0, 0.0])],
)
def test_tie(bp, tie, expected):
    r = bp("eval", "2*max(x,y,z)", "--x", "3", "--y", "3", "--z", "1", "--tie", tie, "--format", "json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data["value"] == 6.0
    assert list(data["gradient"].values()) == expected
    assert r.err.startswith("bp: warning:") and "max" in r.err and r.err.count("\n") == 1


def test_tie_default_is_split(bp):
    r = bp("eval", "max(x,y)", "--x", "1", "--y", "1", "--format", "json")
    assert json.loads(r.out)["gradient"] == {"x": 0.5, "y": 0.5}


@pytest.mark.parametrize(
    "tie,expected",
    [("split", [1 / 3, 1 / 3, 1 / 3]), ("first", [1.0, 0.0, 0.0]), ("both", [1.0, 1.0, 1.0])],
)
def test_min_three_way_tie(bp, tie, expected):
    r = bp("eval", "min(x,y,z)", "--x", "0", "--y", "0", "--z", "0", "--tie", tie, "--format", "json")
    assert list(json.loads(r.out)["gradient"].values()) == expected


def test_tie_expanded_agrees(bp):
    r = bp("eval", "2*max(x,y,z)", "--x", "3", "--y", "3", "--z", "1", "--expand", "--format", "json")
    assert list(json.loads(r.out)["gradient"].values()) == [1.0, 1.0, 0.0]


def test_no_tie_no_warning(bp):
    r = bp("eval", "max(x,y)", "--x", "1", "--y", "2", "--format", "plain")
    assert r.err == "" and r.out == "f\t2.0\ndf/dx\t0.0\ndf/dy\t1.0\n"


def test_byte_order_mark_is_ignored(bp, tmp_path):
    f = tmp_path / "v.json"
    f.write_text('\ufeff{"x": -2, "y": 5, "z": -4}', encoding="utf-8")
    assert bp("eval", EXPR, "--vars", str(f), "--format", "plain").out == PLAIN
    g = tmp_path / "v.txt"
    g.write_text("\ufeffx=-2\ny=5\nz=-4\n", encoding="utf-8")
    assert bp("eval", EXPR, "--vars", str(g), "--format", "plain").out == PLAIN
    r = bp("eval", "-", "--vars", str(f), "--format", "plain", stdin="\ufeff(x+y)*z\r\n")
    assert (r.code, r.out) == (0, PLAIN)


def test_expression_word_starting_with_two_minus_signs(bp):
    # --3 = -(-3) = 3; ---x at x = 2 is -(-(-2)) = -2 with d/dx = -1: expressions, not options
    assert bp("eval", "--3", "--format", "plain").out == "f\t3.0\n"
    r = bp("eval", "---x", "--x", "2", "--format", "plain")
    assert (r.code, r.out) == (0, "f\t-2.0\ndf/dx\t-1.0\n")
    r = bp("eval", "-" * 10_000 + "x", "--x", "2", "--format", "plain")  # 10,000 signs: +x
    assert (r.code, r.out) == (0, "f\t2.0\ndf/dx\t1.0\n")


def test_stdin_expression_in_json_has_no_trailing_newline(bp):
    r = bp("eval", "-", "--x", "-2", "--y", "5", "--z", "-4", "--format", "json", stdin="(x+y)*z\r\n\n")
    assert json.loads(r.out)["expression"] == "(x+y)*z"


def test_a_huge_bad_value_is_quoted_short(bp, tmp_path):
    vars_file = tmp_path / "v.txt"
    vars_file.write_text("x = " + "9" * 5000 + "z\n")
    r = bp("eval", "x", "--vars", str(vars_file))
    assert r.code == 2 and "'x'" in r.err and "..." in r.err
    assert len(r.err) < 200
