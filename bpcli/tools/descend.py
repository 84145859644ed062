"""bp descend: gradient descent on an expression's output, on bp's own engine.

The expression is parsed once into a gate graph; every step runs the engine's forward pass
(the loss) and backward pass (its gradient) on that same graph, then moves the chosen variables.

Rules (documented in README):
- update (PyTorch's SGD with momentum): v <- momentum*v + grad; x <- x - lr*v, for each chosen
  variable; momentum 0 is plain gradient descent.
- stop "tol": the gradient norm (Euclidean, over the chosen variables) is <= tol, checked at the
  start and after every step; tol 0 (the default) stops only where the gradient is exactly 0.
- stop "diverged" (exit 3): after a step, a value, the loss or a gradient is not finite, or the
  loss exceeds start + GROWTH * max(1, |start|) (plain descent at lr 1.1 on (x-3)^2 + (y+1)^2
  grows the loss 1.44-fold a step and is caught at step 38, long before floats overflow).
  The message names the step and the variable that moved most in that step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.errors import MathError, UsageError
from ..core.graph import Graph

GROWTH = 1e6  #: divergence: the loss grew past start + GROWTH * max(1, |start|)


@dataclass
class Record:
    """One trace record: the state after `step` updates (step 0 is the start)."""

    step: int
    loss: float
    grad_norm: float
    values: dict[str, float]  #: the chosen variables' values
    grad: dict[str, float]  #: d loss / d variable, for the chosen variables


@dataclass
class Divergence:
    """Why and where descent diverged."""

    step: int
    variable: str  #: the variable that moved most in the diverging step
    value: float  #: its value after that step
    reason: str

    def message(self) -> str:
        return (
            f"diverged at step {self.step}: {self.reason}; {self.variable} moved most"
            f" (now {self.variable} = {self.value!r}); try a smaller --lr"
        )


@dataclass
class Descent:
    """Everything one descent run knows; views read it and never recompute."""

    source: str
    wrt: list[str]
    lr: float
    momentum: float
    tol: float
    start: dict[str, float]  #: the chosen variables' starting values
    fixed: dict[str, float]  #: the other variables (held at their bound values)
    start_loss: float
    final: dict[str, float]  #: the chosen variables' values at the end
    loss: float | None  #: the loss at the end (None if it was not finite)
    grad: dict[str, float]  #: the gradient at the end ({} if it could not be computed)
    grad_norm: float | None
    steps: int  #: update steps taken
    stopped: str  #: "steps" | "tol" | "diverged"
    trace: list[Record]
    divergence: Divergence | None = None
    warnings: list[str] = field(default_factory=list)


def parse_wrt(text: str | None, graph: Graph) -> list[str]:
    """`--wrt w0,w1`: the variables to update (default: all, in order of first appearance)."""
    if not graph.var_ids:
        raise UsageError("the expression has no variables to update")
    if text is None:
        return list(graph.var_ids)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--wrt needs one or more variable names separated by commas (as in --wrt w,b)")
    have = ", ".join(graph.var_ids) or "none"
    for name in names:
        if name in graph.names:
            raise UsageError(
                f"--wrt {name}: '{name}' is computed by the expression, not a variable to update"
            )
        if name not in graph.var_ids:
            raise UsageError(f"--wrt {name}: not a variable of the expression (its variables: {have})")
    if len(set(names)) != len(names):
        raise UsageError(f"--wrt {text}: a variable is named twice")
    return names


def descend(
    source: str | Graph,
    bindings: dict[str, float],
    *,
    wrt: list[str] | str | None = None,
    lr: float = 0.1,
    steps: int = 200,
    momentum: float = 0.0,
    tol: float = 0.0,
    every: int = 1,
    tie: str = "split",
    on_step: Callable[[int], None] | None = None,
) -> Descent:
    """Minimise the expression's output by gradient descent on the variables `wrt`.

    >>> d = descend("(x-3)^2", {"x": 0.0}, lr=0.25, steps=1)
    >>> d.final, d.stopped
    ({'x': 1.5}, 'steps')
    """
    from ..core.engine import backward, check_bindings, forward
    from ..core.parse import parse

    _check_options(lr, steps, momentum, tol, every)
    graph = parse(source) if isinstance(source, str) else source
    check_bindings(graph, bindings)
    from ..core.array_gates import require_scalar

    require_scalar(graph, bindings, "descend")
    if wrt is None or isinstance(wrt, str):
        wrt = parse_wrt(wrt, graph)
    out = graph.output
    nodes = [graph.var_ids[n] for n in wrt]
    moving = set(wrt)  # `n not in wrt` on a list was quadratic: 1e5 inputs, 212 s
    point = {name: float(v) for name, v in bindings.items()}
    warnings: dict[str, int] = {}  # each distinct kink warning, with the first step it happened

    def loss_and_grad(step: int) -> tuple[float, list[float]]:
        values = forward(graph, point)
        grads, _, _, warns = backward(graph, values, tie)
        for w in warns:
            warnings.setdefault(w, step)
        return values[out], [grads[n] for n in nodes]

    def record(step: int, loss: float, g: list[float]) -> Record:
        return Record(step, loss, _norm(g), {n: point[n] for n in wrt}, dict(zip(wrt, g, strict=True)))

    try:
        loss, g = loss_and_grad(0)
    except MathError as e:
        raise MathError(f"{e.message} (at the starting point)") from None
    start = {n: point[n] for n in wrt}
    start_loss = loss
    limit = start_loss + GROWTH * max(1.0, abs(start_loss))
    trace = [record(0, loss, g)]
    last = trace[0]
    velocity = [0.0] * len(wrt)
    stopped = "tol" if last.grad_norm <= tol else "steps"
    divergence = None
    step = 0
    while stopped == "steps" and step < steps:
        step += 1
        moves = []
        for i, name in enumerate(wrt):
            velocity[i] = momentum * velocity[i] + g[i]
            before = point[name]
            point[name] = before - lr * velocity[i]
            moves.append(abs(point[name] - before) if math.isfinite(point[name]) else math.inf)
        mover = wrt[max(range(len(wrt)), key=moves.__getitem__)]
        try:
            loss, g = loss_and_grad(step)
        except MathError as e:
            reason = e.message.removeprefix("math error: ")
            divergence = Divergence(step, mover, point[mover], f"not finite: {reason}")
            loss, g = None, []
        else:
            last = record(step, loss, g)
            if loss > limit:
                divergence = Divergence(
                    step,
                    mover,
                    point[mover],
                    f"the loss {loss:.6g} grew past start + {GROWTH:g} * max(1, |start|) = {limit:.6g}"
                    f" (start loss {start_loss:.6g})",
                )
        if divergence is not None:
            stopped = "diverged"
            if loss is not None:
                trace.append(last)
            break
        if step % every == 0 or step == steps or last.grad_norm <= tol:
            trace.append(last)
        if last.grad_norm <= tol:
            stopped = "tol"
        if on_step is not None:
            on_step(step)
    return Descent(
        source=graph.source,
        wrt=list(wrt),
        lr=lr,
        momentum=momentum,
        tol=tol,
        start=start,
        fixed={n: point[n] for n in graph.var_ids if n not in moving},
        start_loss=start_loss,
        final={n: point[n] for n in wrt},
        loss=loss,
        grad=dict(zip(wrt, g, strict=True)) if g else {},
        grad_norm=_norm(g) if g else None,
        steps=step,
        stopped=stopped,
        trace=trace,
        divergence=divergence,
        warnings=[f"step {s}: {w}" for w, s in warnings.items()],
    )


def _norm(g: list[float]) -> float:
    """Euclidean norm, without overflow in the squares (math.hypot scales)."""
    return math.hypot(*g)


MAX_STEPS = 10_000_000  #: a number of steps that ends within hours, not never


def _check_options(lr: float, steps: int, momentum: float, tol: float, every: int) -> None:
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a finite number > 0, not {lr!r}")
    if not 0 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps must be from 0 to {MAX_STEPS}, not {steps}")
    if not (math.isfinite(momentum) and 0 <= momentum < 1):
        raise UsageError(f"--momentum must be at least 0 and below 1, not {momentum!r}")
    if not (tol >= 0 and not math.isnan(tol)):
        raise UsageError(f"--tol must be a number >= 0, not {tol!r}")
    if every < 1:
        raise UsageError(f"--every must be at least 1, not {every}")
