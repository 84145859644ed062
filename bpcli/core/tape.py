"""Batch passes as a tape: the engine's pass over one chunk, recorded once, replayed on every chunk.

`record` runs the engine's own forward and backward once, on stand-ins (`Wire`) for a chunk's
arrays: every NumPy call that the gate table's code makes on them is written down, with its
operands, in order. `Tape.play` makes the same calls on each chunk, so every number is the one
the engine computes on arrays, bit for bit (tests/test_tape.py holds every gate to that). What
changes is where the results go: into buffers of the pass, each reused as soon as no later call
reads it (a pass's arrays then stay in the CPU's caches, and nothing is allocated), or straight
into the output arrays; calls whose result nothing reads are left out; and none of the engine's
per-node Python work is done again for each chunk.

Whatever a stand-in cannot follow (a NumPy function that is not an elementwise ufunc, a Python
`if` on an array) raises `Untraceable`, and batch mode runs the engine on each chunk instead.
"""

from __future__ import annotations

import numpy as np

from .engine import backward, forward
from .gates import GATES, NumpyMath
from .graph import Graph


class Untraceable(Exception):
    """The engine did something with a stand-in that a tape cannot replay."""


class Wire(np.lib.mixins.NDArrayOperatorsMixin):
    """A stand-in for one chunk-long array: `slot` numbers it on its tape. Python's operators
    reach `__array_ufunc__` through NumPy's mixin with the operands in the order an ndarray's
    own operators give them (`1 - w` is subtract(1, w)), so the tape calls what NumPy would."""

    __slots__ = ("tape", "slot", "dtype")

    def __init__(self, tape: Tape, slot: int, dtype: np.dtype):
        self.tape, self.slot, self.dtype = tape, slot, dtype

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc.nout != 1 or {"out", "where"} & kwargs.keys():
            raise Untraceable(f"{ufunc.__name__}.{method}")
        return self.tape.call(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        raise Untraceable(func.__name__)

    def __array__(self, *args, **kwargs):
        raise Untraceable("an array made of a stand-in")

    def __bool__(self):
        raise Untraceable("a Python test on an array")

    def astype(self, dtype):
        return self.tape.cast(self, np.dtype(dtype))


_UFUNC, _UNARY, _BINARY, _SELECT, _CAST = 0, 1, 2, 3, 4


class Tape:
    """The calls of one pass, in order: (kind, function, operands, keywords, result slot)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.dtypes: list[np.dtype] = []  #: per slot
        self.inputs: dict[str, int] = {}  #: variable -> its slot (a view of the chunk's column)

    def input(self, name: str) -> Wire:
        w = self._wire(np.dtype(np.float64))
        self.inputs[name] = w.slot
        return w

    def _wire(self, dtype) -> Wire:
        self.dtypes.append(np.dtype(dtype))
        return Wire(self, len(self.dtypes) - 1, self.dtypes[-1])

    def _record(self, kind, fn, operands, kwargs, dtype) -> Wire:
        out = self._wire(dtype)
        self.calls.append((kind, fn, tuple(operands), kwargs, out.slot))
        return out

    def call(self, ufunc, operands, kwargs) -> Wire:
        if any(isinstance(x, np.ndarray) and x.ndim for x in operands):
            raise Untraceable("an array that is not a stand-in")
        # the result's type, from the same call on one-element arrays of the operands' types
        probe = [np.zeros(1, x.dtype) if isinstance(x, Wire) else x for x in operands]
        with np.errstate(all="ignore"):
            dtype = ufunc(*probe, **kwargs).dtype
        return self._record(_UFUNC, ufunc, operands, kwargs, dtype)

    def cast(self, w: Wire, dtype) -> Wire:
        return self._record(_CAST, None, (w,), {}, dtype)

    def select(self, cond, a, b):
        for x in (a, b):
            if isinstance(x, Wire) and x.dtype != np.float64:
                raise Untraceable("where() of non-float arrays")
        return self._record(_SELECT, None, (cond, a, b), {}, np.float64)


class _TraceMath(NumpyMath):
    """NumpyMath whose `where` is written on the tape (batch mode's branch-free select)."""

    def __init__(self, tape: Tape):
        super().__init__()
        self.tape = tape
        self.where = self._where

    def _where(self, cond, a, b):
        if isinstance(cond, Wire):
            if cond.dtype != np.bool_:
                raise Untraceable("where() on a condition that is not boolean")
            return self.tape.select(cond, a, b)
        if isinstance(cond, (bool, np.bool_)):  # a test on constants: the same numbers as np.where
            return a if cond else b
        raise Untraceable("where() on a condition that is not boolean")


class Plan:
    """A tape made ready to play: calls nobody reads dropped, a buffer for each result (shared by
    results whose lives do not overlap), and the outputs' results written into the outputs.

    `outputs` maps each output's key to its result; `keep` maps graph nodes to results that must
    outlive the pass (the kink check reads them); `carries` is, per node, True where the gate
    sends gradient down its wires and None elsewhere (as the kink check reads the engine's
    `contribs`)."""

    def __init__(self, tape: Tape, outputs: dict, keep: dict, carries: list):
        self.inputs = tape.inputs
        self.carries = carries
        wanted = {v.slot for v in [*outputs.values(), *keep.values()] if isinstance(v, Wire)}
        self.keep = {node: _ref(v) for node, v in keep.items()}
        needed = set(wanted)
        calls = []
        for call in reversed(tape.calls):  # leave out the calls whose result nothing reads
            if call[4] in needed:
                calls.append(call)
                needed.update(x.slot for x in call[2] if isinstance(x, Wire))
        calls.reverse()
        last = {}  # slot -> index of the last call reading it
        for t, call in enumerate(calls):
            for x in call[2]:
                if isinstance(x, Wire):
                    last[x.slot] = t
        # each output's result goes straight into the output (the first output, if it is two)
        made = {call[4] for call in calls}
        self.direct: dict[int, object] = {}
        self.copies: list[tuple] = []  # (output, slot or -1, number) copied in after the calls
        for key, v in outputs.items():
            if isinstance(v, Wire) and v.slot in made and v.slot not in self.direct:
                self.direct[v.slot] = key
            else:
                self.copies.append((key, *_ref(v)))
        self.dests = list(self.direct.values())
        dest_index = {key: j for j, key in enumerate(self.dests)}
        free: dict[np.dtype, list[int]] = {}
        self.buffers: list[np.dtype] = []
        where: dict[int, int] = {}  # slot -> index into a pass's list of out arrays

        def release(operands, t):
            for x in {x.slot: x for x in operands if isinstance(x, Wire)}.values():
                if last[x.slot] == t and x.slot in where and x.slot not in wanted:
                    free.setdefault(x.dtype, []).append(where[x.slot])

        # the numbers among the operands get slots of their own, filled in before each pass, so
        # that every operand is read as S[j]
        self.template: list = [None] * len(tape.dtypes)
        plan = []
        for t, (kind, fn, operands, kwargs, slot) in enumerate(calls):
            if kind != _SELECT:  # elementwise: the result may overwrite an operand read last here
                release(operands, t)
            if slot in self.direct:
                where[slot] = -1 - dest_index[self.direct[slot]]
            else:
                pool = free.setdefault(tape.dtypes[slot], [])
                if pool:
                    where[slot] = pool.pop()
                else:
                    self.buffers.append(tape.dtypes[slot])
                    where[slot] = len(self.buffers) - 1
            if kind == _SELECT:  # the select reads its operands after it starts writing
                release(operands, t)
            ins = []
            for x in operands:
                if isinstance(x, Wire):
                    ins.append(x.slot)
                else:
                    ins.append(len(self.template))
                    self.template.append(x)
            if kind == _UFUNC and not kwargs and len(ins) <= 2:
                kind = len(ins)  # _UNARY or _BINARY: the common calls, without a list of operands
            plan.append((kind, fn, tuple(ins), kwargs, where[slot], slot))
        self.plan = plan
        self.selects = any(kind == _SELECT for kind, *_ in plan)

    def new_buffers(self, size: int) -> list[np.ndarray]:
        """One pass's buffers, for passes of up to `size` points (one set per thread)."""
        bufs = [np.empty(size, dtype) for dtype in self.buffers]
        if self.selects:
            bufs.append(np.empty(size, np.int64))  # the selects' scratch
        return bufs

    def play(self, columns: dict, lo: int, hi: int, buffers: list, outputs: dict) -> list:
        """Run the pass on points lo..hi-1 of `columns`, writing `outputs[key][lo:hi]`; returns
        the pass's slots (what `keep` named is still there)."""
        k = hi - lo
        S = self.template.copy()
        for name, slot in self.inputs.items():
            S[slot] = columns[name][lo:hi]
        views = [b[:k] for b in buffers]
        scratch = views[-1] if self.selects else None
        views.extend(outputs[key][lo:hi] for key in reversed(self.dests))  # -1 - j: dests[j]
        for kind, fn, ins, kwargs, o, slot in self.plan:
            if kind == _BINARY:
                S[slot] = fn(S[ins[0]], S[ins[1]], out=views[o])
            elif kind == _UNARY:
                S[slot] = fn(S[ins[0]], out=views[o])
            elif kind == _UFUNC:
                S[slot] = fn(*[S[j] for j in ins], out=views[o], **kwargs)
            elif kind == _SELECT:
                S[slot] = select(S[ins[0]], S[ins[1]], S[ins[2]], views[o], scratch)
            else:
                out = S[slot] = views[o]
                out[...] = S[ins[0]]
        for key, j, c in self.copies:
            outputs[key][lo:hi] = S[j] if j >= 0 else c
        return S

    def kept_values(self, S: list, n: int) -> list:
        """Per graph node (n of them), its value in the pass whose slots are `S` where `keep`
        named it (an array or a number), None elsewhere: what the kink check reads."""
        values: list = [None] * n
        for node, (j, c) in self.keep.items():
            values[node] = S[j] if j >= 0 else c
        return values


def _ref(v) -> tuple:
    """A result as (slot, None) for a stand-in, (-1, number) for a number."""
    return (v.slot, None) if isinstance(v, Wire) else (-1, v)


def select(cond, a, b, out, scratch):
    """where(cond, a, b) for a boolean array `cond` into the float array `out`, without a branch
    per element: NumPy's own where takes one, which a random mask mispredicts half the time. On
    the doubles' bits, a ^ b ^ b = a where cond and 0 ^ b = b elsewhere, so the result is the same
    as np.where's, bit for bit. `scratch`: an int64 array of cond's shape."""
    a = a.view(np.int64) if isinstance(a, np.ndarray) else np.asarray(a, np.float64).view(np.int64)
    b = b.view(np.int64) if isinstance(b, np.ndarray) else np.asarray(b, np.float64).view(np.int64)
    bits = out.view(np.int64)
    np.bitwise_xor(a, b, out=bits)
    np.negative(cond, dtype=np.int64, out=scratch)
    np.bitwise_and(bits, scratch, out=bits)
    np.bitwise_xor(bits, b, out=bits)
    return out


def record(graph: Graph, names, constants: dict[str, float], tie: str) -> Plan:
    """The engine's pass over `graph` as a plan: `names` are the variables bound to columns,
    `constants` the rest. Outputs: "value", ("grad", name), ("named", name); kept for the kink
    check: ("kink", node) for each input of a kink gate that carries gradient."""
    tape = Tape()
    m = _TraceMath(tape)
    bindings = {**constants, **{name: tape.input(name) for name in names}}
    raised: list[str] = []
    with np.errstate(all="call", under="ignore", call=lambda kind, flag: raised.append(kind)):
        values = forward(graph, bindings, m)
        grads, _locals, contribs, _ = backward(graph, values, tie, m)
    if raised:
        # arithmetic on constants alone is done here, once; the engine does it in every pass,
        # where its floating-point exception makes batch mode check every row of every pass
        raise Untraceable(f"a floating-point exception ({raised[0]}) on constants")
    outputs = {"value": values[graph.output]}
    outputs.update({("grad", name): grads[node] for name, node in graph.var_ids.items()})
    outputs.update({("named", name): grads[node] for name, node in graph.names.items()})
    keep = {}
    for i, op in enumerate(graph.ops):
        row = GATES.get(op)
        if row is not None and row.kink is not None and contribs[i] is not None:
            keep.update({a: values[a] for a in graph.args[i]})
    return Plan(tape, outputs, keep, [None if c is None else True for c in contribs])
