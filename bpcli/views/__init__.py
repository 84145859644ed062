"""Views of an evaluated graph. Each reads a Result and never recomputes any math."""

from __future__ import annotations

from ..core.numbers import num, short

__all__ = ["num", "short"]
