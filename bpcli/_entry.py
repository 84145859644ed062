"""The console script's first module (`bp` and `python -m bpcli`): Ctrl-C handling starts here,
before Typer, Lark or NumPy load, so an interrupt at any moment is `bp: interrupted` and exit 130
(a KeyboardInterrupt raised mid-import printed a traceback). Importing bpcli as a library does
not touch the signal handlers."""

import os
import signal


def _interrupted(signum, frame):
    # at once, from wherever the interpreter is: no cleanup can print a traceback or exit 0
    try:
        os.write(2, b"bp: interrupted\n")
    except OSError:
        pass
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted)


def run() -> None:
    """Console-script entry point."""
    from .cli.app import run as run_cli

    run_cli()
