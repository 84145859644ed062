"""parse() is safe to call from several threads (each has its own parser and builder; a shared
builder let two threads corrupt each other's graphs), and the lean LALR loop is used only with
the Lark releases it was written against: with any other, Lark's own parser gives the graphs."""

from __future__ import annotations

import threading

import pytest

from bpcli.core import parse as parse_module
from bpcli.core.engine import evaluate


def test_two_threads_parse_and_evaluate_different_expressions():
    jobs = [
        ("(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0}, {"x": -4.0, "y": -4.0, "z": 3.0}),  # the lecture
        ("a*a + sin(b)", {"a": 3.0, "b": 0.0}, {"a": 6.0, "b": 1.0}),  # by hand: 2a, cos(0)
    ]
    errors: list[str] = []
    start = threading.Barrier(len(jobs))

    def work(source, bindings, gradient):
        start.wait()
        for _ in range(1000):
            try:
                r = evaluate(source, bindings)
            except Exception as e:  # a corrupted graph: a usage error, a missing variable...
                errors.append(f"{source}: {e!r}")
                return
            if r.gradient != gradient:
                errors.append(f"{source}: {r.gradient}")
                return

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.fixture
def other_lark(monkeypatch):
    """As if an untested Lark were installed: the lean loop must step aside."""
    monkeypatch.setattr(parse_module, "LEAN_DRIVER_LARK", ())
    monkeypatch.setattr(parse_module, "_PER_THREAD", threading.local())
    yield
    monkeypatch.undo()


SOURCES = ["(x+y)*z", "q = x + y; f = q * z", "-x^2 + 2x + 3(y)", "max(x, y, 2) # c", "σ(x)·π"]


@pytest.mark.parametrize("source", SOURCES)
def test_the_fallback_to_larks_own_parser_gives_the_same_graph(source):
    lean = parse_module.parse(source)
    original = (parse_module.LEAN_DRIVER_LARK, parse_module._PER_THREAD)
    parse_module.LEAN_DRIVER_LARK, parse_module._PER_THREAD = (), threading.local()
    try:
        assert parse_module._tables()[0] is None  # the fallback path is the one taken
        fallback = parse_module.parse(source)
    finally:
        parse_module.LEAN_DRIVER_LARK, parse_module._PER_THREAD = original
    assert (fallback.ops, fallback.args, fallback.params) == (lean.ops, lean.args, lean.params)
    assert fallback.var_ids == lean.var_ids and fallback.output == lean.output


def test_the_fallback_reports_syntax_errors_the_same_way(other_lark):
    from bpcli.core.errors import BpSyntaxError

    with pytest.raises(BpSyntaxError) as e:
        parse_module.parse("x + * y")
    assert e.value.column == 5
