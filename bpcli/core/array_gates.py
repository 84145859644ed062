"""The code behind the gate table's array rows (gates.py, "array gates"): gates that only make
sense on vectors and matrices: `dot`, `@`, the reductions `sum`/`mean`/`max`/`min`, `transpose`,
`softmax`, `logsumexp`, `size` and indexing. Every scalar gate also works elementwise on arrays
(NumPy broadcasting, see `arrays.py`).

Per gate: the forward pass; `*_shape(shapes, p)`, the output's shape for the inputs' shapes (a
`ValueError` saying why when they do not fit), so a whole graph is checked before any arithmetic;
and `*_vjp(out, xs, up, p, tie)`, the numbers of the row's `vjp` strings for every rank and axis
(the strings, CS231n's `dA = up @ transpose(B)`, are written for matrices and whole-array
reductions; tests/test_array_gates.py checks the code against them), `None` for an input that
gets no gradient (an index's labels).
"""

from __future__ import annotations

from .numbers import number_text


class _NumpyOnFirstUse:
    """NumPy, imported when an array gate first runs: a scalar `bp eval` never loads it
    (tests/test_startup.py). The first use puts the real module in its place."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _NumpyOnFirstUse()


def _text(shape: tuple) -> str:
    return str(tuple(shape))


def fit_text(shapes) -> str:
    """`shapes (3, 4) and (3,) do not fit`: the start of every shape error."""
    parts = [_text(s) for s in shapes]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"shapes {listed} do not fit"


# -- dot and @ ------------------------------------------------------------------------------
def matmul_shape(shapes, p=None):
    a, b = shapes
    if not a or not b:
        raise ValueError(f"{fit_text(shapes)} (@ takes vectors and matrices; to scale, use *)")
    if len(a) > 2 or len(b) > 2:
        raise ValueError(
            f"{fit_text(shapes)} (@ takes vectors and matrices, not {max(len(a), len(b))}-d arrays)"
        )
    if a[-1] != b[0]:
        raise ValueError(fit_text(shapes))
    return a[:-1] + b[1:]


def _as_matrices(a, b, up):
    """a, b and up as matrices (a vector on the left is a row, on the right a column)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    return a2, b2, np.reshape(up, (a2.shape[0], b2.shape[1]))


def matmul_vjp(out, xs, up, p=None, tie="split"):
    a, b = xs
    a2, b2, up2 = _as_matrices(a, b, up)
    return (up2 @ b2.T).reshape(a.shape), (a2.T @ up2).reshape(b.shape)


def dot_shape(shapes, p=None):
    a, b = shapes
    if not a or not b:  # numpy.dot of a number is a product
        return np.broadcast_shapes(a, b)
    return matmul_shape(shapes)


def dot_vjp(out, xs, up, p=None, tie="split"):
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        return sum_to(up * b, a.shape), sum_to(up * a, b.shape)
    return matmul_vjp(out, xs, up)


def sum_to(g, shape):
    """`g` summed back to `shape` over the axes broadcasting added or stretched."""
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + k for k, n in enumerate(shape) if n == 1 and g.shape[extra + k] != 1
    )
    return np.sum(g, axis=axes).reshape(shape)


# -- reductions -------------------------------------------------------------------------------
def _axis(ndim: int, p) -> int | None:
    if p is None:
        return None
    if p != int(p) or not -ndim <= int(p) < max(ndim, 1):
        raise ValueError(f"axis {number_text(p)} is out of range for an array with {ndim} axes")
    return int(p) % ndim


def reduce_shape(shapes, p=None):
    (a,) = shapes
    if p is not None and not a:
        raise ValueError(f"axis {number_text(p)} is out of range for a number")
    k = _axis(len(a), p)
    return () if k is None else a[:k] + a[k + 1 :]


def sum_forward(m, a, p=None):
    return np.sum(a, axis=None if p is None else int(p))


def mean_forward(m, a, p=None):
    return np.mean(a, axis=None if p is None else int(p))


def axis_formula(word):
    """`sum(a)` or `sum(a, 0)`: the forward pass as text, with the axis when there is one."""
    return lambda n, p: f"{word}({n[0]})" if p is None else f"{word}({n[0]}, {number_text(p)})"


def _spread(up, a, p):
    """The upstream gradient of a reduction, spread back over the reduced axis."""
    if p is None:
        return np.broadcast_to(up, a.shape)
    return np.broadcast_to(np.expand_dims(up, _axis(a.ndim, p)), a.shape)


def sum_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    return (_spread(up, a, p),)


def mean_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    count = a.size if p is None else a.shape[_axis(a.ndim, p)]
    return (_spread(up, a, p) / count,)


def extreme_shape(shapes, p=None):
    (a,) = shapes
    if 0 in a:
        raise ValueError(f"{fit_text(shapes)} (an empty array has no largest or smallest entry)")
    return ()


def extreme_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    hits = (a == out).astype(float)
    if tie == "first":
        first = np.zeros_like(hits)
        first.flat[int(np.argmax(hits))] = 1.0
        hits = first
    elif tie == "split":
        hits = hits / hits.sum()
    return (hits * up,)


# -- transpose, softmax, logsumexp --------------------------------------------------------------
def vector_shape(word):
    def shape(shapes, p=None):
        (a,) = shapes
        if not a:
            raise ValueError(f"{fit_text(shapes)} ({word} takes a vector or a matrix, along its last axis)")
        return a if word == "softmax" else a[:-1]

    return shape


def transpose_shape(shapes, p=None):
    return tuple(reversed(shapes[0]))


def softmax(a):
    z = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return z / np.sum(z, axis=-1, keepdims=True)


def logsumexp(a):
    top = np.max(a, axis=-1, keepdims=True)
    return np.squeeze(top, -1) + np.log(np.sum(np.exp(a - top), axis=-1))


def softmax_vjp(out, xs, up, p=None, tie="split"):
    return (out * (up - np.sum(up * out, axis=-1, keepdims=True)),)


def logsumexp_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    return (np.expand_dims(up, -1) * softmax(a),)


def size_shape(shapes, p=None):
    return ()


def no_gradient(out, xs, up, p=None, tie="split"):
    """size(a) is a count: it sends no gradient to a."""
    return (None,)


# -- indexing ---------------------------------------------------------------------------------
def index_shape(shapes, p=None):
    base, *idx = shapes
    if len(idx) > len(base):
        raise ValueError(f"too many indices ({len(idx)}) for shape {_text(base)}")
    if len(idx) == 1 and idx[0] and len(base) >= 2:
        # S[y] on a matrix: one entry per row (CS231n's S[arange(N), y])
        if idx[0] != base[:1]:
            raise ValueError(
                f"{fit_text(shapes)} (S[y] on a matrix picks one entry per row: y needs one label per row)"
            )
        return base[:1] + base[2:]
    try:
        return np.broadcast_shapes(*idx) + base[len(idx) :] if any(idx) else base[len(idx) :]
    except ValueError:
        raise ValueError(fit_text(shapes)) from None


def index_key(base, idx):
    """The NumPy key for base[idx...]: integer entries, checked (a ValueError names the bad one)."""
    keys = []
    for k, i in enumerate(idx):
        i = np.asarray(i)
        if i.dtype.kind != "i":
            if not np.all(np.isfinite(i)) or np.any(i != np.round(i)):
                bad = i[np.isfinite(i) == 0] if not np.all(np.isfinite(i)) else i[i != np.round(i)]
                raise ValueError(f"index {float(np.ravel(bad)[0])!r} is not a whole number")
            i = i.astype(np.int64)
        n = base.shape[k if not (len(idx) == 1 and i.ndim and base.ndim >= 2) else 1]
        if i.size and (i.min() < -n or i.max() >= n):
            bad = i[(i < -n) | (i >= n)]
            raise ValueError(f"index {int(np.ravel(bad)[0])} is out of range for an axis of length {n}")
        keys.append(i)
    if len(keys) == 1 and keys[0].ndim and base.ndim >= 2:
        return (np.arange(base.shape[0]), keys[0])
    return tuple(keys)


def index_forward(m, base, *idx, p=None):
    return np.asarray(base)[index_key(np.asarray(base), idx)]


def index_vjp(out, xs, up, p=None, tie="split"):
    base, *idx = xs
    grad = np.zeros(base.shape)
    np.add.at(grad, index_key(base, idx), up)
    return (grad, *([None] * len(idx)))


#: function names of the language that are array gates (max/min with one argument: see parse.py)
ARRAY_FUNCTIONS = {
    "dot": "dot",
    "sum": "sum",
    "mean": "mean",
    "transpose": "transpose",
    "softmax": "softmax",
    "logsumexp": "logsumexp",
    "size": "size",
}


def require_scalar(graph, bindings: dict, what: str, hint: str = "") -> None:
    """A UsageError (exit 2) when `what` (a command or option that works on numbers only) is
    given an array expression: an array binding or an array gate."""
    from .errors import UsageError

    arrays = [name for name, v in bindings.items() if getattr(v, "ndim", 0)]
    used = sorted({graph.label(i) for i, op in enumerate(graph.ops) if op in ARRAY_OPS})
    if arrays or used:
        why = f"'{arrays[0]}' is an array" if arrays else f"it uses the array function {used[0]}"
        raise UsageError(f"{what} works on scalar expressions, and this one is not ({why}){hint}")


#: array ops: a graph with any of them runs on the array engine
ARRAY_OPS = frozenset(
    ("matmul", "dot", "sum", "mean", "amax", "amin", "transpose", "softmax", "logsumexp", "size", "index")
)
