"""Standard output through one checked path.

CPython's buffered stdout can lose a short write: on a nearly full disk `write` and `flush` both
return normally while most of the text never reaches the file. So while a command runs,
`sys.stdout` is a `CheckedStdout`: text is encoded and handed to `os.write` in a loop that checks
every count, and any failure (a full disk, a closed stream) becomes an `OutputError` (exit 4).
A reader that goes away (`bp ... | head -1`, EPIPE) is not an error: the rest of the output is
dropped quietly and the command finishes with the exit code its work gave."""

from __future__ import annotations

import errno
import io
import os

from ..core.errors import OutputError

_CHUNK = 1 << 16  # text held before it is written (Rich prints a picture in many small pieces)


class CheckedStdout(io.TextIOBase):
    """A text stream over `stream` (the real stdout, or None when file descriptor 1 is closed)
    whose every write is checked. Call `flush()` at the end: it raises OutputError on failure."""

    def __init__(self, stream):
        self._stream = stream
        self._pending: list[str] = []
        self._size = 0
        #: the reader went away (EPIPE): everything after that is dropped
        self.reader_gone = False
        try:
            self._fd = stream.fileno() if stream is not None else None
            stream.flush()  # nothing written before the switch may come after what bp writes
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self._fd = None  # a StringIO (tests) or another stream without a descriptor
        self._tty = self.isatty()  # a terminal sees each piece as it comes

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self):
        return getattr(self._stream, "errors", None) or "strict"

    def isatty(self) -> bool:
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        if self._fd is None:
            raise io.UnsupportedOperation("fileno")
        return self._fd

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if isinstance(text, (bytes, bytearray)):  # click.echo may hand over bytes
            text = bytes(text).decode(self.encoding, "replace")
        if not self.reader_gone:
            self._pending.append(text)
            self._size += len(text)
            if self._size >= _CHUNK or self._tty:
                self.flush()
        return len(text)

    def flush(self) -> None:
        if not self._pending or self.reader_gone:
            self._pending, self._size = [], 0
            return
        text = "".join(self._pending)
        self._pending, self._size = [], 0
        if self._stream is None:
            raise OutputError("cannot write standard output: it is closed")
        try:
            if self._fd is None:
                self._stream.write(text if self.encoding.lower().startswith("utf") else _plain(text))
                self._stream.flush()
            else:
                _write_all(self._fd, encode(text, self.encoding, self.errors))
        except BrokenPipeError:
            self.reader_gone = True
        except OSError as e:
            if e.errno == errno.EPIPE:
                self.reader_gone = True
                return
            raise OutputError(f"cannot write standard output: {e.strerror or e}") from None


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is out; a write that makes no progress is an error."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, "no byte could be written")
        view = view[n:]


# What the pictures draw, in ASCII, for an output encoding that lacks it (PYTHONIOENCODING=ascii,
# some containers and CI logs): the picture falls back to ASCII lines instead of dying.
_ASCII = str.maketrans(
    {
        "├": "|", "└": "`", "│": "|", "─": "-", "┌": "+", "┐": "+", "┘": "+", "┬": "+", "┴": "+",
        "┼": "+", "━": "=", "┃": "|", "╇": "+", "╈": "+", "┏": "+", "┓": "+", "┗": "+", "┛": "+",
        "╍": "-", "┄": "-", "┅": "-", "╌": "-", "═": "=", "║": "|", "╡": "|", "╞": "|", "╪": "+",
        "↑": "^", "↓": "v", "←": "<-", "→": "->", "×": "x", "·": "*", "⋅": "*", "÷": "/", "−": "-",
        "≤": "<=", "≥": ">=", "≈": "~", "≠": "!=", "∂": "d", "σ": "sigma", "π": "pi", "²": "^2",
        "³": "^3", "ᵀ": "^T", "…": "...", "–": "-", "—": "-", "•": "*", "█": "#", "▏": "|",
    }
)  # fmt: skip


def _plain(text: str) -> str:
    """`text` in ASCII: the pictures' lines and symbols spelled out, anything else as '?'."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def encode(text: str, encoding: str, errors: str) -> bytes:
    """`text` in the stream's encoding; what it cannot hold (box lines in ASCII, a lone surrogate
    from undecodable input) is spelled in ASCII instead of raising UnicodeEncodeError."""
    try:
        return text.encode(encoding, errors)
    except (UnicodeEncodeError, LookupError):
        try:
            return text.translate(_ASCII).encode(encoding, "replace")
        except LookupError:
            return _plain(text).encode("ascii")
