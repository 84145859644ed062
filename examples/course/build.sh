#!/bin/sh
# Rebuild every generated file of this folder from hw.toml and the students' answer files
# (tests/test_course.py checks that the committed files are exactly what this produces).
set -e
cd "$(dirname "$0")"
for student in alice bob carol; do
    bp problems make hw.toml --seed "$student" --out "$student-hw.toml"
    bp problems key "$student-hw.toml" --out "keys/$student.toml"
done
bp problems sheet alice-hw.toml --out alice-hw.md
bp problems sheet alice-hw.toml --format latex --out alice-hw.tex
# a wrong answer exits 1: the results file is written all the same
bp check --file alice-hw.toml --answers alice.toml --format gradescope > results/alice.json || true
bp check --file bob-hw.toml --answers bob.toml --format gradescope > results/bob.json || true
bp check --file carol-hw.toml --answers carol.json --format gradescope > results/carol.json || true
