"""The HTML page in a real browser: headless Chromium (Debian's package) driven by Playwright.

Each lecture example's page is opened from disk; the test steps forward and backward by keyboard,
checks every number shown against bp's JSON (`--format json --graph`) and the lecture's own
numbers, expands and collapses the composite gates, and fails on any console error or any
network request. Screenshots of the final states are kept in build/screenshots/ (artefacts).

Skips with a reason where Chromium or Playwright is not installed (`.ci/run` installs both
where it can). Playwright's own browser download is never used: it cannot work offline.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from conftest import run_bp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
playwright_api.expect.set_options(timeout=30_000)  # a busy 2-core machine can be slow
if CHROMIUM is None:
    pytest.skip("no Chromium here (Debian: apt-get install chromium)", allow_module_level=True)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"

FIRST = ("(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4")
NEURON = ("1/(1+exp(-(w0*x0+w1*x1+w2)))", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
SIGMOIDS = ("(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)", "--x", "3", "--y", "-4")
ROUTER = ("2*(x*y + max(z,w))", "--x", "3", "--y", "-4", "--z", "2", "--w", "-1")


def _f_sigmoids(x, y):
    def sig(t):
        return 1 / (1 + math.exp(-t))

    return (x + sig(y)) / (sig(x) + (x + y) ** 2)


def _centered(f, point, name, h=1e-6):
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (f(**up) - f(**down)) / (2 * h)


# the lecture's numbers (its slides), or centered differences of the formula written in Python
LECTURE = {
    "first": {"x": -4.0, "y": -4.0, "z": 3.0},
    "neuron": {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20},
    "sigmoids": {n: _centered(_f_sigmoids, {"x": 3.0, "y": -4.0}, n) for n in ("x", "y")},
    "router": {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0},  # 2y, 2x, 2 (z wins the max), 0
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1600, "height": 900},
        )
        yield context
        context.close()


class Page:
    """One bp page open in the browser, with every console error and request recorded."""

    def __init__(self, context, path: Path, wait: bool = True):
        self.url = path.as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.goto(self.url)
        if wait:
            self.page.wait_for_selector("body[data-ready='1']")

    def _route(self, route):
        if route.request.url == self.url:
            return route.continue_()
        self.requests.append(route.request.url)
        return route.abort()

    def press(self, key: str):
        """Press a key and wait until the page has moved to the step it should (a key event's
        handling can finish after Playwright's press returns)."""
        now, total = self.step()
        to = {"ArrowRight": now + 1, " ": now + 1, "ArrowLeft": now - 1, "Home": 0, "End": total}[key]
        self.page.keyboard.press(key)
        want = f"step {max(0, min(total, to))} / {total}"
        playwright_api.expect(self.page.locator("#step")).to_have_text(want)

    def step(self) -> tuple[int, int]:
        now, total = self.page.inner_text("#step").removeprefix("step ").split(" / ")
        return int(now), int(total)

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def wires(self) -> list[dict]:
        return self.page.eval_on_selector_all(
            "g.wire",
            """ws => ws.map(w => ({from: w.dataset.from, to: w.dataset.to, k: +w.dataset.k,
                 value: w.querySelector('.wval')?.dataset.exact,
                 grad: w.querySelector('.wgrad')?.dataset.exact}))""",
        )

    def inputs(self) -> dict:
        return {
            row["name"]: row
            for row in self.page.eval_on_selector_all(
                "#inputs tbody tr",
                """rs => rs.map(r => ({name: r.dataset.name, grad: +r.dataset.grad,
                     shown: r.querySelector('td.grad').textContent}))""",
            )
        }

    def close(self, name: str | None = None):
        if name:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        self.page.close()
        assert self.errors == [], self.errors
        assert self.requests == [], self.requests


def _page(tmp_path, name, args, *extra):
    path = tmp_path / f"{name}.html"
    r = run_bp("eval", *args, *extra, "--out", str(path))
    assert r.code == 0, r.err
    graph = json.loads(run_bp("eval", *args, *extra, "--format", "json", "--graph").out)
    expanded = json.loads(run_bp("eval", *args, "--expand", "--format", "json", "--graph").out)
    return path, graph, expanded


def _check_numbers(page: Page, graph: dict, expanded: dict):
    """Every wire's value and gradient as bp's JSON has them: the value of the node the wire
    leaves, and the gate's local gradient times the gate's gradient (local x upstream)."""
    merged = {f"m{n['id']}": n for n in graph["graph"]["nodes"]}
    merged |= {f"e{n['id']}": n for n in expanded["graph"]["nodes"]}
    for w in page.wires():
        if w["to"] == "out":
            assert w["value"] is None or float(w["value"]) == graph["value"]
            assert w["grad"] is None or float(w["grad"]) == 1.0
            continue
        gate = merged[w["to"]]
        if w["value"] is not None:
            assert float(w["value"]) == pytest.approx(merged[w["from"]]["value"], rel=1e-12, abs=1e-300)
        if w["grad"] is not None:
            want = gate["local"][w["k"]] * gate["grad"]
            assert float(w["grad"]) == pytest.approx(want, rel=1e-12, abs=1e-300), w
    for key, total in page.page.eval_on_selector_all(
        "[data-total][data-exact]", "ts => ts.map(t => [t.dataset.total, +t.dataset.exact])"
    ):
        assert total == pytest.approx(merged[key]["grad"], rel=1e-12, abs=1e-300)


def _walk(page: Page, graph: dict, expanded: dict, lecture: dict):
    now, total = page.step()
    assert now == 0
    gates = page.count(".gate")
    # forward by keyboard, gate by gate: one more value on the wires each time, no gradient yet
    shown = page.count(".wval")
    for n in range(gates):
        page.press("ArrowRight")
        assert page.page.inner_text("#explain .phase") == f"forward pass, gate {n + 1} of {gates}"
        assert page.count(".wval") > shown and page.count(".wgrad") == 0
        shown = page.count(".wval")
        _check_numbers(page, graph, expanded)
    page.press(" ")  # the backward pass starts: df/df = 1 on the output wire
    assert page.count(".wgrad") == 1
    grads = 1
    while page.step()[0] < total:
        page.press("ArrowRight")
        assert page.count(".wgrad") > grads
        grads = page.count(".wgrad")
        assert "local × upstream = downstream" in page.page.inner_text("#explain")
        _check_numbers(page, graph, expanded)
    # at the end every input's gradient is shown, as bp's JSON has it and as the lecture says
    inputs = page.inputs()
    for name, want in graph["gradient"].items():
        assert inputs[name]["grad"] == want
        assert float(inputs[name]["shown"]) == pytest.approx(lecture[name], abs=0.006)
    # backward by keyboard: the last gate's gradients go again; Home clears them all
    page.press("ArrowLeft")
    assert page.step()[0] == total - 1 and page.count(".wgrad") < grads
    page.press("Home")
    assert page.step()[0] == 0 and page.count(".wgrad") == 0
    page.press("End")
    assert page.step()[0] == total and page.count(".wgrad") == grads


@pytest.mark.parametrize(
    "name, args",
    [("first", FIRST), ("neuron", NEURON), ("sigmoids", SIGMOIDS), ("router", ROUTER)],
)
def test_lecture_page_steps_through_both_passes(browser, tmp_path, name, args):
    path, graph, expanded = _page(tmp_path, name, args)
    page = Page(browser, path)
    _walk(page, graph, expanded, LECTURE[name])
    # without colour the two still differ: the value upright above the wire, the gradient italic below
    style = "t => [getComputedStyle(t).fontStyle, t.getBBox().y]"
    value = page.page.eval_on_selector("g.wire[data-to='out'] .wval", style)
    grad = page.page.eval_on_selector("g.wire[data-to='out'] .wgrad", style)
    assert value[0] == "normal" and grad[0] == "italic" and value[1] < grad[1]
    page.close(name)


def test_neuron_expanded_page(browser, tmp_path):
    # the neuron drawn in primitive gates from the start (bp eval --expand), as on the slide
    path, graph, expanded = _page(tmp_path, "neuron-expand", NEURON, "--expand")
    page = Page(browser, path)
    symbols = page.page.eval_on_selector_all(".gate text.sym", "ts => ts.map(t => t.textContent)")
    assert sorted(symbols) == sorted(["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"])
    _walk(page, graph, expanded, LECTURE["neuron"])
    page.close("neuron-expand")
    # the merged page with its composite gates expanded in place: the same gates, the same numbers
    path, graph, expanded = _page(tmp_path, "neuron", NEURON)
    page = Page(browser, path)
    page.page.click("#expand-all")
    in_place = page.page.eval_on_selector_all(".gate text.sym", "ts => ts.map(t => t.textContent)")
    assert sorted(in_place) == sorted(symbols)
    _walk(page, graph, expanded, LECTURE["neuron"])
    page.close("neuron-expanded-in-place")


def test_router_page_shows_the_router_and_the_zero_gradient(browser, tmp_path):
    path, graph, expanded = _page(tmp_path, "router-patterns", ROUTER)
    page = Page(browser, path)
    patterns = page.page.eval_on_selector_all(".gate text.pattern", "ts => ts.map(t => t.textContent)")
    assert {"router", "swapper", "distributor"} <= set(patterns)
    page.press("End")
    assert page.inputs()["w"]["shown"] == "0"  # max routes nothing to the loser w
    page.close()


def _toggle(page: Page, title: str):
    """The first expand (+) or collapse (-) button whose tooltip starts with `title`."""
    titles = page.page.eval_on_selector_all("[data-toggle] title", "ts => ts.map(t => t.textContent)")
    index = next(i for i, t in enumerate(titles) if t.startswith(title))
    return page.page.locator("[data-toggle]").nth(index)


def test_sigma_expands_in_place_and_collapses_with_the_same_gradients(browser, tmp_path):
    path, graph, expanded = _page(tmp_path, "sigmoids", SIGMOIDS)
    page = Page(browser, path)
    page.press("End")
    before = page.inputs()
    circles = page.count(".gate")
    _toggle(page, "expand σ").click()
    # one σ became *-1, exp, +1, 1/x in a box of its own; the page stayed at the end
    assert page.count(".cluster") == 1 and page.count(".gate") == circles + 3
    symbols = page.page.eval_on_selector_all(".gate text.sym", "ts => ts.map(t => t.textContent)")
    assert {"*-1", "exp", "+1", "1/x"} <= set(symbols)
    assert page.inputs() == before
    _check_numbers(page, graph, expanded)
    page.page.click("#expand-all")
    assert page.count(".cluster") == len(json.loads(page.page.inner_text("#bp-data"))["inner"])
    # stepping through the expanded graph gives the same input gradients
    page.press("Home")
    _walk(page, graph, expanded, LECTURE["sigmoids"])
    assert page.inputs() == before
    page.page.screenshot(path=str(SHOTS / "sigmoids-expanded.png"), full_page=True)
    # hovering a gate shows its local gradient formula and numbers
    page.page.hover(".gate[data-key^='e']")
    assert "local gradient" in page.page.inner_text("#info")
    clusters = page.count(".cluster")
    _toggle(page, "collapse").click()  # one gate back: its box goes, the numbers stay
    assert page.count(".cluster") == clusters - 1 and page.inputs() == before
    page.page.click("#collapse-all")
    assert page.count(".cluster") == 0 and page.count(".gate") == circles
    assert page.inputs() == before
    page.close()


def test_past_max_gates_the_page_shows_the_summary_and_the_inputs(browser, tmp_path):
    path = tmp_path / "big.html"
    assert run_bp("eval", *FIRST, "--max-gates", "1", "--out", str(path)).code == 0
    page = Page(browser, path)
    assert page.count(".gate") == 0 and not page.page.is_visible("#controls")
    assert "more than --max-gates 1" in page.page.inner_text("#explain")
    assert page.inputs()["z"]["shown"] == "3"
    page.close()


def test_a_50_gate_page_opens_without_errors(browser, tmp_path):
    expr = " + ".join(f"sigmoid(w{i}*x{i})" for i in range(17))
    args = [expr] + [f"{v}{i}={0.1 * i}" for i in range(17) for v in "wx"]
    path = tmp_path / "fifty.html"
    assert run_bp("eval", *args, "--out", str(path)).code == 0
    page = Page(browser, path)
    assert page.count(".gate") == 50
    page.page.click("#expand-all")
    assert page.count(".gate") == 50 + 17 * 3
    page.press("End")
    page.close()


def test_the_notebook_frame_runs_the_page(browser, tmp_path):
    # a notebook cell's output, as Jupyter puts `_repr_html_` into the page
    import bpcli

    r = bpcli.evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    path = tmp_path / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body>{r._repr_html_()}</body></html>", encoding="utf-8")
    page = Page(browser, path, wait=False)
    frame = page.page.frame_locator("iframe")
    playwright_api.expect(frame.locator("#summary")).to_have_text("f = -12   (2 gates, 3 inputs)")
    frame.locator("#last").click()
    playwright_api.expect(frame.locator("#step")).to_have_text("step 5 / 5")
    grads = frame.locator("#inputs td.grad").all_inner_texts()
    assert grads == ["-4", "-4", "3"]  # the lecture's df/dx, df/dy, df/dz
    page.close("notebook")
