"""`bp eval EXPR --csv FILE|--parquet FILE --engine dask [--scheduler ADDRESS]`: the same batch
engine over the partitions of a Dask DataFrame (the `dask` extra), for tables that outgrow one
machine. Each partition is evaluated and formatted where it lives (a worker of the cluster at
ADDRESS, or this machine's threads by default); this process writes the partitions' text in
order, a few in flight at a time, so the output is the local engine's, row for row.
bp builds no scheduler of its own: Dask's runs the work.
"""

from __future__ import annotations

import glob
import os
from collections import deque

from ..core.errors import UsageError

#: bytes of CSV per partition
BLOCK = 64 << 20


def open_table(csv: str | None, parquet: str | None, variables, scheduler: str | None, threads: int = 2):
    """A DaskTable over the file (usage errors for a missing extra or an unreachable cluster)."""
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'bpcli[dask]'") from None
    return DaskTable(csv, parquet, variables, scheduler, threads)


class DaskTable:
    """The table as a Dask DataFrame: CSV cells kept as their text (so they pass through as
    the local engine passes them), Parquet columns with their Arrow types."""

    def __init__(self, csv, parquet, variables, scheduler, threads):
        import dask.dataframe as dd

        from ..readers.table import CsvTable, ParquetTable

        self.client = None
        if scheduler is not None:
            from distributed import Client

            try:
                self.client = Client(scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                raise UsageError(
                    f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({e})"
                ) from None
        self.threads = threads
        # the header and the first rows of the (first) file, read as the local engine reads
        # them: the same errors; a URL or a directory is left to Dask
        path = csv if csv is not None else parquet
        matches = sorted(glob.glob(path)) if "://" not in path else []
        first = matches[0] if matches and os.path.isfile(matches[0]) else None
        if csv is not None:
            head = CsvTable(first, variables) if first else None
            self.path, self.option = csv, "--csv"
            self.frame = dd.read_csv(
                csv,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                blocksize=BLOCK,
                encoding="utf-8",
            )
        else:
            head = ParquetTable(first, variables) if first else None
            self.path, self.option = parquet, "--parquet"
            self.frame = dd.read_parquet(parquet, dtype_backend="pyarrow", blocksize=BLOCK)
        if head is not None:
            self.names, self.columns = head.names, head.columns
        else:
            self.names = [str(c).strip() for c in self.frame.columns]
            self.columns = [name for name in self.names if name in variables]

    def _compute(self, task):
        if self.client is not None:
            return self.client.compute(task)
        return self._pool.submit(task.compute, scheduler="sync")

    def evaluate(self, graph, constants, tie, on_error, fmt, wrt, keep_rows):
        """(Part, first row) per partition, in order; a Part's `text` is its formatted rows
        unless `keep_rows` (Parquet out: the rows themselves come back)."""
        from concurrent.futures import ThreadPoolExecutor

        from dask import delayed

        lengths = self.frame.map_partitions(len)
        lengths = (
            self.client.compute(lengths).result() if self.client else lengths.compute(scheduler="threads")
        )
        firsts = [0]
        for n in list(lengths)[:-1]:
            firsts.append(firsts[-1] + int(n))
        job = delayed(_partition, pure=True)
        opts = (self.names, self.columns, graph, constants, tie, on_error, fmt, wrt, self.path, self.option)
        tasks = [
            job(part, first, keep_rows, *opts)
            for part, first in zip(self.frame.to_delayed(), firsts, strict=True)
        ]
        window = 2 * (self.threads if self.client is None else max(len(self.client.nthreads()), 1))
        with ThreadPoolExecutor(self.threads) as self._pool:
            pending: deque = deque()
            for task, first in zip(tasks, firsts, strict=True):
                pending.append((self._compute(task), first))
                if len(pending) >= window:
                    future, at = pending.popleft()
                    yield future.result(), at
            while pending:
                future, at = pending.popleft()
                yield future.result(), at
        if self.client is not None:
            self.client.close()


def _partition(
    frame, first, keep_rows, names, columns, graph, constants, tie, on_error, fmt, wrt, path, option
):
    """One partition through the local engine: its rows as the local readers make them, then
    evaluated and (unless `keep_rows`) formatted. Runs on a Dask worker."""
    import pyarrow as pa

    from ..readers.table import _csv_line, _numbers, arrow_chunk
    from ..views import rows as row_view
    from ._stream import chunk_rows, evaluate_chunk

    if option == "--csv":
        cells = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
        width = len(cells)
        lines = []
        for row in zip(*cells, strict=True):
            line = ",".join(row)
            if line.count(",") != width - 1 or '"' in line or "\n" in line or "\r" in line:
                line = _csv_line(row)
            lines.append(line)
        points = {name: _numbers(cells[names.index(name)], name, path, first) for name in columns}
        n = len(lines)
    else:
        lines, points, n = arrow_chunk(
            pa.Table.from_pandas(frame, preserve_index=False), columns, path, first
        )
    part = evaluate_chunk(graph, lines, points, n, constants, tie)
    if not keep_rows:
        value, grads, keep = chunk_rows(part, wrt, on_error)
        part.text = row_view.rows(fmt, names, lines, points, value, grads, keep, first)
        part.lines, part.points, part.value, part.gradient, part.named = None, {}, part.value[:0], {}, {}
    return part
