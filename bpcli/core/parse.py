"""Text -> gate graph. The `_Build` callbacks run as the LALR parser reduces each rule, so the
graph is built during the parse, with no tree and no recursion: 10,000 nested brackets and
100,000-term sums parse on the parser's own stack.

grammar/bp.lark is the single source of truth. Lark compiles it into terminals and an LALR table
(cached on disk as JSON, so a warm start reads the tables instead of analysing the grammar), and bp
drives that table with a lean loop of its own (`_drive`): Lark's general-purpose lexer and
parser loop cost ~5 us per token, about 3x bp's loop, which is most of the time on a
100,000-term expression. tests/test_parse_fast.py checks both against each other.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

from .array_gates import ARRAY_FUNCTIONS
from .errors import BpSyntaxError, UsageError
from .gates import CONSTANTS, FUNCTIONS, GATES
from .graph import Graph

# names that are functions and nothing else; the array functions (sum, mean, dot, ...) came later,
# so a variable or statement may still be called `sum` or `mean` as before
_RESERVED = frozenset(FUNCTIONS) - frozenset(ARRAY_FUNCTIONS)

_HERE = Path(__file__).resolve().parent.parent  # bpcli/
# installed: shipped inside the package; from a source checkout: the repo's grammar/ folder
_GRAMMAR_PLACES = (_HERE / "grammar" / "bp.lark", _HERE.parent / "grammar" / "bp.lark")

_TOKEN_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "CALLNAME": "a function",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "TIMES": "'*'",
    "DIVIDE": "'/'",
    "POW": "'^'",
    "MATMUL": "'@'",
    "LSQB": "'['",
    "RSQB": "']'",
    "TRANSPOSE": "'ᵀ'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "EQUAL": "'='",
    "SEMICOLON": "';'",
    "NEWLINE": "a new line",
    "$END": "the end",
}


def grammar_path() -> Path:
    for place in _GRAMMAR_PLACES:
        if place.is_file():
            return place
    raise FileNotFoundError("bp.lark not found beside bpcli (is the package installed whole?)")


class _Pending(Exception):
    """Raised inside a parser callback; carries a message and the token it is about."""

    def __init__(self, message, token):
        super().__init__(message)
        self.message, self.token = message, token


class _Build:
    """Parser callbacks, named after the grammar's rules and aliases; each returns a node id."""

    def __init__(self):
        self.reset("")

    def reset(self, source: str) -> None:
        self.g = Graph(source)
        self.statements: list = []
        self.named: set[int] = set()  # nodes that carry a statement's name

    @staticmethod
    def _pos(tok):
        return (tok.line, tok.column)

    def number(self, c):
        (tok,) = c
        return self.g.const(float(tok.value), (tok.line, tok.column))

    def name(self, c):
        (tok,) = c
        s = tok.value
        g = self.g
        node = g.var_ids.get(s)  # the common case first: a variable seen before
        if node is not None:
            return node
        if s in g.names:
            return g.names[s]
        if s in CONSTANTS:
            return g.const(CONSTANTS[s], (tok.line, tok.column))
        if s in _RESERVED:
            raise _Pending(f"'{s}' is a function: write {s}(...)", tok)
        return g.var(s, (tok.line, tok.column))

    def call(self, c):
        tok, *args = c
        args = [a for a in args if a is not None]
        s = tok.value
        op = FUNCTIONS.get(s)
        if op is None:
            import difflib

            near = difflib.get_close_matches(s, list(FUNCTIONS), n=1, cutoff=0.6)
            hint = f": did you mean {near[0]}?" if near else ""
            raise _Pending(f"unknown function '{s[:40]}'{hint} (to multiply, write {s[:40]}*(...))", tok)
        if op in ("max", "min") and len(args) == 1:  # max(a): the largest entry of an array
            return self.g.gate("a" + op, *args, pos=self._pos(tok))
        if op in ("sum", "mean") and len(args) == 2:  # sum(a, k): along axis k, a whole number
            axis = args[1]
            g = self.g
            if g.ops[axis] != "const" or g.params[axis] != int(g.params[axis]):
                raise _Pending(f"the axis of {s}(a, k) must be a whole number such as 0 or -1", tok)
            k = g.params[axis]
            if axis == len(g.ops) - 1 and axis not in self.named:  # the literal becomes the parameter
                for column in (g.ops, g.args, g.params, g.pos):
                    column.pop()
            return g.gate(op, args[0], param=k, pos=self._pos(tok))
        arity = GATES[op].arity
        if arity and len(args) != arity:
            n = "argument" if arity == 1 else "arguments"
            raise _Pending(f"{s} takes {arity} {n}, got {len(args)}", tok)
        if not arity and len(args) < 2:
            raise _Pending(f"{s} takes two or more arguments, got {len(args)}", tok)
        return self.g.gate(op, *args, pos=self._pos(tok))

    def _binary(op):
        def build(self, c):  # the hot path of a long sum: Graph._add's appends, inlined
            left, tok, right = c
            g = self.g
            g.ops.append(op)
            g.args.append((left, right))
            g.params.append(None)
            g.pos.append((tok.line, tok.column))
            return len(g.ops) - 1

        return build

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")
    pow = _binary("pow")

    matmul = _binary("matmul")

    def index(self, c):
        base, tok, *idx = c
        return self.g.gate("index", base, *idx, pos=self._pos(tok))

    def transpose(self, c):
        base, tok = c
        return self.g.gate("transpose", base, pos=self._pos(tok))

    def imul(self, c):
        left, right = c
        return self.g.gate("mul", left, right, pos=None)

    def neg(self, c):
        tok, x = c
        g = self.g
        if g.ops[x] == "const" and x == len(g.ops) - 1 and x not in self.named:
            # a signed literal such as -3 is one constant, not a gate
            g.params[x] = -g.params[x]
            g.pos[x] = self._pos(tok)
            return x
        return g.gate("neg", x, pos=self._pos(tok))

    def pos(self, c):
        return c[1]

    def assign(self, c):
        tok, node = c
        s = tok.value
        g = self.g
        if s in CONSTANTS:
            raise _Pending(f"'{s}' is a constant and cannot be assigned", tok)
        if s in _RESERVED:
            raise _Pending(f"'{s}' is a function and cannot be assigned", tok)
        if s in g.names:
            raise _Pending(f"'{s}' is assigned twice", tok)
        if s in g.var_ids:
            raise _Pending(f"'{s}' is used before it is assigned", tok)
        if g.ops[node] in ("var", "const") or node in self.named:
            # `q = x`, `q = 2`, `q = p`: q is its own node (an identity gate), so df/dq is the
            # gradient at q, not the gradient of the input or name it copies
            node = g.gate("id", node, pos=self._pos(tok))
        g.names[s] = node
        self.named.add(node)
        self.statements.append((s, node, tok))
        return node

    def output(self, c):
        (node,) = c
        self.statements.append((None, node, None))
        return node

    def start(self, c):
        return self.g


_CACHE_NAME = "grammar-tables-{}.json"  # keyed: bp versions side by side keep their own
_CACHE_LIMIT = 4 << 20  # the tables are ~100 KB; anything much larger is not bp's file


def _cache_folder() -> str | None:
    """$XDG_CACHE_HOME/bp (or ~/.cache/bp), created private (0700); None when it cannot be made
    or is not bp's own: a symlink, another account's, or writable by others. A relative
    XDG_CACHE_HOME is ignored, as the XDG spec says."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    folder = os.path.join(base, "bp")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    return folder


def _cache_key(text: str) -> str:
    """The cache's key: the grammar's text and Lark's version (either changes the tables)."""
    import hashlib

    import lark

    return hashlib.sha256(f"bp-cache-1\0{lark.__version__}\0{text}".encode()).hexdigest()


def _cache_file(key: str) -> str | None:
    """The grammar cache's path for `key`, or None when there is no private cache folder."""
    folder = _cache_folder()
    return None if folder is None else os.path.join(folder, _CACHE_NAME.format(key[:16]))


# The cache is JSON, never a pickle: Lark's own `cache=` unpickles its file before checking its
# hash, so a planted file ran code. JSON has no tuples and no integer keys, so both are tagged.
def _to_json(x):
    if isinstance(x, dict):
        if all(isinstance(k, str) for k in x):
            return {k: _to_json(v) for k, v in x.items()}
        return {"__pairs__": [[_to_json(k), _to_json(v)] for k, v in x.items()]}
    if isinstance(x, tuple):
        return {"__tuple__": [_to_json(v) for v in x]}
    if isinstance(x, list):
        return [_to_json(v) for v in x]
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise TypeError(f"cannot cache a {type(x).__name__}")


def _from_json(d: dict):
    if len(d) == 1 and "__pairs__" in d:
        return {k: v for k, v in d["__pairs__"]}
    if len(d) == 1 and "__tuple__" in d:
        return tuple(d["__tuple__"])
    return d


def _read_cache(path: str, key: str):
    """The cached Lark tables for `key`, or None (see `_read_cache_bytes`)."""
    data = _read_cache_bytes(path)
    return None if data is None else _decode_cache(data, key)


def _read_cache_bytes(path: str) -> bytes | None:
    """The cache file's bytes, or None. Only a regular file of this account's, not a link, of
    bounded size is read; a FIFO or a device is refused without waiting on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size > _CACHE_LIMIT:
            return None
        return os.read(fd, _CACHE_LIMIT + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def _decode_cache(data: bytes, key: str):
    """The tables in a cache file's bytes if they are for `key` (plain JSON: nothing runs)."""
    import json

    try:
        doc = json.loads(data, object_hook=_from_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    return doc.get("lark")


def _write_cache(path: str | None, key: str, lark_data) -> bytes:
    """Write the cache beside `path` and rename it into place (a link at `path` is replaced, its
    target never written); any failure leaves no cache, which only costs the next start-up.
    Returns the file's bytes (what `_decode_cache` reads)."""
    import json
    import tempfile

    data = json.dumps({"key": key, "lark": _to_json(lark_data)}, separators=(",", ":")).encode()
    if path is None:
        return data
    folder = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".grammar-", suffix=".tmp")  # 0600, O_EXCL
    except OSError:
        return data
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError("no progress")
            view = view[written:]
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return data


# Each thread gets its own parser and builder: the callbacks fill one `_Build`, and two threads
# sharing it corrupted each other's graphs. The compiled tables are read from disk once.
_PER_THREAD = threading.local()
_SHARED_LOCK = threading.Lock()
_SHARED: dict = {}


def _lark():
    """This thread's Lark LALR parser for grammar/bp.lark, its callbacks bound to this thread's
    `_Build` (parse() resets the builder before each parse)."""
    made = getattr(_PER_THREAD, "lark", None)
    if made is None:
        made = _PER_THREAD.lark = _make_lark()
    return made


def _make_lark():
    """A new parser and builder. The compiled tables are cached as JSON in the user's cache
    folder, keyed by the grammar's text and Lark's version; a process reads them once."""
    from lark import Lark

    first = None  # the tables this thread decoded while checking the file: used, not decoded again
    with _SHARED_LOCK:
        if "text" not in _SHARED:
            text = grammar_path().read_text(encoding="utf-8")
            key = _cache_key(text)
            path = _cache_file(key)
            _SHARED.update(text=text, key=key, path=path, tables=None)
            raw = _read_cache_bytes(path) if path else None
            first = _decode_cache(raw, key) if raw is not None else None
            if first is not None:
                _SHARED["tables"] = raw  # each other thread decodes its own copy
        text, key, path, tables = _SHARED["text"], _SHARED["key"], _SHARED["path"], _SHARED["tables"]
    build = _Build()
    if tables is not None:
        try:
            cached = first if first is not None else _decode_cache(tables, key)
            return Lark._load_from_dict(cached["data"], cached["memo"], transformer=build), build
        except Exception:  # a damaged or foreign file: compile the grammar again  # noqa: BLE001
            pass
    parser = Lark(text, parser="lalr", lexer="contextual", transformer=build, maybe_placeholders=True)
    written = _write_cache(path, key, _serialize(parser))  # path None: only kept for other threads
    with _SHARED_LOCK:
        _SHARED["tables"] = written
    return parser, build


def _serialize(parser):
    """What `Lark.save` pickles, as plain data: the tables, without the load-time options."""
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {n: v for n, v in data["options"].items() if n not in _LOAD_ALLOWED_OPTIONS}
    return {"data": data, "memo": memo}


class _Tok:
    """A token: what the callbacks and error messages read (Lark's Token costs ~1 us to make)."""

    __slots__ = ("type", "value", "start_pos", "line", "column")

    def __init__(self, type_, value, start_pos, line, column):
        self.type, self.value, self.start_pos, self.line, self.column = type_, value, start_pos, line, column


class _Tables:
    """Lark's compiled grammar in the shape the lean loop wants."""

    def __init__(self, parser):
        conf = parser.lexer_conf
        # Lark's own terminal order (priority, then longest match first), as one regex
        terms = sorted(
            conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)
        )
        self.match = re.compile(
            "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms), conf.g_regex_flags
        ).match
        self.ignore = frozenset(conf.ignore)
        self.newline_types = frozenset(t.name for t in terms if "\n" in t.pattern.to_regexp())
        lalr = parser.parser.parser.parser  # frontend -> LALR_Parser -> _Parser
        table, callbacks = lalr.parse_table, lalr.callbacks
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        # per state: {symbol: next state (shift, an int) | (size, callback or None, rule name) (reduce)}
        self.states = {}
        for state, row in table.states.items():
            acts = {}
            for sym, (action, arg) in row.items():
                if action.name == "Shift":
                    acts[sym] = arg
                else:
                    size = len(arg.expansion)
                    # a ?rule with one kept child passes its child through unchanged: no call
                    through = size == 1 and arg.options.expand1 and arg.alias is None
                    acts[sym] = (size, None if through else callbacks[arg], arg.origin.name)
            self.states[state] = acts
        self.token_callbacks = {k: v for k, v in callbacks.items() if isinstance(k, str)}

    def tokens(self, text):
        """The tokens of `text` (ignored ones dropped), then the end marker."""
        match, ignore, newline_types = self.match, self.ignore, self.newline_types
        pos, line, line_start, end = 0, 1, 0, len(text)
        while pos < end:
            m = match(text, pos)
            if m is None:
                from lark.exceptions import UnexpectedCharacters

                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1)
            kind, nxt = m.lastgroup, m.end()
            if kind not in ignore:
                yield _Tok(kind, m.group(), pos, line, pos - line_start + 1)
            if kind in newline_types:
                line += text.count("\n", pos, nxt)
                line_start = text.rfind("\n", pos, nxt) + 1
            pos = nxt
        yield _Tok("$END", "", end, line, end - line_start + 1)


def _drive(tables: _Tables, text: str):
    """The LALR loop: shift each token, reduce by the table, call the rule's callback."""
    states, end_state, token_callbacks = tables.states, tables.end, tables.token_callbacks
    stack = [tables.start]
    values: list = []
    for tok in tables.tokens(text):
        kind = tok.type
        while True:
            act = states[stack[-1]].get(kind)
            if act is None:
                from lark.exceptions import UnexpectedToken

                expected = {s for s in states[stack[-1]] if s.isupper()}
                raise UnexpectedToken(tok, expected)
            if act.__class__ is int:  # shift
                stack.append(act)
                values.append(token_callbacks[kind](tok) if kind in token_callbacks else tok)
                break
            size, callback, rule = act
            if callback is None:  # pass-through: the value stays, only the state changes
                stack.pop()
            else:
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                else:
                    children = []
                values.append(callback(children))
            stack.append(states[stack[-1]][rule])
            if kind == "$END" and stack[-1] == end_state:
                return values[-1]


#: the Lark releases whose internals `_Tables` reads (parse table, callbacks, terminals); with
#: any other, bp parses with Lark's own lexer and loop (slower, same graphs)
LEAN_DRIVER_LARK = ("1.1", "1.2", "1.3")


def _tables():
    """This thread's tables for the lean loop, or (None, build) to use Lark's own parser."""
    made = getattr(_PER_THREAD, "tables", None)
    if made is None:
        made = _PER_THREAD.tables = _make_tables()
    return made


def _make_tables():
    import lark

    parser, build = _lark()
    if ".".join(lark.__version__.split(".")[:2]) not in LEAN_DRIVER_LARK:
        return None, build
    try:
        return _Tables(parser), build
    except (AttributeError, KeyError, TypeError):  # a Lark whose internals moved: use its own loop
        return None, build


def parse(source: str) -> Graph:
    """Parse an expression or staged program into a gate graph.

    Raises BpSyntaxError (exit 2) with the line and column of the first problem.
    """
    if not source.strip():
        # nothing to point a caret at: one line, no echo of a blank expression
        raise UsageError("the expression is empty")
    tables, build = _tables()
    if tables is None:
        return _parse_with_lark(source)
    return _parse_with(lambda: _drive(tables, source), build, source)


def _parse_with_lark(source: str) -> Graph:
    """The same parse through Lark's own lexer and LALR loop (the reference for tests)."""
    parser, build = _lark()
    return _parse_with(lambda: parser.parse(source), build, source)


def _parse_with(run, build: _Build, source: str) -> Graph:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    build.reset(source)
    try:
        run()
    except _Pending as e:
        raise BpSyntaxError(e.message, source, e.token.line, e.token.column) from None
    except UnexpectedCharacters as e:
        ch = source[e.pos_in_stream] if 0 <= e.pos_in_stream < len(source) else "?"
        raise BpSyntaxError(f"unexpected character {ch!r}", source, e.line, e.column) from None
    except (UnexpectedToken, UnexpectedEOF) as e:
        tok = getattr(e, "token", None)
        expected = sorted({_TOKEN_WORDS.get(t, t) for t in (e.expected or ()) if not t.startswith("_")})
        if tok is None or tok.type == "$END":
            line, col = _end_position(source)
            what = "unexpected end of expression"
        else:
            line, col = tok.line, tok.column
            what = f"unexpected {tok.value!r}" if tok.type != "NEWLINE" else "unexpected end of line"
        hint = f"; expected {', '.join(expected[:6])}" if expected else ""
        raise BpSyntaxError(what + hint, source, line, col) from None
    except UnexpectedInput as e:  # pragma: no cover - any other Lark parse error
        raise BpSyntaxError(str(e).splitlines()[0], source, e.line, e.column) from None
    g = build.g
    _finish(build, source)
    return g


def _end_position(source: str) -> tuple[int, int]:
    text = source.rstrip()
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _finish(build: _Build, source: str) -> None:
    g = build.g
    stmts = build.statements
    if not stmts:
        raise UsageError("the expression is empty (it holds only comments or separators)")
    for name, node, _tok in stmts[:-1]:
        if name is None:
            raise BpSyntaxError(
                "only the last statement may be a bare expression; name the others (q = ...)",
                source,
                *_statement_position(g, node),
            )
    name, node, _ = stmts[-1]
    g.output = node
    if name is not None:
        del g.names[name]  # the last statement's name is the output, not an intermediate
        g.output_name = name


def _statement_position(g: Graph, node: int) -> tuple[int, int]:
    pos = g.pos[node]
    return pos if pos is not None else (1, 1)
