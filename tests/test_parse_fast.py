"""bp drives Lark's LALR table with its own lean loop (bpcli/core/parse.py `_drive`); Lark's own lexer
and parser loop are the reference. Both must build the same graph and report the same errors,
so grammar/bp.lark stays the single source of truth."""

from __future__ import annotations

import random

import pytest

from bpcli.core.errors import BpSyntaxError
from bpcli.core.parse import _parse_with_lark, parse

ATOMS = ["x", "y", "w0", "2", ".5", "1e-3", "pi", "e", "σ(x)", "(x+y)", "3x", "(a)(b)"]
OPS = ["+", "-", "*", "/", "^", "**", "·", "×", "−", " "]
FUNCS = ["exp", "log", "sqrt", "sigmoid", "tanh", "relu", "abs", "sin", "max", "min"]


def random_source(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(ATOMS)
    if r < 0.5:
        f = rng.choice(FUNCS)
        n = rng.randint(2, 3) if f in ("max", "min") else 1
        return f"{f}({', '.join(random_source(rng, depth + 1) for _ in range(n))})"
    if r < 0.6:
        return "-" + random_source(rng, depth + 1)
    return random_source(rng, depth + 1) + rng.choice(OPS) + random_source(rng, depth + 1)


def outcome(fn, source):
    try:
        g = fn(source)
    except BpSyntaxError as e:
        return ("error", e.message, e.detail)
    return (g.ops, g.args, g.params, g.pos, g.var_ids, g.names, g.output)


SOURCES = [
    "(x+y)*z",
    "q = x + y; f = q * z",
    "q = x + y\n# comment\nf = q * z\n",
    "2x + 3(x+1) - -3 + 2^3^2 + 2^-1 + (x+y)z",
    "max(x, y, 2) + min(a,b)",
    "-x^2",
    # errors: each must read the same through both loops
    "x +",
    "x ) y",
    "x $ 2",
    "foo(2)",
    "1 2",
    "x=1\ny+",
    "sin x",
    "x;;y",
    "max(x)",
    "pi = 3",
    "q = x; q = y; q",
    "(x",
    "x = ",
    # arrays: @ binds like *, postfix indexing and transpose, reductions with an axis
    "wᵀ @ x + b",
    "S = X @ W; L = mean(logsumexp(S) - S[y])",
    "A[0, 1] * x[2] + sum(a, -1)[0] + max(a) + (x + y)[1]ᵀ",
    "2x @ y @ z ^ 2",
    "x[",
    "x[1,]",
    "a @",
    "sum(a, b)",
    "xᵀᵀ[0]",
]


@pytest.mark.parametrize("source", SOURCES)
def test_fast_loop_matches_lark(source):
    assert outcome(parse, source) == outcome(_parse_with_lark, source)


def test_fast_loop_matches_lark_on_random_expressions():
    rng = random.Random(5)
    for _ in range(300):
        source = random_source(rng)
        assert outcome(parse, source) == outcome(_parse_with_lark, source), source


def test_deep_and_wide_parse():
    deep = "(" * 10000 + "x" + ")" * 10000
    assert parse(deep).var_ids == {"x": 0}
    wide = " + ".join(f"x{i}*w{i}" for i in range(20000))
    g = parse(wide)
    assert len(g.var_ids) == 40000 and len(g) == 20000 * 3 + 19999


def test_grammar_cache_falls_back_when_not_writable(tmp_path, monkeypatch):
    from bpcli.core.parse import _cache_file

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert _cache_file("k" * 64) is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _cache_file("k" * 64) == str(tmp_path / "cache" / "bp" / ("grammar-tables-" + "k" * 16 + ".json"))
