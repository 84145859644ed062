"""`bp eval EXPR --csv FILE | --parquet FILE | --grid x=a:b:n ...`: batch mode, streamed.

The table is read a chunk at a time, each chunk evaluated by the batch engine (on every core)
and its rows written before the next is read, so memory stays flat however many rows there are.
Bad rows, kinks and `--on-error` give the messages the whole-table engine gave: counts and the
first row are tallied across chunks and reported at the end.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ..core.batch import ON_ERROR, cores, grid_axes, grid_points, row_error, row_warning, run
from ..core.errors import MathError, UsageError
from ..views import rows as row_view

#: output held back until it passes this many bytes (or the table ends): an error in a small
#: table then leaves standard output empty, as it did when tables were read whole
HOLD = 1 << 20
ENGINES = ("local", "dask")


class Held:
    """A writer that holds text back until HOLD bytes have come, then passes everything on
    as it comes (flushed, so a reader downstream sees rows while the input still streams in)."""

    def __init__(self, out, hold: int = HOLD):
        self.out, self.hold = out, hold
        self.parts: list[str] | None = []
        self.size = 0

    def write(self, text: str) -> None:
        if not text:
            return
        if self.parts is None:
            self.out.write(text)
            self.out.flush()
            return
        self.parts.append(text)
        self.size += len(text)
        if self.size > self.hold:
            self.close()

    def close(self) -> None:
        if self.parts is not None:
            parts, self.parts = self.parts, None
            self.out.write("".join(parts))
            self.out.flush()


@dataclass
class Tally:
    """Bad rows and kinks across chunks: how many, and what the first one's row says."""

    bad: int = 0
    first_bad: str = ""
    kinks: int = 0
    first_kink: str = ""

    def add(self, part, first: int) -> None:
        """Count one chunk's bad rows and kinks (`first`: its first row's 0-based number)."""
        if part.bad.any():
            if not self.bad:
                r, why = part.first_bad.split(": ", 1)
                self.first_bad = f"row {first + int(r) + 1}: {why}"
            self.bad += int(part.bad.sum())
        if part.kinks.any():
            if not self.kinks:
                r, what = part.first_kink.split(": ", 1)
                self.first_kink = f"row {first + int(r) + 1}: {what}"
            self.kinks += int(part.kinks.sum())

    def fail(self) -> MathError:
        more = self.bad - 1
        tail = f" ({more} more {'row' if more == 1 else 'rows'} fail too)" if more else ""
        return MathError(f"{self.first_bad}{tail}; --on-error skip|nan writes the other rows")

    def warnings(self, on_error: str) -> list[str]:
        said = []
        if self.bad:
            done = "skipped" if on_error == "skip" else "written as nan"
            said.append(f"{self.bad} {'row' if self.bad == 1 else 'rows'} {done}; first: {self.first_bad}")
        if self.kinks:
            count = self.kinks
            said.append(
                f"{count} {'row is' if count == 1 else 'rows are'} at a non-differentiable point"
                f" (subgradients used); first: {self.first_kink}"
            )
        return said


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
    parquet: str | None = None,
    threads: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    out_path: str | None = None,
    out=None,
) -> None:
    """CSV (or JSON Lines) out, one row per point, a chunk at a time."""
    from ..core.array_gates import require_scalar
    from ..core.engine import check_bindings
    from ..core.graph import expand as expand_graph
    from ..core.parse import parse

    out = out or sys.stdout
    if on_error not in ON_ERROR:
        raise UsageError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
    if fmt == "dot":
        raise UsageError("--format dot shows one point; with --csv or --grid use csv (the default) or json")
    if sum(x is not None and x != [] for x in (csv, parquet, grids)) > 1:
        raise UsageError("use one of --csv, --parquet and --grid, not two")
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be 1 or more, not {threads}")
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler goes with --engine dask")
    if out_path is not None and not out_path.endswith(".parquet"):
        raise UsageError(f"--out {out_path}: with --csv, --parquet or --grid, --out writes a .parquet file")
    if engine == "dask" and csv is None and parquet is None:
        raise UsageError("--engine dask reads a table: give --csv FILE or --parquet FILE")
    if engine == "dask" and csv == "-":
        raise UsageError("--engine dask reads files, not standard input: give --csv FILE")
    graph = parse(source)
    # many points of one scalar expression; an array expression is evaluated once, without them
    option = "--csv" if csv is not None else "--parquet" if parquet is not None else "--grid"
    require_scalar(graph, bindings, option, "; drop it to evaluate it once")
    if engine == "dask":
        from ._dask import open_table

        table = open_table(csv, parquet, graph.var_ids, scheduler, threads or cores())
        names, columns = table.names, table.columns
    elif csv is not None:
        from ..readers.table import CsvTable

        table = CsvTable(csv, graph.var_ids)
        names, columns = table.names, table.columns
    elif parquet is not None:
        from ..readers.table import ParquetTable

        table = ParquetTable(parquet, graph.var_ids)
        names, columns = table.names, table.columns
    else:
        axes = grid_axes(grids)
        table, names, columns = None, list(axes), list(axes)
    for name in columns:
        if name in bindings:
            raise UsageError(f"'{name}' is given both as a column and as a binding")
    # the same usage checks as one point: unknown names, constants, missing values
    check_bindings(graph, {**bindings, **dict.fromkeys(columns, 0.0)})
    if wrt is not None and wrt not in graph.var_ids and wrt not in graph.names:
        have = ", ".join([*graph.var_ids, *graph.names]) or "none"
        raise UsageError(f"--wrt {wrt}: not a variable of the expression (its variables: {have})")
    if expand:
        graph = expand_graph(graph)
    threads = threads or cores()
    keys = [wrt] if wrt is not None else list(graph.var_ids)
    if out_path is not None:
        sink = row_view.ParquetRows(out_path, names, columns, keys)
    else:
        sink = Held(out)
        if fmt != "json":
            sink.write(row_view.csv_header(names, keys))
    tally = Tally()
    try:
        if engine == "dask":
            parts = table.evaluate(graph, bindings, tie, on_error, fmt, wrt, out_path is not None)
        else:
            parts = _local(table if table is not None else _grid_chunks(axes), graph, bindings, tie, threads)
        for part, first in parts:
            failing = on_error == "fail" and (tally.bad or part.bad.any())
            tally.add(part, first)
            if failing:
                continue  # count the other bad rows; write nothing more
            if part.text is not None:  # Dask: the worker wrote the text
                sink.write(part.text)
            elif out_path is not None:
                sink.write(names, part.lines, part.points, *chunk_rows(part, wrt, on_error))
            else:
                sink.write(
                    row_view.rows(
                        fmt, names, part.lines, part.points, *chunk_rows(part, wrt, on_error), first
                    )
                )
        if tally.bad and on_error == "fail":
            raise tally.fail()
    except BaseException:
        if out_path is not None:
            sink.close(ok=False)
        raise
    for message in tally.warnings(on_error):
        print(f"bp: warning: {message}", file=sys.stderr)
    sink.close()


@dataclass
class Part:
    """One evaluated chunk: its rows' input (`lines`, `points`), value, gradients, bad rows and
    kinks, and the first bad row's and first kink's message (already worded, 0-based row in the
    chunk); `text` is the chunk's output when a Dask worker formatted it."""

    lines: list | None
    points: dict
    value: np.ndarray
    gradient: dict
    named: dict
    bad: np.ndarray
    kinks: np.ndarray
    first_bad: str = ""
    first_kink: str = ""
    text: str | None = None


def evaluate_chunk(graph, lines, points, n, constants, tie, threads=1) -> Part:
    """The batch engine on one chunk, with the scalar engine's words for its first bad row
    and its first kink (the only rows whose messages a report can need)."""
    batch = run(graph, points, constants, tie, n=n, threads=threads)
    part = Part(lines, points, batch.value, batch.gradient, batch.named, batch.bad, batch.kinks)
    if batch.bad.any():
        r = int(np.argmax(batch.bad))
        part.first_bad = f"{r}: {row_error(graph, points, constants, r, tie)}"
    if batch.kinks.any():
        r = int(np.argmax(batch.kinks))
        part.first_kink = f"{r}: {row_warning(graph, points, constants, r, tie)}"
    return part


def _local(chunks, graph, constants, tie, threads):
    first = 0
    for lines, points, n in chunks:
        yield evaluate_chunk(graph, lines, points, n, constants, tie, threads), first
        first += n


def chunk_rows(part: Part, wrt, on_error: str):
    """(value, gradients, keep) as a chunk writes them: skipped rows left out (keep), or nan."""
    grads = part.gradient if wrt is None else {wrt: {**part.gradient, **part.named}[wrt]}
    value, keep = part.value, None
    if part.bad.any():
        if on_error == "skip":
            keep = ~part.bad
        elif on_error == "nan":
            value = np.where(part.bad, np.nan, value)
            grads = {k: np.where(part.bad, np.nan, g) for k, g in grads.items()}
    return value, grads, keep


def _grid_chunks(axes: dict[str, np.ndarray], size: int = 1 << 16):
    total = 1
    for a in axes.values():
        total *= len(a)
    for lo in range(0, total, size):
        hi = min(lo + size, total)
        yield None, grid_points(axes, lo, hi), hi - lo
