"""Shared test helpers: run bp in-process (fast) and read what it printed and returned."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_bp(*argv: str, stdin: str = "") -> Run:
    """Run `bp ARGV...` in this process, as the console script would, and capture everything."""
    from bpcli.cli import main

    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), io.StringIO(), io.StringIO()
    try:
        code = main(list(argv))
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return Run(code, out, err)


@pytest.fixture
def bp():
    """The `run_bp` function, as a fixture: `bp("eval", "x*y", "--x", "2", "--y", "3")`."""
    return run_bp
