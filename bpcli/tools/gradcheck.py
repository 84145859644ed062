"""The numerical gradient check: backprop's gradient against centered finite differences.

For each input x: numerical = (f(x + h) - f(x - h)) / 2h with the engine's own forward pass,
relative error = |a - n| / max(|a|, |n|) (0 when both are 0), and the course's verdict bands.
Finite differences are not derivatives, and two cases are told apart from a real mismatch:
- a kink (relu/abs input, max/min tie) that x +- h crosses: the difference quotient straddles two
  slopes, so a mismatch there is the kink, not a bug (the result is marked `kink` and passes);
- rounding noise: f(x +- h) each carry rounding error ~ eps |f|, so the quotient cannot resolve a
  difference below about 4 eps |f| / h; a mismatch within that floor passes and is marked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..core.errors import MathError, UsageError
from ..core.gates import GATES, SCALAR

#: (upper bound of the relative error, band name, what it means), the course's rule of thumb
BANDS = (
    (1e-7, "good", "backprop and finite differences agree"),
    (1e-4, "acceptable", "usual with kinks or in float32; high for a smooth function in double precision"),
    (1e-2, "suspicious", "probably a wrong gradient (or h is too large)"),
    (math.inf, "wrong", "the gradients disagree"),
)

_EPS = 2.0**-52


def band(rel_error: float) -> str:
    """The course's verdict for a relative error: good < 1e-7 <= acceptable < 1e-4 <= suspicious
    <= 1e-2 < wrong."""
    for top, name, _ in BANDS[:2]:
        if rel_error < top:
            return name
    return "suspicious" if rel_error <= 1e-2 else "wrong"


def relative_error(a: float, n: float) -> float:
    """|a - n| / max(|a|, |n|), with 0/0 defined as 0."""
    scale = max(abs(a), abs(n))
    return 0.0 if scale == 0 else abs(a - n) / scale


@dataclass
class InputCheck:
    """The check of one input's gradient."""

    name: str
    value: float
    analytic: float  #: backprop's gradient
    numeric: float  #: the centered difference
    rel_error: float
    band: str
    threshold: float
    noise: float  #: the rounding-noise floor of the difference quotient, ~4 eps |f| / h
    kink: str | None = None  #: which kink x +- h crosses, if any
    #: the step's truncation error of the quotient, estimated from a second step 2h (Richardson:
    #: D(h) - df/dx ~ (D(h) - D(2h)) / 3); measured only when the check would fail otherwise
    truncation: float | None = None

    @property
    def within_noise(self) -> bool:
        return abs(self.analytic - self.numeric) <= self.noise

    @property
    def within_truncation(self) -> bool:
        """Off by no more than the step's own error: a smooth, fast-changing function (sin(100x))."""
        if self.truncation is None:
            return False
        # a step whose own error passes 1e-4 of the gradient is too large to tell anything apart
        # (the "suspicious (or h is too large)" band): the verdict then stands
        scale = max(abs(self.analytic), abs(self.numeric))
        if self.truncation > 1e-4 * scale:
            return False
        return abs(self.analytic - self.numeric) <= 2 * self.truncation + self.noise

    @property
    def passed(self) -> bool:
        """Within the threshold, or off only because of a kink, rounding noise or the step."""
        return (
            self.rel_error <= self.threshold
            or self.kink is not None
            or self.within_noise
            or self.within_truncation
        )

    @property
    def verdict(self) -> str:
        if self.rel_error > self.threshold and self.kink is not None:
            return "kink"
        if self.rel_error > self.threshold and self.within_noise:
            return "noise"
        if self.rel_error > self.threshold and self.within_truncation:
            return "step"
        return self.band


@dataclass
class GradcheckReport:
    """The gradient check of every (or the chosen) input of one expression."""

    expression: str
    bindings: dict[str, float]
    h: float
    threshold: float
    value: float
    inputs: list[InputCheck]
    warnings: list[str] = field(default_factory=list)
    #: for array inputs: which entries were checked (all of them, or a seeded sample)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.inputs)


def gradcheck(
    source,
    bindings: dict[str, float],
    *,
    h: float = 1e-5,
    threshold: float = 1e-7,
    wrt: list[str] | None = None,
    on_progress=None,
) -> GradcheckReport:
    """Compare backprop's gradient of each input with a centered difference of step h;
    `on_progress(fraction)` is called as the perturbed passes go through the graph.

    >>> r = gradcheck("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    >>> r.passed, [c.band for c in r.inputs]
    (True, ['good', 'good', 'good'])
    """
    from ..core.engine import evaluate

    if not (math.isfinite(h) and h > 0):
        raise UsageError(f"--h must be a finite step > 0, not {h!r}")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise UsageError(f"--threshold must be a finite number >= 0, not {threshold!r}")
    result = evaluate(source, bindings)
    g = result.graph
    names = list(g.var_ids)
    if wrt:
        for name in wrt:
            if name not in g.var_ids:
                have = ", ".join(names) or "none"
                raise UsageError(f"--wrt {name}: not an input of the expression (its inputs: {have})")
        names = [n for n in names if n in wrt]
    if any(getattr(v, "ndim", 0) for v in result.values):
        return _check_arrays(result, bindings, names, h, threshold)
    kinked = [i for i, op in enumerate(g.ops) if op in GATES and GATES[op].kink is not None]
    center = (result.values, _branches(g, result.values, kinked, SCALAR))
    fs, crossed = _perturbed(g, bindings, names, h, kinked, center, on_progress)
    checks = []
    for j, name in enumerate(names):
        x = float(bindings[name])
        plus, minus = fs[2 * j], fs[2 * j + 1]
        numeric = (plus - minus) / (2 * h)
        analytic = result.grads[g.var_ids[name]]
        rel = relative_error(analytic, numeric)
        noise = 4 * _EPS * max(abs(plus), abs(minus), abs(result.value)) / h
        kink = _kink_text(g, crossed[j], result.values, name) if crossed[j] is not None else None
        checks.append(InputCheck(name, x, analytic, numeric, rel, band(rel), threshold, noise, kink))
    _estimate_truncation(g, bindings, names, h, kinked, center, checks)
    src = g.source
    return GradcheckReport(src, dict(bindings), h, threshold, result.value, checks, list(result.warnings))


def _estimate_truncation(g, bindings, names, h, kinked, center, checks) -> None:
    """For each check that would fail, the truncation error of its quotient, from a second pass
    with step 2h: the centered quotient is off by ~ h^2/6 times the third derivative, so
    D(h) - D(2h) is about -3 times the error of D(h)."""
    failing = [j for j, c in enumerate(checks) if not c.passed]
    if not failing:
        return
    try:
        fs, _ = _perturbed(g, bindings, [names[j] for j in failing], 2 * h, kinked, center)
    except MathError:  # f is not defined at x +- 2h: no estimate, the check stands as it is
        return
    for k, j in enumerate(failing):
        wide = (fs[2 * k] - fs[2 * k + 1]) / (4 * h)
        checks[j].truncation = abs(checks[j].numeric - wide) / 3


#: an array input with at most this many entries is checked entry by entry; a bigger one on a
#: seeded random sample of this many entries (as CS231n's grad_check_sparse does)
ALL_ENTRIES = 20
SAMPLE_SEED = 0


def _check_arrays(result, bindings, names, h, threshold) -> GradcheckReport:
    """The check on arrays: a centered difference per entry, each entry an InputCheck `W[0,1]`."""
    import numpy as np

    from ..core import arrays

    g = result.graph
    rng = np.random.default_rng(SAMPLE_SEED)
    checks, notes = [], []

    kinked = [i for i, op in enumerate(g.ops) if op in _ARRAY_KINKS]
    center = _array_pieces(g, result.values, kinked)

    def f(at):
        """f at a moved point, and the first kinked gate whose active piece moved (or None)."""
        values = arrays.forward(g, at)
        pieces = _array_pieces(g, values, kinked)
        crossed = next(
            (i for i, a, b in zip(kinked, pieces, center, strict=True) if not np.array_equal(a, b)), None
        )
        return float(values[g.output]), crossed

    labels = _only_indices(g)
    for name in names:
        x = bindings[name]
        if name in labels:
            notes.append(f"{name}: used only as an index (labels): no gradient to check")
            continue
        analytic = result.grads[g.var_ids[name]]
        if not getattr(x, "ndim", 0):
            entries = [()]
        elif x.size <= ALL_ENTRIES:
            entries = list(np.ndindex(x.shape))
            notes.append(f"{name}: every entry checked ({x.size})")
        else:
            flat = rng.choice(x.size, size=ALL_ENTRIES, replace=False)
            entries = [np.unravel_index(int(k), x.shape) for k in sorted(flat)]
            notes.append(
                f"{name}: a random sample of {ALL_ENTRIES} of its {x.size} entries checked (seed {SAMPLE_SEED})"
            )
        for k in entries:
            moved = np.array(x, dtype=float, copy=True)
            center_value = float(moved[k])
            moved[k] = center_value + h
            plus, crossed_up = f({**bindings, name: moved if moved.ndim else float(moved)})
            moved[k] = center_value - h
            minus, crossed_down = f({**bindings, name: moved if moved.ndim else float(moved)})
            numeric = (plus - minus) / (2 * h)
            a = float(analytic[k]) if k else float(analytic)
            rel = relative_error(a, numeric)
            noise = 4 * _EPS * max(abs(plus), abs(minus), abs(result.value)) / h
            label = f"{name}[{','.join(str(int(i)) for i in k)}]" if k else name
            crossed = crossed_up if crossed_up is not None else crossed_down
            kink = None
            if crossed is not None:
                what = (
                    "has inputs tied within h"
                    if GATES[g.ops[crossed]].pattern == "router"
                    else "is within h of its kink"
                )
                kink = f"{g.label(crossed)}{g.where(crossed)} {what} when {label} moves by h"
            checks.append(InputCheck(label, center_value, a, numeric, rel, band(rel), threshold, noise, kink))
    return GradcheckReport(
        g.source, dict(bindings), h, threshold, result.value, checks, list(result.warnings), notes
    )


#: gates whose active piece can change under a small step: relu and abs at 0, max/min ties
_ARRAY_KINKS = frozenset(("relu", "abs", "max", "min", "amax", "amin"))


def _array_pieces(g, values, kinked) -> list:
    """Which piece of each kinked gate is active, entry by entry: the sign of a relu's or abs's
    input, the winner of a max or min. A step that changes one crosses a kink."""
    import numpy as np

    pieces = []
    for i in kinked:
        xs = [values[a] for a in g.args[i]]
        if g.ops[i] in ("relu", "abs"):
            pieces.append(np.sign(xs[0]))
        elif g.ops[i] in ("amax", "amin"):  # a reduction: which entries are the largest
            pieces.append(xs[0] == values[i])
        else:
            pieces.append(np.stack([np.broadcast_to(x == values[i], np.shape(values[i])) for x in xs]))
    return pieces


def _only_indices(g) -> set[str]:
    """Variables used only to pick entries (`S[y]`): they get no gradient, and y +- h is no index."""
    as_index, other = set(), set()
    for op, args in zip(g.ops, g.args, strict=True):
        for k, a in enumerate(args):
            if g.ops[a] == "var":
                (as_index if op == "index" and k > 0 else other).add(g.params[a])
    return as_index - other


#: memory budget for one batch of forward passes: node values x points x 8 bytes
_BATCH_VALUES = 2**23


class _Span:
    """The columns start, start + 1, ..., stop - 1 (a chain of gates shares growing spans)."""

    __slots__ = ("start", "stop")

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __len__(self):
        return self.stop - self.start

    def array(self):
        import numpy as np

        return np.arange(self.start, self.stop)


def _perturbed(g, bindings, names, h, kinked, center, on_progress=None):
    """f at x + h and x - h for every input x (columns 2j and 2j + 1), and, per input, the first
    kinked gate whose active piece differs from the center at either point (None if none).

    Each gate is recomputed only at the columns whose input it depends on (its "delta"): a
    perturbed point differs from the center only downstream of the moved input. So checking all
    inputs costs what their downstream gates cost, not a whole forward pass per input (checking
    1e5 inputs of a sum re-ran 2e5 forward passes of 2e5 gates). Gates are evaluated with NumPy
    on the delta columns only; every other value is the center's."""
    import numpy as np

    from ..core.engine import _calls
    from ..core.gates import NumpyMath

    m = NumpyMath()
    center_values = center[0]
    branch_centers = dict(zip(kinked, center[1], strict=True))
    calls = _calls(g.ops, "forward")
    column = {name: 2 * j for j, name in enumerate(names)}
    remaining = [0] * len(g.ops)  # uses left of each node's delta, to free it after its last
    for a in g.args:
        for k in a:
            remaining[k] += 1
    remaining[g.output] += 1
    delta: list = [None] * len(g.ops)  # per node: (columns, values) or None (the center's value)
    crossed: list[int | None] = [None] * len(names)
    for i, (op, args, p) in enumerate(zip(g.ops, g.args, g.params, strict=True)):
        if on_progress is not None and i % 4096 == 0:
            on_progress(i / len(g.ops))  # the share of the graph done (a bar on a terminal)
        if op == "var":
            if p in column:
                x = float(bindings[p])
                delta[i] = (_Span(column[p], column[p] + 2), np.array([x + h, x - h]))
            continue
        if op == "const" or all(delta[k] is None for k in args):
            for k in args:
                _release(delta, remaining, k)
            continue
        cols, inputs = _gather(args, delta, center_values)
        fn, variadic = calls[op]
        with np.errstate(all="ignore"):
            if variadic:
                out = fn(m, *inputs, p=p)
            elif len(inputs) == 2:
                out = fn(m, inputs[0], inputs[1], p)
            else:
                out = fn(m, inputs[0], p)
            out = np.broadcast_to(np.asarray(out, dtype=float), (len(cols),))
            if i in branch_centers:
                row = GATES[op]
                moved = np.zeros(len(cols), dtype=bool)
                for piece, mid in zip(row.local(m, out, *inputs, p=p), branch_centers[i], strict=True):
                    moved |= np.broadcast_to(np.asarray(piece) != mid, (len(cols),))
                where = cols.array() if isinstance(cols, _Span) else cols
                for c in where[moved]:
                    if crossed[c // 2] is None:
                        crossed[c // 2] = i
        if not np.isfinite(out).all():
            _not_finite(g, i, cols, out, names, h, bindings)
        delta[i] = (cols, out)
        for k in args:
            _release(delta, remaining, k)
    fs = [float(center_values[g.output])] * (2 * len(names))
    if delta[g.output] is not None:
        cols, out = delta[g.output]
        for c, v in zip(cols.array() if isinstance(cols, _Span) else cols, out.tolist(), strict=True):
            fs[c] = v
    return fs, crossed


def _release(delta, remaining, k) -> None:
    remaining[k] -= 1
    if remaining[k] == 0:
        delta[k] = None


def _gather(args, delta, center_values):
    """The columns a gate must be recomputed at (the union of its inputs' columns) and each
    input's values there (its own where it moved, the center's elsewhere)."""
    import numpy as np

    moved = [delta[k] for k in args if delta[k] is not None]
    if len(moved) == 1:
        cols = moved[0][0]
        return cols, [delta[k][1] if delta[k] is not None else center_values[k] for k in args]
    spans = [d[0] for d in moved]
    if len(moved) == 2 and all(isinstance(c, _Span) for c in spans) and spans[0].stop == spans[1].start:
        cols = _Span(spans[0].start, spans[1].stop)  # a chain: x0 + x1 + ... grows one span
    elif len(moved) == 2 and all(isinstance(c, _Span) for c in spans) and spans[1].stop == spans[0].start:
        cols = _Span(spans[1].start, spans[0].stop)
    else:
        cols = np.unique(np.concatenate([c.array() if isinstance(c, _Span) else c for c in spans]))
    size = len(cols)
    inputs = []
    for k in args:
        d = delta[k]
        if d is None:
            inputs.append(center_values[k])
            continue
        own, vals = d
        if isinstance(cols, _Span) and isinstance(own, _Span):
            if own.start == cols.start and own.stop == cols.stop:
                inputs.append(vals)
                continue
            full = np.full(size, center_values[k])
            full[own.start - cols.start : own.stop - cols.start] = vals
        else:
            where = cols.array() if isinstance(cols, _Span) else cols
            full = np.full(size, center_values[k])
            full[np.searchsorted(where, own.array() if isinstance(own, _Span) else own)] = vals
        inputs.append(full)
    return cols, inputs


def _not_finite(g, i, cols, out, names, h, bindings) -> None:
    """A MathError, as the scalar engine would raise, for a non-finite value at a moved point."""
    import numpy as np

    c = int(np.flatnonzero(~np.isfinite(out))[0])
    col = (cols.array() if isinstance(cols, _Span) else cols)[c]
    name = names[col // 2]
    sign = "+" if col % 2 == 0 else "-"
    x = float(bindings[name]) + (h if sign == "+" else -h)
    what = "f" if i == g.output else f"gate {g.label(i)}{g.where(i)}"
    raise MathError(
        f"gradcheck {name}: {what} is not finite ({float(out[c])!r}) at {name} = {name} {sign} h"
        f" = {x!r}; the check needs f on both sides: try a smaller --h"
    )


def _branches(g, values, kinked, m) -> list:
    """Which piece of each kinked gate is active: its local gradients (piecewise constant)."""
    out = []
    for i in kinked:
        row = GATES[g.ops[i]]
        xs = [values[a] for a in g.args[i]]
        out.append(tuple(row.local(m, values[i], *xs, p=g.params[i])))
    return out


def _kink_text(g, i, values, name) -> str:
    row = GATES[g.ops[i]]
    from ..core.numbers import short

    xs = ", ".join(short(values[a]) for a in g.args[i])
    what = "has inputs tied within h" if row.pattern == "router" else "is within h of its kink"
    return f"{g.label(i)}{g.where(i)} {what} ({xs}) when {name} moves by h"
