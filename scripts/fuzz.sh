#!/usr/bin/env bash
# Fuzz spectro with cargo-fuzz (libFuzzer) on the stable toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
#
# Runs each target (default: all of them) for SECONDS (default 600), one after another,
# starting from seeds built from fixtures/ and ../shared/corpus (spectro-fuzz-seeds) plus
# what earlier runs found (fuzz/corpus/<target>, ignored by git). Crashes land in
# fuzz/artifacts/<target>/; copy a fixed one into fuzz/regressions/<target>/ so CI's seed
# test (spectro-fuzz/tests/seeds.rs) keeps it fixed. A summary line per target (runs,
# coverage, crashes) is printed at the end and kept in target/fuzz-logs/.
#
# Not part of CI (too long); CI runs every target over its seeds once instead.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-600}
shift || true
ALL=(pack_json pack_yaml profile archive oci reference config lsp server)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
# cargo-fuzz passes a few -Z flags; RUSTC_BOOTSTRAP lets the stable compiler take them.
# No sanitizer: the code has no `unsafe` (forbidden), and libFuzzer still catches
# panics, stack overflows, timeouts and memory blow-ups.
export RUSTC_BOOTSTRAP=1
cargo build --release -q -p spectro-fuzz --bin spectro-fuzz-seeds
cargo fuzz build -s none -O

LOGS=target/fuzz-logs
mkdir -p "$LOGS"
SUMMARY="$LOGS/summary-$(date +%Y%m%dT%H%M%S).txt"
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  target/release/spectro-fuzz-seeds "$t" "fuzz/corpus/$t"
  dict=()
  [ -f "fuzz/dicts/$t.dict" ] && dict=("-dict=fuzz/dicts/$t.dict")
  echo "== $t: ${SECONDS_EACH}s from $(ls "fuzz/corpus/$t" | wc -l) inputs"
  status=0
  cargo fuzz run -s none -O "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -max_len=1048576 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" "${dict[@]}" \
    >"$LOGS/$t.log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOGS/$t.log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$LOGS/$t.log" | tail -1 | grep -o '[0-9]*' || echo "?")
  crashes=$(ls "fuzz/artifacts/$t" | wc -l)
  line="$t seconds=$SECONDS_EACH runs=$runs cov=$cov exit=$status artifacts=$crashes"
  echo "$line" | tee -a "$SUMMARY"
done
echo "summary: $SUMMARY"
