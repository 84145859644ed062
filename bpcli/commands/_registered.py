"""Imports every command module so each registers itself on the app (one line per command)."""

from . import plot  # noqa: F401
