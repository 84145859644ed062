"""The HTML page (`--format html`, `--out FILE.html`), without a browser: one self-contained file
that loads nothing from the network, small enough, with the lecture's numbers in its data.
tests/test_html_browser.py opens the same pages in headless Chromium."""

from __future__ import annotations

import json
import re

import pytest

from bpcli.core.engine import evaluate
from bpcli.views.html import html_page, page_data

FIRST = ["(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4"]
NEURON = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}


def _data(page: str) -> dict:
    m = re.search(r'<script id="bp-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_format_html_writes_one_page_with_the_lecture_numbers(bp):
    r = bp("eval", *FIRST, "--format", "html")
    assert r.code == 0, r.err
    assert r.out.startswith("<!DOCTYPE html>") and r.out.rstrip().endswith("</html>")
    data = _data(r.out)
    assert data["value"] == -12.0
    # the lecture's gradients: df/dx = df/dy = z = -4, df/dz = x + y = 3
    assert {i["name"]: i["grad"] for i in data["inputs"]} == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_out_html_writes_the_page(bp, tmp_path):
    path = tmp_path / "graph.html"
    r = bp("eval", *FIRST, "--out", str(path))
    assert r.code == 0, r.err
    assert "dagre" in path.read_text(encoding="utf-8")


def test_out_html_unwritable_is_exit_4(bp, tmp_path):
    r = bp("eval", *FIRST, "--out", str(tmp_path / "no" / "such" / "dir" / "graph.html"))
    assert r.code == 4
    assert r.err.startswith("bp: --out ") and "Traceback" not in r.err


def test_page_loads_nothing_from_the_network():
    page = html_page(evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4}))
    # no external script, style, image, font or frame; the CSP forbids any load at all
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"@import|@font-face|url\((?!#)", page)
    assert "default-src 'none'" in page


def test_a_50_gate_page_is_under_300_kb():
    expr = " + ".join(f"sigmoid(w{i}*x{i})" for i in range(17))  # 17 * 3 - 1 = 50 gates
    bindings = {f"{v}{i}": 0.1 * i for i in range(17) for v in "wx"}
    result = evaluate(expr, bindings)
    assert len(result.graph.gate_ids()) == 50
    size = len(html_page(result).encode())
    assert size < 300_000, size


def test_composite_gates_carry_their_primitive_gates_with_the_same_numbers():
    # the neuron as one sigmoid: its primitive gates are *-1, exp, +1, 1/x (the lecture's slide)
    result = evaluate("sigmoid(w0*x0 + w1*x1 + w2)", NEURON)
    data = page_data(result)
    (sigma,) = [n for n in data["nodes"] if n.get("symbol") == "σ"]
    inner = data["inner"][sigma["key"]]
    assert [n["symbol"] for n in inner["nodes"]] == ["*-1", "exp", "+1", "1/x"]
    out = next(n for n in inner["nodes"] if n["key"] == inner["out"])
    assert out["value"] == pytest.approx(sigma["value"], rel=1e-12)  # 0.73
    assert out["grad"] == 1.0
    # the wire into the first primitive gate carries df/dt = sigma(1 - sigma) = 0.1966...
    s = 1 / (1 + 2.718281828459045**-1.0)
    assert inner["nodes"][0]["inputs"][0]["sent"] == pytest.approx(s * (1 - s), rel=1e-12)


def test_past_max_gates_the_page_has_the_summary_and_the_inputs(bp):
    r = bp("eval", *FIRST, "--format", "html", "--max-gates", "1")
    data = _data(r.out)
    assert data["nodes"] == [] and data["gates"] == 2
    assert [i["name"] for i in data["inputs"]] == ["x", "y", "z"]


def test_a_script_end_tag_in_the_data_cannot_close_the_script():
    page = html_page(evaluate("x # </script><b>", {"x": 1}))
    # the data reads back whole up to the first end tag, so the comment did not end it early
    assert _data(page)["expression"] == "x # </script><b>"


def test_a_result_shows_the_picture_in_a_notebook():
    # what Jupyter calls to display `bpcli.evaluate(...)` in a cell
    import html

    import bpcli

    r = bpcli.evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    frame = r._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    data = _data(page)
    assert data["value"] == -12.0
    assert {i["name"]: i["grad"] for i in data["inputs"]} == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_a_result_renders_as_the_picture_in_a_rich_console():
    from rich.console import Console

    r = evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    console = Console(width=80, record=True, color_system=None)
    console.print(r)
    text = console.export_text()
    assert text.startswith("f = -12") and "distributor" in text and "swapper" in text


def test_a_10000_deep_expression_gives_the_summary_page():
    expr = "x"
    for _ in range(10_000):
        expr = f"sigmoid({expr})"
    data = page_data(evaluate(expr, {"x": 0.5}))
    assert data["gates"] == 10_000 and data["nodes"] == []  # past --max-gates: summary and inputs
    assert [i["name"] for i in data["inputs"]] == ["x"]
