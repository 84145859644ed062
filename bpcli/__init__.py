"""bp: a command-line expression differentiator that shows backpropagation at work.

The Python API (README "Python API"); `import bpcli` stays cheap, everything loads on first use:

- `evaluate(text, bindings)` -> `Result`: `value`, `gradient`, `intermediates`, `hessian()`;
- `diff(text, wrt=None, order=1)` -> the derivatives as bp expressions;
- `evaluate_batch(text, arrays)` -> value and gradient at many points at once (NumPy);
- errors are exceptions carrying the CLI's messages: `BpError` and its kinds `UsageError`,
  `BpSyntaxError`, `MathError`.
"""

__version__ = "0.1.0"

__all__ = [
    "BpError",
    "BpSyntaxError",
    "MathError",
    "Result",
    "UsageError",
    "__version__",
    "diff",
    "evaluate",
    "evaluate_batch",
    "parse",
]

#: name -> (module, attribute), imported on first use
_LAZY = {
    "evaluate": ("bpcli.core.engine", "evaluate"),
    "Result": ("bpcli.core.engine", "Result"),
    "parse": ("bpcli.core.parse", "parse"),
    "evaluate_batch": ("bpcli.api", "evaluate_batch"),
    "diff": ("bpcli.api", "diff"),
    "BpError": ("bpcli.core.errors", "BpError"),
    "UsageError": ("bpcli.core.errors", "UsageError"),
    "BpSyntaxError": ("bpcli.core.errors", "BpSyntaxError"),
    "MathError": ("bpcli.core.errors", "MathError"),
}


def __getattr__(name):
    # keep `import bpcli` free of work: the engine and parser load on first use
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'bpcli' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
