#!/usr/bin/env bash
# Benchmark: `spectro validate` over the real corpus against what CI users run today on
# the same files: check-jsonschema (pack.json against our schema) and yamllint (values,
# presets, schema.yaml, manifests). Prints hyperfine results and the ratios.
# Not a test: numbers depend on the machine. Usage: bench/validate.sh [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpus/pack-central}
OUT=bench/out; mkdir -p "$OUT"
command -v hyperfine >/dev/null || { apt-get update -q && apt-get install -y -q hyperfine; }
if [ ! -x bench/.venv/bin/yamllint ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q check-jsonschema yamllint
fi
cargo build --release -q -p spectro-cli
find "$CORPUS" -name pack.json | sort > "$OUT/pack-json.txt"
find "$CORPUS" \( -name values.yaml -o -name presets.yaml -o -name schema.yaml -o -path '*/manifests/*.yaml' \) \
    -not -path '*/charts/*' | sort > "$OUT/yaml.txt"
echo "corpus: $(wc -l < "$OUT/pack-json.txt") packs, $(wc -l < "$OUT/yaml.txt") YAML files"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
hyperfine -N -i --warmup 1 --runs 10 --export-json "$OUT/validate-fast.json" \
    --command-name "spectro validate (all rules)" "target/release/spectro validate $CORPUS -q" \
    --command-name "check-jsonschema (pack.json only)" \
    "bench/.venv/bin/check-jsonschema --schemafile schemas/pack.schema.json $(tr '\n' ' ' < "$OUT/pack-json.txt")"
hyperfine -N -i --warmup 0 --runs 2 --export-json "$OUT/validate-yamllint.json" \
    --command-name "yamllint (YAML files)" \
    "bench/.venv/bin/yamllint -d relaxed --no-warnings $(tr '\n' ' ' < "$OUT/yaml.txt")"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
results = json.load(open(f"{out}/validate-fast.json"))["results"]
fast = {r["command"]: r["mean"] for r in results}
cpu = {r["command"]: r["user"] + r["system"] for r in results}
slow = {r["command"]: r["mean"] for r in json.load(open(f"{out}/validate-yamllint.json"))["results"]}
ours = fast["spectro validate (all rules)"]
cj = fast["check-jsonschema (pack.json only)"]
yl = slow["yamllint (YAML files)"]
print(f"\nspectro validate: {ours:.3f} s | check-jsonschema: {cj:.3f} s | yamllint: {yl:.3f} s")
print(f"spectro vs check-jsonschema alone: {cj / ours:.1f}x faster")
c_ours, c_cj = cpu["spectro validate (all rules)"], cpu["check-jsonschema (pack.json only)"]
print(f"CPU time (user+sys): spectro {c_ours:.3f} s, check-jsonschema {c_cj:.3f} s = {c_ours / c_cj:.2f}x of it")
print(f"spectro vs check-jsonschema + yamllint: {(cj + yl) / ours:.0f}x faster")
PY
