"""The array gates' rows (gates.py, "array gates"): each input's vector-Jacobian product is one
bp string in CS231n's form (`up @ transpose(B)`); the numbers come from the row's `code`, which
handles every rank and axis. Here the strings, compiled by bp's own expression compiler and
evaluated by NumPy, must give the code's numbers on the shapes they are written for, and the
text `--steps` prints must be the string over the wires' names."""

from __future__ import annotations

import numpy as np
import pytest

from bpcli.core.array_gates import ARRAY_OPS
from bpcli.core.expr import compile_text, vjp_text
from bpcli.core.gates import GATES, NumpyMath

RNG = np.random.default_rng(7)

# op -> (inputs, parameter, upstream gradient): shapes the strings are written for
CASES = {
    "matmul": ([RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))], None, RNG.normal(size=(3, 2))),
    "dot": ([RNG.normal(size=4), RNG.normal(size=4)], None, np.float64(1.7)),
    "sum": ([RNG.normal(size=(3, 4))], None, np.float64(-0.6)),
    "mean": ([RNG.normal(size=(3, 4))], None, np.float64(2.5)),
    "amax": ([RNG.normal(size=(3, 4))], None, np.float64(1.3)),
    "amin": ([RNG.normal(size=(3, 4))], None, np.float64(-0.4)),
    "transpose": ([RNG.normal(size=(3, 4))], None, RNG.normal(size=(4, 3))),
    "softmax": ([RNG.normal(size=5)], None, RNG.normal(size=5)),
    "logsumexp": ([RNG.normal(size=5)], None, np.float64(0.9)),
    "size": ([RNG.normal(size=(2, 3))], None, np.float64(1.0)),
}


def test_every_array_gate_has_a_case_or_is_indexing():
    assert set(CASES) | {"index"} == ARRAY_OPS
    assert all(GATES[op].shape is not None for op in ARRAY_OPS)


@pytest.mark.parametrize("op", sorted(CASES))
def test_vjp_strings_give_the_codes_numbers(op):
    row = GATES[op]
    xs, p, up = CASES[op]
    m = NumpyMath()
    out = row.forward(m, *xs, p)
    slots = ("out", *row.inputs, "p", "up")
    strings = [
        np.broadcast_to(compile_text(row.vjp[name], slots)[0](m, (out, *xs, p, up)), x.shape)
        for name, x in zip(row.inputs, xs, strict=True)
    ]
    from bpcli.core.arrays import _vjp

    numbers = _vjp(row)(out, xs, up, p)
    for name, s, n, x in zip(row.inputs, strings, numbers, xs, strict=True):
        n = np.zeros(x.shape) if n is None else n
        np.testing.assert_allclose(s, n, rtol=1e-12, atol=1e-15, err_msg=f"{op}: {name}")


def test_steps_text_is_the_string_over_the_names():
    assert vjp_text("matmul", ["X", "W"], "S", "dS") == ("dS @ transpose(W)", "transpose(X) @ dS")
    assert vjp_text("dot", ["w", "x"], "q", "dq") == ("dq * x", "dq * w")
    assert vjp_text("mean", ["t"], "u", "du") == ("du / size(t)",)
    assert vjp_text("index", ["S", "y"], "r", "dr") == (None, None)


STEPS_CASES = [
    # (expression, bindings): each array gate on the shapes its string is written for
    ("S = X @ W; L = sum(S * G)", {"X": (3, 4), "W": (4, 2), "G": (3, 2)}),
    ("q = dot(w, x); L = q * q", {"w": (4,), "x": (4,)}),
    ("p = softmax(a); L = sum(p * c)", {"a": (5,), "c": (5,)}),
    ("r = logsumexp(a); L = r * r", {"a": (5,)}),
    ("m = mean(A); L = m * m", {"A": (3, 4)}),
    ("s = sum(A); L = s * s", {"A": (3, 4)}),
    ("t = max(A); L = t * t", {"A": (3, 4)}),
    ("T = transpose(A); L = sum(T * G)", {"A": (3, 4), "G": (4, 3)}),
]


@pytest.mark.parametrize("source,shapes", STEPS_CASES)
def test_steps_text_of_array_gates_evaluates_to_the_engines_product(source, shapes):
    """The product `--steps` prints for an array gate (`dX = dS @ transpose(W)`), evaluated by
    bp's own array engine with the wires' values bound, is the gradient the engine sent."""
    from bpcli.core import arrays
    from bpcli.core.engine import evaluate
    from bpcli.core.parse import parse
    from bpcli.views.common import node_names
    from bpcli.views.steps import _steps

    rng = np.random.default_rng(len(source))
    r = evaluate(source, {k: rng.normal(size=s) for k, s in shapes.items()})
    g = r.graph
    names = node_names(g)
    env = {names[i]: r.values[i] for i in range(len(g)) if g.ops[i] != "const"}
    env |= {"d" + names[i]: r.grads[i] for i in range(len(g)) if g.ops[i] != "const"}
    checked = 0
    for row in _steps(r):
        if row[0] != "backward" or row[5] is not None:  # only the array gates' products (up is None)
            continue
        _, n, target, op, text, _, sent, _, _ = row
        t = parse(text)
        got = arrays.forward(t, {v: env[v] for v in t.var_ids})[t.output]
        np.testing.assert_allclose(
            np.broadcast_to(got, np.shape(sent)), sent, rtol=1e-12, atol=1e-15, err_msg=text
        )
        checked += 1
    assert checked
