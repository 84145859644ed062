"""bp check: the answer-matching rule, names, tables, JSON, and problem sets.

Reference numbers come from the lecture and from closed forms worked out by hand (in comments),
never from bp's own output."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from bpcli.tools.check import check, matches, output_name, read_problem_set, written

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HOMEWORK = EXAMPLES / "lecture-homework.toml"

STAGED = "q = x + y; f = q * z"
AT = ("--x", "-2", "--y", "5", "--z", "-4")
NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = ("w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")


def _sigmoid(t: float) -> float:
    return 1 / (1 + math.exp(-t))


# the neuron by hand: w.x + b = 2*(-1) + (-3)*(-2) + (-3) = 1; f = s(1); df/dw_i = s(1-s) * x_i
S1 = _sigmoid(1.0)
DS1 = S1 * (1 - S1)  # 0.19661...
NEURON_GRAD = {"w0": DS1 * -1, "x0": DS1 * 2, "w1": DS1 * -2, "x1": DS1 * -3, "w2": DS1}


# -- Done means 1 ------------------------------------------------------------------------------


def test_lecture_answers_all_right(bp):
    # lecture: q = 3, f = -12, df/dq = z = -4, df/dx = df/dq * 1 = -4, df/dz = q = 3
    r = bp(
        "check", STAGED, *AT, "--expect", "f=-12", "--expect", "dx=-4", "--expect", "dq=-4", "--expect", "q=3"
    )
    assert r.code == 0, r.err
    assert "all 4 right" in r.out


def test_wrong_answer_marked_with_right_value(bp):
    r = bp("check", STAGED, *AT, "--expect", "f=-12", "--expect", "dz=4")
    assert r.code == 1
    row = next(line for line in r.out.splitlines() if line.startswith("dz"))
    assert "wrong" in row and "right value 3" in row  # df/dz = q = x + y = 3
    f_row = next(line for line in r.out.splitlines() if line.startswith("f "))
    assert "right" in f_row and "wrong" not in f_row
    assert "dz" in r.err


def test_wrong_answer_json(bp):
    r = bp("check", STAGED, *AT, "--expect", "f=-12", "--expect", "dz=4", "--format", "json")
    assert r.code == 1
    obj = json.loads(r.out)
    dz = next(a for a in obj["answers"] if a["name"] == "dz")
    assert dz["right"] is False and dz["actual"] == 3.0 and dz["quantity"] == "df/dz"
    assert obj["right"] == 1 and obj["total"] == 2 and obj["passed"] is False


def test_unknown_name_is_usage_error_listing_names(bp):
    r = bp("check", STAGED, *AT, "--expect", "w=1")
    assert r.code == 2
    assert r.out == ""
    assert "'w'" in r.err
    for name in ("f", "x", "y", "z", "q", "dx", "dy", "dz", "dq"):
        assert name in r.err
    assert "Traceback" not in r.err


# -- Done means 2 ------------------------------------------------------------------------------


def test_neuron_two_decimals(bp):
    assert round(NEURON_GRAD["w0"], 2) == -0.20 and round(NEURON_GRAD["x1"], 2) == -0.59
    r = bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-0.20", "--expect", "dx1=-0.59")
    assert r.code == 0, r.out + r.err
    r = bp("check", NEURON, *NEURON_AT, "--expect", "dx1=-0.58")
    assert r.code == 1
    assert "wrong" in r.out


def test_neuron_all_answers_plain(bp):
    args = [f"--expect=d{n}={v:.2f}" for n, v in NEURON_GRAD.items()]
    r = bp("check", NEURON, *NEURON_AT, *args, "--format", "plain")
    assert r.code == 0, r.out
    for line in r.out.splitlines():
        name, _answer, actual, verdict = line.split("\t")
        assert verdict == "right"
        assert float(actual) == pytest.approx(NEURON_GRAD[name[1:]], rel=1e-12)


# -- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, decimals",
    [("0.20", 2), ("-12", 0), ("3.", 0), (".5", 1), ("1e-3", 3), ("1.2e-3", 4), ("1.5e3", -2), ("−0.5", 1)],
)
def test_written_decimals(text, decimals):
    assert written(text).decimals == decimals


@pytest.mark.parametrize(
    "answer, actual, right",
    [
        ("0.20", 0.1966, True),
        ("-0.58", -0.5898, False),
        ("-0.59", -0.5898, True),
        ("-12", -12.0, True),
        # the old rule's bug: half a unit of `-12` is 0.5, coarser than the problem's 1% of 11.6
        ("-12", -11.6, False),
        ("-12", -11.95, True),  # off by 0.05 <= 1% of 11.95 = 0.1195
        ("-12", -11.4, False),
        ("0.12", 0.125, True),  # an exact half accepts either neighbour
        ("0.13", 0.125, True),
        ("2.68", 2.675, True),  # 2.675 is stored as 2.67499999...; by hand it rounds to 2.68
        ("2.67", 2.675, True),
        ("1e-3", 0.0012, True),  # written to 3 decimals
        ("1.0e-3", 0.0012, False),  # written to 4 decimals
        ("1.5e3", 1549.0, False),  # off by 49 > 1% of 1549
        ("1.5e3", 1510.0, True),  # off by 10 <= 15.1
        ("1.5e3", 1551.0, False),
        ("0", -0.4, False),  # the bug: 0 for 0.4 was right under "half a unit"
        ("0", 0.004, True),  # within the problem's 0.01
        ("0", 0.011, False),
        ("0.0", 0.06, False),
        ("-0.2", -0.1966, True),  # one decimal, but 0.0034 off is within 0.01
        ("-0.196", -0.19661, False),  # three decimals: -0.19661 is -0.197 at that precision
        ("-0.197", -0.19661, True),
        ("2/5", 0.4, True),  # fractions and constant expressions are exact
        ("1/3", 0.33, False),
        ("-1/(1+e)", -1 / (1 + math.e), True),
        ("-1/(1+e)", -0.2689, False),
    ],
)
def test_rounding_rule(answer, actual, right):
    assert matches(written(answer), actual) is right


def test_tolerances_replace_the_rule():
    assert matches(written("0.2"), 0.1966, rtol=0.05)  # |0.2 - 0.1966| = 0.0034 <= 0.05 * 0.1966
    assert not matches(written("0.2"), 0.1966, rtol=0.01)  # 0.0034 > 0.001966
    assert matches(written("0.2"), 0.1966, atol=0.004)
    assert not matches(written("-0.20"), 0.1966, atol=0.004)


def test_tolerance_options(bp):
    # df/dw0 = -0.19661...: -0.19 is off by 0.0066
    r = bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-0.19", "--atol", "0.01", "--format", "json")
    assert r.code == 0
    obj = json.loads(r.out)
    assert obj["rule"] == "tolerance" and obj["atol"] == 0.01
    assert bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-0.19", "--rtol", "0.01").code == 1
    assert bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-0.19", "--rtol", "-1").code == 2


# -- names -----------------------------------------------------------------------------------


def test_name_spellings(bp):
    # L = (x + y) z at x=-2, y=5, z=-4: dL/dx = z = -4, dL/dz = 3
    src = "q = x + y; L = q * z"
    for name in ("dx", "df/dx", "dL/dx", "∂f/∂x", "∂L/∂x"):
        assert bp("check", src, *AT, "--expect", f"{name}=-4").code == 0, name
    assert bp("check", src, *AT, "--expect", "L=-12", "--expect", "f=-12").code == 0
    assert bp("check", src, *AT, "--expect", "dL/dq=-4", "--expect", "x=-2").code == 0
    assert bp("check", src, *AT, "--expect", "dg/dx=-4").code == 2


def test_a_variable_called_dx_is_its_value():
    # f = x * dx at x = 3, dx = 5: "dx" is the variable (5); df/dx = dx = 5, df/ddx = x = 3
    r = check("x * dx", {"x": 3, "dx": 5}, [("dx", "5"), ("df/dx", "5"), ("ddx", "3")])
    assert r.passed


def test_output_name():
    assert output_name("q = x + y; L = q * z") == "L"
    assert output_name("q = x + y\nL = q * z  # loss\n") == "L"
    assert output_name("q = x + y; q * z") is None


@pytest.mark.parametrize(
    "args, message",
    [
        (("--expect", "dx"), "NAME=VALUE"),
        (("--expect", "dx=abc"), "not a number"),
        (("--expect", "dx=inf"), "not a number"),
        ((), "nothing to check"),
        (("--expect", "dx=-4", "--format", "xml"), "--format"),
    ],
)
def test_usage_errors(bp, args, message):
    r = bp("check", STAGED, *AT, *args)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_math_error_is_exit_3(bp):
    assert bp("check", "log(x)", "--x", "0", "--expect", "f=0").code == 3


def test_bindings_like_eval(bp, tmp_path):
    vars_file = tmp_path / "v.json"
    vars_file.write_text('{"x": -2, "y": 5, "z": -4}')
    assert bp("check", STAGED, "--vars", str(vars_file), "--expect", "dz=3").code == 0
    assert bp("check", "-", *AT, "--expect", "dz=3", stdin=STAGED).code == 0
    assert bp("check", "--x=-2", STAGED, "y=5", "--z", "-4", "--expect", "dz=3").code == 0


# -- Done means 3: problem sets --------------------------------------------------------------


def _validate_set_json(obj: dict) -> None:
    """The documented shape of `bp check --file ... --format json` (see README)."""
    assert set(obj) == {"title", "file", "answers", "score", "max_score", "passed", "problems"}
    assert isinstance(obj["passed"], bool)
    assert isinstance(obj["score"], (int, float)) and isinstance(obj["max_score"], (int, float))
    assert obj["score"] == pytest.approx(sum(p["score"] for p in obj["problems"]))
    assert obj["max_score"] == pytest.approx(sum(p["points"] for p in obj["problems"]))
    for p in obj["problems"]:
        assert {"name", "points", "score", "expression", "bindings", "rule", "rtol", "atol"} <= set(p)
        assert {"answers", "right", "total", "passed", "warnings"} <= set(p)
        assert p["total"] == len(p["answers"]) and p["right"] == sum(a["right"] for a in p["answers"])
        assert p["passed"] == (p["right"] == p["total"])
        assert p["score"] == pytest.approx(p["points"] * p["right"] / p["total"])
        for a in p["answers"]:
            assert set(a) == {
                "name",
                "quantity",
                "kind",
                "differs_at",
                "answer",
                "expected",
                "decimals",
                "actual",
                "rounded",
                "right",
            }
            assert isinstance(a["right"], bool) and isinstance(a["actual"], float)
            assert a["kind"] in ("number", "expression", "formula", "missing")
            if a["kind"] == "missing":
                assert a["answer"] is None and not a["right"]
            else:
                assert isinstance(a["answer"], str)
            if a["kind"] in ("number", "expression"):
                assert isinstance(a["expected"], float)
    assert obj["passed"] == all(p["passed"] for p in obj["problems"])


# references for the example file's answers, worked out by hand
X, Y = 3.0, -4.0  # f = (x + s(y)) / (s(x) + (x + y)^2)
NUM = X + _sigmoid(Y)
DEN = _sigmoid(X) + (X + Y) ** 2
FRACTION = {
    "num": NUM,
    "den": DEN,
    "f": NUM / DEN,
    "dnum": 1 / DEN,  # d(num/den)/dnum
    "dden": -NUM / DEN**2,  # d(num/den)/dden
    # quotient rule: dnum/dx = 1, dden/dx = s(x)(1 - s(x)) + 2(x + y)
    "dx": (DEN - NUM * (_sigmoid(X) * (1 - _sigmoid(X)) + 2 * (X + Y))) / DEN**2,
    # dnum/dy = s(y)(1 - s(y)), dden/dy = 2(x + y)
    "dy": (_sigmoid(Y) * (1 - _sigmoid(Y)) * DEN - NUM * 2 * (X + Y)) / DEN**2,
}


def test_example_problem_set_has_the_lecture_examples():
    title, problems = read_problem_set(HOMEWORK.read_text(), "hw")
    assert title
    sources = {p.name: p.expression for p in problems}
    assert {"add-multiply", "neuron", "sigmoid-fraction", "patterns"} <= set(sources)
    fraction = next(p for p in problems if p.name == "sigmoid-fraction")
    # the shipped answers agree with the hand derivation to the decimals they are written with
    for name, text in fraction.expect:
        w = written(text)
        assert abs(w.value - FRACTION[name]) <= 0.5 * 10 ** (-w.decimals), name
    neuron = next(p for p in problems if p.name == "neuron")
    for name, text in neuron.expect:
        ref = S1 if name == "f" else NEURON_GRAD[name[1:]]
        assert abs(written(text).value - ref) <= 0.005, name


def test_problem_set_all_right(bp):
    r = bp("check", "--file", str(HOMEWORK))
    assert r.code == 0, r.err
    assert "score: 10 / 10" in r.out
    r = bp("check", "--file", str(HOMEWORK), "--format", "json")
    assert r.code == 0
    obj = json.loads(r.out)
    _validate_set_json(obj)
    assert obj["passed"] and obj["score"] == obj["max_score"] == 10


def test_problem_set_with_wrong_answers(bp, tmp_path):
    text = HOMEWORK.read_text()
    # two wrong answers: the neuron's dx1 = -0.59 (not -0.58), and dz = 3 in add-multiply
    text = text.replace("dx1 = -0.59", "dx1 = -0.58").replace("dy = -4, dz = 3", "dy = -4, dz = 4")
    hw = tmp_path / "hw.toml"
    hw.write_text(text)
    r = bp("check", "--file", str(hw), "--format", "json")
    assert r.code == 1
    obj = json.loads(r.out)
    _validate_set_json(obj)
    by_name = {p["name"]: p for p in obj["problems"]}
    # add-multiply: 2 points, 5 of 6 right; neuron: 3 points, 5 of 6 right; the rest full marks
    assert by_name["add-multiply"]["score"] == pytest.approx(2 * 5 / 6)
    assert by_name["neuron"]["score"] == pytest.approx(3 * 5 / 6)
    assert obj["score"] == pytest.approx(10 - 2 / 6 - 3 / 6)
    wrong = [a for a in by_name["neuron"]["answers"] if not a["right"]]
    assert [a["name"] for a in wrong] == ["dx1"] and wrong[0]["rounded"] == "-0.59"
    r = bp("check", "--file", str(hw))
    assert r.code == 1 and "score: 9.17 / 10" in r.out and "score" in r.err
    r = bp("check", "--file", str(hw), "--format", "plain")
    assert r.code == 1
    assert "neuron\tdx1\t-0.58\t" in r.out and r.out.splitlines()[-1].startswith("score\t9.17\t10")


def test_problem_set_trailing_zeros_kept(tmp_path, bp):
    # TOML floats keep their spelling: -0.20 is two decimals (-0.19661 rounds to -0.20, not -0.2)
    hw = tmp_path / "hw.toml"
    hw.write_text(
        '[[problem]]\nname = "n"\nexpression = "sigmoid(w*x)"\nbindings = { w = 2, x = -1 }\n'
        "expect = { dw = -0.10 }\n"
    )
    # s(-2) = 0.1192; ds/dw = s(1-s) * x = -0.10499 -> -0.10 to two decimals
    assert bp("check", "--file", str(hw)).code == 0
    hw.write_text(hw.read_text().replace("-0.10", "-0.1050"))  # -0.10499 rounds to -0.1050
    assert bp("check", "--file", str(hw)).code == 0
    hw.write_text(hw.read_text().replace("-0.1050", "-0.104"))  # 3 decimals: -0.105
    assert bp("check", "--file", str(hw)).code == 1


def test_problem_set_points_and_tolerance(tmp_path, bp):
    hw = tmp_path / "hw.toml"
    hw.write_text(
        'title = "t"\natol = 0.5\n'
        '[[problem]]\nname = "a"\nexpression = "x*y"\nbindings = { x = 2, y = 3 }\npoints = 4\n'
        'expect = { "df/dx" = 3.4, dy = "2" }\n'
        '[[problem]]\nname = "b"\nexpression = "x*y"\nbindings = { x = 2, y = 3 }\nrtol = 0\natol = 0\n'
        "expect = { f = 6.0000001 }\n"
    )
    r = bp("check", "--file", str(hw), "--format", "json")
    obj = json.loads(r.out)
    assert r.code == 1
    assert obj["problems"][0]["score"] == 4 and obj["problems"][1]["score"] == 0
    assert obj["score"] == 4 and obj["max_score"] == 5


def _bad(tmp_path, text: str) -> str:
    hw = tmp_path / "bad.toml"
    hw.write_text(text)
    return str(hw)


GOOD = '[[problem]]\nname = "p1"\nexpression = "x*y"\nbindings = { x = 2, y = 3 }\nexpect = { f = 6 }\n'


@pytest.mark.parametrize(
    "text, words",
    [
        ("[[problem]\nname = 1", ["not valid TOML"]),
        ('title = "t"\n', ["no problems"]),
        (GOOD.replace('expression = "x*y"\n', ""), ["p1", "missing key 'expression'"]),
        # a set without answers is a key: graded alone, it has nothing to check
        (GOOD.replace("expect = { f = 6 }\n", ""), ["p1", "no answers to check", "--answers"]),
        (GOOD.replace('"x*y"', '"x*(y"'), ["p1", "syntax error"]),
        (GOOD.replace("f = 6", "dw = 6"), ["p1", "'dw'"]),
        (GOOD.replace("x = 2, ", ""), ["p1", "no value for 'x'"]),
        (GOOD.replace("f = 6", 'f = "six"'), ["p1", "not a number"]),
        (GOOD.replace("expect", "expected"), ["p1", "unknown key 'expected'"]),
        (GOOD + GOOD, ["p1", "used twice"]),
        (GOOD.replace('name = "p1"\n', "").replace('"x*y"', '"x*"'), ["problem 1", "syntax error"]),
    ],
)
def test_bad_problem_sets(tmp_path, bp, text, words):
    r = bp("check", "--file", _bad(tmp_path, text))
    assert r.code == 2, r.err
    assert r.err.startswith("bp: ") and "Traceback" not in r.err
    for w in words:
        assert w in r.err


def test_problem_set_math_error_names_problem(tmp_path, bp):
    r = bp("check", "--file", _bad(tmp_path, GOOD.replace('"x*y"', '"log(x - 2) * y"')))
    assert r.code == 3 and "p1" in r.err


def test_problem_set_usage(bp, tmp_path):
    assert bp("check", "--file", str(tmp_path / "missing.toml")).code == 2
    assert bp("check", "--file", str(HOMEWORK), "x*y").code == 2
    r = bp("check", "--file", "-", stdin=GOOD)
    assert r.code == 0


def test_example_runs_from_another_folder(tmp_path, bp, monkeypatch):
    shutil.copy(HOMEWORK, tmp_path / "hw.toml")
    monkeypatch.chdir(tmp_path)
    assert bp("check", "--file", "hw.toml", "--format", "plain").code == 0


def test_rounded_text():
    from bpcli.tools.check import rounded

    assert rounded(-0.004, 2) == "0.00"  # never "-0.00"
    assert rounded(-0.5898357997, 2) == "-0.59"
    assert rounded(1549.0, -2) == "1500"
    # many places of a large value need more than Decimal's default 28 digits: no error
    assert rounded(123456.75, 30) == "123456.750000000000000000000000000000"
    assert matches(written("123456.750000000000000000000000000000"), 123456.75)
