"""bp fit: a one-hidden-layer neural network, trained by bp's own backward pass.

The network is y = v1*act(w1*x + b1) + ... + vH*act(wH*x + bH) + c. Its training loss is written
as a bp expression and parsed once into a gate graph; every epoch runs the engine's forward and
backward passes over all samples at once (NumPy arrays on the wires, `NumpyMath`), so the
gradient of every parameter comes back as one number per sample and is reduced by its mean.
The gate math comes from the gate table, as in `bp eval`; nothing here differentiates by hand.

Decisions (documented in README):
- samples: `samples` points drawn uniformly from the range (seeded), sorted; every fourth
  (the 4th, 8th, ...) is held out for validation, the rest are the training set.
- loss: mean squared error on the training set, plus `l2 * sum(w_j^2 + v_j^2)` (weights only,
  not the biases). Reported losses are plain mean squared errors, without the penalty.
- optimizer: full-batch Adam (beta1 0.9, beta2 0.999, eps 1e-8); one epoch is one step; the
  learning rate decays from lr to 0 along a half cosine over the epochs (without it, Adam at a
  useful rate keeps spiking the loss late in training).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.errors import MathError, UsageError

ACTIVATIONS = ("sigmoid", "tanh", "relu")
HOLDOUT_EVERY = 4  # every fourth sample (sorted by x) is held out for validation
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
GRID = 200  # points at which the picture draws the target and the network


def parse_range(text: str) -> tuple[float, float]:
    """`-3:3` -> (-3.0, 3.0); a usage error unless it is two finite numbers, low < high."""
    from ..readers.bindings import number

    parts = text.replace("\u2212", "-").split(":")
    if len(parts) != 2:
        raise UsageError(f"--range must be LOW:HIGH (as in --range -3:3), not {text!r}")
    lo, hi = (number("--range", p) for p in parts)
    if not lo < hi:
        raise UsageError(f"--range {text}: the low end must be below the high end")
    return lo, hi


def parse_hidden(text: str) -> list[int]:
    """`8` -> [8]; `1,2,4,8,16` -> a sweep. Each must be a whole number from 1 to 1000."""
    out = []
    for part in text.split(","):
        try:
            h = int(part.strip())
        except ValueError:
            raise UsageError(f"--hidden must be whole numbers separated by commas, not {text!r}") from None
        if not 1 <= h <= 1000:
            raise UsageError(f"--hidden {h}: the number of hidden units must be from 1 to 1000")
        out.append(h)
    return out


def _join(left: str, right: str) -> str:
    """`left + right`, written `left - r` when `right` is a negative literal `-r` (same IEEE sum)."""
    if right.startswith("-"):
        return f"{left} - {right[1:]}"
    return f"{left} + {right}"


def network_text(hidden: int, activation: str, x: str = "x", params: dict | None = None) -> str:
    """The network as a bp expression: with parameter names (w1, b1, v1, ..., c) when `params`
    is None, else with their values written at full precision (repr), e.g. for --print-expr."""

    def p(name: str) -> str:
        return name if params is None else repr(float(params[name]))

    text = ""
    for j in range(1, hidden + 1):
        inner = _join(f"{p(f'w{j}')}*{x}", p(f"b{j}"))
        term = f"{p(f'v{j}')}*{activation}({inner})"
        text = term if not text else _join(text, term)
    return _join(text, p("c"))


def param_names(hidden: int) -> list[str]:
    """The network's parameters in a fixed order: w1, b1, v1, ..., wH, bH, vH, c."""
    return [f"{k}{j}" for j in range(1, hidden + 1) for k in "wbv"] + ["c"]


def loss_text(hidden: int, activation: str, l2: float) -> str:
    """The training loss as a staged bp program over the samples x (inputs), t (targets) and
    weight (n/n_train on a training sample, 0 on a held-out one, so the mean over all samples
    is the training mean and the held-out samples' errors come out of the same forward pass)."""
    lines = [f"net = {network_text(hidden, activation)}", "d = net - t", "err = d*d"]
    out = "weight*err"
    if l2:
        penalty = " + ".join(f"{k}{j}*{k}{j}" for j in range(1, hidden + 1) for k in "wv")
        out += f" + {l2!r}*({penalty})"
    return "\n".join([*lines, out])


@dataclass
class Network:
    """A trained network: y = sum_j v_j * act(w_j * x + b_j) + c."""

    hidden: int
    activation: str
    params: dict[str, float]  #: w1, b1, v1, ..., c
    var: str = "x"  #: the input variable's name (the target's free variable)

    def expression(self) -> str:
        """The network as a bp expression `bp eval` accepts, numbers at full precision."""
        return network_text(self.hidden, self.activation, self.var, self.params)

    def predict(self, xs):
        """The network's output at each of `xs`, computed by bp's engine (batch forward pass)."""
        import numpy as np

        from ..core.engine import forward
        from ..core.gates import NumpyMath
        from ..core.parse import parse

        graph = parse(network_text(self.hidden, self.activation, "x"))
        bindings = {"x": np.asarray(xs, dtype=float), **self.params}
        with np.errstate(all="ignore"):
            values = forward(graph, bindings, NumpyMath())
        return np.broadcast_to(values[graph.output], np.shape(xs)).astype(float)


@dataclass
class FitResult:
    """Everything one training run knows; views read it and never recompute."""

    target: str
    var: str
    lo: float
    hi: float
    hidden: int
    activation: str
    l2: float
    epochs: int
    lr: float
    seed: int
    noise: float
    network: Network
    train_loss: float  #: mean squared error on the training samples after the last epoch
    validation_loss: float  #: mean squared error on the held-out samples after the last epoch
    curve: list[tuple[int, float, float]]  #: (epoch, train_loss, validation_loss), epoch 0 = start
    x_train: list[float]
    y_train: list[float]
    x_val: list[float]
    y_val: list[float]
    grid_x: list[float]  #: GRID points evenly over the range, for the picture
    grid_target: list[float]  #: the target there (nan where it is not finite)
    grid_network: list[float]  #: the trained network there
    seconds: float
    warnings: list[str] = field(default_factory=list)


class Target:
    """The target expression of one free variable, evaluated over many points at once."""

    def __init__(self, source: str, bindings: dict[str, float] | None = None):
        from ..core.engine import check_bindings
        from ..core.parse import parse

        bindings = dict(bindings or {})
        self.graph = parse(source)
        self.source = source
        from ..core.array_gates import require_scalar

        require_scalar(self.graph, bindings, "fit (its target)")
        free = [v for v in self.graph.var_ids if v not in bindings]
        if len(free) != 1:
            have = ", ".join(self.graph.var_ids) or "none"
            raise UsageError(
                "the target must have exactly one free variable to fit against "
                f"(its variables: {have}; bind the others, as in --a 2)"
            )
        self.var = free[0]
        check_bindings(self.graph, {**bindings, self.var: 0.0})
        self.bindings = bindings

    def __call__(self, xs, check: bool = True):
        """The target at each of `xs`; a MathError where it is not finite (unless not `check`)."""
        import numpy as np

        from ..core.engine import forward
        from ..core.gates import NumpyMath

        with np.errstate(all="ignore"):
            values = forward(self.graph, {**self.bindings, self.var: xs}, NumpyMath())
        ys = np.broadcast_to(np.asarray(values[self.graph.output], dtype=float), xs.shape).copy()
        bad = ~np.isfinite(ys)
        if check and bad.any():
            x0 = float(xs[bad][0])
            raise MathError(
                f"math error: the target {self.source.strip()} is not finite at {self.var} = {x0!r}"
                " (choose a --range where it is defined)"
            )
        return ys


class LossGraph:
    """The training loss as one gate graph, parsed once, evaluated over all samples at once.

    Calling it with the parameters (in `param_names` order) runs bp's forward pass and, if asked,
    its backward pass with NumPy arrays on the wires; each parameter's gradient comes back as one
    number per sample and is reduced by its mean (the gradient of the training objective)."""

    def __init__(self, hidden: int, activation: str, l2: float, xs, ys, held):
        import numpy as np

        from ..core.gates import NumpyMath
        from ..core.parse import parse

        self.names = param_names(hidden)
        self.graph = parse(loss_text(hidden, activation, l2))
        self.err_node = self.graph.names["err"]
        self.param_nodes = [self.graph.var_ids[n] for n in self.names]
        n = len(xs)
        self.held = np.asarray(held, dtype=bool)
        n_train = int((~self.held).sum())
        weight = np.where(self.held, 0.0, n / n_train)
        self.bindings = {"x": np.asarray(xs, dtype=float), "t": np.asarray(ys, dtype=float), "weight": weight}
        self.m = NumpyMath()
        self.per_sample = np.empty((len(self.names), n))

    def __call__(self, theta, gradient: bool = True):
        """(training MSE, validation MSE, gradient of the objective or None)."""
        import numpy as np

        from ..core.engine import backward, forward

        self.bindings.update(zip(self.names, theta, strict=True))
        with np.errstate(all="ignore"):
            values = forward(self.graph, self.bindings, self.m)
            err = values[self.err_node]
            train, val = float(np.mean(err[~self.held])), float(np.mean(err[self.held]))
            if not gradient:
                return train, val, None
            grads = backward(self.graph, values, "split", self.m)[0]
            for row, node in enumerate(self.param_nodes):
                self.per_sample[row] = grads[node]  # one gradient per sample (a scalar broadcasts)
            return train, val, self.per_sample.mean(axis=1)


def fit(
    target: str,
    bindings: dict[str, float] | None = None,
    *,
    lo: float = -3.0,
    hi: float = 3.0,
    samples: int = 64,
    hidden: int = 8,
    activation: str = "sigmoid",
    l2: float = 1e-4,
    epochs: int = 2000,
    lr: float = 0.05,
    seed: int = 0,
    noise: float = 0.0,
    every: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> FitResult:
    """Fit a one-hidden-layer network to `samples` points of `target` on [lo, hi].

    `every`: keep a point of the loss curve every this many epochs (default: about 100 points).
    `on_epoch(epoch)` is called after each epoch (the progress bar).
    """
    import numpy as np

    _check_options(samples, hidden, activation, l2, epochs, lr, noise, lo, hi)
    every = every or max(1, epochs // 100)
    tgt = Target(target, bindings)

    # The samples first, so every run of a sweep (same seed) sees the same data.
    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(lo, hi, samples))
    ys = tgt(xs)
    if noise:
        ys = ys + noise * rng.normal(size=samples)
    held = np.arange(samples) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1

    names = param_names(hidden)
    theta = _initial_params(rng, hidden, lo, hi, ys[~held])
    loss = LossGraph(hidden, activation, l2, xs, ys, held)
    m1 = np.zeros_like(theta)
    m2 = np.zeros_like(theta)
    b1, b2 = ADAM_BETAS
    curve: list[tuple[int, float, float]] = []
    started = time.perf_counter()
    for epoch in range(epochs + 1):
        last = epoch == epochs
        train, val, g = loss(theta, gradient=not last)
        if epoch % every == 0 or last:
            curve.append((epoch, train, val))
        if not math.isfinite(train):
            raise MathError(
                f"math error: training diverged at epoch {epoch}: the training loss is not finite"
                " (try a smaller --lr)"
            )
        if last:
            break
        if not np.isfinite(g).all():
            bad = names[int(np.flatnonzero(~np.isfinite(g))[0])]
            raise MathError(
                f"math error: training diverged at epoch {epoch}: the gradient of {bad} is not"
                " finite (try a smaller --lr)"
            )
        # Adam: moving averages of the gradient and its square, bias-corrected; the step size
        # decays from lr to 0 along a half cosine, so training settles instead of spiking
        m1 = b1 * m1 + (1 - b1) * g
        m2 = b2 * m2 + (1 - b2) * g * g
        k = epoch + 1
        step = lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        theta = theta - step * (m1 / (1 - b1**k)) / (np.sqrt(m2 / (1 - b2**k)) + ADAM_EPS)
        if on_epoch is not None:
            on_epoch(k)
    seconds = time.perf_counter() - started
    network = Network(hidden, activation, dict(zip(names, theta.tolist(), strict=True)), tgt.var)
    grid = np.linspace(lo, hi, GRID)
    return FitResult(
        target=target,
        var=tgt.var,
        lo=lo,
        hi=hi,
        hidden=hidden,
        activation=activation,
        l2=l2,
        epochs=epochs,
        lr=lr,
        seed=seed,
        noise=noise,
        network=network,
        train_loss=train,
        validation_loss=val,
        curve=curve,
        x_train=xs[~held].tolist(),
        y_train=ys[~held].tolist(),
        x_val=xs[held].tolist(),
        y_val=ys[held].tolist(),
        grid_x=grid.tolist(),
        grid_target=tgt(grid, check=False).tolist(),
        grid_network=network.predict(grid).tolist(),
        seconds=seconds,
    )


def _initial_params(rng, hidden: int, lo: float, hi: float, y_train):
    """Starting parameters. Unit j switches (w x + b = 0) at a point drawn from the j-th of
    `hidden` equal slices of the range, so the units start spread over it (random switch points
    can pile up and leave a small network in a poor local minimum); its slope w has a random sign
    and a size scaled to the range; output weights v are small; c starts at the targets' mean."""
    import numpy as np

    half = (hi - lo) / 2
    w = (
        rng.choice([-1.0, 1.0], hidden)
        * np.abs(rng.normal(0.0, 1.0, hidden))
        * (2.0 * math.sqrt(hidden) / half)
    )
    switch = lo + (hi - lo) * (np.arange(hidden) + rng.uniform(0.0, 1.0, hidden)) / hidden
    b = -w * switch
    scale = max(float(np.std(y_train)), 1e-3)
    v = rng.normal(0.0, 1.0, hidden) * scale / math.sqrt(hidden)
    theta = np.empty(3 * hidden + 1)
    theta[0:-1:3], theta[1:-1:3], theta[2:-1:3] = w, b, v
    theta[-1] = float(np.mean(y_train))
    return theta


def _check_options(samples, hidden, activation, l2, epochs, lr, noise, lo, hi) -> None:
    if activation not in ACTIVATIONS:
        raise UsageError(f"--activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")
    if samples < HOLDOUT_EVERY:
        raise UsageError(f"--samples must be at least {HOLDOUT_EVERY} (one in four is held out)")
    if not 1 <= hidden <= 1000:
        raise UsageError(f"--hidden {hidden}: the number of hidden units must be from 1 to 1000")
    if epochs < 0:
        raise UsageError("--epochs must not be negative")
    for name, value in (("--l2", l2), ("--noise", noise)):
        if not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{name} must be a finite number >= 0, not {value!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a finite number > 0, not {lr!r}")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise UsageError("--range must be two finite numbers LOW:HIGH with LOW < HIGH")
