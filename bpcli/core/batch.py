"""Batch mode, the SIMD pass: the same gate graph evaluated at many points at once.

The engine's own forward and backward run with arrays on the wires instead of floats (one gate
table, no second copy of the math): once on stand-ins, recorded as a tape of NumPy calls
(`bpcli.core.tape`), which is then replayed on every chunk of points with the same calls on the
same operands, so the numbers are the engine's own, into buffers that stay in the CPU's caches.
What the scalar engine checks gate by gate, batch mode checks row by row afterwards: a row whose
value or gradient is not finite is marked bad (the CLI reports it by its row number with the
scalar engine's own message), and rows at a kink get the same subgradients. A chunk in which
NumPy reports a floating-point exception is run again on the engine itself, whose arrays the
row checks read.

Chunks are sized from the graph (memory stays bounded however many points) and evaluated on a
pool of threads: NumPy releases the GIL inside each array operation, so the chunks run on every
core. `run` takes NumPy arrays; `evaluate_batch` takes arrays of any array-API library (CuPy,
JAX, array-api-strict, ...) and computes in that library's namespace, without copying to NumPy.
"""

from __future__ import annotations

import math
import os
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .engine import backward, check_bindings, evaluate, forward
from .errors import BpError, UsageError
from .gates import GATES, NumpyMath
from .graph import Graph
from .tape import Untraceable, record, select

ON_ERROR = ("fail", "skip", "nan")


@dataclass
class Batch:
    """Value and gradient at every point; `bad` marks rows the scalar engine would refuse."""

    graph: Graph
    n: int
    value: np.ndarray  #: f at each point
    gradient: dict[str, np.ndarray]  #: d f / d input, per input variable, at each point
    named: dict[str, np.ndarray]  #: d f / d named intermediate (staged programs), at each point
    bad: np.ndarray  #: bool per row: some value or gradient is not finite there
    kinks: np.ndarray  #: bool per row: some gate is at a non-differentiable point there


#: most points per pass: the arrays of one pass then stay in the CPU's caches, which is faster
#: than streaming long arrays through memory, and Python's cost per call is spread over enough
#: points (measured with the tape at 1e6 points, median ms for passes of 16384 / 32768 / 65536 /
#: 131072 / 262144 points: one thread 11.4 / 10.2 / 10.3 / 10.5 / 12.0, two threads 16.7 / 11.7 /
#: 9.3 / 9.8 / 10.6: shorter passes hand the GIL back and forth more often)
CHUNK = 65536
#: bytes the arrays of all passes at once may take (values, gradients, local gradients and
#: contributions: at most 48 bytes per node and point); 1e4 nested sigmoids on a 32768-point
#: grid then run in passes of ~270 points (peak RSS ~200 MB, measured) instead of taking GBs
CHUNK_BYTES = 256 << 20


def chunk_size(graph: Graph, threads: int = 1) -> int:
    """Points per pass for `graph` when `threads` passes run at once: at most CHUNK, and small
    enough that all passes together stay within CHUNK_BYTES (but at least 16 points)."""
    return max(16, min(CHUNK, CHUNK_BYTES // (48 * len(graph.ops) * max(threads, 1))))


def cores() -> int:
    """The cores this process may run on (the default of --threads)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run(
    graph: Graph,
    points: dict[str, np.ndarray],
    constants: dict[str, float],
    tie: str = "split",
    n: int | None = None,
    threads: int = 1,
) -> Batch:
    """A vectorised forward and backward pass over all points, in chunks (`chunk_size`), on
    `threads` threads at once.

    `points` binds variables to equal-length arrays (one entry per point), `constants` binds the
    rest to one number each; `n` (the number of points) defaults to the arrays' length, or 1.
    Never raises for a bad point: see `Batch.bad`."""
    if n is None:
        n = len(next(iter(points.values()))) if points else 1
    _reuse_freed_memory()
    points = {name: np.ascontiguousarray(col, dtype=float) for name, col in points.items()}
    constants = {name: float(v) for name, v in constants.items()}
    plan = _plan(graph, tuple(points), constants, tie)
    graph = _constant_exponents(graph)
    value = np.empty(n)
    gradient = {name: np.empty(n) for name in graph.var_ids}
    named = {name: np.empty(n) for name in graph.names}
    bad = np.zeros(n, dtype=bool)
    kinks = np.zeros(n, dtype=bool)
    consts = [p for op, p in zip(graph.ops, graph.params, strict=True) if op == "const"]
    constants_finite = all(map(math.isfinite, [*constants.values(), *consts]))
    m = _SelectMath()
    needs = _depends_on_variable(graph)

    outputs = {"value": value}
    outputs.update({("grad", name): gradient[name] for name in graph.var_ids})
    outputs.update({("named", name): named[name] for name in graph.names})
    local = threading.local()

    def one_pass(lo: int) -> None:
        hi = min(lo + size, n)
        k = hi - lo
        # Inputs are finite, so a value or gradient can only turn non-finite through a
        # floating-point exception (overflow, division by zero, invalid operation), and NumPy
        # reports every one. With none reported in a chunk it has no bad row; otherwise each of
        # its rows is checked. (errstate is per thread: each pass has its own list.)
        raised: list[str] = [] if constants_finite else ["input"]
        if plan is not None:
            buffers = getattr(local, "buffers", None)
            if buffers is None:
                buffers = local.buffers = plan.new_buffers(size)
            with np.errstate(all="call", under="ignore", call=lambda kind, flag: raised.append(kind)):
                S = plan.play(points, lo, hi, buffers, outputs)
            if not raised and not _finite(points, lo, hi):
                raised.append("input")
            if not raised:
                if plan.keep:
                    values = plan.kept_values(S, len(graph.ops))
                    with np.errstate(all="ignore"):
                        kinks[lo:hi] = _kink_rows(graph, values, plan.carries, k, bad[lo:hi], np)
                return
        # the engine itself, on this chunk: every pass without a plan, and every pass with a
        # floating-point exception (the rows are then checked against all values and gradients)
        bindings = {**constants, **{name: col[lo:hi] for name, col in points.items()}}
        with np.errstate(all="call", under="ignore", call=lambda kind, flag: raised.append(kind)):
            values = forward(graph, bindings, m)
            grads, _locals, contribs, _ = backward(graph, values, tie, m)
        if not raised and not _finite(points, lo, hi):
            raised.append("input")
        with np.errstate(all="ignore"):
            if raised:
                bad[lo:hi] = _bad_rows(graph, values, contribs, k, needs, np)
            kinks[lo:hi] = _kink_rows(graph, values, contribs, k, bad[lo:hi], np)
        value[lo:hi] = values[graph.output]
        for name, node in graph.var_ids.items():
            gradient[name][lo:hi] = grads[node]
        for name, node in graph.names.items():
            named[name][lo:hi] = grads[node]

    size = chunk_size(graph, threads)
    if n < size * threads:  # fewer points than a pass per thread: share them out
        size = max(16, -(-n // threads))
    threads = min(threads, -(-n // size))
    if threads <= 1:
        for lo in range(0, n, size):
            one_pass(lo)
    else:
        passes = [_pool(threads).submit(one_pass, lo) for lo in range(0, n, size)]
        try:
            for done in passes:
                done.result()  # re-raises a pass's exception
        except BaseException:  # Ctrl-C, or a pass's error: the passes not started never start
            for left in passes:
                left.cancel()
            raise
    return Batch(graph, n, value, gradient, named, bad, kinks)


def _finite(points: dict[str, np.ndarray], lo: int, hi: int) -> bool:
    """Every input of points lo..hi-1 is finite. They are in the cache by now, just read by the
    pass: one sum each tells (a sum is finite only if every term is)."""
    return all(math.isfinite(col[lo:hi].sum()) for col in points.values())


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of `threads` threads, started on first use and kept: starting threads for every
    call cost more than the passes of a 1e5-point batch (measured: 3.7 ms against 1.3 ms)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="bp-batch")
        return pool


#: graph -> {(columns, constants, tie): its pass as a plan, or None where it cannot be recorded};
#: a stream runs the same graph on block after block of rows, and records it once
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(graph: Graph, columns: tuple, constants: dict[str, float], tie: str):
    """The engine's pass over `graph`, recorded once and replayed on every chunk (core.tape)."""
    plans = _PLANS.setdefault(graph, {})
    key = (columns, tuple(constants.items()), tie)
    if key not in plans:
        if len(plans) >= 16:  # a caller sweeping the constants: keep the newest only
            plans.clear()
        try:
            plans[key] = record(_constant_exponents(graph), columns, constants, tie)
        except Untraceable:
            plans[key] = None
    return plans[key]


class _SelectMath(NumpyMath):
    """NumpyMath with the branch-free `where` of the tape (`tape.select`; measured: 4.2 ms per
    1e6 points with NumPy's own, against 1.7 ms). The result is the same, bit for bit."""

    def __init__(self):
        super().__init__()
        self.where = self._where  # NumpyMath binds np.where on the instance

    def _where(self, cond, a, b):
        if not isinstance(cond, np.ndarray) or cond.dtype != bool:
            return np.where(cond, a, b)
        out = np.empty(np.broadcast_shapes(cond.shape, np.shape(a), np.shape(b)))
        return select(cond, a, b, out, np.empty(cond.shape, np.int64))


_MEMORY_SET = False


def _reuse_freed_memory() -> None:
    """glibc gives a freed block over 128 KB straight back to the system and trims the top of
    the heap, so the same-sized temporaries of every chunk page-fault in afresh each time (about
    half the time of a 1e6-point batch, measured). Raising both thresholds keeps freed memory for
    reuse, as PyTorch's caching allocator does; the chunks bound how much that is."""
    global _MEMORY_SET
    if _MEMORY_SET:
        return
    _MEMORY_SET = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (glibc's most on 64-bit)
    except (OSError, AttributeError):  # not glibc: its allocator decides
        pass


def _constant_exponents(graph: Graph) -> Graph:
    """`a ^ c` with a constant c != 0 as the table's `^c` gate (same value, same local gradient
    c a^(c-1)), so the backward pass does not compute the exponent's gradient, a ln a, over every
    point only to throw it away. Node ids stay the same."""
    hits = [
        i
        for i, op in enumerate(graph.ops)
        if op == "pow" and graph.ops[graph.args[i][1]] == "const" and graph.params[graph.args[i][1]] != 0
    ]
    if not hits:
        return graph
    g = Graph(graph.source)
    g.ops, g.args, g.params = list(graph.ops), list(graph.args), list(graph.params)
    g.pos, g.var_ids, g.names, g.output = graph.pos, graph.var_ids, graph.names, graph.output
    g.output_name = graph.output_name
    for i in hits:
        base, exponent = graph.args[i]
        g.ops[i], g.args[i], g.params[i] = "powc", (base,), graph.params[exponent]
    return g


def _nonfinite(v, n: int, xp):
    """Rows where `v` is not finite (None when there are none). A sum is finite only if every
    term is, so one cheap reduction skips the row-by-row test in the common case."""
    if isinstance(v, (int, float)):
        return None if math.isfinite(v) else xp.ones(n, dtype=xp.bool)
    if math.isfinite(float(xp.sum(v))):
        return None
    return xp.broadcast_to(~xp.isfinite(v), (n,))


def _bad_rows(graph: Graph, values: list, contribs: list, n: int, needs: list[bool], xp) -> np.ndarray:
    """The rows where the scalar engine would stop: a non-finite value anywhere, or a non-finite
    gradient sent down a wire into a node that depends on a variable."""
    bad = xp.zeros(n, dtype=xp.bool)
    for i, v in enumerate(values):
        rows = _nonfinite(v, n, xp)
        if rows is not None:
            bad = bad | rows
        if contribs[i] is not None:
            for a, c in zip(graph.args[i], contribs[i], strict=True):
                if needs[a]:
                    rows = _nonfinite(c, n, xp)
                    if rows is not None:
                        bad = bad | rows
    return bad


def _depends_on_variable(graph: Graph) -> list[bool]:
    needs = [False] * len(graph.ops)
    for i, op in enumerate(graph.ops):
        needs[i] = op == "var" or any(needs[a] for a in graph.args[i])
    return needs


def _kink_rows(graph: Graph, values: list, contribs: list, n: int, bad, xp):
    """Rows where a gate that carries gradient sits at a kink. Every kink in the gate table is an
    input at 0 (relu, abs) or tied inputs (max, min), so those rows are the candidates; the
    table's own `kink` test decides for each candidate."""
    kinks = xp.zeros(n, dtype=xp.bool)
    for i, op in enumerate(graph.ops):
        row = GATES.get(op)
        if row is None or row.kink is None or contribs[i] is None:
            continue
        xs = [
            xp.broadcast_to(
                xp.asarray(values[a], dtype=xp.float64) if isinstance(values[a], float) else values[a], (n,)
            )
            for a in graph.args[i]
        ]
        cand = xp.zeros(n, dtype=xp.bool)
        for j, x in enumerate(xs):
            cand = cand | (x == 0)
            for y in xs[j + 1 :]:
                cand = cand | (x == y)
        cand = cand & ~bad
        hits = [int(r) for r in xp.nonzero(cand)[0]] if bool(xp.any(cand)) else []
        if hits:
            found = [r for r in hits if row.kink(*[float(x[r]) for x in xs])]
            if found:
                mark = xp.zeros(n, dtype=xp.bool)
                if xp is np:
                    mark[found] = True
                else:
                    idx = xp.arange(n)
                    for r in found:
                        mark = mark | (idx == r)
                kinks = kinks | mark
    return kinks


# -- arrays of any library (the array API standard) ---------------------------------------------


class ArrayMath:
    """The gate table's math namespace over any array-API namespace `xp` (CuPy, JAX,
    array-api-strict, NumPy, ...): the same names `NumpyMath` gives the gates."""

    def __init__(self, xp):
        self.np = self.xp = xp
        for name in (
            "exp",
            "log",
            "log1p",
            "sqrt",
            "abs",
            "tanh",
            "sin",
            "cos",
            "tan",
            "sign",
            "cosh",
            "sinh",
        ):
            setattr(self, name, self._unary(getattr(xp, name)))

    def _unary(self, f):
        """`f` that also takes a Python number (a constant's wire), as a 0-d array."""
        xp = self.xp
        return lambda x: f(xp.asarray(float(x), dtype=xp.float64)) if isinstance(x, (int, float)) else f(x)

    def _arrays(self, *xs, like=None):
        """Python numbers as arrays of the others' shape (strict namespaces take no two scalars)."""
        like = next((x for x in xs if not isinstance(x, (int, float))), like)
        shape = () if like is None else like.shape  # all numbers: 0-d arrays (IEEE, not Python, rules)
        return [
            self.xp.full(shape, float(x), dtype=self.xp.float64) if isinstance(x, (int, float)) else x
            for x in xs
        ]

    def maximum(self, a, b):
        return self.xp.maximum(*self._arrays(a, b))

    def minimum(self, a, b):
        return self.xp.minimum(*self._arrays(a, b))

    def div(self, a, b):
        return self.xp.divide(*self._arrays(a, b))

    def pow(self, a, b):
        return self.xp.pow(*self._arrays(a, b))

    def where(self, cond, a, b):
        if isinstance(cond, bool):  # a test on constants only
            return a if cond else b
        return self.xp.where(cond, *self._arrays(a, b, like=cond))

    def equal(self, a, b):
        return self.xp.astype(a == b, self.xp.float64)

    def nonneg(self, x):
        if isinstance(x, (int, float)):
            return 1.0 if x >= 0 else 0.0
        return self.xp.astype(x >= 0, self.xp.float64)


def evaluate_batch(
    text: str | Graph, arrays: dict, constants: dict | None = None, tie: str = "split"
) -> Batch:
    """Value and gradient of `text` at every point of `arrays` (name -> 1-d array, all of one
    array-API library and one length), in that library's own namespace: CuPy arrays stay on the
    GPU, JAX arrays stay JAX arrays. `constants` binds other names to one number each. The
    result's arrays (value, gradient, named, bad, kinks) belong to the same library.

    >>> import numpy as np
    >>> b = evaluate_batch("x*y", {"x": np.array([1.0, 2.0])}, {"y": 3.0})
    >>> b.value.tolist(), b.gradient["x"].tolist(), b.gradient["y"].tolist()
    ([3.0, 6.0], [3.0, 3.0], [1.0, 2.0])
    """
    from array_api_compat import array_namespace

    from .parse import parse

    graph = parse(text) if isinstance(text, str) else text
    constants = dict(constants or {})
    check_bindings(graph, {**constants, **dict.fromkeys(arrays, 0.0)})
    if not arrays:
        raise UsageError("evaluate_batch needs at least one array of points")
    xp = array_namespace(*arrays.values())
    if xp.__name__.startswith("numpy") or "array_api_compat.numpy" in xp.__name__:
        return run(graph, {k: np.asarray(v) for k, v in arrays.items()}, constants, tie)
    n = int(next(iter(arrays.values())).shape[0])
    graph = _constant_exponents(graph)
    bindings = {
        **{k: float(v) for k, v in constants.items()},
        **{k: xp.astype(v, xp.float64) for k, v in arrays.items()},
    }
    m = ArrayMath(xp)
    with np.errstate(all="ignore"):  # NumPy-backed namespaces: bad rows are found below
        values = forward(graph, bindings, m)
        grads, _locals, contribs, _ = backward(graph, values, tie, m)
        bad = _bad_rows(graph, values, contribs, n, _depends_on_variable(graph), xp)
        kinks = _kink_rows(graph, values, contribs, n, bad, xp)

    def full(v):
        return xp.full((n,), float(v), dtype=xp.float64) if isinstance(v, (int, float)) else v

    return Batch(
        graph,
        n,
        full(values[graph.output]),
        {name: full(grads[node]) for name, node in graph.var_ids.items()},
        {name: full(grads[node]) for name, node in graph.names.items()},
        bad,
        kinks,
    )


# -- one row, as the scalar engine sees it (for messages) --------------------------------------


def row_bindings(points: dict[str, np.ndarray], constants: dict[str, float], r: int) -> dict[str, float]:
    """The bindings of one row, as the scalar engine takes them."""
    return {**constants, **{name: float(col[r]) for name, col in points.items()}}


def row_error(graph: Graph, points, constants, r: int, tie: str) -> str:
    """What the scalar engine says about row `r` (0-based), for a row marked bad."""
    try:
        evaluate(graph, row_bindings(points, constants, r), tie=tie)
    except BpError as e:
        return e.message
    return "math error: a value or gradient is not finite"  # pragma: no cover - batch and scalar agree


def row_warning(graph: Graph, points, constants, r: int, tie: str) -> str:
    """The scalar engine's kink warning for row `r`."""
    warnings = evaluate(graph, row_bindings(points, constants, r), tie=tie).warnings
    return warnings[0] if warnings else "a gate is at a non-differentiable point"


# -- grids: name=a:b:n, the cartesian product, made a chunk at a time --------------------------

#: most values one --grid axis takes (its values are kept; the product is made a chunk at a time)
MAX_GRID = 10_000_000
_GRID = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])=([^:]+):([^:]+)(?::([^:]+))?$")


def grid_points(axes: dict[str, np.ndarray], lo: int, hi: int) -> dict[str, np.ndarray]:
    """Points lo..hi-1 of the cartesian product of `axes` (the first axis varies slowest),
    without making the whole product."""
    index = np.unravel_index(np.arange(lo, hi), [len(a) for a in axes.values()])
    return {name: a[i] for (name, a), i in zip(axes.items(), index, strict=True)}


def grid_axes(specs: list[str]) -> dict[str, np.ndarray]:
    """Each `name=a:b:n` spec as its n evenly spaced values (usage errors for bad specs)."""
    axes: dict[str, np.ndarray] = {}
    for spec in specs:
        m = _GRID.match(spec.strip().replace("\u2212", "-"))
        if not m:
            raise UsageError(f"--grid {spec!r}: expected name=start:stop:count, as in x=-3:3:101")
        name, a, b, count = m.groups()
        try:
            lo, hi, k = float(a), float(b), int(count or 101)
        except ValueError:
            raise UsageError(
                f"--grid {spec!r}: start and stop must be numbers, count a whole number"
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi)) or not 1 <= k <= MAX_GRID:
            raise UsageError(
                f"--grid {spec[:60]!r}: start and stop must be finite and count from 1 to {MAX_GRID}"
            )
        if name in axes:
            raise UsageError(f"--grid: '{name}' is given twice")
        axes[name] = np.linspace(lo, hi, k)
    return axes
