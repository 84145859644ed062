"""Random argument lists over every command and option, for tests/test_fuzz.py (a few seconds
in CI) and bench/fuzz.py (a long run). Each list is run in-process and must end with an exit
code of the contract, one `bp:` line on failure (a syntax error adds its caret lines), and
strict JSON on success with --format json."""

from __future__ import annotations

import json
import signal

from hypothesis import strategies as st

NUMBERS = [
    "0", "1", "-1", "2", "0.5", "-3", "1e-300", "1e308", "-1e308", "1e200", "nan", "inf", "-inf",
    "1e-999999999999999999999", "9" * 30, "1" * 5000, "abc", "", " 1 ", "1,2", "0x10", "\u22122",
    "-0", "1e", ".", "1" * 20000 + "x",
]  # fmt: skip
# options that set how much work a run does draw from small values (a huge one must be refused)
COUNTS = ["-1", "0", "1", "3", "abc", "1e3", "99999999999999999999", "2" * 40, "-5"]
RANGES = [
    "-3:3",
    "0:1",
    "-1e308:1e308",
    "1:0",
    "a:b",
    ":",
    " 1 : 2 ",
    "nan:1",
    "0:1:5",
    "1:1",
    "-1e-300:1e-300",
]
GRIDS = [
    "x=0:1:5",
    "x=0:1:9999999999999999999999",
    "x=0:1:0",
    "x=a:b:3",
    "x=1e308:-1e308:3",
    "y=0:1",
    "x=0:1:-2",
]
EXPRESSIONS = [
    "(x+y)*z", "x^2", "sigmoid(x)", "relu(x)", "max(x,y)", "log(x)", "1/x", "q = x + y; f = q * z",
    "x^3", "sin(x)", "-", "", "((", "x y", "coss(x)", "abs(x)", "sqrt(x)", "x/0", "exp(x)", "(x-3)^2",
    "x*1e308*10", "tanh(x)", "min(x, y, z)", "x # c\u00ff", "pi*x", "e^x", "\x1b[31mx", "2x + 3(y)",
]  # fmt: skip
FORMATS = ["rich", "plain", "json", "dot", "mermaid", "latex", "html", "csv", "xml"]
WORDS = ["x", "y", "z", "w", "q", "pi"]

OPTIONS = {
    "eval": {
        "--format": FORMATS, "--wrt": WORDS + ["x,y"], "--expand": None, "--tie": ["split", "first", "both", "x"],
        "--graph": None, "--steps": None, "--compare": None, "--max-gates": COUNTS, "--grid": GRIDS,
        "--on-error": ["fail", "skip", "nan", "x"], "--hessian": None,
    },
    "check": {
        "--expect": ["dx=-4", "f=1e-999999999999999999999", "dx=" + "1" * 30000, "dq=1", "x", "dx=abc", "dx=4"],
        "--rtol": NUMBERS, "--atol": NUMBERS, "--format": FORMATS, "--tie": ["split", "both"],
    },
    "diff": {"--wrt": WORDS + ["x,y"], "--order": COUNTS, "--format": FORMATS, "--tie": ["split", "x"]},
    "explain": {"--wrt": WORDS, "--max-paths": COUNTS, "--format": FORMATS, "--tie": ["split", "first"]},
    "gradcheck": {"--h": NUMBERS, "--threshold": NUMBERS, "--wrt": WORDS + ["x,y"], "--format": FORMATS},
    "descend": {
        "--wrt": WORDS + ["x,y"], "--lr": NUMBERS, "--steps": COUNTS, "--momentum": NUMBERS, "--tol": NUMBERS,
        "--every": COUNTS, "--tie": ["split"], "--format": FORMATS,
    },
    "fit": {
        "--range": RANGES, "--samples": COUNTS, "--hidden": COUNTS + ["1,2", "0,1", ","], "--activation":
        ["sigmoid", "tanh", "relu", "x"], "--l2": NUMBERS, "--epochs": COUNTS, "--lr": NUMBERS,
        "--seed": ["-1", "0", "7", "9" * 30, "abc", "-" + "9" * 30], "--noise": NUMBERS, "--print-expr": None,
        "--format": FORMATS,
    },
    "plot": {"--points": COUNTS, "--width": COUNTS, "--height": COUNTS},
}  # fmt: skip
# fit's defaults train for seconds: a fuzzed fit always gets a small number of epochs and samples
ALWAYS = {"fit": ["--epochs", "3", "--samples", "8"]}


@st.composite
def argv(draw):
    """One random `bp ...` argument list."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    words = [command, draw(st.sampled_from(EXPRESSIONS))]
    options = OPTIONS[command]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 3))
        if kind == 0:  # a binding
            name = draw(st.sampled_from(WORDS))
            value = draw(st.sampled_from(NUMBERS + RANGES))
            words += draw(st.sampled_from([[f"--{name}", value], [f"--{name}={value}"], [f"{name}={value}"]]))
        else:
            option = draw(st.sampled_from(sorted(options)))
            values = options[option]
            words += [option] if values is None else [option, draw(st.sampled_from(values))]
    if draw(st.booleans()):
        words.insert(draw(st.integers(1, len(words))), draw(st.sampled_from(["-h", "--fromat", "--", "-x"])))
    return [*words, *ALWAYS.get(command, [])]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def _short(words) -> str:
    return " ".join(w if len(w) <= 30 else w[:20] + f"...({len(w)})" for w in words)


def check_run(run_bp, words: list[str], seconds: int = 20) -> None:
    """Run `bp words...` in-process and assert the contract's promises about how it ends."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        r = run_bp(*words)
    except Hang:
        raise AssertionError(f"bp {_short(words)} ran for more than {seconds} s") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert r.code in (0, 1, 2, 3), (_short(words), r.code, r.err[-400:])
    assert "Traceback" not in r.err and "internal error" not in r.err, (_short(words), r.err[-400:])
    for line in r.err.splitlines():
        assert (
            line.startswith("bp: ") or line.startswith("  ") or line.startswith("Usage:") or not line.strip()
        ), (
            _short(words),
            r.err[-400:],
        )
    if r.code not in (0,) and r.code != 1:
        assert r.err.strip(), _short(words)
        assert len(r.err) < 2000, (_short(words), r.err[:300])  # a message, not an echo of the input
    formats = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--format"]
    asked_help = "-h" in words or "--help" in words
    if r.code == 0 and formats and formats[-1] == "json" and not asked_help:  # the last one counts
        assert_strict_json(r.out, words)


def _no_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def assert_strict_json(text: str, words) -> None:
    """One JSON document, or JSON Lines (batch mode); NaN and Infinity are not JSON."""
    try:
        json.loads(text, parse_constant=_no_constant)
        return
    except ValueError:
        pass
    for line in text.splitlines():
        try:
            json.loads(line, parse_constant=_no_constant)
        except ValueError as e:
            raise AssertionError(f"bp {_short(words)}: {e}: {line[:200]!r}") from None
