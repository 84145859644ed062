"""Tables of points for batch mode, read a chunk at a time: a CSV file with a header (or standard
input) and Parquet files. Memory stays bounded however many rows there are, output can start
before standard input ends, and row numbers in errors count from the first data row of the
whole table (1-based, as a spreadsheet shows them).

A chunk is `(lines, points, n)`: the rows' text as the output repeats it (None for a grid),
{variable: array of numbers} for the columns named after the expression's variables, and the
number of rows.
"""

from __future__ import annotations

import codecs
import csv as csv_module
import io
import math
import select
import sys
from collections.abc import Iterator
from itertools import repeat

import numpy as np

from ..core.errors import UsageError

#: text read at a time (the chunk's size before it is cut at the last whole row)
READ_BYTES = 1 << 20


class CsvTable:
    """A CSV file with a header row, read a chunk at a time. Columns named after expression
    variables are read as numbers; the others pass through untouched. The header and the first
    chunk are read at once, so the errors of a small file come before any other check."""

    def __init__(self, path: str, variables, read_bytes: int | None = None):
        self.path = path
        self._pieces = _pieces(path, read_bytes or READ_BYTES)
        self._variables = variables
        self._held: list[str] = []  # whitespace-only lines: rows only if more rows follow
        self._quoted = False
        self.rows = 0  # data rows read so far
        self.names: list[str] = []
        self._first = None
        for piece in self._pieces:
            chunk = self._chunk(piece)
            if self.names:
                self._first = chunk
                break
        if not self.names:
            raise UsageError(f"--csv file {path!r} is empty (it needs a header row naming the columns)")
        if self.rows == 0:  # the rows may be in the next piece (or there are none)
            for piece in self._pieces:
                self._first = self._chunk(piece)
                if self.rows:
                    break
        if self.rows == 0:
            raise UsageError(f"--csv file {path!r} has a header but no rows")
        self.columns = [name for name in self.names if name in variables]

    def __iter__(self) -> Iterator[tuple[list[str], dict[str, np.ndarray], int]]:
        first, self._first = self._first, None
        if first is not None and first[2]:
            yield first
        for piece in self._pieces:
            chunk = self._chunk(piece)
            if chunk is not None and chunk[2]:
                yield chunk

    def _chunk(self, text: str):
        """The rows of one piece of text (which ends at a row boundary), parsed as the whole
        file used to be: the csv module's rules when there are quotes, else lines and commas."""
        self._quoted = self._quoted or '"' in text
        if self._quoted:  # quoted fields: each row re-written as one line
            rows = [r for r in csv_module.reader(io.StringIO(text)) if any(c.strip() for c in r)]
            self._held = []
            if not self.names:
                if not rows:
                    return None
                self._header(rows.pop(0))
            start, width = self.rows, len(self.names)
            _check_widths([len(r) - 1 for r in rows], width, self.path, start)
            lines = [_csv_line(r) for r in rows]
            cells = [c for r in rows for c in r]
        else:
            lines = self._held + text.splitlines()
            if "" in lines:  # blank lines between rows are skipped
                lines = [s for s in lines if s]
            self._held = []
            # whitespace-only lines at the end of the table are not rows: hold them until more come
            while lines and not lines[-1].strip():
                self._held.insert(0, lines.pop())
            if not self.names:
                if not lines:
                    return None
                self._header(lines.pop(0).split(","))
            cells = None
        start, width = self.rows, len(self.names)
        self.rows += len(lines)
        wanted = [(k, name) for k, name in enumerate(self.names) if name in self._variables]
        if wanted and cells is None and lines:
            joined = "\n".join(lines)
            if joined.count(",") != len(lines) * (width - 1):  # one C-speed count for the chunk
                _check_widths(list(map(str.count, lines, repeat(",", len(lines)))), width, self.path, start)
            try:  # NumPy's C reader: the fast way when every cell is a plain number
                table = np.loadtxt(
                    lines, delimiter=",", usecols=[k for k, _ in wanted], comments=None, ndmin=2
                )
                if np.isfinite(table).all():
                    return lines, {name: table[:, j].copy() for j, (_, name) in enumerate(wanted)}, len(lines)
            except ValueError:
                pass
            # name the row with a wrong field count, or the cell that is not a number
            _check_widths(list(map(str.count, lines, repeat(",", len(lines)))), width, self.path, start)
            cells = joined.replace("\n", ",").split(",")
        if cells is None:
            return lines, {}, len(lines)
        points = {name: _numbers(cells[k::width], name, self.path, start) for k, name in wanted}
        return lines, points, len(lines)

    def _header(self, header: list[str]) -> None:
        names = [h.strip() for h in header]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise UsageError(f"--csv file {self.path!r}: column '{dup}' appears twice in the header")
        self.names = names


def _pieces(path: str, read_bytes: int) -> Iterator[str]:
    """The text of `path` (standard input for -) in pieces that each end at a line break outside
    quotes, so no row is cut in two. Standard input is taken as it arrives, never waited for to
    fill a piece."""
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", sys.stdin)
            yield from _cut(_reads(stream, read_bytes, wait=False), path)
        else:
            with open(path, "rb") as f:
                yield from _cut(_reads(f, read_bytes, wait=True), path)
    except OSError as e:
        raise UsageError(f"cannot read --csv file {path!r}: {e.strerror or e}") from None


def _reads(stream, read_bytes: int, wait: bool) -> Iterator[bytes | str]:
    read1 = getattr(stream, "read1", None)
    if wait or read1 is None:
        while data := stream.read(read_bytes):
            yield data
        return
    while data := read1(read_bytes):
        while len(data) < read_bytes and _ready(stream):  # more is there already: take it too
            more = read1(read_bytes - len(data))
            if not more:
                yield data
                return
            data += more
        yield data


def _ready(stream) -> bool:
    try:
        return bool(select.select([stream], [], [], 0)[0])
    except (OSError, ValueError, TypeError):  # not a pipe or terminal (a test's StringIO)
        return False


def _cut(reads: Iterator[bytes | str], path: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry, first = "", True
    try:
        for data in reads:
            text = carry + (decoder.decode(data) if isinstance(data, bytes) else data)
            if first and text:
                text, first = text.removeprefix("\ufeff"), False
            cut = text.rfind("\n") + 1
            while cut and '"' in text and text.count('"', 0, cut) % 2:  # a line break inside quotes
                cut = text.rfind("\n", 0, cut - 1) + 1
            carry = text[cut:]
            if cut:
                yield text[:cut]
        carry += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UsageError(f"--csv file {path!r} is not UTF-8 text") from None
    if first:
        carry = carry.removeprefix("\ufeff")
    if carry:
        yield carry


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv_module.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def _check_widths(commas: list[int], width: int, path: str, start: int = 0) -> None:
    if commas.count(width - 1) != len(commas):
        r = next(r for r, c in enumerate(commas) if c != width - 1)
        raise UsageError(
            f"--csv file {path!r}, row {start + r + 1}: {commas[r] + 1} fields, the header has {width}"
        )


def _numbers(texts: list[str], name: str, path: str, start: int = 0, option: str = "--csv") -> np.ndarray:
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
                f"{option} file {path!r}, row {start + r + 1}, column '{name}': not a finite number: {t.strip()!r}"
            ) from None
    return np.array([float(t.replace("\u2212", "-")) for t in texts])


class ParquetTable:
    """A Parquet file, read a record batch at a time (pyarrow, the `parquet` extra). Columns
    named after expression variables are read as numbers; the others pass through, written as
    text (numbers at full precision, null as an empty cell)."""

    def __init__(self, path: str, variables, batch_rows: int = 1 << 16):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UsageError("--parquet needs pyarrow: pip install 'bpcli[parquet]'") from None
        self.path, self.batch_rows = path, batch_rows
        try:
            self._file = pq.ParquetFile(path)
        except OSError as e:  # pyarrow's errors about the file itself are OSErrors too
            raise UsageError(f"cannot read --parquet file {path!r}: {e}") from None
        self.schema = self._file.schema_arrow
        self.names = list(self.schema.names)
        if len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise UsageError(f"--parquet file {path!r}: column '{dup}' appears twice")
        if self._file.metadata.num_rows == 0:
            raise UsageError(f"--parquet file {path!r} has no rows")
        self.columns = [name for name in self.names if name in variables]

    def __iter__(self):
        start = 0
        for batch in self._file.iter_batches(batch_size=self.batch_rows):
            yield arrow_chunk(batch, self.columns, self.path, start)
            start += batch.num_rows


def arrow_chunk(batch, columns: list[str], path: str, start: int):
    """(lines, points, n) from an Arrow record batch (or table): the variables' columns as
    doubles, every row as one CSV line of text."""
    cells = [[_cell(v) for v in batch.column(k).to_pylist()] for k in range(batch.num_columns)]
    names = batch.schema.names
    points = {}
    for name in columns:
        col = batch.column(names.index(name))
        try:
            values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)
        except (TypeError, ValueError):
            values = None
        if values is None or not np.isfinite(values).all():
            values = _numbers(cells[names.index(name)], name, path, start, option="--parquet")
        points[name] = values
    width = len(cells)
    lines = []
    for row in zip(*cells, strict=True):
        line = ",".join(row)
        if line.count(",") != width - 1 or '"' in line or "\n" in line or "\r" in line:
            line = _csv_line(row)  # a cell that needs quotes
        lines.append(line)
    return lines, points, batch.num_rows


def _cell(v) -> str:
    """One Parquet value as text: numbers as Python writes them, null as an empty cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)
