"""Make the figures under docs/ that README.md shows: screenshots of the step-through page (headless
Chromium through Playwright) and Graphviz renderings of the lecture's examples.

    python docs/figures.py        # needs chromium, graphviz and playwright (the test extra)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
FIRST = ["(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4"]
NEURON = ["1/(1+exp(-(w0*x0+w1*x1+w2)))", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]
SIGMOIDS = ["(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)", "--x", "3", "--y", "-4"]
ROUTER = ["2*(x*y + max(z,w))", "--x", "3", "--y", "-4", "--z", "2", "--w", "-1"]
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

# (file, bp arguments, what to do on the page: keys to press, "expand" for every composite gate)
PAGES = [
    ("page-first.png", FIRST, ["End", "ArrowLeft"]),
    ("page-neuron.png", NEURON, ["End"]),
    ("page-neuron-expanded.png", NEURON, ["expand", "End"]),
    ("page-sigmoids.png", SIGMOIDS, ["End", "ArrowLeft", "ArrowLeft", "ArrowLeft"]),
    ("page-router.png", ROUTER, ["End"]),
]
FIGURES = [
    ("dot-first.png", FIRST),
    ("dot-neuron-expanded.png", [*NEURON, "--expand"]),
    ("dot-sigmoids.png", SIGMOIDS),
    ("dot-router.png", ROUTER),
]


def bp(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "bpcli", "eval", *args], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    for name, args in FIGURES:
        bp(*args, "--format", "plain", "--out", str(DOCS / name))
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "profile"),
            executable_path="/usr/bin/chromium",
            args=FLAGS,
            headless=True,
            viewport={"width": 1180, "height": 700},
        )
        for name, args, actions in PAGES:
            page_file = tmp / (name + ".html")
            bp(*args, "--format", "plain", "--out", str(page_file))
            page = context.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_selector("body[data-ready='1']")
            for action in actions:
                if action == "expand":
                    page.click("#expand-all")
                else:
                    page.keyboard.press(action)
            width = page.evaluate("document.querySelector('#canvas svg').getBoundingClientRect().width")
            page.set_viewport_size({"width": max(900, int(width) + 60), "height": 700})
            page.screenshot(path=str(DOCS / name), full_page=True)
            page.close()
        context.close()


if __name__ == "__main__":
    main()
