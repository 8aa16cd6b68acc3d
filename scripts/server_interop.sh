#!/usr/bin/env bash
# Independent clients against `spectro registry serve`: the ORAS CLI (both directions,
# byte-identical), skopeo (copy in and out) and oras-py (the Python remote suite, anonymous
# and with Basic auth from an Apache htpasswd file).
#
#   scripts/server_interop.sh SPECTRO_BIN VENV REGISTRY_DIR
#
# REGISTRY_DIR is what scripts/registries.sh started (its htpasswd file is reused, with
# SPECTRO_TEST_REGISTRY_USER/PASS). The ORAS CLI is installed through the Go module proxy
# into target/gotools: 1.0.0 (what Palette's docs name) is not served there, so the newest
# 1.x, pushing with `--image-spec v1.0` for Palette's manifest shape.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$1 VENV=$2 REGDIR=$3
ORAS_VERSION=v1.3.6
TOOLS=$ROOT/target/gotools
say() { printf '  %s\n' "$*" >&2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

serve() { # VAR NAME ARGS...: start a server, set VAR to its address
    local var=$1 name=$2; shift 2
    "$BIN" registry serve --root "$WORK/$name" --addr 127.0.0.1:0 --quiet "$@" \
        > /dev/null 2> "$WORK/$name.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        local a
        a=$(sed -n 's|.* on http://\([0-9.:]*\) .*|\1|p' "$WORK/$name.log" | head -1)
        [ -n "$a" ] && { printf -v "$var" '%s' "$a"; return; }
        sleep 0.1
    done
    cat "$WORK/$name.log" >&2
    return 1
}
serve PLAIN plain
serve AUTH auth --htpasswd "$REGDIR/htpasswd"
say "spectro registry serve at $PLAIN (anonymous) and $AUTH (htpasswd)"

PACK=fixtures/packs/valid/nginx-chart
VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$PACK/pack.json")

# ORAS CLI
if command -v go >/dev/null; then
    if [ ! -x "$TOOLS/bin/oras" ] || ! "$TOOLS/bin/oras" version | grep -q "${ORAS_VERSION#v}"; then
        GOBIN="$TOOLS/bin" GOFLAGS=-modcacherw CGO_ENABLED=0 go install "oras.land/oras/cmd/oras@$ORAS_VERSION"
    fi
    ORAS=$TOOLS/bin/oras
    # spectro pushes, ORAS pulls the same bytes.
    "$BIN" pack push "$PACK" -r "oci://$PLAIN/s2o" --plain-http >/dev/null
    "$ORAS" pull --plain-http -o "$WORK/oras-out" "$PLAIN/s2o/spectro-packs/archive/nginx:$VERSION" >/dev/null
    "$BIN" pack pull "nginx:$VERSION" --archive -o "$WORK/spectro-out" -r "oci://$PLAIN/s2o" --plain-http >/dev/null
    cmp "$WORK"/oras-out/*.tar.gz "$WORK"/spectro-out/*.tar.gz
    say "ORAS $ORAS_VERSION pulled what spectro pushed: byte-identical"
    # ORAS pushes a `tar czf` archive in Palette's shape, spectro pulls it.
    # (the archive's top folder is the pack's name, as Palette expects)
    mkdir -p "$WORK/o2s" "$WORK/src" && cp -r "$PACK" "$WORK/src/nginx"
    tar czf "$WORK/o2s/nginx-$VERSION.tar.gz" -C "$WORK/src" nginx
    (cd "$WORK/o2s" && "$ORAS" push --plain-http --image-spec v1.0 \
        "$PLAIN/o2s/spectro-packs/archive/nginx:$VERSION" \
        "nginx-$VERSION.tar.gz:application/vnd.oci.image.layer.v1.tar" >/dev/null)
    "$BIN" pack pull "nginx:$VERSION" --archive -o "$WORK/o2s-out" -r "oci://$PLAIN/o2s" --plain-http >/dev/null
    cmp "$WORK/o2s/nginx-$VERSION.tar.gz" "$WORK"/o2s-out/*.tar.gz
    "$BIN" pack pull "nginx:$VERSION" -o "$WORK/o2s-tree" -r "oci://$PLAIN/o2s" --plain-http >/dev/null
    say "spectro pulled what ORAS pushed: byte-identical, and extracted"
    # ORAS with Basic auth from the htpasswd file.
    # (`oras cp` takes the password only as a flag; it is a throw-away test password)
    "$ORAS" cp --from-plain-http --to-plain-http --to-username "$SPECTRO_TEST_REGISTRY_USER" \
        --to-password "$SPECTRO_TEST_REGISTRY_PASS" \
        "$PLAIN/s2o/spectro-packs/archive/nginx:$VERSION" "$AUTH/copied/spectro-packs/archive/nginx:$VERSION" >/dev/null 2>&1
    "$ORAS" repo tags --plain-http -u "$SPECTRO_TEST_REGISTRY_USER" --password-stdin \
        "$AUTH/copied/spectro-packs/archive/nginx" <<< "$SPECTRO_TEST_REGISTRY_PASS" | grep -qx "$VERSION"
    if "$ORAS" repo tags --plain-http "$AUTH/copied/spectro-packs/archive/nginx" >/dev/null 2>&1; then
        echo "ORAS listed tags of the htpasswd server without credentials" >&2
        exit 1
    fi
    say "ORAS copied a pack into the htpasswd-protected server"
else
    say "go is not installed: the ORAS CLI interop is SKIPPED"
fi

# skopeo: out of our server into an OCI layout, and back in under another name.
if command -v skopeo >/dev/null; then
    skopeo copy -q --src-tls-verify=false "docker://$PLAIN/s2o/spectro-packs/archive/nginx:$VERSION" \
        "oci:$WORK/skopeo-layout:$VERSION"
    skopeo copy -q --dest-tls-verify=false "oci:$WORK/skopeo-layout:$VERSION" \
        "docker://$PLAIN/skopeo/spectro-packs/archive/nginx:$VERSION"
    "$BIN" pack pull "nginx:$VERSION" --archive -o "$WORK/skopeo-out" -r "oci://$PLAIN/skopeo" --plain-http >/dev/null
    cmp "$WORK"/spectro-out/*.tar.gz "$WORK"/skopeo-out/*.tar.gz
    say "skopeo copied a pack out and back in: byte-identical"
else
    say "skopeo is not installed: its interop is SKIPPED"
fi

# oras-py and the Python binding: the whole remote suite against our server.
SPECTRO_TEST_REGISTRY=$PLAIN SPECTRO_TEST_REGISTRY_AUTH=$AUTH SPECTRO_BIN="$BIN" \
    "$VENV/bin/python" -m pytest -q spectro-py/tests/test_remote.py
