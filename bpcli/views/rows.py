"""Batch output, one row per point: CSV (the input columns, then f, then df/d<name>) or JSON Lines
with the same content. Written a chunk at a time; `first` is the 0-based number of a chunk's
first row in the whole table, so JSON Lines row numbers count across chunks."""

from __future__ import annotations

import csv as csv_module
import json

import numpy as np


def csv_header(names: list[str], grads) -> str:
    """The CSV header line: the input columns, f, then df/d<name> per gradient."""
    return ",".join([*names, "f", *(f"df/d{k}" for k in grads)]) + "\n"


def texts(col: np.ndarray) -> list[str]:
    """Numbers at full precision, as Python's repr writes them (-0.0 as 0.0, like eval)."""
    return list(map(repr, (col + 0.0).tolist()))


def rows(fmt: str, names, lines, points, value, grads, keep, first: int = 0) -> str:
    """The text of one chunk's rows (`keep`: a bool mask of rows to write, None for all;
    `lines`: the input rows' text, None for a grid, whose input columns are `points`)."""
    if keep is not None:
        kept = np.flatnonzero(keep)
        value = value[kept]
        grads = {k: g[kept] for k, g in grads.items()}
        points = {k: p[kept] for k, p in points.items()}
        if lines is not None:
            lines = [lines[r] for r in kept.tolist()]
        numbers = (kept + first + 1).tolist()
    else:
        numbers = range(first + 1, first + len(value) + 1)
    if not len(value):
        return ""
    computed = [texts(value), *(texts(g) for g in grads.values())]
    if fmt == "json":
        return _jsonl(names, lines, points, computed, grads, numbers)
    if lines is None:  # grid: the grid values are the input columns
        inputs = map(",".join, zip(*(texts(points[k]) for k in names), strict=True))
    else:
        inputs = lines
    return "\n".join(map(",".join, zip(inputs, *computed, strict=False))) + "\n"


def _jsonl(names, lines, points, computed, grads, numbers) -> str:
    """One JSON object per row: {"row", "inputs", "value", "gradient"} (nan as null)."""
    if lines is None:
        cols = [[float(x) for x in points[k]] for k in names]
    else:
        cells = [row + [""] * (len(names) - len(row)) for row in csv_module.reader(lines)]
        cols = [points[k].tolist() if k in points else [c[j] for c in cells] for j, k in enumerate(names)]
    keys = [json.dumps(k, ensure_ascii=False) for k in names]
    gkeys = [json.dumps(k, ensure_ascii=False) for k in grads]
    fix = lambda t: "null" if t in ("nan", "inf", "-inf") else t
    parts = []
    for i, r in enumerate(numbers):
        inputs = ", ".join(f"{k}: {json.dumps(col[i])}" for k, col in zip(keys, cols, strict=True))
        grad = ", ".join(f"{k}: {fix(c[i])}" for k, c in zip(gkeys, computed[1:], strict=True))
        parts.append(
            f'{{"row": {r}, "inputs": {{{inputs}}}, "value": {fix(computed[0][i])}, "gradient": {{{grad}}}}}'
        )
    return "\n".join(parts) + "\n"


class ParquetRows:
    """Batch output as a Parquet file (pyarrow), a row group per chunk: the input columns (the
    variables' as doubles, the others as text), then f and df/d<name> as doubles; nan stays nan.
    A table that fails part way leaves no file behind."""

    def __init__(self, path: str, names: list[str], numeric, grads):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            from ..core.errors import UsageError

            raise UsageError("--out FILE.parquet needs pyarrow: pip install 'bpcli[parquet]'") from None
        self.pa, self.path, self.names, self.numeric = pa, path, names, set(numeric)
        fields = [(k, pa.float64() if k in self.numeric else pa.string()) for k in names]
        fields += [("f", pa.float64()), *((f"df/d{k}", pa.float64()) for k in grads)]
        self.schema = pa.schema(fields)
        self._writer = pq.ParquetWriter(path, self.schema)

    def write(self, names, lines, points, value, grads, keep) -> None:
        """One chunk's rows (`keep`: a bool mask of rows to write, None for all)."""
        if keep is not None:
            kept = np.flatnonzero(keep)
            value, points = value[kept], {k: p[kept] for k, p in points.items()}
            grads = {k: g[kept] for k, g in grads.items()}
            lines = None if lines is None else [lines[r] for r in kept.tolist()]
        if not len(value):
            return
        cells = None if lines is None else list(zip(*csv_module.reader(lines), strict=True))
        columns = [
            points[k] if k in self.numeric else self.pa.array(cells[j], self.pa.string())
            for j, k in enumerate(names)
        ]
        columns += [value, *grads.values()]
        self._writer.write_table(self.pa.Table.from_arrays(columns, schema=self.schema))

    def close(self, ok: bool = True) -> None:
        """Finish the file; or, after a failure, remove it."""
        import os

        self._writer.close()
        if not ok:
            os.unlink(self.path)
