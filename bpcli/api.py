"""The library functions behind `bpcli.diff` and `bpcli.evaluate_batch` (`bpcli.evaluate` is
the engine's own `evaluate`). Errors are `bpcli.core.errors` exceptions, in the CLI's words."""

from __future__ import annotations

from .core.errors import UsageError


def diff(text: str, wrt: str | list[str] | None = None, order: int = 1, tie: str = "split"):
    """The derivatives of `text` as bp expressions that `evaluate` accepts: {x: "..."} for
    order 1, {x: {y: "..."}} for order 2. `wrt`: a name, a list of names, or None for all.

    >>> diff("(x+y)*z")
    {'x': 'z', 'y': 'z', 'z': 'x + y'}
    """
    from .core.derive import diff as derive_diff

    names = [wrt] if isinstance(wrt, str) else wrt
    return derive_diff(text, names, order, tie)


def evaluate_batch(text: str, arrays: dict, tie: str = "split"):
    """Value and gradient at many points in one vectorised pass: `arrays` binds each variable to
    a one-dimensional array (one entry per point) or a number (the same at every point). Arrays
    of any array-API library (CuPy, JAX, ...) are computed in that library's own namespace,
    without a copy to NumPy. Returns a Batch: `value`, `gradient` (arrays), `bad` and `kinks`
    (bool per point).

    >>> import numpy as np
    >>> b = evaluate_batch("x*y", {"x": np.array([1.0, 2.0]), "y": 3})
    >>> b.value.tolist(), b.gradient["x"].tolist()
    ([3.0, 6.0], [3.0, 3.0])
    """
    import numpy as np

    from .core.batch import run
    from .core.engine import check_bindings
    from .core.parse import parse

    graph = parse(text)
    numbers = {k: v for k, v in arrays.items() if isinstance(v, (int, float, np.number)) or np.ndim(v) == 0}
    others = {k: v for k, v in arrays.items() if k not in numbers}
    if any(not isinstance(v, (np.ndarray, list, tuple)) for v in others.values()):
        from .core.batch import evaluate_batch as in_namespace

        constants = {k: float(v) for k, v in numbers.items()}
        if any(len(v.shape) != 1 for v in others.values()) or len({v.shape[0] for v in others.values()}) > 1:
            raise UsageError("arrays: every array must be one-dimensional and of the same length")
        return in_namespace(graph, others, constants, tie)
    points = {k: np.asarray(v, dtype=float) for k, v in others.items()}
    constants = {k: float(v) for k, v in numbers.items()}
    lengths = {len(v) for v in points.values()}
    if len(lengths) > 1 or any(v.ndim != 1 for v in points.values()):
        raise UsageError("arrays: every array must be one-dimensional and of the same length")
    check_bindings(graph, {**constants, **{k: 0.0 for k in points}})
    return run(graph, points, constants, tie, n=lengths.pop() if lengths else 1)
