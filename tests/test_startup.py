"""Start-up stays light: `bp eval --format json|plain` loads neither pydantic (Typer's option
coercion), NumPy, Rich nor plotext. Times live in bench/run.py; this checks what is imported."""

from __future__ import annotations

import subprocess
import sys

# bp eval does not even load the other commands (bpcli.cli.check and the rest)
HEAVY = ("pydantic", "numpy", "rich", "plotext", "bpcli.cli.check", "bpcli.cli.fit")

PROBE = """
import io, sys
from bpcli.cli import main
out, sys.stdout = sys.stdout, io.StringIO()
code = main(sys.argv[1:])
text, sys.stdout = sys.stdout.getvalue(), out
print(code, sorted(m for m in {heavy!r} if m in sys.modules))
print(text, end="")
"""


def probe(*argv: str) -> list[str]:
    script = PROBE.format(heavy=HEAVY)
    r = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True)
    return r.stdout.splitlines()


def test_eval_json_and_plain_import_nothing_heavy():
    lines = probe("eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "json")
    assert lines[0] == "0 []"
    assert '"value": -12.0' in lines[1]
    lines = probe("eval", "sigmoid(x)", "--x", "0", "--format", "plain", "--tie", "first")
    assert lines[:2] == ["0 []", "f\t0.5"]


def test_option_errors_still_read_as_typer_writes_them(bp):
    # bp converts plain option values itself; a value it cannot convert goes to Typer
    r = bp("plot", "x", "--x", "0:1", "--points", "abc")
    assert r.code == 2 and "--points" in r.err and "integer" in r.err
