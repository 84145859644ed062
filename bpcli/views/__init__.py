"""Views of an evaluated graph. Each reads a Result and never recomputes any math."""

from __future__ import annotations


def num(v: float) -> float:
    """A number as bp prints it: the float itself, with -0.0 shown as 0.0."""
    return 0.0 if v == 0 else v


def short(v: float) -> str:
    """A number for pictures: up to 6 significant digits (full precision lives in plain/json)."""
    v = num(v)
    if v - v == 0 and v == int(v) and abs(v) < 1e15:  # v - v is nan for inf and nan
        return str(int(v))
    return f"{v:.6g}"
