"""Text -> gate graph. Lark's LALR parser calls the `_Build` callbacks as it reduces each rule,
so the graph is built during the parse, with no tree and no recursion: 10,000 nested brackets
and 100,000-term sums parse on Lark's own stack."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .errors import BpSyntaxError, UsageError
from .gates import CONSTANTS, FUNCTIONS, GATES
from .graph import Graph

_HERE = Path(__file__).resolve().parent
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
        return self.g.const(float(tok), self._pos(tok))

    def name(self, c):
        (tok,) = c
        s = str(tok)
        if s in self.g.names:
            return self.g.names[s]
        if s in CONSTANTS:
            return self.g.const(CONSTANTS[s], self._pos(tok))
        if s in FUNCTIONS:
            raise _Pending(f"'{s}' is a function: write {s}(...)", tok)
        return self.g.var(s, self._pos(tok))

    def call(self, c):
        tok, *args = c
        args = [a for a in args if a is not None]
        s = str(tok)
        op = FUNCTIONS.get(s)
        if op is None:
            hint = f" (to multiply, write {s}*(...))" if s not in FUNCTIONS else ""
            raise _Pending(f"unknown function '{s}'{hint}", tok)
        arity = GATES[op].arity
        if arity and len(args) != arity:
            n = "argument" if arity == 1 else "arguments"
            raise _Pending(f"{s} takes {arity} {n}, got {len(args)}", tok)
        if not arity and len(args) < 2:
            raise _Pending(f"{s} takes two or more arguments, got {len(args)}", tok)
        return self.g.gate(op, *args, pos=self._pos(tok))

    def _binary(op):
        def build(self, c):
            left, tok, right = c
            return self.g.gate(op, left, right, pos=self._pos(tok))

        return build

    add = _binary("add")
    sub = _binary("sub")
    mul = _binary("mul")
    div = _binary("div")
    pow = _binary("pow")

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
        s = str(tok)
        g = self.g
        if s in CONSTANTS:
            raise _Pending(f"'{s}' is a constant and cannot be assigned", tok)
        if s in FUNCTIONS:
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


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark

    build = _Build()
    # The callbacks are bound once, to this one builder; parse() resets it before each parse.
    parser = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        transformer=build,
        maybe_placeholders=True,
    )
    return parser, build


def parse(source: str) -> Graph:
    """Parse an expression or staged program into a gate graph.

    Raises BpSyntaxError (exit 2) with the line and column of the first problem.
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    if not source.strip():
        # nothing to point a caret at: one line, no echo of a blank expression
        raise UsageError("the expression is empty")
    parser, build = _parser()
    build.reset(source)
    try:
        parser.parse(source)
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
            what = f"unexpected {str(tok)!r}" if tok.type != "NEWLINE" else "unexpected end of line"
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


def _statement_position(g: Graph, node: int) -> tuple[int, int]:
    pos = g.pos[node]
    return pos if pos is not None else (1, 1)
