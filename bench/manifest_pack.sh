#!/usr/bin/env bash
# Benchmark: a manifest-heavy pack (400 files x 600 YAML documents, every one listed in
# kubeManifests, plus 64 MB of charts; bench/gen_manifest_pack.py). Compares, in one run:
#   spectro pack build --no-validate | pack build (validating) | tar czf,
#   spectro validate,
# for this tree's binary and a baseline binary built from BASELINE (a git revision,
# default: the last commit before the issue-16 work), so "before" and "after" come from
# the same machine and the same run. Also prints YAML MB/s per CPU second of validate.
# Not a test. Usage: bench/manifest_pack.sh [BASELINE_REV]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=bench/out; mkdir -p "$OUT"
BASELINE=${1:-bd56ed0}
command -v hyperfine >/dev/null || { apt-get update -q && apt-get install -y -q hyperfine; }
cargo build --release -q -p spectro-cli
NEW=$ROOT/target/release/spectro
OLD_SRC=$OUT/baseline-src
if [ ! -x "$OUT/baseline-target/release/spectro" ] || [ "$(cat "$OUT/baseline-rev" 2>/dev/null)" != "$BASELINE" ]; then
    rm -rf "$OLD_SRC"
    git worktree prune
    git worktree add -f -q --detach "$OLD_SRC" "$BASELINE"
    (cd "$OLD_SRC" && CARGO_TARGET_DIR="$ROOT/$OUT/baseline-target" cargo build --release -q -p spectro-cli)
    git worktree remove --force "$OLD_SRC"
    echo "$BASELINE" > "$OUT/baseline-rev"
fi
OLD=$ROOT/$OUT/baseline-target/release/spectro
PACK=$OUT/manifestpack
[ -f "$PACK/pack.json" ] || python3 bench/gen_manifest_pack.py "$PACK"
YAML_BYTES=$(find "$PACK" -name '*.yaml' -printf '%s\n' | awk '{s += $1} END {print s}')
echo "pack: $(du -sb "$PACK" | cut -f1) bytes, $YAML_BYTES bytes of YAML; baseline $BASELINE"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
hyperfine -N --warmup 1 --runs 5 --export-json "$OUT/manifest-build.json" \
    -n "new --no-validate" "$NEW pack build --no-validate $PACK -o $OUT/new.tar.gz" \
    -n "new validating" "$NEW pack build $PACK -o $OUT/new-v.tar.gz" \
    -n "old --no-validate" "$OLD pack build --no-validate $PACK -o $OUT/old.tar.gz" \
    -n "old validating" "$OLD pack build $PACK -o $OUT/old-v.tar.gz" \
    -n "tar czf" "tar czf $OUT/gnu.tar.gz -C $OUT manifestpack"
hyperfine -N -i --warmup 1 --runs 5 --export-json "$OUT/manifest-validate.json" \
    -n "new validate" "$NEW validate $PACK -q" \
    -n "old validate" "$OLD validate $PACK -q"
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
python3 - "$OUT" "$YAML_BYTES" "$(cpu "$NEW" validate "$PACK" -q)" "$(cpu "$OLD" validate "$PACK" -q)" <<'PY'
import json, os, sys
out, yaml_bytes, cpu_new, cpu_old = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
b = {r["command"]: r["mean"] for r in json.load(open(f"{out}/manifest-build.json"))["results"]}
v = {r["command"]: r["mean"] for r in json.load(open(f"{out}/manifest-validate.json"))["results"]}
tar = b["tar czf"]
for k in ("new --no-validate", "new validating", "old --no-validate", "old validating"):
    print(f"pack build {k:18s} {b[k]:6.2f} s  = {tar / b[k]:.2f}x tar czf ({tar:.2f} s)")
size = lambda f: os.path.getsize(f"{out}/{f}")
print(f"archive size: {size('new.tar.gz') / size('gnu.tar.gz'):.4f}x tar czf")
print(f"validate: new {v['new validate']:.2f} s, old {v['old validate']:.2f} s = {v['old validate'] / v['new validate']:.2f}x faster")
mb = yaml_bytes / 1e6
print(f"YAML per CPU second of validate (user+sys): new {mb / cpu_new:.1f} MB/s ({cpu_new:.2f} s CPU), old {mb / cpu_old:.1f} MB/s ({cpu_old:.2f} s CPU)")
PY
