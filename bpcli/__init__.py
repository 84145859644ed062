"""bp: a command-line expression differentiator that shows backpropagation at work.

Python API::

    from bpcli import evaluate
    r = evaluate("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    r.value, r.gradient      # -12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "parse"]


def __getattr__(name):
    # keep `import bpcli` free of work: the engine and parser load on first use
    if name == "evaluate":
        from .core.engine import evaluate

        return evaluate
    if name == "parse":
        from .core.parse import parse

        return parse
    raise AttributeError(name)
