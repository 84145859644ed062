"""bp as a Unix process (CONTRACT "As a Unix process"), with real processes, pipes and signals:
a reader that goes away ends bp quietly with the exit code its work gave, Ctrl-C is exit 130 and
`bp: interrupted`, -h is --help, --version, and mistyped names get the closest known one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

BP = [sys.executable, "-m", "bpcli"]
LECTURE = ["(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4"]
WIDE = "+".join(f"x{i}*y{i}" for i in range(400))
WIDE_VARS = [f"x{i}=1.5" for i in range(400)] + [f"y{i}=2" for i in range(400)]

# every command and format, each with the exit code its work gives (1: a failed check)
RUNS = [(["eval", *LECTURE, "--format", fmt], 0) for fmt in ("rich", "plain", "json", "dot", "mermaid")] + [
    (["eval", WIDE, *WIDE_VARS, "--format", "rich"], 0),
    (["eval", WIDE, *WIDE_VARS, "--format", "json", "--graph"], 0),
    (["eval", "q = x + y; f = q * z", *LECTURE[1:], "--steps"], 0),
    (["eval", "q = x + y; f = q * z", *LECTURE[1:], "--steps", "--format", "latex"], 0),
    (["eval", "sigmoid(x)", "--x", "1", "--compare"], 0),
    (["eval", "x^2", "--grid", "x=0:1:5000"], 0),
    (["eval", "x^2", "--grid", "x=0:1:5000", "--format", "json"], 0),
    *[(["check", *LECTURE, "--expect", "dx=-4", "--format", fmt], 0) for fmt in ("rich", "plain", "json")],
    *[(["check", *LECTURE, "--expect", "dx=4", "--format", fmt], 1) for fmt in ("rich", "plain", "json")],
    *[
        (["explain", *LECTURE, "--wrt", "x", "--format", fmt], 0)
        for fmt in ("rich", "plain", "json", "latex")
    ],
    *[(["gradcheck", *LECTURE, "--format", fmt], 0) for fmt in ("rich", "plain", "json")],
    *[(["descend", "(x-3)^2", "--x", "0", "--steps", "300", "--format", fmt], 0) for fmt in ("rich", "json")],
    *[(["fit", "sin(x)", "--epochs", "30", "--hidden", "3", "--format", fmt], 0) for fmt in ("rich", "json")],
    (["plot", "x^2", "--x", "-3:3"], 0),
]


@pytest.mark.parametrize(
    ("args", "code"), RUNS, ids=lambda a: " ".join(a)[:60] if isinstance(a, list) else None
)
def test_a_reader_that_went_away_ends_bp_quietly(args, code):
    # the read end is closed before bp writes a byte: every write meets EPIPE
    p = subprocess.Popen([*BP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == code, err
    assert err == ""


@pytest.mark.parametrize(
    "args",
    [["eval", WIDE, *WIDE_VARS, "--format", "plain"], ["eval", "x^2", "--grid", "x=0:1:20000"]],
)
def test_head_1_through_a_shell_pipe(args):
    quoted = " ".join(f"'{a}'" for a in [*BP, *args])
    r = subprocess.run(
        ["bash", "-c", f"{quoted} | head -1; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stderr == ""
    assert len(r.stdout.splitlines()) == 1


def interrupt(args, *, after: float, stdin=subprocess.DEVNULL):
    p = subprocess.Popen([*BP, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return p.returncode, err


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "sin(x)", "--epochs", "10000000"],
        ["descend", "(x-3)^2", "--x", "0", "--steps", "10000000"],
    ],
    ids=["fit", "descend"],
)
def test_ctrl_c_during_long_work_is_130(args):
    code, err = interrupt(args, after=2.0)
    assert code == 130
    assert err.strip().splitlines()[-1] == "bp: interrupted" and "Traceback" not in err


def test_ctrl_c_while_waiting_on_stdin_is_130():
    code, err = interrupt(["eval", "-", "--x", "1"], after=1.5, stdin=subprocess.PIPE)
    assert code == 130 and err == "bp: interrupted\n"


def test_ctrl_c_then_and_is_not_run():
    p = subprocess.Popen(
        ["bash", "-c", " ".join([*BP, "eval", "-", "--x", "1"]) + " && echo carried-on"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(1.5)
    subprocess.run(["pkill", "-INT", "-P", str(p.pid)])  # bp is the shell's only child
    out, err = p.communicate(timeout=30)
    assert "carried-on" not in out
    assert p.returncode == 130


def test_dash_h_is_help_everywhere(bp):
    for args in (["-h"], ["eval", "-h"], ["check", "-h"], ["fit", "-h"], ["plot", "-h"]):
        r = bp(*args)
        assert r.code == 0, (args, r.err)
        assert r.out.startswith("Usage: bp") and r.out == bp(*args[:-1], "--help").out


def test_an_expression_with_a_leading_minus_is_not_read_as_flags(bp):
    r = bp("eval", "-0.5*tanh(x)", "--x", "0", "--format", "plain")
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == "df/dx\t-0.5"


def test_version(bp):
    from bpcli import __version__

    r = bp("--version")
    assert r.code == 0 and r.out.strip() == f"bp {__version__}"


def test_a_mistyped_option_names_the_option(bp):
    r = bp("eval", "x", "--x", "1", "--fromat", "json")
    assert r.code == 2
    assert r.err.strip() == "bp: no such option: --fromat (did you mean --format?)"
    r = bp("eval", "x", "--x", "1", "--fromat=json")
    assert r.code == 2 and "did you mean --format?" in r.err


def test_a_mistyped_function_names_the_function(bp):
    r = bp("eval", "coss(x)", "--x", "1")
    assert r.code == 2
    assert "unknown function 'coss': did you mean cos?" in r.err.splitlines()[0]


def test_a_vars_file_may_hold_names_the_expression_does_not_use(bp, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"x": 2, "y": 3, "unused": 1}))
    r = bp("eval", "x*y", "--vars", str(params), "--format", "plain")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["f\t6.0", "df/dx\t3.0", "df/dy\t2.0"]
    r = bp("eval", "x*2", "--x", "1", "--unused", "2")  # the command line stays strict
    assert r.code == 2 and "unused" in r.err


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "x*y", "--x", "2", "--y", "3", "--format", "plain"],
        ["diff", "x*y"],
        ["gradcheck", "x*y", "--x", "2", "--y", "3", "--format", "json"],
        ["descend", "x*x + y*y", "--x", "1", "--y", "1", "--steps", "2", "--format", "json"],
    ],
    ids=lambda c: c[0],
)
def test_wrt_has_one_meaning_in_every_command(bp, command):
    repeated = bp(*command, "--wrt", "x", "--wrt", "y")
    listed = bp(*command, "--wrt", "x,y")
    assert repeated.code == 0, repeated.err
    assert repeated.out == listed.out
    unknown = bp(*command, "--wrt", "x", "--wrt", "nope")
    assert unknown.code == 2 and "nope" in unknown.err
    twice = bp(*command, "--wrt", "x", "--wrt", "x")
    assert twice.code == 2


def test_eval_wrt_several_prints_their_gradients(bp):
    r = bp("eval", "x*y", "--x", "2", "--y", "3", "--wrt", "y", "--wrt", "x")
    assert r.out == "df/dy\t2.0\ndf/dx\t3.0\n"  # d(xy)/dy = x, d(xy)/dx = y
    assert bp("eval", "x*y", "--x", "2", "--y", "3", "--wrt", "y").out == "2.0\n"  # one: a bare number


def test_explain_takes_one_wrt(bp):
    r = bp("explain", "x*y", "--x", "2", "--y", "3", "--wrt", "x,y")
    assert r.code == 2 and "one --wrt" in r.err
