#!/usr/bin/env bash
# Benchmark (not a test): `spectro registry serve` against CNCF distribution on this
# machine in the same run — push and pull of the ~150 MB benchmark archive with raw curl
# and with spectro as clients — and the server's peak RSS. Usage: bench/serve.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out; mkdir -p "$OUT"
command -v docker-registry >/dev/null || { apt-get update -q && apt-get install -y -q docker-registry apache2-utils; }
cargo build --release -q -p spectro-cli
SPECTRO=$PWD/target/release/spectro
PACK=$OUT/benchpack
[ -f "$PACK/pack.json" ] || python3 bench/gen_pack.py "$PACK"
ARCHIVE=$OUT/benchpack-1.0.0.tar.gz
[ -f "$ARCHIVE" ] || $SPECTRO pack build --no-validate "$PACK" -o "$OUT" >/dev/null

REGDIR=$(mktemp -d)
SERVE_PID=
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    scripts/registries.sh stop "$REGDIR"; rm -rf "$REGDIR"
}
trap cleanup EXIT
eval "$(scripts/registries.sh start "$REGDIR")"
"$SPECTRO" registry serve --root "$REGDIR/serve-root" --addr 127.0.0.1:0 --quiet 2> "$REGDIR/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do
    OURS=$(sed -n 's|.* on http://\([0-9.:]*\) .*|\1|p' "$REGDIR/serve.log" | head -1)
    [ -n "$OURS" ] && break
    sleep 0.1
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr); distribution $(docker-registry --version | awk '{print $3}'); both storing on $(df -T "$REGDIR" | awk 'NR==2{print $2}')"
python3 bench/serve.py "$SPECTRO" "$SPECTRO_TEST_REGISTRY" "$OURS" "$SERVE_PID" "$ARCHIVE" "$RUNS"
