"""The Python API (issue 9): README's example as a doctest, a cheap `import bpcli`, errors as
exceptions, and the import graph (no cycle; cli -> tools -> core, views -> core)."""

from __future__ import annotations

import ast
import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import bpcli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bpcli"


def test_readme_python_api_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    test = doctest.DocTestParser().get_doctest(section, {}, "README Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 8


def test_import_is_cheap_and_lazy():
    code = "import sys, bpcli; print(sorted(m for m in sys.modules if m.startswith(('bpcli.', 'lark', 'numpy'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert {"evaluate", "diff", "evaluate_batch", "BpError", "Result"} <= set(dir(bpcli))


def test_errors_are_exceptions_with_the_clis_messages(bp):
    with pytest.raises(bpcli.BpSyntaxError) as e:
        bpcli.evaluate("(x+", {"x": 1})
    assert e.value.message in bp("eval", "(x+", "--x", "1").err
    with pytest.raises(bpcli.UsageError, match="no value for 'y'"):
        bpcli.evaluate("x*y", {"x": 1})
    with pytest.raises(bpcli.MathError):
        bpcli.evaluate("log(x)", {"x": 0})
    assert issubclass(bpcli.MathError, bpcli.BpError)
    with pytest.raises(bpcli.UsageError, match="wrt: 'w'"):
        bpcli.diff("x*y", wrt="w")
    with pytest.raises(AttributeError):
        bpcli.no_such_thing  # noqa: B018


def test_result_repr_is_short():
    r = bpcli.evaluate("sum_of_many", {"sum_of_many": 1.0})
    assert repr(r) == "Result(value=1.0, gradient={'sum_of_many': 1.0})"
    big = bpcli.evaluate(" + ".join(f"x{i}" for i in range(3)), {f"x{i}": float(i) for i in range(3)})
    assert len(repr(big)) < 80


# -- the import graph ----------------------------------------------------------------------------


def _imports() -> dict[str, set[str]]:
    """{module: bpcli modules it imports}, at module level (`top`) and anywhere (`all`)."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if parts[-1] == "__init__" else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top, every = set(), set()
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    stem = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    stem = node.module or ""
                targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            known = {t for t in targets if t.startswith("bpcli") and _exists(t)}
            every |= known
            if node in tree.body:
                top |= known
        graph[module] = {"top": top - {module}, "all": every - {module}}
    return graph


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def test_no_import_cycle_inside_bpcli():
    graph = _imports()
    state: dict[str, int] = {}  # 1 on the stack, 2 done; iterative depth-first search
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start]["top"])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                cycle = [n for n, _ in stack] + [child]
                raise AssertionError("import cycle: " + " -> ".join(cycle[cycle.index(child) :]))
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph.get(child, {"top": set()})["top"]))))


LAYERS = {  # who may import whom at module level
    "core": {"core"},
    "readers": {"core", "readers"},
    "tools": {"core", "readers", "tools"},
    "views": {"core", "views"},
    "cli": {"core", "readers", "tools", "views", "cli"},
}
#: imports inside a function that cross the layers on purpose (a display hook)
LAZY_CROSSINGS = {
    ("bpcli.core.engine", "views"),  # Result's notebook and Rich display (_repr_html_, __rich__)
}


def test_imports_go_one_way():
    bad = []
    for module, deps in _imports().items():
        layer = module.split(".")[1] if module.count(".") else None
        if layer not in LAYERS:
            continue
        for dep in deps["all"]:
            target = dep.split(".")[1] if dep.count(".") else None
            if target is None or target not in LAYERS or target in LAYERS[layer]:
                continue
            if target == "cli" or dep in deps["top"] or (module, target) not in LAZY_CROSSINGS:
                bad.append(f"{module} -> {dep}")
    assert bad == []
