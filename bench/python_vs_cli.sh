#!/usr/bin/env bash
# Benchmark: validating the corpus from Python (spectro_packs.validate) vs the CLI, in one
# run. Needs the binding installed in .venv (scripts/test.sh does it). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpus/pack-central}
PY=${PYTHON:-.venv/bin/python}
cargo build --release -q -p spectro-cli
command -v hyperfine >/dev/null || { apt-get update -q && apt-get install -y -q hyperfine; }
hyperfine -N -i --warmup 1 --runs 8 --export-json bench/out/python.json \
    -n "spectro validate (CLI)" "target/release/spectro validate $CORPUS -q" \
    -n "spectro_packs.validate (Python)" "$PY -c 'import spectro_packs as sp, sys; sp.validate(sys.argv[1])' $CORPUS"
python3 - <<'PY'
import json
r = {x["command"]: x["mean"] for x in json.load(open("bench/out/python.json"))["results"]}
cli, py = r["spectro validate (CLI)"], r["spectro_packs.validate (Python)"]
print(f"\nCLI {cli:.3f} s, Python {py:.3f} s: Python/CLI = {py / cli:.2f}x (aim: <= 1.2x)")
PY
