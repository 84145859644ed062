"""bp against the tools a user would pick instead, on the same work, in one run.

    python bench/run.py            # the full run (~5-10 minutes on 2 cores)
    python bench/run.py --quick    # fewer repeats and sizes, for a smoke test
    python bench/run.py --readme   # also copy the tables into README.md
    python bench/run.py --only arrays [--readme]   # re-measure the arrays section alone

Peers: SymPy (parse + diff + evalf; lambdify for batch), micrograd, PyTorch CPU autograd (one
thread; batch also on every core), JAX where installed; floors `python -c pass` and `python -c "import typer"`. A peer that
is not installed is reported as such; one that fails (RecursionError, time-out, crash) is
reported as failing at that size. bp reads the expression as text (it has to parse it); the
peers that cannot parse get their graph built by Python code from the same numbers, which only
favours them.

Results: bench/results.md (Markdown tables: median seconds, and each peer's time / bp's time).
Timing is wall clock, median of repeated runs, commands interleaved so load hits all alike.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from workloads import (  # noqa: E402
    LECTURE,
    peer_script,
    random_tree,
    sigmoid_nest,
    wide_sum,
)

PY = sys.executable
BP = [str(Path(PY).with_name("bp"))] if Path(PY).with_name("bp").exists() else [PY, "-m", "bpcli"]


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class Failed(str):
    """A cell that did not produce a time: 'time-out', 'RecursionError', 'not installed', ..."""


def run_once(cmd, stdin_file=None, timeout=60.0):
    """Wall time of one command, or Failed(reason)."""
    stdin = open(stdin_file, "rb") if stdin_file else subprocess.DEVNULL
    t = time.perf_counter()
    try:
        p = subprocess.run(
            cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Failed(f"time-out (>{timeout:.0f} s)")
    finally:
        if stdin_file:
            stdin.close()
    dt = time.perf_counter() - t
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip().splitlines()
        last = err[-1] if err else f"exit {p.returncode}"
        for word in ("RecursionError", "MemoryError", "Segmentation"):
            if word in p.stderr.decode(errors="replace"):
                return Failed(word)
        return Failed(f"fails: {last[:60]}" if p.returncode > 0 else f"crash (signal {-p.returncode})")
    return dt


def measure(commands: dict, repeat: int, timeout: float) -> dict:
    """{name: median seconds | Failed} for {name: (cmd, stdin_file)}, runs interleaved."""
    times: dict = {name: [] for name in commands}
    failed: dict = {}
    for _ in range(repeat):
        for name, (cmd, stdin_file) in commands.items():
            if name in failed:
                continue
            r = run_once(cmd, stdin_file, timeout)
            if isinstance(r, Failed):
                failed[name] = r
            else:
                times[name].append(r)
    return {name: failed.get(name) or statistics.median(times[name]) for name in commands}


def cell(t, ref=None) -> str:
    if isinstance(t, Failed) or t is None:
        return t or "—"
    text = f"{t * 1000:.1f} ms" if t < 0.01 else f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"
    if ref is not None and not isinstance(ref, Failed) and ref:
        text += f" ({t / ref:.2f}x)"
    return text


def table(title: str, sizes: list, rows: dict, ref: str = "bp", note: str = "") -> str:
    """Markdown: one row per tool, one column per size; (Nx) = that tool's time / bp's time."""
    head = f"### {title}\n\n" + (note + "\n\n" if note else "")
    head += "| tool | " + " | ".join(str(s) for s in sizes) + " |\n"
    head += "| --- |" + " --- |" * len(sizes) + "\n"
    for tool, by_size in rows.items():
        cells = [cell(by_size.get(s), None if tool == ref else rows.get(ref, {}).get(s)) for s in sizes]
        head += f"| {tool} | " + " | ".join(cells) + " |\n"
    return head


# -- workloads ------------------------------------------------------------------------------------


def cold_start(work: Path, repeat: int) -> tuple[str, dict]:
    sympy_job = (
        "import sympy as s; x, y, z = s.symbols('x y z'); f = s.sympify('(x+y)*z'); "
        "v = {x: -2, y: 5, z: -4}; print(f.subs(v).evalf(), [s.diff(f, t).subs(v).evalf() for t in (x, y, z)])"
    )
    cmds = {
        "python -c pass": ([PY, "-c", "pass"], None),
        'python -c "import typer"': ([PY, "-c", "import typer"], None),
        'python -c "import typer, lark"': ([PY, "-c", "import typer, lark"], None),
        "bp eval (x+y)*z --format json": (
            [*BP, "eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "json"],
            None,
        ),
        "bp eval <sigmoid neuron> --format json": (
            [*BP, "eval", LECTURE["neuron"][0], *LECTURE["neuron"][1], "--format", "json"],
            None,
        ),
        "bp eval (x+y)*z --format plain": (
            [*BP, "eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "plain"],
            None,
        ),
        "SymPy one-liner (same job)": ([PY, "-c", sympy_job], None),
    }
    if have("torch"):
        torch_job = (
            "import torch; x, y, z = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (-2., 5., -4.)); "
            "f = (x + y) * z; f.backward(); print(f.item(), x.grad.item(), y.grad.item(), z.grad.item())"
        )
        cmds["PyTorch one-liner (same job)"] = ([PY, "-c", torch_job], None)
    res = measure(cmds, repeat, timeout=60)
    bp = res["bp eval (x+y)*z --format json"]
    out = "### Cold start: the lecture's examples, one process each\n\n| command | median | / bp |\n| --- | --- | --- |\n"
    for name, t in res.items():
        ratio = f"{t / bp:.2f}x" if not isinstance(t, Failed) and not isinstance(bp, Failed) else ""
        out += f"| {name} | {cell(t)} | {ratio} |\n"
    # The goal's pair, again on its own: rounds of just these two, so that the heavy peers
    # (PyTorch's 1.6 s import) run nowhere near them
    pair = measure(
        {k: cmds[k] for k in ('python -c "import typer, lark"', "bp eval (x+y)*z --format json")}, repeat, 60
    )
    bp, floor = pair["bp eval (x+y)*z --format json"], pair['python -c "import typer, lark"']
    out += (
        f"\nThe goal's pair on its own ({repeat} alternating rounds): bp {cell(bp)},"
        f" `import typer, lark` {cell(floor)}.\n"
    )
    sym = res["SymPy one-liner (same job)"]
    if not isinstance(sym, Failed):  # the SymPy goal is a ratio within the table above
        sym = sym / res["bp eval (x+y)*z --format json"] * bp
    verdict = {
        "bp_json": bp,
        "floor_typer_lark": floor,
        "ratio_to_floor": bp / floor,
        "ratio_to_sympy": bp / sym if not isinstance(sym, Failed) else None,
    }
    return out, verdict


def in_process_breakdown(source: str, bindings: dict, repeat: int) -> dict:
    """bp's own phases in this process: syntax-only parse, parse + graph build, forward, backward."""
    from lark import Lark

    from bpcli.core.engine import backward, check_bindings, forward
    from bpcli.core.parse import _drive, _Tables, grammar_path, parse

    class Null:
        """A transformer whose every callback does nothing: Lark's table, no graph."""

        def __getattr__(self, name):
            if name.startswith("__") or name.isupper():  # rules only: no per-token callbacks
                raise AttributeError(name)
            return lambda children: None

    grammar = grammar_path().read_text(encoding="utf-8")  # a cached parser has no source_grammar
    null_tables = _Tables(Lark(grammar, parser="lalr", transformer=Null(), maybe_placeholders=True))
    best = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        _drive(null_tables, source)
        t1 = time.perf_counter()
        g = parse(source)
        t2 = time.perf_counter()
        check_bindings(g, bindings)
        t3 = time.perf_counter()
        values = forward(g, bindings)
        t4 = time.perf_counter()
        backward(g, values)
        t5 = time.perf_counter()
        phases = (("syntax", t1 - t0), ("parse+build", t2 - t1), ("check", t3 - t2), ("forward", t4 - t3))
        for k, v in (*phases, ("backward", t5 - t4)):
            best[k] = min(best.get(k, v), v)
    best["build"] = max(best["parse+build"] - best["syntax"], 0.0)
    return best


def graphs(work: Path, quick: bool, repeat: int) -> tuple[str, dict]:
    out, verdict = "", {}
    suites = [
        ("Wide sum x0*w0 + x1*w1 + ... (terms)", "wide", [1000, 10000] if quick else [1000, 10000, 100000]),
        ("Sigmoid nest sigmoid(sigmoid(...x)) (depth)", "nest", [100, 1000] if quick else [100, 1000, 10000]),
        ("Random mixed tree of + - * / ^2 relu (gates)", "tree", [1000] if quick else [1000, 10000]),
    ]
    for title, kind, sizes in suites:
        rows: dict = {}
        phases: dict = {}
        for n in sizes:
            if kind == "wide":
                source, bindings = wide_sum(n)
            elif kind == "nest":
                source, bindings = sigmoid_nest(n)
            else:
                source, bindings = random_tree(n, random.Random(n))
            expr = work / f"{kind}{n}.txt"
            expr.write_text(source)
            vars_file = work / f"{kind}{n}.json"
            vars_file.write_text(json.dumps(bindings))
            cmds = {"bp": ([*BP, "eval", "-", "--vars", str(vars_file), "--format", "plain"], str(expr))}
            for peer, module in (
                ("SymPy", "sympy"),
                ("micrograd", "micrograd"),
                ("PyTorch", "torch"),
                ("JAX", "jax"),
            ):
                if not have(module):
                    rows.setdefault(peer, {})[n] = Failed("not installed")
                    continue
                if (
                    rows.get(peer, {}).get(sizes[sizes.index(n) - 1] if sizes.index(n) else None).__class__
                    is Failed
                ):
                    rows[peer][n] = Failed("skipped (failed smaller)")
                    continue
                if peer == "micrograd" and kind == "nest":
                    rows.setdefault(peer, {})[n] = Failed("no exp in micrograd")
                    continue
                script = work / f"{kind}{n}_{module}.py"
                script.write_text(peer_script(module, kind, n, str(vars_file), str(expr)))
                cmds[peer] = ([PY, str(script)], None)
            timeout = 60 if n >= 10000 else 30
            res = measure(cmds, 3 if n >= 100000 else repeat, timeout)
            for tool, t in res.items():
                rows.setdefault(tool, {})[n] = t
            phases[n] = in_process_breakdown(source, bindings, 3)
        order = ["bp", "SymPy", "micrograd", "PyTorch", "JAX"]
        rows = {k: rows[k] for k in order if k in rows}
        out += table(title + ", end to end", sizes, rows) + "\n"
        out += (
            f"bp's phases in-process ({title.split(' (')[0].lower()}), best of runs; syntax only = the LALR"
            " loop with do-nothing callbacks, graph build = the full parse minus that:\n\n"
            "| size | syntax only | graph build | binding check | forward | backward"
            " | (build+fwd+bwd)/syntax | bwd/fwd |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        )
        for n, p in phases.items():
            engine = p["build"] + p["forward"] + p["backward"]
            out += (
                f"| {n} | {cell(p['syntax'])} | {cell(p['build'])} | {cell(p['check'])} | {cell(p['forward'])}"
                f" | {cell(p['backward'])} | {engine / p['syntax']:.2f} | {p['backward'] / max(p['forward'], 1e-9):.2f} |\n"
            )
        out += "\n"
        verdict[kind] = {"rows": rows, "phases": phases, "sizes": sizes}
    return out, verdict


def batch(work: Path, quick: bool, repeat: int) -> tuple[str, dict]:
    from bpcli.core.batch import cores

    expr = LECTURE["batch"]
    sizes = [1000, 100000] if quick else [1000, 100000, 1000000]
    every = cores()
    peers = {"bp (1 thread)": "bp:1", f"bp ({every} threads)": f"bp:{every}"}
    if have("torch"):
        peers["PyTorch (1 thread)"] = "torch:1"
        peers[f"PyTorch ({every} threads)"] = f"torch:{every}"
    else:
        peers["PyTorch"] = None
    peers["NumPy by hand"] = "numpy"
    if have("sympy"):
        peers["SymPy lambdify"] = "sympy"
    peers["JAX (jit)"] = "jax" if have("jax") else None
    rounds = 1 if quick else 3
    rows: dict = {k: {} for k in peers}
    for n in sizes:
        reps = max(repeat, min(200, 1_000_000 // n))
        times: dict = {k: [] for k, v in peers.items() if v}
        for r in range(rounds):
            order = [k for k in peers if peers[k]]
            order = order[r % len(order) :] + order[: r % len(order)]  # who goes first rotates
            for k in order:
                got = _batch_in_child(peers[k], n, reps)
                if isinstance(got, Failed):
                    times[k] = got
                elif not isinstance(times[k], Failed):
                    times[k].extend(got)
        for k, v in peers.items():
            if v is None:
                rows[k][n] = Failed("not installed")
            else:
                rows[k][n] = times[k] if isinstance(times[k], Failed) else statistics.median(times[k])
    out = table(
        f"Batch value + gradient of {expr}, in-process on arrays (points)",
        sizes,
        rows,
        ref="bp (1 thread)",
        note="Median of repeated calls after one warm-up call, each tool in a process of its own"
        f" ({rounds} rounds, taking turns), so that no tool's idle threads take a core from the next"
        " (PyTorch's OpenMP workers spin on after each parallel region: measured, bp's two threads ran"
        " 8.4 ms alone and 12.4 ms right after a PyTorch call). Every process first makes bp's allocator"
        " setting (glibc keeps freed memory for reuse), which PyTorch gains from too (measured: 14.0 ms"
        " without it, 12.3 ms with it, one thread, 1e6 points);"
        " bp is `bpcli.core.batch.run` (forward, backward, bad-row and kink checks); (Nx) = time / bp's"
        " on 1 thread.",
    )
    stream_md, stream_v = streaming(work, quick)
    return out + "\n" + stream_md, {"rows": rows, "sizes": sizes, "threads": every, **stream_v}


def _batch_in_child(peer: str, n: int, reps: int):
    """`reps` timings (seconds) of one batch peer at n points, in a fresh process, or Failed."""
    cmd = [PY, str(Path(__file__).resolve()), "--batch-child", peer, str(n), str(reps)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return Failed("time-out")
    if p.returncode != 0:
        return Failed(
            f"fails ({p.stderr.strip().splitlines()[-1][:60] if p.stderr.strip() else p.returncode})"
        )
    return json.loads(p.stdout)


def batch_child(peer: str, n: int, reps: int) -> int:
    """The child of `_batch_in_child`: the same points as every other peer, one warm-up call,
    then `reps` timed calls, printed as a JSON list of seconds."""
    import numpy as np

    from bpcli.core.batch import _reuse_freed_memory, run
    from bpcli.core.parse import parse

    _reuse_freed_memory()  # what bp does for itself, done for every peer alike
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    kind, _, threads = peer.partition(":")
    if kind == "bp":
        graph = parse(LECTURE["batch"])
        f = lambda: run(graph, {"x": x, "y": y}, {}, threads=int(threads))  # noqa: E731
    elif kind == "torch":
        f = lambda: _torch_batch(x, y, int(threads))  # noqa: E731
    elif kind == "numpy":
        f = lambda: _numpy_batch(x, y)  # noqa: E731
    elif kind == "sympy":
        fn = _sympy_batch()
        f = lambda: fn(x, y)  # noqa: E731
    else:
        fn = _jax_batch()
        f = lambda: fn(x, y)  # noqa: E731
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    print(json.dumps(times))
    return 0


def run_rss(cmd, stdin_file=None, timeout=600.0, prefix_lines=0):
    """(wall seconds, peak RSS in bytes, SHA-256 of the first `prefix_lines` output lines) of
    one command, or Failed; the output is read as it comes and not kept."""
    import hashlib

    stdin = open(stdin_file, "rb") if stdin_file else subprocess.DEVNULL
    # GNU time measures the command alone: a child of this (large) process would count the
    # memory it shared with it before exec in its own peak
    timer = Path("/usr/bin/time")
    report = tempfile.NamedTemporaryFile(suffix=".rss", delete=False).name
    if timer.exists():
        cmd = [str(timer), "-f", "%M", "-o", report, *cmd]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    digest, left, carry = hashlib.sha256(), prefix_lines, b""
    while block := p.stdout.read(1 << 20):
        if left:
            lines = (carry + block).split(b"\n")
            carry = lines.pop()
            take = lines[:left]
            digest.update(b"".join(line + b"\n" for line in take))
            left -= len(take)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if stdin_file:
        stdin.close()
    if status != 0 or dt > timeout:
        return Failed(f"fails (status {status})")
    peak = usage.ru_maxrss
    if timer.exists():
        peak = int(Path(report).read_text().split()[-1])
    Path(report).unlink()
    return dt, peak * 1024, digest.hexdigest()


def _write_table(path: Path, n: int) -> None:
    """n rows `x,y` of random doubles at full precision, made a million at a time."""
    import numpy as np

    with open(path, "w") as f:
        f.write("x,y\n")
        for k, lo in enumerate(range(0, n, 1_000_000)):
            m = min(1_000_000, n - lo)
            # x and y from generators of their own: a shorter table is a prefix of a longer one
            xs = np.random.default_rng((k, 0)).normal(size=m).tolist()
            ys = np.random.default_rng((k, 1)).normal(size=m).tolist()
            f.write("\n".join(map(",".join, zip(map(repr, xs), map(repr, ys), strict=True))) + "\n")


def streaming(work: Path, quick: bool) -> tuple[str, dict]:
    """`bp eval --csv` end to end at growing row counts: time and peak RSS; the output on the
    first 1e5 rows of the largest table is checked against the output on a 1e5-row table."""
    expr = LECTURE["batch"]
    sizes = [1000, 100000] if quick else [1000, 100000, 1000000, 10000000]
    rows: dict = {
        "bp eval --csv (CSV out)": {},
        "peak RSS": {},
        "bp eval --csv --format json": {},
        "peak RSS (json)": {},
    }
    prefix = None
    for n in sizes:
        path = work / f"rows{n}.csv"
        _write_table(path, n)
        cmd = [*BP, "eval", expr, "--csv", str(path)]
        k = min(n, 100000)
        best = None
        for _ in range(1 if n >= 10000000 else 3):
            r = run_rss(cmd, prefix_lines=k + 1)
            if isinstance(r, Failed) or best is None or r[0] < best[0]:
                best = r
            if isinstance(r, Failed):
                break
        if isinstance(best, Failed):
            rows["bp eval --csv (CSV out)"][n] = rows["peak RSS"][n] = best
        else:
            rows["bp eval --csv (CSV out)"][n] = best[0]
            rows["peak RSS"][n] = f"{best[1] / 2**20:.0f} MB"
            if n == 100000:
                prefix = best[2]
            elif n > 100000 and prefix is not None:
                same = best[2] == prefix
                rows["peak RSS"][n] += "" if same else " (first 1e5 rows DIFFER)"
                rows.setdefault("_prefix_same", {})[n] = same
        if n in (100000, 1000000):
            r = run_rss([*cmd, "--format", "json"])
            rows["bp eval --csv --format json"][n] = r if isinstance(r, Failed) else r[0]
            rows["peak RSS (json)"][n] = r if isinstance(r, Failed) else f"{r[1] / 2**20:.0f} MB"
        path.unlink()
    src = work / "nest10000.txt"
    from workloads import sigmoid_nest

    src.write_text(sigmoid_nest(10000)[0])
    nest = run_rss([*BP, "eval", "-", "--grid", "x=-3:3:32768"], stdin_file=str(src))
    prefix_same = rows.pop("_prefix_same", {})
    md = "### bp eval EXPR --csv FILE, end to end, streamed (rows; CSV in, CSV or JSON Lines out)\n\n"
    md += "| | " + " | ".join(str(s) for s in sizes) + " |\n| --- |" + " --- |" * len(sizes) + "\n"
    for name, by in rows.items():
        md += (
            f"| {name} | "
            + " | ".join(by[s] if isinstance(by.get(s), str) else cell(by.get(s)) for s in sizes)
            + " |\n"
        )
    if not isinstance(nest, Failed):
        md += (
            f"\n1e4 nested sigmoids on a 32768-point grid (`bp eval - --grid x=-3:3:32768`):"
            f" {cell(nest[0])}, peak RSS {nest[1] / 2**20:.0f} MB.\n"
        )
    return md, {"stream": rows, "stream_sizes": sizes, "prefix_same": prefix_same, "nest": nest}


def _torch_batch(x, y, threads=1):
    import torch

    torch.set_num_threads(threads)
    X = torch.from_numpy(x).requires_grad_()
    Y = torch.from_numpy(y).requires_grad_()
    f = (X + torch.sigmoid(Y)) / (torch.sigmoid(X) + (X + Y) ** 2)
    f.backward(torch.ones_like(f))
    return f.detach().numpy(), X.grad.numpy(), Y.grad.numpy()


def _numpy_batch(x, y):
    import numpy as np

    sx, sy = 1 / (1 + np.exp(-x)), 1 / (1 + np.exp(-y))
    num, s = x + sy, x + y
    den = sx + s * s
    f = num / den
    dnum, dden = 1 / den, -f / den
    dx = dnum + dden * (sx * (1 - sx) + 2 * s)
    dy = dnum * sy * (1 - sy) + dden * 2 * s
    return f, dx, dy


def _sympy_batch():
    import sympy as s

    x, y = s.symbols("x y")
    f = s.sympify("(x+1/(1+exp(-y)))/(1/(1+exp(-x))+(x+y)**2)")
    fn = s.lambdify((x, y), [f, s.diff(f, x), s.diff(f, y)], "numpy")
    return fn


def _jax_batch():  # pragma: no cover - JAX is optional
    import jax

    jax.config.update("jax_enable_x64", True)

    def f(x, y):
        return (x + jax.nn.sigmoid(y)) / (jax.nn.sigmoid(x) + (x + y) ** 2)

    vg = jax.jit(lambda x, y: (f(x, y), jax.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(x, y)))
    return lambda x, y: jax.block_until_ready(vg(x, y))


def _sympy_diff_script(kind: str, n: int, expr_file: str) -> str:
    """SymPy's diff of the same expression by every variable, printed: its length and count_ops."""
    return f"""import sys
sys.setrecursionlimit(10**6)
import sympy
if {kind!r} == "nest":
    x = sympy.Symbol("x")
    f = x
    for _ in range({n}):
        f = 1 / (1 + sympy.exp(-f))
else:
    src = open({expr_file!r}).read().replace("^", "**").replace("relu(", "Max(0, ")
    f = sympy.sympify(src)
chars = ops = 0
for s in sorted(f.free_symbols, key=str):
    d = sympy.diff(f, s)
    chars += len(str(d))
    ops += sympy.count_ops(d)
print(chars, ops)
"""


def derivatives(work: Path, quick: bool, repeat: int) -> tuple[str, dict]:
    """`bp diff` (the derivative as text, end to end) against SymPy's diff + str on the same
    expressions: time, and how long the printed derivative is (no expression swell)."""
    from bpcli.core.derive import diff

    suites = [
        (
            "Random mixed tree of + - * / ^2 relu (gates)",
            "tree",
            [100, 1000] if quick else [100, 1000, 10000],
        ),
        ("Sigmoid nest sigmoid(sigmoid(...x)) (depth)", "nest", [10, 100] if quick else [10, 100, 1000]),
    ]
    out, verdict = "", {}
    for title, kind, sizes in suites:
        rows: dict = {}
        lengths: dict = {}
        for n in sizes:
            source = random_tree(n, random.Random(n))[0] if kind == "tree" else sigmoid_nest(n)[0]
            expr = work / f"diff_{kind}{n}.txt"
            expr.write_text(source)
            res = measure({"bp diff": ([*BP, "diff", "-"], str(expr))}, repeat, 120)
            rows.setdefault("bp diff", {})[n] = res["bp diff"]
            sym = None
            before = (
                rows.get("SymPy diff + str", {}).get(sizes[sizes.index(n) - 1]) if sizes.index(n) else 0.0
            )
            if not have("sympy"):
                rows.setdefault("SymPy diff + str", {})[n] = Failed("not installed")
            elif isinstance(before, Failed) or before > 20:
                rows.setdefault("SymPy diff + str", {})[n] = Failed("skipped (> 20 s at a smaller size)")
            else:  # one run (it is slow): its time, and the printed length and count_ops
                script = work / f"diff_{kind}{n}_sympy.py"
                script.write_text(_sympy_diff_script(kind, n, str(expr)))
                t = time.perf_counter()
                try:
                    p = subprocess.run([PY, str(script)], capture_output=True, text=True, timeout=300)
                    took = time.perf_counter() - t
                    if p.returncode == 0:
                        sym = tuple(int(w) for w in p.stdout.split())
                    else:
                        took = Failed(f"fails: {(p.stderr.strip().splitlines() or ['?'])[-1][:60]}")
                except subprocess.TimeoutExpired:
                    took = Failed("time-out (>300 s)")
                rows.setdefault("SymPy diff + str", {})[n] = took
            bp_chars = sum(len(t) for t in diff(source).values())
            lengths[n] = (len(source), bp_chars, sym)
        note = "bp: median of runs of `bp diff -`; SymPy: one run of sympify (or build) + diff by every variable + str."
        out += table(f"bp diff: {title}, end to end", sizes, rows, ref="bp diff", note=note) + "\n"
        out += (
            "Printed length of every first derivative (characters), against the input's length; SymPy:"
            " len(str(diff)) and count_ops:\n\n"
            "| size | input | bp diff | bp / input | SymPy | SymPy count_ops | SymPy / bp |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n"
        )
        for n, (src_len, bp_chars, sym) in lengths.items():
            sym_cells = f"{sym[0]} | {sym[1]} | {sym[0] / bp_chars:.1f}x" if sym else "— | — | —"
            out += f"| {n} | {src_len} | {bp_chars} | {bp_chars / src_len:.2f} | {sym_cells} |\n"
        out += "\n"
        verdict[kind] = {"rows": rows, "lengths": lengths, "sizes": sizes}
    return out, verdict


# -- the report -------------------------------------------------------------------------------------


def verdicts(cold: dict, graph: dict, batch_v: dict, diff_v: dict | None = None) -> str:
    lines = ["### Done means, measured in this run\n"]
    ok = lambda b: "PASS" if b else "FAIL"
    r1, r2 = cold["ratio_to_floor"], cold["ratio_to_sympy"]
    lines.append(
        f"1. Cold start: bp {cell(cold['bp_json'])} = {r1:.2f}x `import typer, lark` (goal <= 1.2x): {ok(r1 <= 1.2)};"
        + (
            f" {r2:.2f}x the SymPy one-liner (goal <= 0.33x): {ok(r2 <= 1 / 3)}"
            if r2
            else " SymPy not measured"
        )
    )
    wide = graph.get("wide")
    if wide and 100000 in wide["sizes"]:
        rows, p = wide["rows"], wide["phases"][100000]
        bp = rows["bp"][100000]
        beats = []
        for peer in ("PyTorch", "micrograd"):
            t = rows.get(peer, {}).get(100000)
            if isinstance(t, Failed):
                beats.append(f"{peer} {t} (bp wins)")
            else:
                beats.append(f"{peer} {cell(t)} = {t / bp:.2f}x bp: {ok(t > bp)}")
        scale = bp / rows["bp"][10000]
        engine = p["build"] + p["forward"] + p["backward"]
        lines.append(
            f"2. Wide sum 1e5: bp {cell(bp)}; "
            + "; ".join(beats)
            + f". 1e4 -> 1e5 costs {scale:.1f}x (goal <= 12x):"
            f" {ok(scale <= 12)}. Build + forward + backward = {engine / p['syntax']:.2f}x the syntax-only parse"
            f" (goal <= 0.5): {ok(engine <= 0.5 * p['syntax'])}; backward = {p['backward'] / p['forward']:.2f}x forward"
            f" (goal <= 3x): {ok(p['backward'] <= 3 * p['forward'])}."
        )
    big = max(batch_v["sizes"])
    every = batch_v["threads"]
    r = batch_v["rows"]
    text = f"3. Batch at {big} points, value + gradient:"
    for bp_name, torch_name in (
        ("bp (1 thread)", "PyTorch (1 thread)"),
        (f"bp ({every} threads)", f"PyTorch ({every} threads)"),
    ):
        bp_b, torch_b = r[bp_name][big], r.get(torch_name, {}).get(big)
        if torch_b is None or isinstance(torch_b, Failed):
            text += f" {bp_name} {cell(bp_b)}, PyTorch not measured;"
        else:
            text += f" {bp_name} {cell(bp_b)} vs {torch_name} {cell(torch_b)} = {bp_b / torch_b:.2f}x (goal < 1): {ok(bp_b < torch_b)};"
    lines.append(text.rstrip(";") + ".")
    tree = (diff_v or {}).get("tree")
    if tree and 1000 in tree["sizes"]:
        t = tree["rows"]["bp diff"][1000]
        ratios = ", ".join(f"{n}: {b / s:.2f}" for n, (s, b, _) in tree["lengths"].items())
        text = f"5. `bp diff` of a 1,000-gate expression: {cell(t)}"
        if not isinstance(t, Failed):
            text += f" (goal < 1 s): {ok(t < 1)}"
        lines.append(text + f"; printed length / input length by size (linear if flat): {ratios}.")
    stream, sizes = batch_v["stream"], batch_v["stream_sizes"]
    top = max(sizes)
    rss = stream["peak RSS"].get(top)
    t = stream["bp eval --csv (CSV out)"].get(top)
    same = batch_v["prefix_same"].get(top)
    if isinstance(rss, str):
        mb = float(rss.split()[0])
        lines.append(
            f"6. Streaming: `bp eval --csv` on {top} rows: {cell(t)}, peak RSS {rss} (goal < 300 MB):"
            f" {ok(mb < 300)}; output on its first 1e5 rows the same as on the 1e5-row table:"
            f" {'PASS' if same else 'FAIL' if same is False else 'not measured'}."
        )
    return "\n".join(lines) + "\n"


_ARRAYS = ("<!-- arrays:start -->", "<!-- arrays:end -->")


def arrays_section(quick: bool) -> tuple[str, str]:
    """The arrays benchmark (bench/bench_arrays.py) as (Markdown section, Done line 4.), each
    wrapped in markers so `--only arrays` can replace them alone."""
    from bench_arrays import section

    table, done = section(8 if quick else 30)
    start, end = _ARRAYS
    return f"{start}\n{table}{end}\n", f"{start}\n4. {done}\n{end}\n"


def _splice(text: str, new_parts: list[str]) -> str:
    """Replace each marked arrays part of `text` by the new one, in order (or append them)."""
    start, end = _ARRAYS
    for part in new_parts:
        at = text.find(start)
        if at < 0:
            text = text.rstrip("\n") + "\n\n" + part
            continue
        stop = text.index(end, at) + len(end) + 1
        # park the replaced part behind a placeholder so the next search finds the next one
        text = text[:at] + part.replace(start, "\0", 1) + text[stop:]
    return text.replace("\0", start)


def only_arrays(args) -> int:
    """Re-measure the arrays section and splice it into results.md (and README.md)."""
    table, done = arrays_section(args.quick)
    print(done + "\n" + table)
    targets = [Path(args.out)] + ([ROOT / "README.md"] if args.readme else [])
    for path in targets:
        text = path.read_text()
        if path.name == "README.md" and "<!-- bench:end -->" in text:
            before, after = text.split("<!-- bench:end -->", 1)
            path.write_text(_insert_parts(before, done, table) + "<!-- bench:end -->" + after)
        else:
            path.write_text(_insert_parts(text, done, table))
    return 0


def _insert_parts(text: str, done: str, table: str) -> str:
    """The Done line after the last Done line (3.), the table at the end; or both replaced."""
    if _ARRAYS[0] in text:
        return _splice(text, [done, table])
    head, sep, rest = text.partition("\n3. ")
    if sep:
        line, nl, rest = rest.partition("\n")
        text = head + sep + line + nl + done + rest
    return text.rstrip("\n") + "\n\n" + table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes (a smoke test)")
    ap.add_argument("--out", default=str(HERE / "results.md"), help="where to write the Markdown tables")
    ap.add_argument("--readme", action="store_true", help="also put the tables into README.md")
    ap.add_argument("--only", choices=["arrays"], help="re-measure one section, keeping the others")
    ap.add_argument("--batch-child", nargs=3, metavar=("PEER", "N", "REPS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.batch_child:
        peer, n, reps = args.batch_child
        return batch_child(peer, int(n), int(reps))
    if args.only == "arrays":
        return only_arrays(args)
    repeat = 3 if args.quick else 7
    started = time.perf_counter()
    versions = []
    for mod in ("bpcli", "lark", "typer", "numpy", "sympy", "micrograd", "torch", "jax"):
        if have(mod):
            try:
                from importlib.metadata import version

                versions.append(f"{mod} {version(mod)}")
            except Exception:  # noqa: BLE001 - a version is only a label here
                versions.append(mod)
        else:
            versions.append(f"{mod} not installed")
    with tempfile.TemporaryDirectory(prefix="bp-bench-") as tmp:
        work = Path(tmp)
        # an installed bp has its bytecode compiled by pip, as typer and lark do; a source checkout
        # run with PYTHONDONTWRITEBYTECODE would otherwise compile bp's modules on every start
        import bpcli

        subprocess.run([PY, "-m", "compileall", "-q", str(Path(bpcli.__file__).parent)], check=True)
        # one untimed run fills bp's grammar cache, as any second use of bp would
        subprocess.run(
            [*BP, "eval", "x", "--x", "1", "--format", "plain"], stdout=subprocess.DEVNULL, check=True
        )
        cold_md, cold_v = cold_start(work, 5 if args.quick else 31)
        graph_md, graph_v = graphs(work, args.quick, repeat // 2 + 1)
        batch_md, batch_v = batch(work, args.quick, repeat)
        arrays_md, arrays_done = arrays_section(args.quick)
        diff_md, diff_v = derivatives(work, args.quick, repeat)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    header = (
        f"Measured {datetime.date.today()} by `python bench/run.py{' --quick' if args.quick else ''}` on"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average at the end"
        f" {load[0]:.2f}; {', '.join(versions)}. Times are wall clock (median); (Nx) = that tool's time / bp's."
        f" The whole run took {time.perf_counter() - started:.0f} s.\n"
    )
    report = "\n".join(
        [
            header,
            verdicts(cold_v, graph_v, batch_v, diff_v) + arrays_done,
            cold_md,
            graph_md,
            batch_md,
            arrays_md,
            diff_md,
        ]
    )
    Path(args.out).write_text("# bp benchmark\n\n" + report)
    print(report)
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        if start in text and end in text:
            before, rest = text.split(start, 1)
            after = rest.split(end, 1)[1]
            readme.write_text(before + start + "\n" + report + end + after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
