"""Packaging (issue 2, Done 1 and 6): the README's install command works as written on a fresh
virtual environment, the installed `bp` runs from another folder (so the grammar shipped inside
the wheel), and `.ci/run` runs exactly the README's test command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
    "*.egg-info",
)


def readme_commands() -> list[str]:
    """The README's indented commands that start a fresh virtual environment, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [m.group(1).strip() for m in re.finditer(r"^    (python3 -m venv .+)$", text, re.M)]


def test_readme_has_the_two_commands_at_the_top():
    install, tests = readme_commands()[:2]
    assert install.endswith('bp eval "(x+y)*z" --x -2 --y 5 --z -4') and "pip install ." in install
    assert 'pip install ".[test]"' in tests and tests.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    # the README's command after its venv part (`python3 -m venv .venv && . .venv/bin/activate && `)
    tests = readme_commands()[1]
    venv_part = "python3 -m venv .venv && . .venv/bin/activate && "
    assert tests.startswith(venv_part)
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    last = [ln for ln in lines if ln and not ln.startswith("#")][-1]
    assert last == tests[len(venv_part) :]


def test_fresh_install_from_readme_runs_from_another_folder(tmp_path):
    """The one slow test (~30-60 s): a copy of the repo, the README's first command as written,
    then the installed console script from an unrelated folder."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=_SKIP)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["NO_COLOR"] = "1"
    install = readme_commands()[0]
    p = subprocess.run(
        ["bash", "-c", install], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0, p.stderr[-3000:]
    # the README's example printed the lecture's numbers: value -12, gradients -4, -4, 3
    assert "-12" in p.stdout and "-4" in p.stdout and "3" in p.stdout
    assert "\x1b[" not in p.stdout  # piped: readable text, no escape codes

    bp = repo / ".venv" / "bin" / "bp"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lecture = ["eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4"]
    r = subprocess.run(
        [str(bp), *lecture, "--format", "json"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["value"] == -12.0 and data["gradient"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    r = subprocess.run(
        [str(bp), *lecture, "--format", "plain"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert r.stdout == "f\t-12.0\ndf/dx\t-4.0\ndf/dy\t-4.0\ndf/dz\t3.0\n"
    r = subprocess.run(
        [str(bp), *lecture, "--wrt", "z"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert r.stdout == "3.0\n"

    # it is a real (non-editable) install: the package and its grammar live in site-packages
    py = repo / ".venv" / "bin" / "python"
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import bpcli, bpcli.core.parse as p; print(bpcli.__file__); print(p.grammar_path())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    pkg, grammar = where.stdout.split("\n")[:2]
    assert "site-packages" in pkg and "site-packages" in grammar, where.stdout
    assert grammar.endswith(os.path.join("bpcli", "grammar", "bp.lark"))
    # once the source copy is gone, the installed bp still works (nothing points back at it)
    shutil.rmtree(repo / "bpcli")
    shutil.rmtree(repo / "grammar")
    m = subprocess.run(
        [str(py), "-m", "bpcli", *lecture, "--wrt", "x"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (m.returncode, m.stdout) == (0, "-4.0\n"), m.stderr
    # the HTML page's assets (script, styles, the vendored layout library) are in the wheel too
    h = subprocess.run(
        [str(py), "-m", "bpcli", *lecture, "--format", "html"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert h.returncode == 0 and "dagre" in h.stdout and "</html>" in h.stdout, h.stderr
    assert sys.executable != str(py)
