"""Homework for a course (issue 12): the fair grading rule, formula answers, answer files,
Gradescope's results.json, a variant per student, its key and its sheet.

Reference numbers are closed forms worked out by hand (in comments), never bp's own output."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcli.readers.problems import Problem, ProblemSet, read_set, toml_string, write_set
from bpcli.tools.check import check, make_variant

COURSE = Path(__file__).resolve().parent.parent / "examples" / "course"
STUDENTS = {"alice": "alice.toml", "bob": "bob.toml", "carol": "carol.json"}
NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = ("w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
AT = ("--x", "-2", "--y", "5", "--z", "-4")


def _s(t: float) -> float:
    return 1 / (1 + math.exp(-t))


# -- Done means 1: the rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, code",
    [("dx=0", 1), ("dx=0.4", 0), ("dx=2/5", 0), ("dx=0.40", 0), ("dx=4/10", 0), ("dx=1/3", 1)],
)
def test_integer_answers_are_not_rounded_generously(bp, answer, code):
    # d(0.4 x)/dx = 0.4
    assert bp("check", "0.4*x", "--x", "1", "--expect", answer).code == code


def test_neuron_answers(bp):
    # by hand: w.x + b = 1, ds/dw0 = s(1)(1 - s(1)) * x0 = -0.1966, ds/dx1 = s(1)(1-s(1)) * w1 = -0.5898
    assert bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-0.20", "--expect", "dx1=-0.59").code == 0
    assert bp("check", NEURON, *NEURON_AT, "--expect", "dx1=-0.58").code == 1
    ds = _s(1) * (1 - _s(1))
    # the exact answer as a constant expression (e is bp's constant)
    assert bp("check", NEURON, *NEURON_AT, "--expect", "dw0=-(1/(1+e^-1))*(1-1/(1+e^-1))").code == 0
    assert ds == pytest.approx(0.19661193324148185, rel=1e-15)


def test_the_issues_other_examples(bp):
    # d(x*y)/dy = x = 3.4: 3 is off by 0.4, far more than 1% of 3.4
    assert bp("check", "x*y", "--x", "3.4", "--y", "1", "--expect", "dy=3").code == 1
    # a max tie splits the gradient: ds1 = 0.5, and 0 is not 0.5
    r = bp("check", "max(s1, s2)", "--s1", "1", "--s2", "1", "--expect", "ds1=0")
    assert r.code == 1 and "right value 0.5" in r.out


def test_hint_is_never_misleading(bp):
    # d(x*y)/dx = y = -0.731: the hint keeps the problem's two decimals, not the answer's none
    r = bp("check", "x*y", "--x", "2", "--y", "-0.731", "--expect", "dx=0", "--format", "json")
    a = json.loads(r.out)["answers"][0]
    assert r.code == 1 and a["rounded"] == "-0.73"
    # and the hint is itself accepted
    assert bp("check", "x*y", "--x", "2", "--y", "-0.731", "--expect", "dx=-0.73").code == 0
    # a small value keeps two significant digits: dy = x = 0.004
    r = bp("check", "x*y", "--x", "0.004", "--y", "1", "--expect", "dy=1", "--format", "json")
    assert json.loads(r.out)["answers"][0]["rounded"] == "0.0040"


@settings(max_examples=400, deadline=None)
@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    decimals=st.one_of(st.none(), st.integers(-4, 8)),
    tol=st.sampled_from([(None, None), (1e-3, None), (None, 0.5), (0.0, 0.0)]),
)
def test_the_hint_is_itself_a_right_answer(value, decimals, tol):
    from bpcli.readers.problems import written
    from bpcli.tools.check import hint, matches

    text = hint(value, decimals, *tol)
    assert matches(written(text), value, *tol), text


def test_tolerance_options_still_replace_the_rule(bp):
    # dy = x = 3.4; with --atol 0.5 the answer 3 is within 0.4
    assert bp("check", "x*y", "--x", "3.4", "--y", "1", "--expect", "dy=3", "--atol", "0.5").code == 0


@pytest.mark.parametrize("answer", ["dx=1/0", "dx=log(0)", "dx=2*", "dx=(("])
def test_bad_constant_answers(bp, answer):
    r = bp("check", "0.4*x", "--x", "1", "--expect", answer)
    assert r.code == 2 and r.err.startswith("bp: ") and "Traceback" not in r.err


def test_answer_text_is_read_in_linear_time():
    import time

    from bpcli.core.errors import UsageError
    from bpcli.readers.problems import written

    # a long run of digits that is not a number: a backtracking pattern takes quadratic time
    start = time.perf_counter()
    with pytest.raises(UsageError):
        written("1" * 1900 + "e")
    assert time.perf_counter() - start < 1.0


# -- Done means 2: formula answers ----------------------------------------------------------------


def test_formula_answer_right(bp):
    # f = (x + y) z: df/dz = x + y everywhere
    r = bp("check", "(x+y)*z", *AT, "--expect", "dz = x + y")
    assert r.code == 0, r.out + r.err
    assert "equal at 21 points" in r.out


def test_formula_answer_wrong_names_a_point(bp):
    r = bp("check", "(x+y)*z", *AT, "--expect", "dz = x", "--format", "json")
    assert r.code == 1
    a = json.loads(r.out)["answers"][0]
    point = a["differs_at"]
    assert set(point) == {"x", "y", "z"}
    # at the named point, x + y and x really differ: y is not 0 there
    assert point["y"] != 0
    r = bp("check", "(x+y)*z", *AT, "--expect", "dz = x")
    assert "wrong at x=" in r.out and "wrong at x=" in r.err


def test_formula_equal_at_the_point_but_not_around_it(bp):
    # f = x^3 at x = 1: df/dx = 3 x^2 = 3 = 3x there, but not at any other point
    r = bp("check", "x^3", "--x", "1", "--expect", "dx = 3*x", "--format", "json")
    assert r.code == 1
    x = json.loads(r.out)["answers"][0]["differs_at"]["x"]
    assert x != 1 and 3 * x**2 != pytest.approx(3 * x)
    assert bp("check", "x^3", "--x", "1", "--expect", "dx = 3x^2").code == 0


def test_formula_skips_points_where_undefined(bp):
    # d sqrt(x)/dx = 1/(2 sqrt(x)); points around x = 0.5 with x <= 0 are skipped, not failed
    r = bp("check", "sqrt(x)", "--x", "0.5", "--expect", "dx = 1/(2*sqrt(x))")
    assert r.code == 0, r.out
    # undefined at the point itself: wrong
    assert bp("check", "x*y", "--x", "0", "--y", "1", "--expect", "dy = x/x").code == 1


def test_formula_may_use_intermediates(bp):
    # q = x + y, f = q z: df/dz = q, df/dx = z
    r = bp("check", "q = x + y; f = q * z", *AT, "--expect", "dz = q", "--expect", "dx=z", "--expect", "dq=z")
    assert r.code == 0, r.out


def test_formula_with_unknown_variable(bp):
    r = bp("check", "(x+y)*z", *AT, "--expect", "dz = x + w")
    assert r.code == 2 and "'w'" in r.err


def test_formula_api():
    report = check("x*y", {"x": 2.0, "y": 3.0}, [("dx", "y"), ("dy", "y")])
    assert [a.right for a in report.answers] == [True, False]
    assert report.answers[1].differs_at == {"x": 2.0, "y": 3.0}  # y = 3 is not x = 2


# -- answer files ---------------------------------------------------------------------------------

KEY = """title = "t"
[[problem]]
name = "mul"
expression = "x*y"
bindings = { x = 2, y = 3 }

[[problem]]
name = "staged"
expression = "q = x + y; f = q * z"
bindings = { x = -2, y = 5, z = -4 }
ask = ["f", "dq", "dx", "dz"]
"""


def _files(tmp_path, answers: str, suffix: str = ".toml") -> tuple[str, str]:
    (tmp_path / "key.toml").write_text(KEY)
    (tmp_path / f"a{suffix}").write_text(answers)
    return str(tmp_path / "key.toml"), str(tmp_path / f"a{suffix}")


def test_key_without_answers_grades_a_students_file(bp, tmp_path):
    # mul asks (by default) every gradient: dx = y = 3, dy = x = 2; staged: f = -12, dq = z = -4,
    # dx = -4, dz = q = 3
    key, ans = _files(
        tmp_path, '[mul]\ndx = 3\ndy = "x"\n[staged]\nf = -12\n"df/dq" = -4\ndx = "z"\ndz = 3\n'
    )
    r = bp("check", "--file", key, "--answers", ans, "--format", "json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["score"] == 2 and obj["answers"] == ans


def test_missing_and_blank_answers_are_wrong(bp, tmp_path):
    key, ans = _files(tmp_path, '[mul]\ndx = 3\ndy = ""\n')
    r = bp("check", "--file", key, "--answers", ans, "--format", "json")
    assert r.code == 1
    by_name = {p["name"]: p for p in json.loads(r.out)["problems"]}
    assert by_name["mul"]["score"] == 0.5 and by_name["staged"]["score"] == 0
    kinds = [a["kind"] for a in by_name["mul"]["answers"]]
    assert kinds == ["number", "missing"]


def test_json_answers(bp, tmp_path):
    key, ans = _files(tmp_path, '{"mul": {"dx": 3.00, "dy": "4/2"}}', ".json")
    r = bp("check", "--file", key, "--answers", ans, "--format", "json")
    mul = json.loads(r.out)["problems"][0]
    assert [a["right"] for a in mul["answers"]] == [True, True] and mul["answers"][0]["decimals"] == 2


@pytest.mark.parametrize(
    "answers, suffix, words",
    [
        ("[mul]\ndx = 3\ndx = 4\n", ".toml", ["not valid TOML"]),  # TOML refuses a repeated key
        ('[mul]\ndx = 3\n"df/dx" = 3\n', ".toml", ["mul", "answered twice", "dx", "df/dx"]),
        ('{"mul": {"dx": 3, "dx": 4}}', ".json", ["'dx' is answered twice"]),
        ("[nope]\ndx = 3\n", ".toml", ["no problem 'nope'", "mul"]),
        ("[mul]\ndw = 3\n", ".toml", ["mul", "'dw'"]),
        ("dx = 3\n", ".toml", ["table"]),
        ("[mul]\ndx = 3\n", ".json", ["not valid JSON"]),
    ],
)
def test_bad_answer_files(bp, tmp_path, answers, suffix, words):
    key, ans = _files(tmp_path, answers, suffix)
    r = bp("check", "--file", key, "--answers", ans)
    assert r.code == 2 and r.err.startswith("bp: ") and "Traceback" not in r.err
    for w in words:
        assert w in r.err


def test_answer_not_asked_is_a_warning(bp, tmp_path):
    key, ans = _files(tmp_path, "[staged]\nf = -12\ndy = -4\n")
    r = bp("check", "--file", key, "--answers", ans)
    assert r.code == 1 and "dy is not asked for" in r.err


def test_answers_need_a_problem_set(bp, tmp_path):
    _key, ans = _files(tmp_path, "[mul]\ndx = 3\n")
    assert bp("check", "x*y", "--x", "1", "--y", "2", "--answers", ans).code == 2


# -- Gradescope ------------------------------------------------------------------------------------

_TOP = {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
_TEST = {"score", "max_score", "name", "number", "output", "tags", "visibility"}
_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def validate_gradescope(obj: dict) -> None:
    """results.json against the keys of Gradescope's autograder specification."""
    assert set(obj) <= _TOP and "tests" in obj and "score" in obj
    assert isinstance(obj["score"], (int, float)) and not isinstance(obj["score"], bool)
    for key in ("visibility", "stdout_visibility"):
        if key in obj:
            assert obj[key] in _VISIBILITY
    if "output" in obj:
        assert isinstance(obj["output"], str)
    if "execution_time" in obj:
        assert isinstance(obj["execution_time"], (int, float))
    assert isinstance(obj["tests"], list)
    for t in obj["tests"]:
        assert set(t) <= _TEST and {"score", "max_score", "name"} <= set(t)
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert 0 <= t["score"] <= t["max_score"]
        assert t.get("visibility", "visible") in _VISIBILITY
        assert all(isinstance(tag, str) for tag in t.get("tags", []))
        assert isinstance(t.get("number", ""), str)
    assert obj["score"] == pytest.approx(sum(t["score"] for t in obj["tests"]), abs=1e-6)


def test_gradescope_partial_credit(bp, tmp_path):
    # mul: 1 point, dx right (3), dy wrong (x = 2, not 5); staged: 1 point, only f answered (right)
    key, ans = _files(tmp_path, "[mul]\ndx = 3\ndy = 5\n[staged]\nf = -12\n")
    r = bp("check", "--file", key, "--answers", ans, "--format", "gradescope")
    assert r.code == 1
    obj = json.loads(r.out)
    validate_gradescope(obj)
    scores = {t["name"]: (t["score"], t["max_score"]) for t in obj["tests"]}
    assert scores["mul: dx"] == (0.5, 0.5) and scores["mul: dy"] == (0.0, 0.5)
    assert scores["staged: f"] == (0.25, 0.25) and scores["staged: dz"] == (0.0, 0.25)
    assert obj["score"] == pytest.approx(0.75)
    # bp's values stay out of the students' feedback (they may resubmit)
    dy = next(t for t in obj["tests"] if t["name"] == "mul: dy")
    assert "wrong" in dy["output"] and "2" not in dy["output"].split(":", 1)[1].replace("dy = 5", "")


def test_gradescope_single_check(bp):
    r = bp("check", "(x+y)*z", *AT, "--expect", "dz=3", "--expect", "dx=4", "--format", "gradescope")
    obj = json.loads(r.out)
    validate_gradescope(obj)
    assert r.code == 1 and obj["score"] == 1 and len(obj["tests"]) == 2


def test_gradescope_error_still_writes_results(bp, tmp_path):
    key, ans = _files(tmp_path, "[mul\n")
    r = bp("check", "--file", key, "--answers", ans, "--format", "gradescope")
    assert r.code == 2 and "not valid TOML" in r.err
    obj = json.loads(r.out)
    validate_gradescope(obj)
    assert obj["score"] == 0 and "not valid TOML" in obj["output"]


# -- Done means 4: variants -------------------------------------------------------------------------


def test_same_seed_same_bytes(bp, tmp_path):
    hw = str(COURSE / "hw.toml")
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    assert bp("problems", "make", hw, "--seed", "alice", "--out", str(a)).code == 0
    assert bp("problems", "make", hw, "--seed", "alice", "--out", str(b)).code == 0
    assert a.read_bytes() == b.read_bytes()
    # in another process too (a salted hash would differ between runs)
    out = subprocess.run(
        [sys.executable, "-m", "bpcli", "problems", "make", hw, "--seed", "alice"],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "random"},
    ).stdout
    assert out == a.read_bytes()
    # integer seeds: 7 and "7" are the same seed
    assert bp("problems", "make", hw, "--seed", "7").out == write_set(
        make_variant(read_set((COURSE / "hw.toml").read_text()), 7)
    )
    assert bp("problems", "make", hw, "--seed", "bob").out != a.read_text()


def _fair_by_hand(name: str, b: dict) -> None:
    """The course problems' gradients worked out by hand; no draw on a kink or tie, and no
    gradient the answer 0 would pass (|g| <= 0.01) unless a max routes it to exactly 0."""
    if name == "add-multiply":  # f = (x + y) z: dx = dy = z, dz = x + y
        assert abs(b["z"]) > 0.01 and abs(b["x"] + b["y"]) > 0.01
    elif name == "neuron":  # ds = s(t)(1 - s(t)) times the other factor of each product
        t = b["w0"] * b["x0"] + b["w1"] * b["x1"] + b["w2"]
        ds = _s(t) * (1 - _s(t))
        for g in (ds * b["x0"], ds * b["w0"], ds * b["x1"], ds * b["w1"], ds):
            assert abs(g) > 0.01
    elif name == "router":  # f = 2 (x y + max(z, w)): dx = 2y, dy = 2x, max routes 2 to the larger
        assert b["z"] != b["w"]
        assert abs(2 * b["y"]) > 0.01 and abs(2 * b["x"]) > 0.01
    elif name == "hinge":  # L = max(0, m), m = 1 - y (w x + b): at m > 0 dw = -y x, dx = -y w, db = -y
        m = 1 - b["y"] * (b["w"] * b["x"] + b["b"])
        assert m != 0
        if m > 0:
            assert abs(b["y"] * b["x"]) > 0.01 and abs(b["y"] * b["w"]) > 0.01
    else:
        raise AssertionError(name)


def test_a_thousand_seeds_are_all_fair():
    pset = read_set((COURSE / "hw.toml").read_text())
    grids = {p.name: p.bindings for p in pset.problems}
    for seed in range(1000):
        variant = make_variant(pset, f"student-{seed}")
        for p in variant.problems:
            for n, v in p.bindings.items():
                assert v in grids[p.name][n].values  # drawn from its range or choices
            _fair_by_hand(p.name, p.bindings)


# each expression's gradients by hand, at a point off its kink or tie: (dx, dy)
KINKED = {
    "relu(x) + x*y": (lambda x, y: x != 0, lambda x, y: ((x > 0) + y, x)),
    "abs(x) * y": (lambda x, y: x != 0, lambda x, y: ((1 if x > 0 else -1) * y, abs(x))),
    "max(x, y) + x*y": (lambda x, y: x != y, lambda x, y: ((x > y) + y, (y > x) + x)),
    # step jumps at 0 (its gradient is 0 elsewhere): d/dx = y, d/dy = step(x) + x
    "step(x)*y + x*y": (lambda x, y: x != 0, lambda x, y: (y, (x > 0) + x)),
}


@pytest.mark.parametrize("expression", list(KINKED))
def test_variants_reject_kinks_ties_and_zero_gradients(expression):
    off_kink, grads = KINKED[expression]
    pset = read_set(
        f'[[problem]]\nexpression = "{expression}"\n'
        "bindings = { x = {range = [-1, 1], step = 0.5}, y = {choices = [-1, 0, 1]} }\n"
    )
    for seed in range(300):
        b = make_variant(pset, seed).problems[0].bindings
        assert off_kink(b["x"], b["y"]), b
        assert all(abs(g) > 0.01 for g in grads(b["x"], b["y"])), b


def test_a_problem_with_no_fair_draw(bp, tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_text('[[problem]]\nname = "p"\nexpression = "x*y"\nbindings = { x = {choices = [0]}, y = 1 }\n')
    r = bp("problems", "make", str(hw), "--seed", "s")
    assert r.code == 2 and "'p'" in r.err and "zero gradient" in r.err


@pytest.mark.parametrize(
    "binding, words",
    [
        ("{range = [1]}", ["range", "[lo, hi]"]),
        ("{range = [2, 1]}", ["lo <= hi"]),
        ("{range = [0, 1], step = 0}", ["step > 0"]),
        ("{range = [0, 1e9], step = 1e-3}", ["at most"]),
        ("{choices = []}", ["choices"]),
        ('{choices = ["a"]}', ["not a number"]),
        ("{from = 1}", ["range"]),
    ],
)
def test_bad_spreads(bp, tmp_path, binding, words):
    hw = tmp_path / "hw.toml"
    hw.write_text(f'[[problem]]\nexpression = "x*y"\nbindings = {{ x = {binding}, y = 1 }}\n')
    r = bp("problems", "make", str(hw), "--seed", "s")
    assert r.code == 2 and "Traceback" not in r.err
    for w in words:
        assert w in r.err


def test_ranges_need_a_variant_to_grade(bp):
    r = bp("check", "--file", str(COURSE / "hw.toml"))
    assert r.code == 2 and "bp problems make" in r.err


def test_steps_are_exact_decimals():
    p = read_set('[[problem]]\nexpression = "x"\nbindings = { x = {range = [0, 1], step = 0.1} }\n').problems[
        0
    ]
    assert p.bindings["x"].values[3] == 0.3  # 3 * 0.1 is 0.30000000000000004 in doubles


@pytest.mark.parametrize(
    "text", ['a "quoted" title', "back\\slash", "line\nbreak\ttab", "ünïcödé σ", "ctrl\x01\x7f", "'single'"]
)
def test_toml_strings_round_trip(text):
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text
    s = ProblemSet(text, [Problem(text, "x*y", {"x": 0.1, "σ": -3.0}, [])], seed=text)
    s.problems[0].ask = [text]
    s.problems[0].bindings = {"x": 0.1, "y": -3.0}
    back = tomllib.loads(write_set(s))
    assert back["title"] == text and back["seed"] == text and back["problem"][0]["name"] == text
    assert back["problem"][0]["bindings"] == {"x": 0.1, "y": -3}
    assert back["problem"][0]["ask"] == [text]


# -- Done means 3: the course folder ------------------------------------------------------------------


def _course_outputs(bp) -> dict[str, str]:
    hw = str(COURSE / "hw.toml")
    out = {}
    for student, answers in STUDENTS.items():
        variant = bp("problems", "make", hw, "--seed", student)
        assert variant.code == 0, variant.err
        out[f"{student}-hw.toml"] = variant.out
        path = str(COURSE / f"{student}-hw.toml")
        out[f"keys/{student}.toml"] = bp("problems", "key", path).out
        graded = bp("check", "--file", path, "--answers", str(COURSE / answers), "--format", "gradescope")
        assert graded.code in (0, 1), graded.err
        out[f"results/{student}.json"] = graded.out
    out["alice-hw.md"] = bp("problems", "sheet", str(COURSE / "alice-hw.toml")).out
    out["alice-hw.tex"] = bp("problems", "sheet", str(COURSE / "alice-hw.toml"), "--format", "latex").out
    return out


def test_committed_course_files_are_what_the_commands_produce(bp):
    for name, text in _course_outputs(bp).items():
        assert (COURSE / name).read_text(encoding="utf-8") == text, f"{name}: run examples/course/build.sh"


# each student's scores by hand (see the comments in their answer files):
# alice: all right, 9 of 9; bob: add-multiply 3/5 of 2, neuron 4/6 of 3, router 4/5 of 2, hinge 3/4
# of 2; carol: add-multiply 4/5 (q missing), neuron 4/6 (dx1 sign, dw2 missing), router 5/5,
# hinge 3/4 (dw: the hinge is flat at her point, so dL/dw = 0, not -y x)
SCORES = {
    "alice": 9.0,
    "bob": 2 * 3 / 5 + 3 * 4 / 6 + 2 * 4 / 5 + 2 * 3 / 4,
    "carol": 2 * 4 / 5 + 3 * 4 / 6 + 2 + 2 * 3 / 4,
}


@pytest.mark.parametrize("student", list(STUDENTS))
def test_course_results(student):
    obj = json.loads((COURSE / "results" / f"{student}.json").read_text())
    validate_gradescope(obj)
    assert obj["score"] == pytest.approx(SCORES[student], abs=1e-6)
    assert sum(t["max_score"] for t in obj["tests"]) == pytest.approx(9)


def _key_by_hand(name: str, b: dict) -> dict[str, float]:
    if name == "add-multiply":
        q = b["x"] + b["y"]
        return {"q": q, "f": q * b["z"], "dx": b["z"], "dy": b["z"], "dz": q}
    if name == "neuron":
        t = b["w0"] * b["x0"] + b["w1"] * b["x1"] + b["w2"]
        ds = _s(t) * (1 - _s(t))
        return {
            "f": _s(t),
            "dw0": ds * b["x0"],
            "dx0": ds * b["w0"],
            "dw1": ds * b["x1"],
            "dx1": ds * b["w1"],
            "dw2": ds,
        }
    if name == "router":
        z_wins = b["z"] > b["w"]
        return {
            "f": 2 * (b["x"] * b["y"] + max(b["z"], b["w"])),
            "dx": 2 * b["y"],
            "dy": 2 * b["x"],
            "dz": 2.0 if z_wins else 0.0,
            "dw": 0.0 if z_wins else 2.0,
        }
    m = 1 - b["y"] * (b["w"] * b["x"] + b["b"])
    on = 1.0 if m > 0 else 0.0
    return {"L": max(0.0, m), "dw": -on * b["y"] * b["x"], "dx": -on * b["y"] * b["w"], "db": -on * b["y"]}


@pytest.mark.parametrize("student", list(STUDENTS))
def test_course_keys_agree_with_hand_derivations(student):
    variant = read_set((COURSE / f"{student}-hw.toml").read_text())
    key = tomllib.loads((COURSE / "keys" / f"{student}.toml").read_text())
    for p in variant.problems:
        by_hand = _key_by_hand(p.name, p.bindings)
        assert list(key[p.name]) == p.ask
        for q, v in key[p.name].items():
            assert v == pytest.approx(by_hand[q], rel=1e-12, abs=1e-15), (p.name, q)


def test_course_sheet_has_no_answers_on_it():
    sheet = (COURSE / "alice-hw.md").read_text()
    key = tomllib.loads((COURSE / "keys" / "alice.toml").read_text())
    # the neuron's values are not whole numbers: none of them may appear on the sheet
    for v in key["neuron"].values():
        assert f"{v:.2f}" not in sheet and f"{v:.3f}" not in sheet
    assert "## Problem 2: neuron (3 points)" in sheet and "max  r   (router)" in sheet
    assert "[neuron]" in sheet and 'dw0 = ""' in sheet


def test_sheet_picture_options(bp):
    path = str(COURSE / "alice-hw.toml")
    dot = bp("problems", "sheet", path, "--picture", "dot").out
    assert "```dot" in dot and "digraph bp {" in dot
    assert "```text" not in bp("problems", "sheet", path, "--picture", "none").out
    latex = bp("problems", "sheet", path, "--format", "latex").out
    assert latex.startswith("\\documentclass") and latex.rstrip().endswith("\\end{document}")
    assert latex.isascii()  # pdflatex's verbatim cannot print box-drawing characters
    assert bp("problems", "sheet", str(COURSE / "hw.toml")).code == 2  # ranges: make a variant first
    assert bp("problems", "sheet", path, "--format", "html").code == 2


def test_key_as_json(bp):
    r = bp("problems", "key", str(COURSE / "bob-hw.toml"), "--format", "json")
    obj = json.loads(r.out)
    # bob's router: x = 1, y = -1, z = -2, w = 1: f = 2 (x y + max(z, w)) = 0, dw = 2
    assert obj["router"]["f"] == 0 and obj["router"]["dw"] == 2


def test_key_graded_against_itself_scores_full(bp):
    for student in STUDENTS:
        r = bp(
            "check",
            "--file",
            str(COURSE / f"{student}-hw.toml"),
            "--answers",
            str(COURSE / "keys" / f"{student}.toml"),
        )
        assert r.code == 0, r.out


def test_out_not_writable_is_exit_4(bp, tmp_path):
    r = bp(
        "problems", "make", str(COURSE / "hw.toml"), "--seed", "a", "--out", str(tmp_path / "no" / "a.toml")
    )
    assert r.code == 4 and r.err.startswith("bp: ")


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_build_script_is_the_flow_the_readme_shows():
    text = (COURSE / "build.sh").read_text()
    for command in ("bp problems make", "bp problems key", "bp problems sheet", "--format gradescope"):
        assert command in text


def test_a_question_not_in_the_expression(bp, tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_text(
        '[[problem]]\nname = "p"\nexpression = "x*y"\nbindings = { x = {range = [1, 3]}, y = 1 }\nask = ["dz"]\n'
    )
    r = bp("problems", "make", str(hw), "--seed", "a")
    assert r.code == 2 and "'p'" in r.err and "'dz'" in r.err
    hw.write_text('[[problem]]\nname = "p"\nexpression = "x*y"\nbindings = { x = 1, y = 1 }\nask = ["dz"]\n')
    assert bp("problems", "key", str(hw)).code == 2


def test_fixed_bindings_are_kept_even_at_a_tie(bp):
    # only draws are redrawn: a teacher's own tie (the lecture's router lesson) stays
    hw = '[[problem]]\nname = "tie"\nexpression = "max(x, y)"\nbindings = { x = 1, y = 1 }\n'
    r = bp("problems", "make", "-", "--seed", "a", stdin=hw)
    assert r.code == 0 and "bindings = { x = 1, y = 1 }" in r.out
