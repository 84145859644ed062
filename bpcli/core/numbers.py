"""Numbers as bp writes them: in formulas and gate symbols (`number_text`), in output (`num`),
and in pictures and messages (`short`). The views' figure format (`views.common.fmt`) builds on these."""

from __future__ import annotations


def number_text(p: float) -> str:
    """A number as bp writes it in formulas and symbols: 2.0 -> 2, 0.5 -> 0.5, shortest repr.
    A formula cannot hold inf or nan (bp would read `inf` as a variable): that is a MathError."""
    if p - p != 0:  # inf or nan, e.g. a constant folded from 1e308*10
        from .errors import MathError

        raise MathError(f"math error: a constant of the formula is not finite ({p!r})")
    return repr(int(p)) if p == int(p) and abs(p) < 1e15 else repr(p)


def num(v: float):
    """A number as bp prints it: the float itself, with -0.0 shown as 0.0; an array as nested
    lists of such numbers (JSON's shape for it)."""
    if getattr(v, "ndim", None) is not None:  # a NumPy array or number
        return (v + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0 (entry by entry); a 0-d one is a float
    return 0.0 if v == 0 else v


def short(v: float) -> str:
    """A number for pictures: up to 6 significant digits (full precision lives in plain/json)."""
    v = num(v)
    if v - v == 0 and v == int(v) and abs(v) < 1e15:  # v - v is nan for inf and nan
        return str(int(v))
    return f"{v:.6g}"
