"""Views of an evaluated graph. Each reads a Result and never recomputes any math."""

from __future__ import annotations


def num(v: float):
    """A number as bp prints it: the float itself, with -0.0 shown as 0.0; an array as nested
    lists of such numbers (JSON's shape for it)."""
    if getattr(v, "ndim", None) is not None:  # a NumPy array or number
        return (v + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0 (entry by entry); a 0-d one is a float
    return 0.0 if v == 0 else v


def short(v: float) -> str:
    """A number for pictures: up to 6 significant digits (full precision lives in plain/json)."""
    v = num(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"
