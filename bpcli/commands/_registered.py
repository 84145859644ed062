"""Imports every command module so each registers itself on the app (one line per command)."""

from . import descend  # noqa: F401, I001
from . import fit  # noqa: F401, I001
