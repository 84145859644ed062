"""Variable bindings from the command line (`--x 2`, `--x=2`, `x=2`) and from `--vars FILE`.

A value is a number (a Python float, as always), or an array: `2,-3,-3` (a vector), JSON text
of any rank (`[[1,2],[3,4]]`), `@FILE` (`.npy`, headerless `.csv`, `.json`), or a list in a
`--vars` JSON object. NumPy is loaded only when an array is given.
"""

from __future__ import annotations

import json
import math
import re
import sys

from ..core.errors import UsageError

_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|[\u0391-\u03a9\u03b1-\u03c9])"
_ASSIGN = re.compile(rf"^({_NAME})=(.*)$", re.S)
_OPTION = re.compile(rf"^--({_NAME})(?:=(.*))?$", re.S)


def _shown(text) -> str:
    """A value as a message quotes it: cut short, so a bad file does not flood the terminal."""
    r = repr(text)
    return r if len(r) <= 60 else r[:57] + "..."


def _cut(text: str, most: int = 60) -> str:
    """User text as a message shows it: control characters escaped, cut short."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: most + 1])
    return shown if len(shown) <= most else shown[: most - 3] + "..."


def number(name: str, text) -> float:
    """A binding's value as a finite IEEE double, or a UsageError naming the variable."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UsageError(f"the value of '{name}' is not a number: {_shown(text)}")
    if isinstance(text, str):
        cleaned = text.strip().replace("\u2212", "-")
        try:
            value = float(cleaned)
        except ValueError:
            raise UsageError(f"the value of '{name}' is not a number: {_shown(text)}") from None
    else:
        try:
            value = float(text)
        except OverflowError:  # a JSON integer beyond any double
            raise UsageError(f"the value of '{name}' is not a finite number: {_shown(text)}") from None
    if not math.isfinite(value):
        raise UsageError(f"the value of '{name}' is not a finite number: {_shown(text)}")
    return value


def value(name: str, text):
    """A binding's value: a finite number (float) or a finite array of numbers (float64).
    Labels are arrays too: indexing accepts any array whose entries are whole numbers."""
    if isinstance(text, list):
        return _array(name, text)
    if isinstance(text, str):
        t = text.strip()
        if t.startswith("@"):
            return _array_file(name, t[1:])
        if t.startswith("["):
            try:
                data = json.loads(t)
            except json.JSONDecodeError as e:
                raise UsageError(
                    f"the value of '{name}' is not valid JSON: {e.msg} at column {e.colno}"
                ) from None
            return _array(name, data)
        if "," in t:
            return _array(name, [number(f"{name}[{k}]", part) for k, part in enumerate(t.split(","))])
    return number(name, text)


def _array(name: str, data):
    """JSON data (nested lists of numbers) as a float64 array, checked finite and rectangular."""
    import numpy as np

    if not isinstance(data, list):
        return number(name, data)
    try:
        arr = np.array(data, dtype=float)
    except (ValueError, TypeError):
        raise UsageError(
            f"the value of '{name}' is not an array of numbers (nested lists of equal length): {_shown(data)}"
        ) from None
    if not np.all(np.isfinite(arr)):
        raise UsageError(f"the value of '{name}' holds a number that is not finite")
    return arr


def _array_file(name: str, path: str):
    """`@FILE` for a binding: a .npy array, a headerless .csv of numbers, or a .json value."""
    import numpy as np

    kind = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    if kind not in ("npy", "csv", "json"):
        raise UsageError(f"--{name} @{path}: expected a .npy, .csv or .json file")
    try:
        if kind == "npy":
            arr = np.load(path, allow_pickle=False)  # never unpickle a file a user was sent
        elif kind == "csv":
            arr = np.loadtxt(path, delimiter=",", ndmin=1, dtype=float)
        else:
            with open(path, encoding="utf-8") as f:
                return _array(name, json.load(f))
    except OSError as e:
        raise UsageError(f"--{name} @{path}: cannot read it: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(f"--{name} @{path}: not a {kind} file of numbers ({_shown(first)})") from None
    if arr.dtype.kind not in "fiub":
        raise UsageError(f"--{name} @{path}: holds {arr.dtype} values, not numbers")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise UsageError(f"--{name} @{path}: holds a number that is not finite")
    return arr if arr.ndim else float(arr)


def _put(bindings: dict, name: str, text, where: str) -> None:
    if name in bindings:
        raise UsageError(f"'{name}' is bound twice ({where})")
    bindings[name] = value(name, text)


def closest(word: str, known) -> str | None:
    """The known word closest to `word` (a mistyped option or function name), or None."""
    import difflib

    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
    return found[0] if found else None


def split_words(words: list[str], options=()) -> tuple[str | None, dict[str, float]]:
    """Split `bp eval`'s free words into the expression and its bindings.

    `--name VALUE` takes the next word as its value whatever it looks like (so `--y -3` works),
    `--name=VALUE` and `name=VALUE` bind in one word, and the one remaining word is the expression.
    `options` are the command's own option names (`--format`, ...): a `--name` close to one whose
    value is not a number is a mistyped option, and the message names the option.
    """
    expr: str | None = None
    bindings: dict[str, float] = {}
    i = 0
    while i < len(words):
        word = words[i]
        opt = _OPTION.match(word)
        if opt:
            name, value = opt.group(1), opt.group(2)
            if value is None:
                if i + 1 >= len(words):
                    raise UsageError(f"--{name} needs a value (as in --{name} 2)")
                value = words[i + 1]
                i += 1
            near = closest(f"--{name}", options) if options and len(name) >= 3 else None
            if near is not None and not _looks_like_value(value):
                raise UsageError(f"no such option: --{name} (did you mean {near}?)")
            _put(bindings, name, value, "on the command line")
        elif word.startswith("--") and len(word) > 2 and (word[2].isalpha() or word[2] == "_"):
            flag = word.split("=")[0]
            near = closest(flag, options) if options else None
            raise UsageError(f"no such option: {_cut(flag)}" + (f" (did you mean {near}?)" if near else ""))
        # any other word starting with '--' (`--3`, `---x`, `--(x+1)`) is an expression
        elif _ASSIGN.match(word) and _looks_like_value(_ASSIGN.match(word).group(2)):
            m = _ASSIGN.match(word)
            _put(bindings, m.group(1), m.group(2), "on the command line")
        elif expr is None:
            expr = word
        else:
            raise UsageError(
                f"more than one expression given: '{_cut(expr)}' and '{_cut(word)}' (quote the expression)"
            )
        i += 1
    return expr, bindings


def _looks_like_value(text: str) -> bool:
    """`x=2`, `w=2,-3,-3`, `W=[[1,2]]`, `X=@data.npy` bind; `q=x+y` is an expression."""
    t = text.strip()
    if t.startswith(("[", "@")):
        return True
    return all(_looks_like_number(part) for part in t.split(",")) if "," in t else _looks_like_number(t)


def _looks_like_value(text: str) -> bool:
    """A binding's value: a number, an array (`2,-3`, JSON `[...]`) or a file (`@data.npy`)."""
    text = text.strip()
    if text.startswith(("[", "@")):
        return True
    return all(_looks_like_number(part) for part in text.split(","))


def _looks_like_number(text: str) -> bool:
    try:
        float(text.strip().replace("\u2212", "-"))
    except ValueError:
        return False
    return True


def read_vars(path: str) -> dict[str, float]:
    """Bindings from a file: a JSON object, or `name=value` lines (`#` comments allowed)."""
    if path == "-" and sys.stdin is None:
        raise UsageError("cannot read --vars from standard input: it is closed")
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors write
    except OSError as e:
        raise UsageError(f"cannot read --vars file {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--vars file {path!r} is not UTF-8 text") from None
    bindings: dict[str, float] = {}
    if text.lstrip().startswith(("{", "[")):  # JSON; an array gets the "JSON object" message
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"--vars file {path!r} is not valid JSON: {e.msg} at line {e.lineno}") from None
        except (ValueError, RecursionError) as e:  # an integer of 5,000 digits, nesting too deep
            raise UsageError(f"--vars file {path!r}: {_cut(str(e))}") from None
        if not isinstance(data, dict):
            raise UsageError(f"--vars file {path!r} must hold a JSON object of name: number")
        for name, value in data.items():
            _put(bindings, str(name), value, f"in {path}")
        return bindings
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(rf"^({_NAME})\s*[=:]\s*(.*)$", line)
        if not m:
            raise UsageError(f"--vars file {path!r}, line {lineno}: expected name=value, got {line!r}")
        _put(bindings, m.group(1), m.group(2), f"in {path}")
    return bindings
