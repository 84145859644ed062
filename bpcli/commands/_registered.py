"""Imports every command module so each registers itself on the app (one line per command)."""

# isort: off
from . import check  # noqa: F401
from . import explain  # noqa: F401
from . import gradcheck  # noqa: F401
from . import descend  # noqa: F401
from . import fit  # noqa: F401
from . import plot  # noqa: F401
# isort: on
