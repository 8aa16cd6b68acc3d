#!/usr/bin/env bash
# Benchmark (not a test): push and pull of a ~200 MB pack over loopback to CNCF
# distribution by spectro, oras-py and raw curl in one run, with peak RSS; then peak RSS
# of spectro pushing and pulling a 1 GiB pack. Usage: bench/registry.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out; mkdir -p "$OUT"
command -v docker-registry >/dev/null || { apt-get update -q && apt-get install -y -q docker-registry apache2-utils; }
VENV=${SPECTRO_VENV:-$PWD/.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check oras==0.2.43
cargo build --release -q -p spectro-cli
SPECTRO=$PWD/target/release/spectro
PACK=$OUT/benchpack
[ -f "$PACK/pack.json" ] || python3 bench/gen_pack.py "$PACK"
ARCHIVE=$OUT/benchpack-1.0.0.tar.gz
[ -f "$ARCHIVE" ] || $SPECTRO pack build --no-validate "$PACK" -o "$OUT" >/dev/null

REGDIR=$(mktemp -d)
trap 'scripts/registries.sh stop "$REGDIR"; rm -rf "$REGDIR"' EXIT
eval "$(scripts/registries.sh start "$REGDIR")"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr); distribution $(docker-registry --version | awk '{print $3}')"
"$VENV/bin/python" bench/registry.py "$SPECTRO" "$SPECTRO_TEST_REGISTRY" "$ARCHIVE" "$RUNS"

# 1 GiB pack (incompressible chart blob): spectro's peak RSS on push and pull.
BIG=$OUT/bigpack
if [ ! -f "$OUT/bigpack-1.0.0.tar.gz" ]; then
    mkdir -p "$BIG/charts"
    echo '{"name": "bigpack", "displayName": "Big", "version": "1.0.0", "layer": "addon"}' > "$BIG/pack.json"
    echo 'pack: {namespace: big}' > "$BIG/values.yaml"
    head -c $((1 << 30)) /dev/urandom > "$BIG/charts/blob.bin"
    $SPECTRO pack build --no-validate "$BIG" -o "$OUT" >/dev/null
    rm -rf "$BIG"
fi
rss() { /usr/bin/time -f "%e s, peak RSS %M KiB" "$@" 2>&1 >/dev/null | tail -1; }
PULLDIR=$(mktemp -d)
echo "1 GiB pack ($(stat -c %s "$OUT/bigpack-1.0.0.tar.gz") B archive; chunked upload):"
echo "  push: $(rss $SPECTRO pack push "$OUT/bigpack-1.0.0.tar.gz" --no-validate -r "oci://$SPECTRO_TEST_REGISTRY/big$RANDOM" --plain-http)"
B=big$RANDOM
$SPECTRO pack push "$OUT/bigpack-1.0.0.tar.gz" --no-validate -r "oci://$SPECTRO_TEST_REGISTRY/$B" --plain-http >/dev/null
echo "  pull: $(rss $SPECTRO pack pull bigpack:1.0.0 --archive -o "$PULLDIR" -r "oci://$SPECTRO_TEST_REGISTRY/$B" --plain-http)"
rm -rf "$PULLDIR"
