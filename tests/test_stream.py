"""Streaming batch mode (issue 13): the output is byte for byte what the whole-table engine
wrote before streaming (tests/data/batch_today.json, saved from it on small inputs, and hashes of
its output on a 1e5-row table; tests/data/whole_table_batch.py is that engine and regenerates
both), however the table is cut into chunks and however many threads evaluate them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASES = json.loads((Path(__file__).parent / "data" / "batch_today.json").read_text(encoding="utf-8"))


def _name(case) -> str:
    return " ".join(case["args"])[:60]


@pytest.mark.parametrize("case", CASES, ids=[_name(c) for c in CASES])
def test_same_output_as_before_streaming(bp, case):
    if case["stdin"] is None:
        r = bp("eval", *case["args"])
    else:
        r = bp("eval", *case["args"], "--csv", "-", stdin=case["stdin"])
    assert (r.code, r.out, r.err) == (case["code"], case["out"], case["err"])


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_same_output_in_tiny_chunks_on_threads(bp, case_small_pieces, threads):
    for case in CASES:
        args = [*case["args"], "--threads", threads]
        if case["stdin"] is None:
            r = bp("eval", *args)
        else:
            r = bp("eval", *args, "--csv", "-", stdin=case["stdin"])
        assert (r.code, r.out, r.err) == (case["code"], case["out"], case["err"]), case["args"]


@pytest.fixture
def case_small_pieces(monkeypatch):
    """Pieces of 37 bytes, passes of 16 points and grid chunks of 50 points: every boundary
    falls somewhere odd."""
    import bpcli.cli._stream as stream
    import bpcli.core.batch as batch
    import bpcli.readers.table as table

    monkeypatch.setattr(table, "READ_BYTES", 37)
    monkeypatch.setattr(batch, "CHUNK", 16)
    monkeypatch.setattr(stream, "_grid_chunks", _small_grid_chunks(stream._grid_chunks))


def _small_grid_chunks(grid_chunks):
    return lambda axes, size=50: grid_chunks(axes, size)


def test_output_starts_before_standard_input_ends(tmp_path):
    """A producer that has written 100,000 rows and not closed the pipe already sees rows come
    back (past the 1 MiB held back); row numbers keep counting across the chunks."""
    import os
    import select
    import subprocess
    import sys
    import threading

    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "bpcli", "eval", "2*x", "--csv", "-", "--format", "json"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    rows = b"x\n" + b"".join(b"%d\n" % i for i in range(100_000))
    seen = threading.Event()

    def producer():  # a thread: bp writes rows back before it has read them all
        p.stdin.write(rows)
        p.stdin.flush()
        seen.wait(60)  # the last row only once the first has come back
        p.stdin.write(b"7\n")
        p.stdin.close()

    writer = threading.Thread(target=producer)
    try:
        writer.start()
        ready, _, _ = select.select([p.stdout], [], [], 60)
        assert ready, "no output while standard input is still open"
        first = json.loads(p.stdout.readline())
        assert first == {"row": 1, "inputs": {"x": 0.0}, "value": 0.0, "gradient": {"x": 2.0}}
        assert p.poll() is None  # still running: the input has not ended
        seen.set()
        rest = p.stdout.read().decode().splitlines()
        assert p.wait(60) == 0
        last = json.loads(rest[-1])
        assert last == {"row": 100_001, "inputs": {"x": 7.0}, "value": 14.0, "gradient": {"x": 2.0}}
        assert len(rest) == 100_000
    finally:
        seen.set()
        p.kill()
        p.wait()
        writer.join(60)


def _table(n: int, seed: int = 13) -> str:
    """A deterministic table: zeros (relu's kink), -1 (log(0)), and random values."""
    import random

    rng = random.Random(seed)
    out = ["id,x,y,z"]
    for i in range(n):
        x = rng.choice([0.0, 1.0, -1.0, rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-3, 3)])
        out.append(f"r{i},{x!r},{rng.gauss(0, 1)!r},{rng.uniform(-2, 2)!r}")
    return "\n".join(out) + "\n"


#: SHA-256 and length of the whole-table engine's output on _table(100_000), from
#: tests/data/whole_table_batch.py (the engine of commit 73f68b3) with the current gate table
BEFORE = {
    ("nan", "plain"): ("1f28d5f3452596b908c8221dcb5e069ee186bf09e3c99284a6a7451bb109aa1d", 10847213),
    ("skip", "json"): ("cd5e76576588cc19c3c92b529b076514292ea1a42bcac71e2b621c6dcad70aeb", 14792799),
}
EXPR_1E5 = "(x+sigmoid(y))/(sigmoid(x)+(x+y)^2) + relu(x)*z + log(x+1)"


@pytest.mark.parametrize("mode, fmt", list(BEFORE))
def test_1e5_rows_byte_for_byte_as_before(bp, tmp_path, mode, fmt):
    import hashlib

    f = tmp_path / "t.csv"
    f.write_text(_table(100_000))
    r = bp("eval", EXPR_1E5, "--csv", str(f), "--on-error", mode, "--format", fmt)
    assert r.code == 0
    assert (hashlib.sha256(r.out.encode()).hexdigest(), len(r.out)) == BEFORE[mode, fmt]
    assert "33151 rows" in r.err and "16614 rows are at a non-differentiable point" in r.err
