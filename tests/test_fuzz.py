"""A fuzz test that stays in the suite: random argument lists over every command and option
(tests/fuzz_argv.py). Kept to a few seconds here; `python bench/fuzz.py N` runs it longer."""

from __future__ import annotations

from conftest import run_bp
from fuzz_argv import argv, check_run
from hypothesis import HealthCheck, given, settings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv())
def test_random_argument_lists_end_as_the_contract_says(words):
    check_run(run_bp, words)
