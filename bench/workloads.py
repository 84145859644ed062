"""The benchmark's workloads: each is expression text for bp plus the same graph built by Python
code for the peers that cannot parse (micrograd, PyTorch). Peer scripts import this module."""

from __future__ import annotations

import json
import random

LECTURE = {
    "first": ("(x+y)*z", ["--x", "-2", "--y", "5", "--z", "-4"]),
    "neuron": (
        "1/(1+exp(-(w0*x0+w1*x1+w2)))",
        ["w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"],
    ),
    "batch": "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2)",
}


def wide_sum(n: int) -> tuple[str, dict]:
    """x0*w0 + x1*w1 + ... with n terms."""
    rng = random.Random(n)
    bindings = {}
    for i in range(n):
        bindings[f"x{i}"] = round(rng.uniform(-2, 2), 6)
        bindings[f"w{i}"] = round(rng.uniform(-2, 2), 6)
    return " + ".join(f"x{i}*w{i}" for i in range(n)), bindings


def sigmoid_nest(n: int) -> tuple[str, dict]:
    """sigmoid(sigmoid(...sigmoid(x)...)), n deep."""
    return "sigmoid(" * n + "x" + ")" * n, {"x": 0.5}


def tree_program(n: int, rng: random.Random) -> tuple[list, dict]:
    """A random tree of n operations over 10 variables, as (op, operand, operand) steps; operands
    are variable names or earlier step numbers. Every operation keeps |value| <= 1 when the
    inputs are in [-1, 1]: 0.5(a+b), 0.5(a-b), a*b, a/(1+b^2), relu(a)."""
    names = [f"v{i}" for i in range(10)]
    bindings = {v: round(rng.uniform(-1, 1), 6) for v in names}
    unary = n // 5
    pool: list = [rng.choice(names) for _ in range(n - unary + 1)]
    steps: list = []
    ops = ["relu"] * unary + [rng.choice(["add", "sub", "mul", "div"]) for _ in range(n - unary)]
    rng.shuffle(ops)
    for op in ops:
        if op == "relu" or len(pool) < 2:
            k = rng.randrange(len(pool))
            steps.append(("relu", pool[k], None))
            pool[k] = len(steps) - 1
        else:
            a = pool.pop(rng.randrange(len(pool)))
            k = rng.randrange(len(pool))
            steps.append((op, a, pool[k]))
            pool[k] = len(steps) - 1
    while len(pool) > 1:  # fold what is left (only when n is tiny)
        a = pool.pop()
        steps.append(("add", a, pool[-1]))
        pool[-1] = len(steps) - 1
    return steps, bindings


def random_tree(n: int, rng: random.Random) -> tuple[str, dict]:
    steps, bindings = tree_program(n, rng)
    text: list[str] = []
    ref = lambda a: a if isinstance(a, str) else text[a]
    forms = {"add": "0.5*({}+{})", "sub": "0.5*({}-{})", "mul": "({})*({})", "div": "({})/(1+({})^2)"}
    for op, a, b in steps:
        text.append(f"relu({ref(a)})" if op == "relu" else forms[op].format(ref(a), ref(b)))
    return text[-1], bindings


def build(lib: str, kind: str, n: int, bindings: dict):
    """Build the workload's graph with a peer library; returns (output, {name: leaf})."""
    if lib == "micrograd":
        from micrograd.engine import Value

        leaf = lambda v: Value(v)
        sigmoid = None
        relu = lambda a: a.relu()
    else:
        import torch

        leaf = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        sigmoid, relu = torch.sigmoid, torch.relu
    leaves = {name: leaf(v) for name, v in bindings.items()}
    if kind == "wide":
        f = leaves["x0"] * leaves["w0"]
        for i in range(1, n):
            f = f + leaves[f"x{i}"] * leaves[f"w{i}"]
    elif kind == "nest":
        f = leaves["x"]
        for _ in range(n):
            f = sigmoid(f)
    else:
        steps, _ = tree_program(n, random.Random(n))
        vals: list = []
        ref = lambda a: leaves[a] if isinstance(a, str) else vals[a]
        for op, a, b in steps:
            x = ref(a)
            if op == "relu":
                vals.append(relu(x))
                continue
            y = ref(b)
            if op == "add":
                vals.append(0.5 * (x + y))
            elif op == "sub":
                vals.append(0.5 * (x - y))
            elif op == "mul":
                vals.append(x * y)
            else:
                vals.append(x / (1 + y**2))
        f = vals[-1]
    return f, leaves


def peer_script(module: str, kind: str, n: int, vars_file: str, expr_file: str) -> str:
    """A stand-alone script doing the workload with one peer, printing value and gradients."""
    here = json.dumps(str(__import__("pathlib").Path(__file__).resolve().parent))
    if module == "sympy":
        body = f"""
import sympy
src = open({expr_file!r}).read().replace("^", "**")
src = src.replace("relu(", "Max(0, ").replace("sigmoid(", "(lambda t: 1/(1+exp(-t)))(")
f = sympy.sympify(src) if "lambda" not in src else None
if f is None:  # sigmoid nest: build it, as sympify cannot read a lambda
    x = sympy.Symbol("x")
    f = x
    for _ in range({n}):
        f = 1 / (1 + sympy.exp(-f))
vals = {{sympy.Symbol(k): sympy.Float(v) for k, v in bindings.items()}}
print(f.xreplace(vals).evalf())
for s in sorted(f.free_symbols, key=str):
    print(s, sympy.diff(f, s).xreplace(vals).evalf())
"""
    else:
        body = f"""
from workloads import build
f, leaves = build({module!r}, {kind!r}, {n}, bindings)
f.backward()
value = f.data if {module!r} == "micrograd" else f.item()
print(value)
for k, v in leaves.items():
    print(k, v.grad if {module!r} == "micrograd" else v.grad.item())
"""
    return f"""import json, sys
sys.setrecursionlimit(10**6)
sys.path.insert(0, {here})
bindings = json.load(open({vars_file!r}))
{body}"""
