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

    @property
    def within_noise(self) -> bool:
        return abs(self.analytic - self.numeric) <= self.noise

    @property
    def passed(self) -> bool:
        """Within the threshold, or off only because of a kink or rounding noise."""
        return self.rel_error <= self.threshold or self.kink is not None or self.within_noise

    @property
    def verdict(self) -> str:
        if self.rel_error > self.threshold and self.kink is not None:
            return "kink"
        if self.rel_error > self.threshold and self.within_noise:
            return "noise"
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
) -> GradcheckReport:
    """Compare backprop's gradient of each input with a centered difference of step h.

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
    center = _branches(g, result.values, kinked, SCALAR)
    fs, crossed = _perturbed(g, bindings, names, h, kinked, center)
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
    src = g.source
    return GradcheckReport(src, dict(bindings), h, threshold, result.value, checks, list(result.warnings))


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


def _perturbed(g, bindings, names, h, kinked, center):
    """f at x + h and x - h for every input x (columns 2j and 2j + 1), as batched forward passes
    over NumPy arrays (one pass serves many points); and, per input, the first kinked gate whose
    active piece differs from the center at either point (None if none)."""
    import numpy as np

    from ..core.engine import forward
    from ..core.gates import NumpyMath

    m = NumpyMath()
    total = 2 * len(names)
    chunk = max(2, min(total, _BATCH_VALUES // max(1, len(g))) // 2 * 2)
    fs: list[float] = []
    crossed: list[int | None] = [None] * len(names)
    for start in range(0, total, chunk):
        cols = range(start, min(total, start + chunk))
        at = {v: np.full(len(cols), float(x)) for v, x in bindings.items()}
        for c, col in enumerate(cols):
            name = names[col // 2]
            at[name][c] = float(bindings[name]) + (h if col % 2 == 0 else -h)
        with np.errstate(all="ignore"):
            values = forward(g, at, m)
            branches = _branches(g, values, kinked, m)
        _check_finite(g, values, cols, names, at)
        out = np.broadcast_to(np.asarray(values[g.output], dtype=float), (len(cols),))
        fs.extend(float(v) for v in out)
        for k, i in enumerate(kinked):
            moved = np.zeros(len(cols), dtype=bool)
            for piece, mid in zip(branches[k], center[k], strict=True):
                moved |= np.broadcast_to(np.asarray(piece) != mid, (len(cols),))
            for c in np.flatnonzero(moved):
                j = cols[c] // 2
                if crossed[j] is None:
                    crossed[j] = i
    return fs, crossed


def _check_finite(g, values, cols, names, at) -> None:
    """A MathError, as the scalar engine would raise, for the first non-finite node value."""
    import numpy as np

    for i, v in enumerate(values):
        if isinstance(v, np.ndarray):
            bad = np.flatnonzero(~np.isfinite(v))
            if bad.size:
                c = int(bad[0])
                name = names[cols[c] // 2]
                sign = "+" if cols[c] % 2 == 0 else "-"
                what = "f" if i == g.output else f"gate {g.label(i)}{g.where(i)}"
                raise MathError(
                    f"gradcheck {name}: {what} is not finite ({float(v[c])!r}) at {name} = {name} {sign} h"
                    f" = {float(at[name][c])!r}; the check needs f on both sides: try a smaller --h"
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
