"""Vectors and matrices (CONTRACT "Arrays"): bindings, the array gates, shapes, and gradients
against independent references: the scalar form of the same expression, hand-derived NumPy
(CS231n's closed forms), PyTorch when installed, and centered differences per entry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpcli.core.engine import evaluate
from bpcli.core.errors import MathError

# -- the CONTRACT's neuron: sigmoid(dot(w, x)) -------------------------------------------------


def test_neuron_as_dot_matches_scalar_form(bp):
    r = bp("eval", "sigmoid(dot(w, x))", "--w", "2,-3,-3", "--x", "-1,-2,1", "--format", "json")
    assert r.code == 0, r.err
    got = json.loads(r.out)
    scalar = evaluate("sigmoid(w0*x0+w1*x1+w2*x2)", dict(w0=2, w1=-3, w2=-3, x0=-1, x1=-2, x2=1)).gradient
    assert got["value"] == pytest.approx(0.7310585786300049, abs=1e-12)
    assert round(got["value"], 2) == 0.73  # the lecture's number
    np.testing.assert_allclose(got["gradient"]["w"], [scalar[f"w{i}"] for i in range(3)], rtol=1e-12)
    np.testing.assert_allclose(got["gradient"]["x"], [scalar[f"x{i}"] for i in range(3)], rtol=1e-12)
    assert [round(v, 2) for v in got["gradient"]["w"]] == [-0.20, -0.39, 0.20]
    assert [round(v, 2) for v in got["gradient"]["x"]] == [0.39, -0.59, -0.59]


def test_neuron_picture_shows_arrays_whole(bp):
    r = bp("eval", "sigmoid(dot(w, x))", "--w", "2,-3,-3", "--x", "-1,-2,1")
    assert r.code == 0, r.err
    assert "0.73" in r.out
    assert "[-0.20, -0.39, 0.20]" in r.out and "[0.39, -0.59, -0.59]" in r.out
    assert "(3,)" in r.out  # every wire shows its shape


def test_transpose_matmul_form_is_the_same_neuron():
    w, x = np.array([2.0, -3, -3]), np.array([-1.0, -2, 1])
    a = evaluate("1/(1+exp(-wᵀ @ x))", {"w": w, "x": x})
    b = evaluate("sigmoid(dot(w, x))", {"w": w, "x": x})
    assert a.value == pytest.approx(b.value, rel=1e-12)
    np.testing.assert_allclose(a.gradient["w"], b.gradient["w"], rtol=1e-12)


def test_plain_one_line_per_entry_row_major(bp):
    r = bp("eval", "sum(W * W)", "--W", "[[1,2],[3,4]]", "--format", "plain")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "f\t30.0",
        "df/dW[0,0]\t2.0",
        "df/dW[0,1]\t4.0",
        "df/dW[1,0]\t6.0",
        "df/dW[1,1]\t8.0",
    ]


def test_json_gradient_has_the_variables_shape(bp):
    r = bp(
        "eval", "sum(W @ x) + c", "--W", "[[1,2,3],[4,5,6]]", "--x", "1,1,1", "--c", "2", "--format", "json"
    )
    got = json.loads(r.out)
    assert got["value"] == 23.0
    assert got["gradient"] == {"W": [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], "x": [5.0, 7.0, 9.0], "c": 1.0}


def test_wrt_an_array_prints_its_nested_list(bp):
    r = bp("eval", "sum(3 * w)", "--w", "1,2", "--wrt", "w")
    assert r.code == 0 and json.loads(r.out) == [3.0, 3.0]


# -- bindings ----------------------------------------------------------------------------------


def test_array_files(bp, tmp_path):
    W = np.array([[1.0, -2.0], [0.5, 4.0]])
    np.save(tmp_path / "W.npy", W)
    (tmp_path / "W.csv").write_text("1,-2\n0.5,4\n")
    (tmp_path / "W.json").write_text("[[1, -2], [0.5, 4]]")
    want = (2 * W).tolist()
    for name in ("W.npy", "W.csv", "W.json"):
        r = bp("eval", "sum(W * W)", "--W", f"@{tmp_path / name}", "--format", "json")
        assert r.code == 0, (name, r.err)
        assert json.loads(r.out)["gradient"]["W"] == want, name


def test_vars_json_with_arrays_and_labels(bp, tmp_path):
    f = tmp_path / "v.json"
    f.write_text(json.dumps({"S": [[1, 2, 3], [4, 5, 6]], "y": [2, 0]}))
    r = bp("eval", "sum(S[y])", "--vars", str(f), "--format", "json")
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert got["value"] == 3 + 4  # one entry per row: S[0, 2] + S[1, 0]
    assert got["gradient"]["S"] == [[0, 0, 1], [1, 0, 0]]


def test_a_number_stays_a_number():
    from bpcli.readers.bindings import value

    assert value("x", "2") == 2.0 and type(value("x", "2")) is float
    assert value("w", "2,-3,-3").shape == (3,)
    assert value("w", "[2]").shape == (1,)
    assert value("W", "[[1,2],[3,4]]").shape == (2, 2)


@pytest.mark.parametrize(
    "value,words",
    [
        ("[[1,2],[3]]", ["'W'", "array of numbers"]),
        ("[1, NaN]", ["'W'", "not finite"]),
        ("1,x", ["'W[1]'", "number"]),
        ("@nope.npy", ["--W", "cannot read"]),
        ("@data.txt", ["--W", ".npy, .csv or .json"]),
    ],
)
def test_bad_array_values(bp, value, words):
    r = bp("eval", "sum(W)", "--W", value)
    assert r.code == 2 and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    for w in words:
        assert w in r.err, r.err


def test_npy_with_objects_is_refused(bp, tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    r = bp("eval", "sum(W)", "--W", f"@{tmp_path / 'o.npy'}")
    assert r.code == 2 and "Traceback" not in r.err


# -- shapes and outputs ---------------------------------------------------------------------------


def test_shape_error_names_gate_column_and_shapes(bp):
    r = bp("eval", "sum(A @ x)", "--A", json.dumps(np.ones((3, 4)).tolist()), "--x", "1,2,3")
    assert r.code == 2
    assert r.err.strip() == "bp: shapes (3, 4) and (3,) do not fit at @, column 7"


def test_contract_shape_message_at_column_5(bp):
    r = bp("eval", "sum(A @ x)".replace("sum(", "").replace(")", ""), "--A", "[[1,2,3,4]]", "--x", "1,2,3")
    # "A @ x" alone is an array output, but the shapes are checked first
    assert r.err.strip() == "bp: shapes (1, 4) and (3,) do not fit at @, column 3"


@pytest.mark.parametrize(
    "expr,words",
    [
        ("sum(a + b)", ["shapes (2,) and (3,) do not fit at +, column 7"]),
        ("sum(max(a, b, 1))", ["shapes (2,), (3,) and () do not fit at max, column 5"]),
        ("a[5] + sum(b)", ["out of range", "column 2"]),
        ("a[0.5]", ["whole number"]),
        ("sum(a, 2)", ["axis 2", "column 1"]),
        ("sum(softmax(c))", ["softmax", "vector or a matrix"]),
        ("sum(c, 0)", ["axis 0 is out of range for a number"]),
        ("c[0]", ["too many indices (1) for shape ()"]),
        ("sum(A @ a)", ["(1, 3) and (2,) do not fit at @"]),
    ],
)
def test_shape_errors(bp, expr, words):
    given = {"a": "1,2", "b": "1,2,3", "c": "1", "A": "[[1,2,3]]"}
    r = bp("eval", expr, *[w for k in uses(expr, given) for w in (f"--{k}", given[k])])
    assert r.code == 2 and "Traceback" not in r.err, r.err
    assert r.err.startswith("bp: ")
    for w in words:
        assert w in r.err, r.err


def test_array_output_is_a_usage_error_naming_its_shape(bp):
    r = bp("eval", "W @ x", "--W", "[[1,2],[3,4],[5,6]]", "--x", "1,1")
    assert r.code == 2
    assert "shape (3,)" in r.err and "sum(...)" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_max_of_one_number_is_still_the_scalar_error(bp):
    r = bp("eval", "max(x)", "--x", "1")
    assert r.code == 2 and "max takes two or more arguments, got 1" in r.err


def test_batch_mode_refuses_arrays(bp):
    for argv in (["x*sum(w)", "--w", "1,2", "--grid", "x=0:1:3"], ["sum(x)", "--grid", "x=0:1:3"]):
        r = bp("eval", *argv)
        assert r.code == 2 and "scalar expression" in r.err, r.err


def test_scalar_names_sum_and_mean_still_variables():
    assert evaluate("sum = x + y; 2 * sum", {"x": 1, "y": 2}).value == 6.0
    assert evaluate("mean * 2", {"mean": 3}).gradient == {"mean": 2.0}


# -- the gates one by one, against closed forms ----------------------------------------------------

RNG = np.random.default_rng(0)


def test_reductions_and_router_patterns():
    a = np.array([[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]])
    r = evaluate("max(a)", {"a": a})
    assert r.value == 5.0
    np.testing.assert_array_equal(r.gradient["a"], [[0, 1, 0], [0, 0, 0]])
    r = evaluate("min(a)", {"a": a})
    np.testing.assert_array_equal(r.gradient["a"], [[0, 0, 0], [0, 1, 0]])
    r = evaluate("sum(mean(a, 0) * c)", {"a": a, "c": np.array([1.0, 2.0, 3.0])})
    np.testing.assert_allclose(r.gradient["a"], [[0.5, 1, 1.5], [0.5, 1, 1.5]])
    r = evaluate("sum(sum(a, -1) * c)", {"a": a, "c": np.array([1.0, 2.0])})
    np.testing.assert_allclose(r.gradient["a"], [[1, 1, 1], [2, 2, 2]])
    r = evaluate("sum(a[1] * 2) + a[0, 2]", {"a": a})
    np.testing.assert_array_equal(r.gradient["a"], [[0, 0, 1], [2, 2, 2]])


def test_max_reduction_tie_follows_tie_rule():
    a = np.array([3.0, 1.0, 3.0])
    split = evaluate("max(a)", {"a": a})
    np.testing.assert_array_equal(split.gradient["a"], [0.5, 0, 0.5])
    assert split.warnings and "tied" in split.warnings[0]
    np.testing.assert_array_equal(evaluate("max(a)", {"a": a}, tie="first").gradient["a"], [1, 0, 0])
    np.testing.assert_array_equal(evaluate("max(a)", {"a": a}, tie="both").gradient["a"], [1, 0, 1])


def test_broadcasting_sums_back():
    X, b = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    r = evaluate("sum(tanh(X + b))", {"X": X, "b": b})
    local = 1 - np.tanh(X + b) ** 2
    np.testing.assert_allclose(r.gradient["b"], local.sum(0), rtol=1e-12)
    np.testing.assert_allclose(r.gradient["X"], local, rtol=1e-12)
    s = evaluate("sum(X * k)", {"X": X, "k": 2.0})
    assert s.gradient["k"] == pytest.approx(X.sum(), rel=1e-12)


def test_softmax_and_logsumexp_are_stable():
    a = np.array([1000.0, 1001.0, 999.0])
    r = evaluate("logsumexp(a)", {"a": a})
    assert r.value == pytest.approx(1001 + np.log(np.exp(-1) + 1 + np.exp(-2)), rel=1e-15)
    e = np.exp(a - a.max())
    np.testing.assert_allclose(r.gradient["a"], e / e.sum(), rtol=1e-12)
    c = np.array([1.0, -2.0, 0.5])
    s = evaluate("sum(softmax(a) * c)", {"a": a, "c": c})
    p = e / e.sum()
    np.testing.assert_allclose(s.gradient["a"], p * (c - p @ c), rtol=1e-10, atol=1e-15)


def test_relu_kink_on_arrays_warns_with_a_count():
    r = evaluate("sum(relu(x))", {"x": np.array([0.0, 1.0, 0.0, -1.0])})
    np.testing.assert_array_equal(r.gradient["x"], [0, 1, 0, 0])
    assert any("2 entries" in w for w in r.warnings)


def test_steps_in_cs231n_form(bp):
    r = bp(
        "eval",
        "S = X @ W; L = sum(S * S)",
        "--X",
        "[[1,2],[3,4],[5,6]]",
        "--W",
        "[[1,0],[0,1]]",
        "--steps",
        "--format",
        "plain",
    )
    assert r.code == 0, r.err
    assert "dW = transpose(X) @ dS" in r.out and "dX = dS @ transpose(W)" in r.out
    assert "# (3, 2)" in r.out and "# (2, 2)" in r.out


# -- CS231n's losses, against hand-derived NumPy and PyTorch ---------------------------------------

SOFTMAX = "S = X @ W; L = mean(logsumexp(S) - S[y])"
SVM = "S = X @ W; L = mean(sum(max(Sᵀ - S[y] + 1, 0), 0)) - 1"
LINEAR_RELU = "L = sum(relu(X @ W + b) * C)"
L2 = "L = reg * sum(W * W)"
TWO_LAYER = (
    "H = relu(X @ W1 + b1); S = H @ W2 + b2\n"
    "L = mean(logsumexp(S) - S[y]) + reg * (sum(W1 * W1) + sum(W2 * W2))"
)


def problem(seed: int):
    """A random CS231n-sized-down problem: N examples of D features, H hidden units, C classes."""
    rng = np.random.default_rng(seed)
    N, D, H, C = (int(v) for v in rng.integers(2, 7, size=4))
    return {
        "X": rng.normal(size=(N, D)),
        "W": rng.normal(size=(D, C)),
        "b": rng.normal(size=C),
        "C": rng.normal(size=(N, C)),
        "y": rng.integers(0, C, size=N).astype(float),
        "W1": rng.normal(size=(D, H)) * 0.5,
        "b1": rng.normal(size=H) * 0.1,
        "W2": rng.normal(size=(H, C)) * 0.5,
        "b2": rng.normal(size=C) * 0.1,
        "reg": 0.1,
    }


def uses(expr: str, p: dict) -> dict:
    from bpcli.core.parse import parse

    return {k: p[k] for k in parse(expr).var_ids}


def numpy_reference(name: str, p: dict) -> tuple[float, dict]:
    """Each loss and its gradients written out by hand, CS231n style."""
    X, y = p["X"], p["y"].astype(int)
    N = X.shape[0]
    rows = np.arange(N)
    if name == "linear_relu":
        Z = X @ p["W"] + p["b"]
        dZ = p["C"] * (Z > 0)
        return float(np.sum(np.maximum(Z, 0) * p["C"])), {
            "X": dZ @ p["W"].T,
            "W": X.T @ dZ,
            "b": dZ.sum(0),
            "C": np.maximum(Z, 0),
        }
    if name == "l2":
        return p["reg"] * float(np.sum(p["W"] ** 2)), {
            "reg": float(np.sum(p["W"] ** 2)),
            "W": 2 * p["reg"] * p["W"],
        }

    def softmax_grad(S):
        P = np.exp(S - S.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        loss = float(np.mean(-np.log(P[rows, y])))
        dS = P.copy()
        dS[rows, y] -= 1
        return loss, dS / N

    if name == "softmax":
        loss, dS = softmax_grad(X @ p["W"])
        return loss, {"X": dS @ p["W"].T, "W": X.T @ dS, "y": np.zeros(N)}
    if name == "svm":
        S = X @ p["W"]
        margins = S - S[rows, y][:, None] + 1
        margins[rows, y] = 0
        loss = float(np.maximum(margins, 0).sum() / N)
        dS = (margins > 0).astype(float)
        dS[rows, y] = -dS.sum(1)
        dS /= N
        return loss, {"X": dS @ p["W"].T, "W": X.T @ dS, "y": np.zeros(N)}
    # the two-layer network
    W1, b1, W2, b2, reg = p["W1"], p["b1"], p["W2"], p["b2"], p["reg"]
    Z = X @ W1 + b1
    H = np.maximum(Z, 0)
    loss, dS = softmax_grad(H @ W2 + b2)
    loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dH = dS @ W2.T
    dZ = dH * (Z > 0)
    return loss, {
        "X": dZ @ W1.T,
        "W1": X.T @ dZ + 2 * reg * W1,
        "b1": dZ.sum(0),
        "y": np.zeros(N),
        "W2": H.T @ dS + 2 * reg * W2,
        "b2": dS.sum(0),
        "reg": float(np.sum(W1 * W1) + np.sum(W2 * W2)),
    }


CASES = {"linear_relu": LINEAR_RELU, "softmax": SOFTMAX, "svm": SVM, "l2": L2, "two_layer": TWO_LAYER}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", list(CASES))
def test_losses_against_hand_derived_numpy(name, seed):
    p = problem(seed)
    r = evaluate(CASES[name], uses(CASES[name], p))
    loss, grads = numpy_reference(name, p)
    assert r.value == pytest.approx(loss, rel=1e-12)
    assert set(r.gradient) == set(grads)
    for k, g in grads.items():
        np.testing.assert_allclose(r.gradient[k], g, rtol=1e-10, atol=1e-13, err_msg=f"{name}: d{k}")


def torch_reference(name: str, p: dict) -> tuple[float, dict]:
    torch = pytest.importorskip("torch")
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k != "y") for k, v in p.items()}
    y = torch.tensor(p["y"].astype(int)) if "y" in p else None
    X = t.get("X")
    if name == "linear_relu":
        L = (torch.relu(X @ t["W"] + t["b"]) * t["C"]).sum()
    elif name == "l2":
        L = t["reg"] * (t["W"] * t["W"]).sum()
    elif name == "softmax":
        L = torch.nn.functional.cross_entropy(X @ t["W"], y)
    elif name == "svm":
        L = torch.nn.functional.multi_margin_loss(X @ t["W"], y, margin=1.0) * (p["W"].shape[1])
    else:
        H = torch.relu(X @ t["W1"] + t["b1"])
        L = torch.nn.functional.cross_entropy(H @ t["W2"] + t["b2"], y)
        L = L + t["reg"] * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    L.backward()
    return L.item(), {k: v.grad.numpy() for k, v in t.items() if k != "y" and v.grad is not None}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", list(CASES))
def test_losses_against_pytorch(name, seed):
    p = problem(seed + 100)
    used = uses(CASES[name], p)
    loss, grads = torch_reference(name, used)
    r = evaluate(CASES[name], used)
    assert r.value == pytest.approx(loss, rel=1e-12)
    for k, g in grads.items():
        np.testing.assert_allclose(r.gradient[k], g, rtol=1e-10, atol=1e-13, err_msg=f"{name}: d{k}")


# -- property: random array expressions with random broadcastable shapes ---------------------------

UNARY = ["exp({})", "tanh({})", "sigmoid({})", "sin({})", "softplus({})", "({})^2", "log({}^2 + 1)"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "({} / ({}^2 + 1))", "max({}, {})"]
OUTER = ["sum({})", "mean({})", "sum(softmax({}) * K)", "sum(logsumexp({}))", "sum(sum({}, 0) * V)"]
OUTER += ["sum(({})[0] * V)", "sum(transpose({}) * transpose(K))", "mean(({})ᵀ @ K)"]


@st.composite
def array_case(draw):
    base = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    names = ["a", "b", "c"]

    def stretchable(shape):
        # a shape that broadcasts to `shape`: some axes 1, some leading axes dropped
        dims = [1 if draw(st.booleans()) else n for n in shape]
        drop = draw(st.integers(0, len(dims)))
        return tuple(dims[drop:])

    shapes = {n: stretchable(base) for n in names}
    shapes["a"] = base  # one input of full shape, so the outer reductions see it
    expr = "a"
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            expr = draw(st.sampled_from(UNARY)).format(expr)
        else:
            other = draw(st.sampled_from(names))
            left, right = (expr, other) if draw(st.booleans()) else (other, expr)
            expr = draw(st.sampled_from(BINARY)).format(left, right)
    outer = draw(st.sampled_from(OUTER))
    seed = draw(st.integers(0, 2**32 - 1))
    return outer.format(expr), shapes, base, seed


def centered(expr: str, bindings: dict, name: str, h: float = 1e-6) -> np.ndarray:
    x = bindings[name]
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (
            evaluate(expr, {**bindings, name: up}).value - evaluate(expr, {**bindings, name: down}).value
        ) / (2 * h)
    return grad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array_case())
def test_random_array_expressions_against_centered_differences(case):
    expr, shapes, base, seed = case
    rng = np.random.default_rng(seed)
    bindings = {n: rng.uniform(-1.5, 1.5, size=s) for n, s in shapes.items()}
    bindings["K"] = rng.normal(size=base)
    bindings["V"] = rng.normal(size=base[1:])
    used = uses(expr, bindings)
    try:
        r = evaluate(expr, used)
    except MathError:  # exp(exp(exp(3))) overflows: bp refuses it, which is right
        assume(False)
    # a centered difference is a reference only where the function is tame: nested exps reach
    # 1e8 and more (sin(exp(exp(3)))), where a step of 1e-6 is no longer small
    assume(all(np.max(np.abs(v)) < 50 for v in r.values))
    for name, x in used.items():
        g = centered(expr, used, name) if x.ndim else np.float64(0)
        if not x.ndim:
            continue
        assert r.gradient[name].shape == x.shape
        # a centered difference of f carries rounding of about eps*|f|/h in every entry, so the
        # absolute slack grows with |f| (sum(exp(exp(a+a))) reaches 1e9 at a = 1.5)
        atol = 1e-6 + 1e-8 * abs(float(r.value))
        np.testing.assert_allclose(r.gradient[name], g, rtol=1e-5, atol=atol, err_msg=f"{expr} d{name}")


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1), st.booleans())
def test_random_matrix_products_against_centered_differences(m, k, n, seed, vector):
    rng = np.random.default_rng(seed)
    bindings = {"A": rng.normal(size=(m, k)), "B": rng.normal(size=(k,) if vector else (k, n))}
    bindings["G"] = rng.normal(size=(m,) if vector else (m, n))
    expr = "sum(tanh(A @ B) * G) + sum(transpose(A) * 0.5)"
    r = evaluate(expr, bindings)
    for name in ("A", "B"):
        np.testing.assert_allclose(r.gradient[name], centered(expr, bindings, name), rtol=1e-5, atol=1e-7)


# -- bp check and bp gradcheck on arrays -------------------------------------------------------------


def _softmax_dW(X, W, y):
    S = X @ W
    P = np.exp(S - S.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return X.T @ P / len(y)


def test_check_expect_npy_reports_cs231n_relative_error(bp, tmp_path):
    rng = np.random.default_rng(3)
    X, W, y = rng.normal(size=(8, 5)), rng.normal(size=(5, 4)) * 0.01, rng.integers(0, 4, size=8)
    for name, arr in (("X", X), ("W", W), ("y", y)):
        np.save(tmp_path / f"{name}.npy", arr)
    dW = _softmax_dW(X, W, y)
    np.save(tmp_path / "dW.npy", dW)
    np.save(tmp_path / "bad.npy", dW * 1.01)
    args = [SOFTMAX] + [w for n in "XWy" for w in (f"--{n}", f"@{tmp_path / n}.npy")]
    good = bp("check", *args, "--expect", f"dW=@{tmp_path / 'dW.npy'}", "--format", "json")
    assert good.code == 0, good.err
    answer = json.loads(good.out)["answers"][0]
    assert answer["right"] and answer["rel_error"] < 1e-12
    bad = bp("check", *args, "--expect", f"dW=@{tmp_path / 'bad.npy'}", "--format", "json")
    assert bad.code == 1
    rel = json.loads(bad.out)["answers"][0]["rel_error"]
    assert rel == pytest.approx(0.01 / 2.01, rel=1e-6)  # max|a-b| / max(|a|+|b|) for b = 1.01 a


def test_check_inline_list_by_written_decimals(bp):
    r = bp(
        "check",
        "sigmoid(dot(w, x))",
        "--w",
        "2,-3,-3",
        "--x",
        "-1,-2,1",
        "--expect",
        "dw=-0.20,-0.39,0.20",
        "--expect",
        "dx=[0.39, -0.59, -0.58]",
        "--format",
        "json",
    )
    assert r.code == 1
    right = [a["right"] for a in json.loads(r.out)["answers"]]
    assert right == [True, False]


def test_gradcheck_every_entry_of_small_arrays_skips_labels(bp):
    r = bp(
        "gradcheck", SOFTMAX, "--X", "[[1,2],[3,4],[5,6]]", "--W", "[[1,0,1],[0,1,-1]]", "--y", "0,2,1",
        "--format", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert [c["name"] for c in got["inputs"]][:3] == ["X[0,0]", "X[0,1]", "X[1,0]"]
    assert len(got["inputs"]) == 6 + 6
    assert any("every entry" in n for n in got["notes"]) and any("index" in n for n in got["notes"])


def test_gradcheck_samples_big_arrays_with_a_seed(tmp_path):
    from bpcli.tools.gradcheck import ALL_ENTRIES, gradcheck

    rng = np.random.default_rng(4)
    b = {
        "X": rng.normal(size=(30, 20)),
        "W": rng.normal(size=(20, 10)) * 0.01,
        "y": rng.integers(0, 10, 30) * 1.0,
    }
    one, two = gradcheck(SOFTMAX, b, wrt=["W"]), gradcheck(SOFTMAX, b, wrt=["W"])
    assert one.passed and len(one.inputs) == ALL_ENTRIES
    assert [c.name for c in one.inputs] == [c.name for c in two.inputs]  # seeded: the same sample
    assert "random sample of 20 of its 200 entries" in one.notes[0]
    dW = _softmax_dW(b["X"], b["W"], b["y"].astype(int))
    for c in one.inputs:
        i, j = (int(k) for k in c.name[2:-1].split(","))
        assert c.analytic == pytest.approx(dW[i, j], rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(
    "expr,words",
    [
        ("sum(exp(x * 1000))", ["gate exp at column 5", "non-finite"]),
        ("sum(log(x))", ["gate log", "1 non-finite entry"]),
        ("sum(sqrt(x))", ["gradient into input 1 of gate sqrt"]),
        ("sum(1e999 * x)", ["the number at column 5 is not a finite double"]),
        ("sum(x) / 0", ["gate / at column 8"]),
    ],
)
def test_math_errors_on_arrays_exit_3(bp, expr, words):
    r = bp("eval", expr, "--x", "0,2")
    assert r.code == 3 and "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1, r.err
    for w in words:
        assert w in r.err, r.err


def test_compare_and_explain_on_arrays(bp):
    r = bp("eval", "sigmoid(dot(w, x))", "--w", "2,-3,-3", "--x", "-1,-2,1", "--compare")
    assert r.code == 0 and "same" in r.out and "(3,)" in r.out, r.err
    r = bp("explain", "sum(w)", "--w", "1,2", "--wrt", "w")
    assert r.code == 2 and "scalar expressions" in r.err and "--steps" in r.err


def test_json_graph_with_arrays(bp):
    r = bp("eval", "sum(W @ x)", "--W", "[[1,2],[3,4]]", "--x", "1,1", "--format", "json", "--graph")
    nodes = json.loads(r.out)["graph"]["nodes"]
    matmul = next(n for n in nodes if n["op"] == "matmul")
    assert matmul["value"] == [3.0, 7.0] and matmul["grad"] == [1.0, 1.0] and matmul["pattern"] == "swapper"


def test_elementwise_max_ties_on_arrays_follow_the_tie_rule():
    x = np.array([0.0, 1.0, -1.0])
    r = evaluate("sum(max(x, 0))", {"x": x})
    np.testing.assert_array_equal(r.gradient["x"], [0.5, 1, 0])
    assert any("tied inputs in 1 entry" in w for w in r.warnings)
    np.testing.assert_array_equal(evaluate("sum(max(x, 0))", {"x": x}, tie="both").gradient["x"], [1, 1, 0])


def test_gradcheck_on_arrays_tells_a_kink_from_a_bug():
    from bpcli.tools.gradcheck import gradcheck

    r = gradcheck("sum(relu(x - 1e-6))", {"x": np.array([0.0, 1.0, 2.0])})
    assert r.passed
    assert [c.verdict for c in r.inputs] == ["kink", "good", "good"]
    assert "relu" in r.inputs[0].kink and "x[0]" in r.inputs[0].kink
    r = gradcheck("max(x)", {"x": np.array([1.0, 1.000001, 0.0])})
    assert r.passed and r.inputs[0].kink is not None


def test_a_nan_slope_is_a_math_error_on_arrays_as_on_numbers(bp):
    # d/db a^b = a^b ln a is undefined for a < 0: a NaN made without any floating-point alarm
    scalar = bp("eval", "a ^ b", "--a", "-1", "--b", "0")
    array = bp("eval", "sum(a ^ b)", "--a", "-1,2", "--b", "0,1")
    assert scalar.code == array.code == 3, (scalar.err, array.err)
    assert "gradient into input 2" in array.err


def test_file_shapes(tmp_path):
    from bpcli.readers.bindings import value

    (tmp_path / "labels.csv").write_text("0\n2\n1\n")
    (tmp_path / "row.csv").write_text("1,2,3\n")
    (tmp_path / "n.json").write_text("2.5")
    np.save(tmp_path / "ints.npy", np.array([[1, 2], [3, 4]], dtype=np.int32))
    assert value("y", f"@{tmp_path / 'labels.csv'}").tolist() == [0, 2, 1]
    assert value("r", f"@{tmp_path / 'row.csv'}").shape == (3,)
    assert value("n", f"@{tmp_path / 'n.json'}") == 2.5
    ints = value("I", f"@{tmp_path / 'ints.npy'}")
    assert ints.dtype == float and ints.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    "argv",
    [
        ["descend", "sum((w - t)^2)", "--w", "1,2", "--t", "0,0", "--steps", "3"],
        ["plot", "sum(x)", "--x", "-1:1"],
        ["fit", "sum(x)", "--range", "-1:1"],
        ["explain", "sum(w)", "--w", "1,2", "--wrt", "w"],
    ],
)
def test_scalar_only_commands_say_so_for_arrays(bp, argv):
    r = bp(*argv)
    assert r.code == 2 and "works on scalar expressions" in r.err and "Traceback" not in r.err, r.err
