"""Batch mode, the SIMD pass: the same gate graph evaluated at many points at once.

The engine's own forward and backward run once each, with NumPy arrays on the wires instead of
floats (`NumpyMath` from the gate table: one table, no second copy of the math). What the scalar
engine checks gate by gate, batch mode checks row by row afterwards: a row whose value or gradient
is not finite is reported by its row number with the scalar engine's own message, and rows at a
kink get the same subgradients and one warning with a count.

`bp eval EXPR --csv FILE` / `--grid x=a:b:n` call `eval_batch`; `run` is the Python API.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from .array_gates import require_scalar
from .engine import backward, check_bindings, evaluate, forward
from .errors import BpError, MathError, UsageError
from .gates import GATES, NumpyMath
from .graph import Graph

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


#: points per pass: the ~30 arrays one pass keeps alive then fit in the CPU's caches, which is
#: faster than streaming million-element arrays through memory, and the memory stays bounded
CHUNK = 32768


def run(
    graph: Graph,
    points: dict[str, np.ndarray],
    constants: dict[str, float],
    tie: str = "split",
    n: int | None = None,
) -> Batch:
    """A vectorised forward and backward pass over all points (in chunks of CHUNK points).

    `points` binds variables to equal-length arrays (one entry per point), `constants` binds the
    rest to one number each; `n` (the number of points) defaults to the arrays' length, or 1.
    Never raises for a bad point: see `Batch.bad`."""
    if n is None:
        n = len(next(iter(points.values()))) if points else 1
    points = {name: np.ascontiguousarray(col, dtype=float) for name, col in points.items()}
    constants = {name: float(v) for name, v in constants.items()}
    graph = _constant_exponents(graph)
    m = NumpyMath()
    value = np.empty(n)
    gradient = {name: np.empty(n) for name in graph.var_ids}
    named = {name: np.empty(n) for name in graph.names}
    bad = np.zeros(n, dtype=bool)
    kinks = np.zeros(n, dtype=bool)
    consts = [p for op, p in zip(graph.ops, graph.params, strict=True) if op == "const"]
    inputs_finite = all(map(math.isfinite, [*constants.values(), *consts])) and all(
        math.isfinite(col.sum()) for col in points.values()
    )
    # Inputs are finite, so a value or gradient can only turn non-finite through a floating-point
    # exception (overflow, division by zero, invalid operation), and NumPy reports every one.
    # With none reported in a chunk it has no bad row; otherwise each of its rows is checked.
    raised: list[str] = []
    old = np.seterrcall(lambda kind, flag: raised.append(kind))
    try:
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            k = hi - lo
            bindings = {**constants, **{name: col[lo:hi] for name, col in points.items()}}
            raised.clear()
            if not inputs_finite:
                raised.append("input")
            with np.errstate(all="call", under="ignore"):
                values = forward(graph, bindings, m)
                grads, _locals, contribs, _ = backward(graph, values, tie, m)
            with np.errstate(all="ignore"):
                if raised:
                    bad[lo:hi] = _bad_rows(graph, values, contribs, k)
                kinks[lo:hi] = _kink_rows(graph, values, contribs, k, bad[lo:hi])
            value[lo:hi] = values[graph.output]
            for name, node in graph.var_ids.items():
                gradient[name][lo:hi] = grads[node]
            for name, node in graph.names.items():
                named[name][lo:hi] = grads[node]
    finally:
        np.seterrcall(old)
    return Batch(graph, n, value, gradient, named, bad, kinks)


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
    for i in hits:
        base, exponent = graph.args[i]
        g.ops[i], g.args[i], g.params[i] = "powc", (base,), graph.params[exponent]
    return g


def _nonfinite(v, n: int):
    """Rows where `v` is not finite (None when there are none). A sum is finite only if every
    term is, so one cheap reduction skips the row-by-row test in the common case."""
    if isinstance(v, np.ndarray):
        if math.isfinite(v.sum()):
            return None
        return np.broadcast_to(~np.isfinite(v), (n,))
    return None if math.isfinite(v) else np.ones(n, dtype=bool)


def _bad_rows(graph: Graph, values: list, contribs: list, n: int) -> np.ndarray:
    """The rows where the scalar engine would stop: a non-finite value anywhere, or a non-finite
    gradient sent down a wire into a node that depends on a variable."""
    bad = np.zeros(n, dtype=bool)
    needs = _depends_on_variable(graph)
    for i, v in enumerate(values):
        rows = _nonfinite(v, n)
        if rows is not None:
            bad |= rows
        if contribs[i] is not None:
            for a, c in zip(graph.args[i], contribs[i], strict=True):
                if needs[a]:
                    rows = _nonfinite(c, n)
                    if rows is not None:
                        bad |= rows
    return bad


def _depends_on_variable(graph: Graph) -> list[bool]:
    needs = [False] * len(graph.ops)
    for i, op in enumerate(graph.ops):
        needs[i] = op == "var" or any(needs[a] for a in graph.args[i])
    return needs


def _kink_rows(graph: Graph, values: list, contribs: list, n: int, bad: np.ndarray) -> np.ndarray:
    """Rows where a gate that carries gradient sits at a kink. Every kink in the gate table is an
    input at 0 (relu, abs) or tied inputs (max, min), so those rows are the candidates; the
    table's own `kink` test decides for each candidate."""
    kinks = np.zeros(n, dtype=bool)
    for i, op in enumerate(graph.ops):
        row = GATES.get(op)
        if row is None or row.kink is None or contribs[i] is None:
            continue
        xs = [np.broadcast_to(values[a], (n,)) for a in graph.args[i]]
        cand = np.zeros(n, dtype=bool)
        for j, x in enumerate(xs):
            cand |= x == 0
            for y in xs[j + 1 :]:
                cand |= x == y
        cand &= ~bad
        for r in np.flatnonzero(cand):
            if row.kink(*[float(x[r]) for x in xs]):
                kinks[r] = True
    return kinks


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


# -- the command line: --csv FILE, --grid x=a:b:n --------------------------------------------


def eval_batch(
    source: str,
    bindings: dict[str, float],
    *,
    csv: str | None,
    grids: list[str],
    on_error: str,
    fmt: str,
    tie: str,
    expand: bool,
    wrt: str | None,
    out=None,
) -> None:
    """`bp eval EXPR --csv FILE | --grid x=a:b:n ...`: CSV (or JSON Lines) out, one row per point."""
    from .graph import expand as expand_graph
    from .parse import parse

    out = out or sys.stdout
    if on_error not in ON_ERROR:
        raise UsageError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
    if fmt == "dot":
        raise UsageError("--format dot shows one point; with --csv or --grid use csv (the default) or json")
    if csv is not None and grids:
        raise UsageError("use either --csv or --grid, not both")
    graph = parse(source)
    # many points of one scalar expression; an array expression is evaluated once, without them
    require_scalar(graph, bindings, "--csv" if csv is not None else "--grid", "; drop it to evaluate it once")
    if csv is not None:
        names, lines, points = read_csv(csv, graph)
    else:
        names, lines, points = None, None, make_grid(grids)
    for name in points:
        if name in bindings:
            raise UsageError(f"'{name}' is given both as a column and as a binding")
    # the same usage checks as one point: unknown names, constants, missing values
    check_bindings(graph, {**bindings, **dict.fromkeys(points, 0.0)})
    if wrt is not None and wrt not in graph.var_ids and wrt not in graph.names:
        have = ", ".join([*graph.var_ids, *graph.names]) or "none"
        raise UsageError(f"--wrt {wrt}: not a variable of the expression (its variables: {have})")
    if expand:
        graph = expand_graph(graph)
    batch = run(graph, points, bindings, tie, n=len(lines) if lines is not None else None)
    keep = _apply_on_error(batch, graph, points, bindings, on_error, tie)
    if batch.kinks.any():
        count = int(batch.kinks.sum())
        first = int(np.argmax(batch.kinks))
        what = row_warning(graph, points, bindings, first, tie)
        print(
            f"bp: warning: {count} {'row is' if count == 1 else 'rows are'} at a non-differentiable point"
            f" (subgradients used); first: row {first + 1}: {what}",
            file=sys.stderr,
        )
    if wrt is not None:
        grads = {wrt: batch.gradient[wrt] if wrt in batch.gradient else batch.named[wrt]}
    else:
        grads = batch.gradient
    value = batch.value
    if on_error == "nan" and batch.bad.any():
        value = np.where(batch.bad, np.nan, value)
        grads = {k: np.where(batch.bad, np.nan, g) for k, g in grads.items()}
    if names is None:  # a grid: its variables are the input columns
        names = list(points)
        lines = None
    write(out, fmt, names, lines, points, value, grads, keep)


def _apply_on_error(batch: Batch, graph, points, constants, on_error: str, tie: str):
    """Rows to write (None = all). `fail` stops at the first bad row with the scalar message."""
    if not batch.bad.any():
        return None
    count = int(batch.bad.sum())
    first = int(np.argmax(batch.bad))
    why = row_error(graph, points, constants, first, tie)
    if on_error == "fail":
        more = f" ({count - 1} more {'row' if count == 2 else 'rows'} fail too)" if count > 1 else ""
        raise MathError(f"row {first + 1}: {why}{more}; --on-error skip|nan writes the other rows")
    done = "skipped" if on_error == "skip" else "written as nan"
    print(
        f"bp: warning: {count} {'row' if count == 1 else 'rows'} {done}; first: row {first + 1}: {why}",
        file=sys.stderr,
    )
    return ~batch.bad if on_error == "skip" else None


MAX_GRID = 10_000_000  #: most points a --grid makes (each is a row of every gate's arrays)
_GRID = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])=([^:]+):([^:]+)(?::([^:]+))?$")


def make_grid(specs: list[str]) -> dict[str, np.ndarray]:
    """The cartesian product of `name=a:b:n` specs (n evenly spaced points from a to b, both
    included; n defaults to 101). The first grid varies slowest."""
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
    if math.prod(len(a) for a in axes.values()) > MAX_GRID:
        raise UsageError(f"--grid: the grids make more than {MAX_GRID} points together")
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    return {name: g.ravel() for name, g in zip(axes, mesh, strict=True)}


def read_csv(path: str, graph: Graph):
    """(column names, data lines, {variable: array}) from a CSV file with a header row. Columns
    named after expression variables are read as numbers; the others pass through untouched."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
    except OSError as e:
        raise UsageError(f"cannot read --csv file {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--csv file {path!r} is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    if '"' in text:  # quoted fields: the csv module's rules; each row re-written as one line
        import csv as csv_module

        rows = [r for r in csv_module.reader(io.StringIO(text)) if any(c.strip() for c in r)]
        header, rows = (rows[0], rows[1:]) if rows else ([], [])
        _check_widths([len(r) - 1 for r in rows], len(header), path)
        lines = [_csv_line(r) for r in rows]
        cells = [c for r in rows for c in r]
    else:
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        if "" in lines:  # blank lines between rows are skipped
            lines = [s for s in lines if s]
        header, lines = (lines[0].split(","), lines[1:]) if lines else ([], [])
        cells = None
    names = [h.strip() for h in header]
    if not names:
        raise UsageError(f"--csv file {path!r} is empty (it needs a header row naming the columns)")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UsageError(f"--csv file {path!r}: column '{dup}' appears twice in the header")
    if not lines:
        raise UsageError(f"--csv file {path!r} has a header but no rows")
    width = len(names)
    wanted = [(k, name) for k, name in enumerate(names) if name in graph.var_ids]
    if wanted and cells is None:
        if text.count(",") != (len(lines) + 1) * (width - 1):  # one C-speed count for the file
            _check_widths(list(map(str.count, lines, repeat(",", len(lines)))), width, path)
        try:  # NumPy's C reader: the fast way when every cell is a plain number
            table = np.loadtxt(lines, delimiter=",", usecols=[k for k, _ in wanted], comments=None, ndmin=2)
            if np.isfinite(table).all():
                return names, lines, {name: table[:, j].copy() for j, (_, name) in enumerate(wanted)}
        except ValueError:
            pass
        # name the row with a wrong field count, or the cell that is not a number
        _check_widths(list(map(str.count, lines, repeat(",", len(lines)))), width, path)
        cells = ",".join(lines).split(",")
    return names, lines, {name: _numbers(cells[k::width], name, path) for k, name in wanted}


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    import csv as csv_module

    csv_module.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def _check_widths(commas: list[int], width: int, path: str) -> None:
    if commas.count(width - 1) != len(commas):
        r = next(r for r, c in enumerate(commas) if c != width - 1)
        raise UsageError(f"--csv file {path!r}, row {r + 1}: {commas[r] + 1} fields, the header has {width}")


def _numbers(texts: list[str], name: str, path: str) -> np.ndarray:
    """A column of numbers as doubles; a cell that is not a finite number is a usage error."""
    try:
        col = np.array(texts, dtype=float)
    except ValueError:
        col = None
    if col is not None and np.isfinite(col).all():
        return col
    for r, t in enumerate(texts):
        try:
            v = float(t.replace("\u2212", "-"))
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            raise UsageError(
                f"--csv file {path!r}, row {r + 1}, column '{name}': not a finite number: {t.strip()!r}"
            ) from None
    return np.array([float(t.replace("\u2212", "-")) for t in texts])


def _texts(col: np.ndarray) -> list[str]:
    """Numbers at full precision, as Python's repr writes them (-0.0 as 0.0, like eval)."""
    return list(map(repr, (col + 0.0).tolist()))


def write(out, fmt, names, lines, points, value, grads, keep) -> None:
    """CSV: the input columns, then f, then df/d<name>; or JSON Lines with the same content."""
    if keep is not None:
        rows = np.flatnonzero(keep)
        value = value[rows]
        grads = {k: g[rows] for k, g in grads.items()}
        points = {k: p[rows] for k, p in points.items()}
        if lines is not None:
            lines = [lines[r] for r in rows.tolist()]
    else:
        rows = None
    if fmt == "json":
        computed = [_texts(value), *(_texts(g) for g in grads.values())]
        _write_jsonl(out, names, lines, points, computed, grads, rows, len(value))
        return
    out.write(",".join([*names, "f", *(f"df/d{k}" for k in grads)]) + "\n")
    step = 65536  # rows formatted and written at a time: bounded memory for a million rows
    for lo in range(0, len(value), step):
        part = slice(lo, lo + step)
        if lines is None:  # grid: the grid values are the input columns
            inputs = map(",".join, zip(*(_texts(points[k][part]) for k in names), strict=True))
        else:
            inputs = lines[part]
        computed = [_texts(value[part]), *(_texts(g[part]) for g in grads.values())]
        out.write("\n".join(map(",".join, zip(inputs, *computed, strict=False))) + "\n")


def _write_jsonl(out, names, lines, points, computed, grads, rows, n) -> None:
    """One JSON object per row: {"row", "inputs", "value", "gradient"} (nan as null)."""
    if lines is None:
        cols = [[float(x) for x in points[k]] for k in names]
    else:
        cells = _split_lines_for_json(lines, len(names))
        cols = [points[k].tolist() if k in points else [c[j] for c in cells] for j, k in enumerate(names)]
    keys = [json.dumps(k, ensure_ascii=False) for k in names]
    gkeys = [json.dumps(k, ensure_ascii=False) for k in grads]
    fix = lambda t: "null" if t in ("nan", "inf", "-inf") else t
    row_numbers = (rows + 1).tolist() if rows is not None else range(1, n + 1)
    parts = []
    for i, r in enumerate(row_numbers):
        inputs = ", ".join(f"{k}: {json.dumps(col[i])}" for k, col in zip(keys, cols, strict=True))
        grad = ", ".join(f"{k}: {fix(c[i])}" for k, c in zip(gkeys, computed[1:], strict=True))
        parts.append(
            f'{{"row": {r}, "inputs": {{{inputs}}}, "value": {fix(computed[0][i])}, "gradient": {{{grad}}}}}'
        )
    out.write("\n".join(parts) + "\n")


def _split_lines_for_json(lines: list[str], width: int) -> list[list[str]]:
    import csv as csv_module

    return [row + [""] * (width - len(row)) for row in csv_module.reader(lines)]
