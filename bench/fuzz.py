"""The long fuzz run: `python bench/fuzz.py [EXAMPLES]` (default 5000) draws random argument
lists over every command and option (tests/fuzz_argv.py) and prints each distinct failure."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import run_bp  # noqa: E402
from fuzz_argv import argv, check_run  # noqa: E402


def main(examples: int) -> int:
    failures: dict[str, str] = {}
    runs = 0

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(argv())
    def one(words):
        nonlocal runs
        runs += 1
        try:
            check_run(run_bp, words)
        except AssertionError as e:
            failures.setdefault(str(e).split(", ", 1)[-1][:120], str(e)[:500])

    one()
    for text in failures.values():
        print("*", text)
    print(f"{len(failures)} distinct failures in {runs} runs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
