"""Benchmark for bp fit and bp descend (not a test): wall time of the Done-3 run and the cost
of one training epoch (a batch forward + backward pass of bp's engine over all samples).

    .venv/bin/python bench/bench_fit.py

Goal (issue 6, Done 3): `bp fit "sin(x)" --range -3:3 --hidden 8 --seed 0` reaches a validation
MSE below 1e-2 in under 10 s on the 2-core reference machine.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    from bpcli.tools.descend import descend
    from bpcli.tools.fit import HOLDOUT_EVERY, LossGraph, fit, param_names

    started = time.perf_counter()
    r = fit("sin(x)", lo=-3, hi=3, hidden=8, seed=0)
    wall = time.perf_counter() - started
    ok = "ok" if r.validation_loss < 1e-2 and wall < 10 else "FAILS"
    print(f"Done 3: validation MSE {r.validation_loss:.3g}, {wall:.2f} s wall ({ok})")

    xs = np.linspace(-3, 3, 64)
    held = np.arange(64) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    for hidden in (1, 4, 8, 16, 32):
        loss = LossGraph(hidden, "sigmoid", 1e-4, xs, np.sin(xs), held)
        theta = np.random.default_rng(0).normal(size=len(param_names(hidden)))
        n = 500
        t0 = time.perf_counter()
        for _ in range(n):
            loss(theta)
        per = (time.perf_counter() - t0) / n
        print(f"hidden {hidden:2d}: {len(loss.graph)} nodes, {per * 1e3:.3f} ms per epoch (64 samples)")

    t0 = time.perf_counter()
    d = descend("(x-3)^2 + (y+1)^2", {"x": 0.0, "y": 0.0}, lr=0.1, steps=10_000, tol=-0.0)
    per = (time.perf_counter() - t0) / max(d.steps, 1)
    print(f"descend: {per * 1e6:.1f} us per step on (x-3)^2 + (y+1)^2")


if __name__ == "__main__":
    main()
