"""Benchmark for arrays (issue 10, Done 5): the softmax loss and every gradient of a two-layer
network at CS231n's sizes (N=500 examples, D=3072 features, H=100 hidden units, C=10 classes),
bp against hand-written NumPy and PyTorch CPU on the same arrays, in one run.

    .venv/bin/python bench/bench_arrays.py          # prints the Markdown section
    (bench/run.py includes it in bench/results.md)

All three do the same work: the loss `mean(logsumexp(S) - S[y]) + reg * (sum(W1^2) + sum(W2^2))`
with `H = relu(X @ W1 + b1)`, `S = H @ W2 + b2`, and the gradient of every array input (X, W1,
b1, W2, b2: bp reports every input's gradient, so the others compute dX too). bp runs the whole of
`evaluate` (parse included). Time: best (and median) of interleaved runs in one process, after a warm-up: the machine is
shared, and the best run is the one least disturbed by other work.
Memory: the peak that tracemalloc sees during one run (NumPy reports its buffers to it), in a
fresh subprocess each, the inputs made before tracing starts. Every tool runs on one thread (PyTorch as
in bench/run.py, NumPy's BLAS too, so bp and the hand-written code alike).
Goals: bp <= 1.3x hand-written NumPy's time, peak memory <= 2x NumPy's.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

SIZES = {"N": 500, "D": 3072, "H": 100, "C": 10}
EXPR = (
    "H = relu(X @ W1 + b1); S = H @ W2 + b2\n"
    "L = mean(logsumexp(S) - S[y]) + reg * (sum(W1 * W1) + sum(W2 * W2))"
)

_TIMES = r"""
import json, sys, time
sys.path.insert(0, {here!r})
from bench_arrays import inputs, run_bp, run_numpy, run_torch
repeat, tools = int(sys.argv[1]), sys.argv[2:]
data = inputs()
runs = {{"bp": run_bp, "numpy": run_numpy, "torch": run_torch}}
prepared = {{t: runs[t](data, prepare=True) for t in tools}}
loss = {{t: float(f()) for t, f in prepared.items()}}  # warm-up: imports, BLAS, caches
times = {{t: [] for t in tools}}
for _ in range(repeat):  # interleaved, so a busy machine slows every tool alike
    for t, f in prepared.items():
        start = time.perf_counter()
        f()
        times[t].append(time.perf_counter() - start)
print(json.dumps({{"times": times, "loss": loss}}))
"""

_PEAK = r"""
import json, sys, tracemalloc
sys.path.insert(0, {here!r})
from bench_arrays import inputs, run_bp, run_numpy, run_torch
data = inputs()
go = {{"bp": run_bp, "numpy": run_numpy, "torch": run_torch}}[sys.argv[1]](data, prepare=True)
go()
tracemalloc.start()
go()
print(json.dumps(tracemalloc.get_traced_memory()[1]))
"""


def inputs(seed: int = 0) -> dict:
    """The same random problem for every tool: CS231n's weight scale 1e-4 and reg 0.1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    N, D, H, C = SIZES["N"], SIZES["D"], SIZES["H"], SIZES["C"]
    return {
        "X": rng.normal(size=(N, D)),
        "y": rng.integers(0, C, size=N).astype(float),
        "W1": 1e-4 * rng.normal(size=(D, H)),
        "b1": np.zeros(H),
        "W2": 1e-4 * rng.normal(size=(H, C)),
        "b2": np.zeros(C),
        "reg": 0.1,
    }


def run_bp(data: dict, prepare: bool = False):
    from bpcli.core.engine import evaluate

    def go():
        return evaluate(EXPR, data).value

    return go if prepare else go()


def run_numpy(data: dict, prepare: bool = False):
    """CS231n's two-layer net, forward and backward by hand (dX included: bp reports it too)."""
    import numpy as np

    X, W1, b1, W2, b2, reg = (data[k] for k in ("X", "W1", "b1", "W2", "b2", "reg"))
    y = data["y"].astype(int)

    def go():
        N = X.shape[0]
        rows = np.arange(N)
        Z = X @ W1 + b1
        Hid = np.maximum(Z, 0)
        S = Hid @ W2 + b2
        top = S.max(axis=1, keepdims=True)
        E = np.exp(S - top)
        total = E.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) + top[:, 0] - S[rows, y])
        loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dS = E / total
        dS[rows, y] -= 1
        dS /= N
        dW2 = Hid.T @ dS + 2 * reg * W2
        db2 = dS.sum(axis=0)
        dZ = dS @ W2.T
        dZ[Z <= 0] = 0
        dW1 = X.T @ dZ + 2 * reg * W1
        db1 = dZ.sum(axis=0)
        dX = dZ @ W1.T
        del dW2, db2, dW1, db1, dX
        return loss

    return go if prepare else go()


def run_torch(data: dict, prepare: bool = False):
    import torch

    torch.set_num_threads(1)
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in data.items() if k != "y"}
    y = torch.tensor(data["y"].astype(int))

    def go():
        leaves = {k: v.clone().requires_grad_(True) for k, v in t.items() if k != "reg"}
        Hid = torch.relu(leaves["X"] @ leaves["W1"] + leaves["b1"])
        S = Hid @ leaves["W2"] + leaves["b2"]
        loss = torch.nn.functional.cross_entropy(S, y)
        loss = loss + t["reg"] * ((leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum())
        loss.backward()
        return loss.item()

    return go if prepare else go()


def _child(script: str, *args: str):
    import os
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    # one thread for every tool (NumPy's BLAS as PyTorch's): on a shared 2-core machine a second
    # BLAS thread mostly waits for a core, and the comparison is then of the same resources
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    p = subprocess.run(
        [sys.executable, "-c", script.format(here=here), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1][:80])
    return json.loads(p.stdout)


def measure(tools: list[str], repeat: int) -> dict:
    """Per tool: best and median seconds of interleaved runs in one process, the loss, and the
    peak traced memory of one run in a fresh process of its own (PyTorch's own allocator is not
    traced, so its peak is not comparable and left out)."""
    got = _child(_TIMES, str(repeat), *tools)
    out = {}
    for t in tools:
        ts = got["times"][t]
        out[t] = {"best": min(ts), "median": statistics.median(ts), "loss": got["loss"][t]}
        out[t]["peak"] = _child(_PEAK, t) if t != "torch" else None
    return out


def section(repeat: int = 30) -> tuple[str, str]:
    """(the Markdown table, the Done line) for bench/results.md."""
    import importlib.util

    t0 = time.perf_counter()
    labels = {"bp": "bp", "numpy": "hand-written NumPy", "torch": "PyTorch CPU"}
    tools = [t for t in labels if t != "torch" or importlib.util.find_spec("torch") is not None]
    got = measure(tools, repeat)
    bp, ref = got["bp"], got["numpy"]
    lines = [
        "| tool | best | median | best / bp's | peak memory (tracemalloc) | / bp's | loss |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t, label in labels.items():
        if t not in got:
            lines.append(f"| {label} | not installed | | | | | |")
            continue
        r = got[t]
        peak = f"{r['peak'] / 2**20:.1f} MiB | {r['peak'] / bp['peak']:.2f}x" if r["peak"] else "not traced |"
        lines.append(
            f"| {label} | {r['best'] * 1e3:.1f} ms | {r['median'] * 1e3:.1f} ms | {r['best'] / bp['best']:.2f}x"
            f" | {peak} | {r['loss']:.12g} |"
        )
    speed, memory = bp["best"] / ref["best"], bp["peak"] / ref["peak"]
    torch_part = ""
    if "torch" in got:
        torch_part = (
            f"; PyTorch CPU {got['torch']['best'] * 1e3:.1f} ms = {got['torch']['best'] / bp['best']:.2f}x bp"
        )
    done = (
        f"Two-layer net, softmax loss and every gradient at N=500, D=3072, H=100, C=10 (best of {repeat}"
        f" interleaved runs, one thread): bp {bp['best'] * 1e3:.1f} ms = {speed:.2f}x hand-written NumPy's"
        f" {ref['best'] * 1e3:.1f} ms (medians: {bp['median'] / ref['median']:.2f}x)"
        f" (goal <= 1.3x): {'PASS' if speed <= 1.3 else 'FAIL'}; peak memory {bp['peak'] / 2**20:.1f} MiB ="
        f" {memory:.2f}x NumPy's (goal <= 2x): {'PASS' if memory <= 2 else 'FAIL'}{torch_part}."
    )
    title = (
        "### Arrays: a two-layer net's softmax loss and every gradient at CS231n's sizes "
        f"(N=500, D=3072, H=100, C=10), in-process, one thread, {repeat} interleaved runs"
        f" ({time.perf_counter() - t0:.0f} s)"
    )
    return title + "\n\n" + "\n".join(lines) + "\n", done


if __name__ == "__main__":
    table, done = section(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
    print(done + "\n\n" + table)
