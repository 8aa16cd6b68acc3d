#!/usr/bin/env bash
# Benchmark: `spectro pack build` vs `tar czf`, `tar cf - | pigz` and `tar cf` (the
# no-compression limit) on a ~200 MB synthetic pack, in one run. Prints times, sizes,
# ratios and peak RSS. Not a test. Usage: bench/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out; mkdir -p "$OUT"
for tool in hyperfine pigz; do
    command -v $tool >/dev/null || { apt-get update -q && apt-get install -y -q $tool; }
done
cargo build --release -q -p spectro-cli
PACK=$OUT/benchpack
[ -f "$PACK/pack.json" ] || python3 bench/gen_pack.py "$PACK"
echo "pack: $(du -sb "$PACK" | cut -f1) bytes in $(find "$PACK" -type f | wc -l) files; $(nproc) cores"
SPECTRO=target/release/spectro
hyperfine --warmup 1 --runs 5 --export-json "$OUT/build.json" \
    -n "spectro pack build" "$SPECTRO pack build --no-validate $PACK -o $OUT/spectro.tar.gz" \
    -n "tar czf" "tar czf $OUT/gnu.tar.gz -C $OUT benchpack" \
    -n "tar cf - | pigz" "tar cf - -C $OUT benchpack | pigz > $OUT/pigz.tar.gz" \
    -n "tar cf (no compression)" "tar cf $OUT/plain.tar -C $OUT benchpack"
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
python3 - "$OUT" "$(rss $SPECTRO pack build --no-validate $PACK -o $OUT/spectro.tar.gz)" \
    "$(rss tar czf $OUT/gnu.tar.gz -C $OUT benchpack)" <<'PY'
import json, os, sys
out, rss_spectro, rss_tar = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = {r["command"]: r["mean"] for r in json.load(open(f"{out}/build.json"))["results"]}
size = lambda f: os.path.getsize(f"{out}/{f}")
s, g, p = t["spectro pack build"], t["tar czf"], t["tar cf - | pigz"]
print(f"\nspectro {s:.2f}s  tar czf {g:.2f}s  tar|pigz {p:.2f}s  tar cf {t['tar cf (no compression)']:.2f}s")
print(f"speed: {g / s:.2f}x tar czf, {p / s:.2f}x tar|pigz")
print(f"size: spectro {size('spectro.tar.gz')} B = {size('spectro.tar.gz') / size('gnu.tar.gz'):.4f}x tar czf ({size('gnu.tar.gz')} B); pigz {size('pigz.tar.gz')} B")
print(f"peak RSS: spectro {rss_spectro / 1024:.1f} MiB, tar czf {rss_tar / 1024:.1f} MiB")
PY
