"""The gate table's array rows: gates that only make sense on vectors and matrices.

Every scalar gate also works elementwise on arrays (NumPy broadcasting, see `arrays.py`); the
rows here are the ones whose output is not one number per input entry: `dot`, `@`, the
reductions `sum`/`mean`/`max`/`min`, `transpose`, `softmax`, `logsumexp` and indexing.

Their local gradient is not one number per input but a vector-Jacobian product: `vjp(out, xs,
up, p, tie)` returns, for each input, the upstream gradient `up` carried back through the gate
(the CS231n form: `dA = dS @ transpose(B)`), `None` for an input that gets no gradient (an
index). `vjp_text` writes the same product as a formula over the names, for `--steps`. `shape`
says what the output's shape is for the inputs' shapes (raising `ValueError` with the reason when
they do not fit), so a whole graph is checked before any arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class _NumpyOnFirstUse:
    """NumPy, imported when an array gate first runs: a scalar `bp eval` never loads it
    (tests/test_startup.py). The first use puts the real module in its place."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _NumpyOnFirstUse()


@dataclass(frozen=True)
class ArrayGate:
    """A row of the gate table whose backward pass is a vector-Jacobian product. It reads like
    `gates.Gate` (the views read the same fields) and adds `vjp`, `shape` and `vjp_text`."""

    op: str
    symbol: str
    arity: int  #: number of inputs; 0 means any number (an index takes the array and 1+ indices)
    forward: Callable  #: forward(m, *inputs, p) -> output
    local: Callable  #: never called: array gates go backward by `vjp`
    pattern: str | None = None
    label: str = ""
    expand: Callable | None = None
    kink: Callable | None = None
    primitive: bool = True
    formula: str | Callable = ""
    local_text: Callable | None = None
    #: vjp(out, xs, up, p, tie) -> per input, d output/d input applied to `up` (None: no gradient)
    vjp: Callable | None = None
    #: shape(shapes, p) -> the output's shape, or ValueError("shapes ... do not fit")
    shape: Callable | None = None
    #: per input, the vector-Jacobian product as text over "{up}", "{out}" and "{0}", "{1}", ...
    vjp_text: tuple[str, ...] = ()


def _text(shape: tuple) -> str:
    return str(tuple(shape))


def fit_text(shapes) -> str:
    """`shapes (3, 4) and (3,) do not fit`: the start of every shape error."""
    parts = [_text(s) for s in shapes]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"shapes {listed} do not fit"


# -- dot and @ ------------------------------------------------------------------------------
def _matmul_shape(shapes, p=None):
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


def _matmul_vjp(out, xs, up, p=None, tie="split"):
    a, b = xs
    a2, b2, up2 = _as_matrices(a, b, up)
    return (up2 @ b2.T).reshape(a.shape), (a2.T @ up2).reshape(b.shape)


def _dot_shape(shapes, p=None):
    a, b = shapes
    if not a or not b:  # numpy.dot of a number is a product
        return np.broadcast_shapes(a, b)
    return _matmul_shape(shapes)


def _dot_vjp(out, xs, up, p=None, tie="split"):
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(up * b, a.shape), _sum_to(up * a, b.shape)
    return _matmul_vjp(out, xs, up)


def _sum_to(g, shape):
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
        raise ValueError(f"axis {_num(p)} is out of range for an array with {ndim} axes")
    return int(p) % ndim


def _num(p) -> str:
    return repr(int(p)) if p == int(p) else repr(p)


def _reduce_shape(shapes, p=None):
    (a,) = shapes
    k = _axis(len(a), p) if p is not None else None
    if p is not None and not a:
        raise ValueError(f"axis {_num(p)} is out of range for a number")
    return () if k is None else a[:k] + a[k + 1 :]


def _spread(up, a, p):
    """The upstream gradient of a reduction, spread back over the reduced axis."""
    if p is None:
        return np.broadcast_to(up, a.shape)
    return np.broadcast_to(np.expand_dims(up, _axis(a.ndim, p)), a.shape)


def _sum_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    return (_spread(up, a, p),)


def _mean_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    count = a.size if p is None else a.shape[_axis(a.ndim, p)]
    return (_spread(up, a, p) / count,)


def _extreme_shape(shapes, p=None):
    (a,) = shapes
    if 0 in a:
        raise ValueError(f"{fit_text(shapes)} (an empty array has no largest or smallest entry)")
    return ()


def _extreme_vjp(out, xs, up, p=None, tie="split"):
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
def _vector_shape(word):
    def shape(shapes, p=None):
        (a,) = shapes
        if not a:
            raise ValueError(f"{fit_text(shapes)} ({word} takes a vector or a matrix, along its last axis)")
        return a if word == "softmax" else a[:-1]

    return shape


def _softmax(a):
    z = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return z / np.sum(z, axis=-1, keepdims=True)


def _logsumexp(a):
    top = np.max(a, axis=-1, keepdims=True)
    return np.squeeze(top, -1) + np.log(np.sum(np.exp(a - top), axis=-1))


def _softmax_vjp(out, xs, up, p=None, tie="split"):
    return (out * (up - np.sum(up * out, axis=-1, keepdims=True)),)


def _logsumexp_vjp(out, xs, up, p=None, tie="split"):
    (a,) = xs
    return (np.expand_dims(up, -1) * _softmax(a),)


# -- indexing ---------------------------------------------------------------------------------
def _index_shape(shapes, p=None):
    base, *idx = shapes
    if len(idx) > len(base):
        raise ValueError(f"{len(idx)} indices for shape {_text(base)}")
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


def _index_forward(m, base, *idx, p=None):
    return np.asarray(base)[index_key(np.asarray(base), idx)]


def _index_vjp(out, xs, up, p=None, tie="split"):
    base, *idx = xs
    grad = np.zeros(base.shape)
    np.add.at(grad, index_key(base, idx), up)
    return (grad, *([None] * len(idx)))


def _no_local(*_args, **_kw):  # array gates go backward by their vjp, never by a local gradient
    raise TypeError("array gates have no scalar local gradient; use vjp")


ARRAY_ROWS = [
    ArrayGate(
        "matmul",
        "@",
        2,
        forward=lambda m, a, b, p=None: np.matmul(a, b),
        local=_no_local,
        pattern="swapper",
        label="swapper with transposes: dA = up @ Bᵀ, dB = Aᵀ @ up",
        formula="{0} @ {1}",
        vjp=_matmul_vjp,
        shape=_matmul_shape,
        vjp_text=("{up} @ transpose({1})", "transpose({0}) @ {up}"),
    ),
    ArrayGate(
        "dot",
        "dot",
        2,
        forward=lambda m, a, b, p=None: np.dot(a, b),
        local=_no_local,
        pattern="swapper",
        label="swapper: each input gets the other times the gradient",
        formula="dot({0}, {1})",
        vjp=_dot_vjp,
        shape=_dot_shape,
        vjp_text=("{up} * {1}", "{up} * {0}"),
    ),
    ArrayGate(
        "sum",
        "sum",
        1,
        forward=lambda m, a, p=None: np.sum(a, axis=None if p is None else int(p)),
        local=_no_local,
        pattern="distributor",
        label="distributor: every entry gets the gradient",
        formula=lambda n, p: f"sum({n[0]})" if p is None else f"sum({n[0]}, {_num(p)})",
        vjp=_sum_vjp,
        shape=_reduce_shape,
        vjp_text=("{up} (copied to every entry)",),
    ),
    ArrayGate(
        "mean",
        "mean",
        1,
        forward=lambda m, a, p=None: np.mean(a, axis=None if p is None else int(p)),
        local=_no_local,
        pattern="distributor",
        label="distributor: every entry gets the gradient / count",
        formula=lambda n, p: f"mean({n[0]})" if p is None else f"mean({n[0]}, {_num(p)})",
        vjp=_mean_vjp,
        shape=_reduce_shape,
        vjp_text=("{up} / count (to every entry)",),
    ),
    ArrayGate(
        "amax",
        "max",
        1,
        forward=lambda m, a, p=None: np.max(a),
        local=_no_local,
        pattern="router",
        label="router: the gradient goes to the largest entry",
        formula="max({0})",
        vjp=_extreme_vjp,
        shape=_extreme_shape,
        vjp_text=("{up} at the largest entry, 0 elsewhere",),
    ),
    ArrayGate(
        "amin",
        "min",
        1,
        forward=lambda m, a, p=None: np.min(a),
        local=_no_local,
        pattern="router",
        label="router: the gradient goes to the smallest entry",
        formula="min({0})",
        vjp=_extreme_vjp,
        shape=_extreme_shape,
        vjp_text=("{up} at the smallest entry, 0 elsewhere",),
    ),
    ArrayGate(
        "transpose",
        "ᵀ",
        1,
        forward=lambda m, a, p=None: np.transpose(a),
        local=_no_local,
        label="transposes the gradient back",
        formula="transpose({0})",
        vjp=lambda out, xs, up, p=None, tie="split": (np.transpose(up),),
        shape=lambda shapes, p=None: tuple(reversed(shapes[0])),
        vjp_text=("transpose({up})",),
    ),
    ArrayGate(
        "softmax",
        "softmax",
        1,
        forward=lambda m, a, p=None: _softmax(a),
        local=_no_local,
        label="×(diag(s) − s sᵀ) along the last axis",
        formula="softmax({0})",
        vjp=_softmax_vjp,
        shape=_vector_shape("softmax"),
        vjp_text=("{out} * ({up} - sum({up} * {out}, -1))",),
    ),
    ArrayGate(
        "logsumexp",
        "logsumexp",
        1,
        forward=lambda m, a, p=None: _logsumexp(a),
        local=_no_local,
        label="×softmax along the last axis",
        formula="logsumexp({0})",
        vjp=_logsumexp_vjp,
        shape=_vector_shape("logsumexp"),
        vjp_text=("{up} * softmax({0})",),
    ),
    ArrayGate(
        "index",
        "[]",
        0,
        forward=_index_forward,
        local=_no_local,
        pattern="router",
        label="router: the gradient goes to the picked entries",
        formula=lambda n, p: f"{n[0]}[{', '.join(n[1:])}]",
        vjp=_index_vjp,
        shape=_index_shape,
        vjp_text=("{up} at the picked entries, 0 elsewhere",),
    ),
]

#: function names of the language that are array gates (max/min with one argument: see parse.py)
ARRAY_FUNCTIONS = {
    "dot": "dot",
    "sum": "sum",
    "mean": "mean",
    "transpose": "transpose",
    "softmax": "softmax",
    "logsumexp": "logsumexp",
}

#: array ops: a graph with any of them runs on the array engine
ARRAY_OPS = frozenset(g.op for g in ARRAY_ROWS)
