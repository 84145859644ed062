"""The kinds of failure bp reports, each with its exit code (see CONTRACT.md)."""

from __future__ import annotations


class BpError(Exception):
    """An error shown to the user as one short message; `exit_code` is the process exit code."""

    exit_code = 2

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message = message
        #: extra lines shown under the message (the expression with a caret under the bad column)
        self.detail = detail


class UsageError(BpError):
    """Bad expression, missing or unknown variable, bad option: exit 2."""

    exit_code = 2


_WINDOW = 72  #: most characters of the source line a syntax error shows


class BpSyntaxError(UsageError):
    """The expression does not parse; `detail` holds the source line and a caret."""

    def __init__(self, message: str, source: str, line: int, column: int):
        lines = source.split("\n", line)  # not splitlines(): that walks all of a 20 MB source
        src_line = lines[line - 1].rstrip("\r") if len(lines) >= line else ""
        where = f"line {line}, column {column}" if "\n" in source.strip("\n") else f"column {column}"
        # a long line is shown as a window around the column, so the message stays short
        start = max(0, column - 1 - _WINDOW // 2)
        shown = src_line[start : start + _WINDOW]
        shown = ("..." if start else "") + shown + ("..." if start + _WINDOW < len(src_line) else "")
        shown = "".join(c if c.isprintable() or c == "\t" else "?" for c in shown)
        col = column - 1 - start + (3 if start else 0)
        # keep the source's tabs under the caret so it lines up however wide a tab is shown
        lead = "".join(c if c == "\t" else " " for c in shown[: max(col, 0)])
        caret = "  " + lead.ljust(max(col, 0)) + "^"
        src_line = shown
        super().__init__(f"syntax error at {where}: {message}", f"  {src_line}\n{caret}")
        self.line, self.column = line, column


class MathError(BpError):
    """A value or gradient is not finite (log of 0, division by 0, overflow, ...): exit 3."""

    exit_code = 3


class CheckFailed(BpError):
    """A check the user asked for did not pass (bp check, bp gradcheck): exit 1."""

    exit_code = 1


class OutputError(BpError):
    """Output could not be written (a full disk, a closed stream, an unwritable --out file): exit 4."""

    exit_code = 4
