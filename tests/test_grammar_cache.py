"""The grammar cache cannot be used to run code or to reach another file. Lark's own `cache=`
unpickled its file before checking the hash, so a file planted in a shared or relative
XDG_CACHE_HOME ran code in another user's bp; bp now keeps JSON tables in a private folder and
opens them without following links. Each case is planted in a temporary XDG_CACHE_HOME and bp
runs as a fresh process (the parser is built once per process)."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys

import pytest


def _bp_cache_name() -> str:
    from bpcli.core import parse

    key = parse._cache_key(parse.grammar_path().read_text(encoding="utf-8"))
    return os.path.basename(parse._cache_file(key) or f"grammar-tables-{key[:16]}.json")


CACHE_NAMES = ("grammar.lark-cache", _bp_cache_name())  # Lark's old file, bp's file


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def run_bp(cache_home, *, cwd=None, home=None, timeout=30):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bpcli",
            "eval",
            "(x+y)*z",
            "--x",
            "-2",
            "--y",
            "5",
            "--z",
            "-4",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def assert_lecture_answer(r):
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}


def plant_pickles(folder, marker):
    folder.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(_Evil(marker))
    for name in CACHE_NAMES:
        # Lark's cache format: a hash line, then pickles; bp's name gets the bare pickle too
        (folder / name).write_bytes(b"0" * 64 + b"\n" + payload + payload)


def test_a_planted_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    plant_pickles(tmp_path / "cache" / "bp", marker)
    r = run_bp(tmp_path / "cache")
    assert_lecture_answer(r)
    assert not marker.exists(), "the planted pickle ran"


def test_a_relative_xdg_cache_home_is_ignored(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    home.mkdir()
    marker = tmp_path / "pwned"
    plant_pickles(work / "shared" / "bp", marker)
    r = run_bp("shared", cwd=work, home=home)
    assert_lecture_answer(r)
    assert not marker.exists()
    assert sorted(p.name for p in (work / "shared" / "bp").iterdir()) == sorted(CACHE_NAMES)  # untouched
    assert (home / ".cache" / "bp" / CACHE_NAMES[1]).is_file()  # the user's own folder instead


def test_a_symlink_at_the_cache_path_is_not_followed(tmp_path):
    folder = tmp_path / "cache" / "bp"
    folder.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in CACHE_NAMES:
        (folder / name).symlink_to(victim)
    for _ in range(2):  # the first run writes the cache, the second reads it
        assert_lecture_answer(run_bp(tmp_path / "cache"))
    assert victim.read_text() == "precious"


def test_a_fifo_at_the_cache_path_does_not_hang(tmp_path):
    folder = tmp_path / "cache" / "bp"
    folder.mkdir(parents=True, mode=0o700)
    for name in CACHE_NAMES:
        os.mkfifo(folder / name)
    assert_lecture_answer(run_bp(tmp_path / "cache", timeout=30))


def test_a_link_to_dev_zero_is_not_read_forever(tmp_path):
    folder = tmp_path / "cache" / "bp"
    folder.mkdir(parents=True, mode=0o700)
    for name in CACHE_NAMES:
        (folder / name).symlink_to("/dev/zero")
    assert_lecture_answer(run_bp(tmp_path / "cache", timeout=30))


def test_a_device_node_at_the_cache_path_is_refused(tmp_path):
    folder = tmp_path / "cache" / "bp"
    folder.mkdir(parents=True, mode=0o700)
    try:
        os.mknod(folder / CACHE_NAMES[1], 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
    except (OSError, AttributeError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    assert_lecture_answer(run_bp(tmp_path / "cache", timeout=30))


def test_a_folder_others_can_write_is_not_used(tmp_path):
    folder = tmp_path / "cache" / "bp"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert_lecture_answer(run_bp(tmp_path / "cache"))
    assert list(folder.iterdir()) == []


def test_the_cache_folder_is_private_and_the_cache_is_json(tmp_path):
    assert_lecture_answer(run_bp(tmp_path / "cache"))
    folder = tmp_path / "cache" / "bp"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    cache = folder / CACHE_NAMES[1]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    json.loads(cache.read_text())  # plain data: nothing in it can run
    assert_lecture_answer(run_bp(tmp_path / "cache"))  # and a warm start reads it


def test_a_file_of_another_account_is_not_read(tmp_path, monkeypatch):
    from bpcli.core import parse

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = parse._cache_file("k" * 64)
    parse._write_cache(path, "k", {"data": {}, "memo": {}})
    assert parse._read_cache(path, "k") == {"data": {}, "memo": {}}
    assert parse._read_cache(path, "another grammar") is None
    if os.geteuid() != 0:
        pytest.skip("only root can give the file to another account")
    os.chown(path, 65534, 65534)
    assert parse._read_cache(path, "k") is None


def test_a_damaged_cache_is_compiled_again(tmp_path):
    folder = tmp_path / "cache" / "bp"
    assert_lecture_answer(run_bp(tmp_path / "cache"))
    cache = folder / CACHE_NAMES[1]
    doc = json.loads(cache.read_text())
    doc["lark"]["memo"] = {"__pairs__": [[0, {"__type__": "NotAClass"}]]}
    cache.write_text(json.dumps(doc))
    assert_lecture_answer(run_bp(tmp_path / "cache"))
    cache.write_text("{not json")
    assert_lecture_answer(run_bp(tmp_path / "cache"))
