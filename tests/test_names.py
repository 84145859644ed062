"""One name for every node in every view (issue 11): an unnamed intermediate is called the same in
the picture, --steps, explain, the HTML page and `bp check` (which accepts it), and a named output
(`L = ...`) keeps its name. The numbers are the lecture's: q = x + y = 3, df/dq = z = -4."""

from __future__ import annotations

import json
import re

FIRST = ("(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4")


def test_the_unnamed_sum_is_q_everywhere(bp, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    picture = bp("eval", *FIRST).out
    assert re.search(r"\+  q\s+3\s+-4", picture)
    steps = bp("eval", *FIRST, "--steps").out
    assert "q = x + y = 3" in steps and "dq = z * df = -4" in steps
    explained = bp("explain", *FIRST, "--wrt", "x").out
    assert "df/dq · dq/dx" in explained
    page = bp("eval", *FIRST, "--format", "html").out
    assert '"name": "q"' in page


def test_check_accepts_the_pictures_names(bp):
    r = bp("check", *FIRST, "--expect", "q=3", "--expect", "dq=-4", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["passed"] is True
    # and explain takes it as --wrt: df/dq = z = -4
    assert "df/dq = (-4) = -4" in bp("explain", *FIRST, "--wrt", "q").out


def test_a_named_output_keeps_its_name_in_the_pictures(bp, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    staged = ("q = x + y; L = q * z", "--x", "-2", "--y", "5", "--z", "-4")
    picture = bp("eval", *staged).out
    assert picture.startswith("L = -12") and "grad = dL/dnode" in picture
    assert "dL = 1  # dL/dL" in bp("eval", *staged, "--steps").out
    assert "\\frac{\\partial L}{\\partial x}" in bp("eval", *staged, "--steps", "--format", "latex").out
    assert '"outname": "L"' in bp("eval", *staged, "--format", "html").out
    assert 'out [shape=plaintext, label="L"]' in bp("eval", *staged, "--format", "dot").out


def test_gate_symbols_are_bright_not_dim():
    from bpcli.core.engine import evaluate
    from bpcli.views.common import node_names
    from bpcli.views.picture import circuit_table

    r = evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    labels = circuit_table(r, node_names(r.graph)).columns[0].cells
    for label in labels:
        assert "dim" not in str(label.style)  # the tree guides are dim, the whole label is not
        for span in label.spans:
            text = label.plain[span.start : span.end]
            if text in ("*", "+"):
                assert str(span.style) == "bold"
