"""Every write is checked: a full disk, a closed stream or an unwritable --out file is one `bp:`
line and exit 4, never a silent success (CPython's buffered stdout lost a short write on a
nearly full disk and bp exited 0). These run bp as a real process with real descriptors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

BP = [sys.executable, "-m", "bpcli"]
TERMS = 3000
BIG = "+".join(f"x{i}*y{i}" for i in range(TERMS))  # --graph JSON of about 1.7 MB


@pytest.fixture(scope="module")
def big_vars(tmp_path_factory):
    path = tmp_path_factory.mktemp("vars") / "big.json"
    path.write_text(json.dumps({f"{c}{i}": 1.5 for i in range(TERMS) for c in "xy"}))
    return str(path)


def run_shell(script: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, **kw)


def one_bp_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bp: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KB tmpfs (needs root and mount rights; skipped where the test cannot mount one)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount program")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_is_exit_4_not_a_silent_short_file(small_disk, big_vars):
    target = small_disk / "out.json"
    with open(target, "w") as out:
        r = subprocess.run(
            [*BP, "eval", "-", "--vars", big_vars, "--format", "json", "--graph"],
            input=BIG,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert r.returncode == 4, r.stderr
    assert "No space left on device" in one_bp_line(r.stderr)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_dev_full_is_exit_4(big_vars):
    with open("/dev/full", "w") as out:
        r = subprocess.run(
            [*BP, "eval", "-", "--vars", big_vars, "--format", "json", "--graph"],
            input=BIG,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert r.returncode == 4
    assert "cannot write standard output" in one_bp_line(r.stderr)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_small_output_to_dev_full_is_exit_4_too():
    # a few bytes stay in a buffer until the very end: the last flush is checked as well
    r = run_shell(f"{' '.join(BP)} eval '(x+y)*z' --x 1 --y 2 --z 3 --format plain > /dev/full")
    assert r.returncode == 4
    one_bp_line(r.stderr)


def test_closed_stdout_is_a_clear_message():
    r = run_shell(f"{' '.join(BP)} eval x --x 1 --format plain >&-")
    assert r.returncode == 4
    assert "standard output" in one_bp_line(r.stderr) and "closed" in r.stderr


def test_closed_stdin_is_a_clear_message():
    r = run_shell(f"{' '.join(BP)} eval - --x 1 <&-")
    assert r.returncode == 2
    assert "standard input" in one_bp_line(r.stderr) and "closed" in r.stderr


def test_out_file_that_cannot_be_written_is_exit_4(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    target = tmp_path / "no-such-folder" / "graph.svg"
    r = subprocess.run(
        [*BP, "eval", "x*y", "--x", "1", "--y", "2", "--format", "plain", "--out", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 4
    assert "--out" in one_bp_line(r.stderr)


def test_out_file_on_a_full_disk_is_exit_4_and_leaves_no_partial_file(small_disk):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    (small_disk / "fill").write_bytes(b"\0" * (60 * 1024))
    target = small_disk / "graph.svg"
    r = subprocess.run(
        [
            *BP,
            "eval",
            "(x+y)*z",
            "--x",
            "1",
            "--y",
            "2",
            "--z",
            "3",
            "--format",
            "plain",
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 4
    assert "No space left on device" in one_bp_line(r.stderr)
    assert not target.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4"],
        ["eval", "sigmoid(x)", "--x", "1", "--steps"],
        ["eval", "sigmoid(x)", "--x", "1", "--compare"],
        ["check", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--expect", "dx=-4"],
        ["explain", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--wrt", "x"],
        ["plot", "x^2", "--x", "-3:3"],
    ],
    ids=lambda a: a[0] + (" " + a[-1] if a[-1].startswith("--") else ""),
)
def test_an_ascii_only_output_encoding_falls_back_to_ascii_lines(args):
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    r = subprocess.run([*BP, *args], capture_output=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    r.stdout.decode("ascii")  # strict: every byte is ASCII
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr


def test_undecodable_input_bytes_do_not_kill_the_picture():
    r = subprocess.run([*BP, "eval", "-", "--x", "1"], input=b"x # \xff\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_dot_title_of_a_big_graph_is_cut_and_escaped(bp):
    source = "+".join(f"x{i}" for i in range(3000)) + "  # a\\"
    bindings = [f"x{i}=1" for i in range(3000)]
    r = bp("eval", source, *bindings, "--format", "dot")
    assert r.code == 0
    title = next(line for line in r.out.splitlines() if "labelloc=t" in line)
    assert len(title) < 200 and title.endswith('..."];')
    r = bp("eval", "x  # a\\", "--x", "1", "--format", "dot")
    title = next(line for line in r.out.splitlines() if "labelloc=t" in line)
    assert title.endswith('label="x # a\\\\"];')  # the backslash escaped, the quote closes
    if shutil.which("gc") is not None:  # Graphviz's own parser reads it
        done = subprocess.run(["gc"], input=r.out, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "syntax error" not in done.stderr
