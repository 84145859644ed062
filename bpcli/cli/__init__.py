"""bp's command line: one module per command, each with its own Typer app; `app.build` joins them."""

from .app import main, run

__all__ = ["main", "run"]
