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

    def add(self, batch, graph, points, constants, tie: str, first: int) -> None:
        if batch.bad.any():
            if not self.bad:
                r = int(np.argmax(batch.bad))
                self.first_bad = f"row {first + r + 1}: {row_error(graph, points, constants, r, tie)}"
            self.bad += int(batch.bad.sum())
        if batch.kinks.any():
            if not self.kinks:
                r = int(np.argmax(batch.kinks))
                self.first_kink = f"row {first + r + 1}: {row_warning(graph, points, constants, r, tie)}"
            self.kinks += int(batch.kinks.sum())

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
    out=None,
) -> None:
    """CSV (or JSON Lines) out, one row per point, a chunk at a time."""
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
    if engine == "dask" and csv is None and parquet is None:
        raise UsageError("--engine dask reads a table: give --csv FILE or --parquet FILE")
    if engine == "dask" and csv == "-":
        raise UsageError("--engine dask reads files, not standard input: give --csv FILE")
    graph = parse(source)
    if engine == "dask":
        from .dask_engine import open_table

        table = open_table(csv, parquet, graph.var_ids, scheduler)
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
    chunks = table if table is not None else _grid_chunks(axes)
    held = Held(out)
    keys = [wrt] if wrt is not None else list(graph.var_ids)
    if fmt != "json":
        held.write(row_view.csv_header(names, keys))
    tally = Tally()
    if engine == "dask":
        for text, part in table.evaluate(graph, bindings, tie, on_error, fmt, wrt):
            if on_error == "fail" and (tally.bad or part.bad):
                tally.merge(part)
                continue
            tally.merge(part)
            held.write(text)
    else:
        first = 0
        for lines, points, n in chunks:
            batch = run(graph, points, bindings, tie, n=n, threads=threads)
            tally.add(batch, graph, points, bindings, tie, first)
            if not (on_error == "fail" and tally.bad):
                held.write(chunk_text(batch, fmt, names, lines, points, wrt, on_error, first))
            first += n
    if tally.bad and on_error == "fail":
        raise tally.fail()
    for message in tally.warnings(on_error):
        print(f"bp: warning: {message}", file=sys.stderr)
    held.close()


def chunk_text(batch, fmt: str, names, lines, points, wrt, on_error: str, first: int) -> str:
    """One evaluated chunk's rows as text (skipped rows left out, or nan in place)."""
    grads = batch.gradient if wrt is None else {wrt: {**batch.gradient, **batch.named}[wrt]}
    value = batch.value
    keep = None
    if batch.bad.any():
        if on_error == "skip":
            keep = ~batch.bad
        elif on_error == "nan":
            value = np.where(batch.bad, np.nan, value)
            grads = {k: np.where(batch.bad, np.nan, g) for k, g in grads.items()}
    return row_view.rows(fmt, names, lines, points, value, grads, keep, first)


def _grid_chunks(axes: dict[str, np.ndarray], size: int = 1 << 16):
    total = 1
    for a in axes.values():
        total *= len(a)
    for lo in range(0, total, size):
        hi = min(lo + size, total)
        yield None, grid_points(axes, lo, hi), hi - lo
