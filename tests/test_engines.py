"""Parquet in and out, and `--engine dask` (issue 13): the same rows, bad rows, kinks and
`--on-error` messages as the local engine on CSV, which tests/test_stream.py holds to the
saved outputs of the engine before streaming."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

CASES = json.loads((Path(__file__).parent / "data" / "batch_today.json").read_text(encoding="utf-8"))
CSV_CASES = [c for c in CASES if c["stdin"] is not None]

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the parquet extra (and the test extra)")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is in the parquet extra")

EXPR = "log(x + 1) * y + relu(x) + max(x, y)"


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The same 1000-row table as CSV and as Parquet (4 row groups): zeros for relu's kink,
    -1 for log(0), ties for max."""
    import numpy as np

    d = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(13)
    n = 1000
    x = rng.choice([0.0, 1.0, -1.0, 2.5, 0.5, -0.25], n)
    y = np.where(rng.random(n) < 0.1, x, rng.normal(size=n))
    ids = [f"r{i}" for i in range(n)]
    pq.write_table(pa.table({"id": ids, "x": x, "y": y}), d / "t.parquet", row_group_size=256)
    lines = [f"{i},{float(a)!r},{float(b)!r}" for i, a, b in zip(ids, x, y, strict=True)]
    (d / "t.csv").write_text("id,x,y\n" + "\n".join(lines) + "\n")
    return d


@pytest.mark.parametrize("mode", ["fail", "skip", "nan"])
@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_parquet_in_gives_the_csv_rows(bp, tables, mode, fmt):
    want = bp("eval", EXPR, "--csv", str(tables / "t.csv"), "--on-error", mode, "--format", fmt)
    got = bp("eval", EXPR, "--parquet", str(tables / "t.parquet"), "--on-error", mode, "--format", fmt)
    assert (got.code, got.out, got.err) == (want.code, want.out, want.err)
    assert want.code == (3 if mode == "fail" else 0)
    assert "non-differentiable" in want.err or mode == "fail"


def test_parquet_out_holds_the_numbers(bp, tables, tmp_path):
    out = tmp_path / "o.parquet"
    r = bp("eval", "x*y + y", "--parquet", str(tables / "t.parquet"), "--out", str(out))
    assert r.code == 0 and r.out == "", r.err
    t = pq.read_table(out).to_pydict()
    assert list(t) == ["id", "x", "y", "f", "df/dx", "df/dy"]
    for x, y, f, dx, dy in zip(t["x"], t["y"], t["f"], t["df/dx"], t["df/dy"], strict=True):
        assert f == x * y + y and dx == y and dy == x + 1  # d(xy+y)/dx = y, d/dy = x + 1
    assert t["id"][:2] == ["r0", "r1"] and len(t["f"]) == 1000


def test_parquet_out_skip_and_fail(bp, tables, tmp_path):
    out = tmp_path / "o.parquet"
    r = bp(
        "eval", "log(x+1)", "--parquet", str(tables / "t.parquet"), "--out", str(out), "--on-error", "skip"
    )
    assert r.code == 0 and "rows skipped" in r.err
    t = pq.read_table(out).to_pydict()
    assert all(x > -1 for x in t["x"]) and all(
        math.isclose(d, 1 / (x + 1)) for x, d in zip(t["x"], t["df/dx"], strict=True)
    )
    r = bp("eval", "log(x+1)", "--parquet", str(tables / "t.parquet"), "--out", str(tmp_path / "no.parquet"))
    assert r.code == 3 and not (tmp_path / "no.parquet").exists()  # a failed table leaves no file


def test_parquet_usage_errors(bp, tables, tmp_path):
    r = bp("eval", "x", "--parquet", str(tmp_path / "missing.parquet"))
    assert r.code == 2 and "cannot read --parquet file" in r.err and r.err.count("\n") == 1
    r = bp("eval", "x", "--grid", "x=0:1:3", "--out", str(tmp_path / "a.svg"))
    assert r.code == 2 and ".parquet" in r.err
    r = bp("eval", "x", "--csv", str(tables / "t.csv"), "--parquet", str(tables / "t.parquet"))
    assert r.code == 2 and "not two" in r.err


# -- Dask -----------------------------------------------------------------------------------------

dd = pytest.importorskip("dask.dataframe", reason="Dask is in the dask extra (and the test extra)")
distributed = pytest.importorskip("distributed", reason="distributed is in the dask extra")


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker LocalCluster (worker processes), as a user's existing cluster."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


@pytest.fixture
def small_blocks(monkeypatch):
    import bpcli.cli._dask as dask_engine

    monkeypatch.setattr(dask_engine, "BLOCK", 4096)  # the 1000-row table in ~8 partitions


@pytest.mark.parametrize("mode", ["fail", "skip", "nan"])
@pytest.mark.parametrize("source", ["--csv", "--parquet"])
def test_dask_on_a_cluster_gives_the_local_rows(bp, tables, cluster, small_blocks, mode, source):
    path = str(tables / ("t.csv" if source == "--csv" else "t.parquet"))
    want = bp("eval", EXPR, "--csv", str(tables / "t.csv"), "--on-error", mode)
    got = bp("eval", EXPR, source, path, "--on-error", mode, "--engine", "dask", "--scheduler", cluster)
    assert (got.code, got.out, got.err) == (want.code, want.out, want.err)


def test_dask_partitions_are_many(tables, small_blocks):
    import bpcli.cli._dask as dask_engine

    table = dask_engine.DaskTable(str(tables / "t.csv"), None, {"x": 0, "y": 1}, None, 2)
    assert table.frame.npartitions > 3
    table = dask_engine.DaskTable(None, str(tables / "t.parquet"), {"x": 0, "y": 1}, None, 2)
    assert table.frame.npartitions == 4  # one per row group


@pytest.mark.parametrize("case", CSV_CASES, ids=[" ".join(c["args"])[:50] for c in CSV_CASES])
def test_dask_gives_the_saved_outputs(bp, tmp_path, small_blocks, case):
    """Every saved CSV case through --engine dask (this machine's threads): the same rows, the
    same bad-row, kink and error messages as before streaming (the file's name aside)."""
    f = tmp_path / "in.csv"
    f.write_text(case["stdin"], encoding="utf-8")
    r = bp("eval", *case["args"], "--csv", str(f), "--engine", "dask")
    assert (r.code, r.out, r.err.replace(repr(str(f)), "'-'")) == (case["code"], case["out"], case["err"])


def test_dask_usage_errors(bp, tables):
    r = bp("eval", "x", "--csv", "-", "--engine", "dask", stdin="x\n1\n")
    assert r.code == 2 and "standard input" in r.err
    r = bp("eval", "x", "--grid", "x=0:1:3", "--scheduler", "tcp://127.0.0.1:1")
    assert r.code == 2 and "--scheduler goes with --engine dask" in r.err
    r = bp("eval", "x", "--csv", str(tables / "t.csv"), "--engine", "spark")
    assert r.code == 2 and "--engine must be one of local, dask" in r.err
