"""Imports every command module so each registers itself on the app (one line per command)."""

from . import check  # noqa: F401, I001
from . import explain  # noqa: F401
from . import gradcheck  # noqa: F401
