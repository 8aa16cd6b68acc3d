#!/usr/bin/env bash
# Run every test of the project on a fresh machine (only Rust and Python needed).
#
# Installs what the tests need when it is missing, starts the services they use on
# 127.0.0.1, runs the Rust and Python suites, and stops the services on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

log() { printf '\n==> %s\n' "$*" >&2; }

if [ ! -d ../shared/corpus ]; then
    log "../shared/corpus not found: corpus tests will skip"
fi

# CNCF distribution (the registry the remote tests talk to), htpasswd for its Basic auth,
# and independent readers of our OCI image layouts.
need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v openssl >/dev/null || need_apt+=(openssl)   # the TLS test registry's throw-away CA
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v umoci >/dev/null || need_apt+=(umoci)
command -v nvim >/dev/null || need_apt+=(neovim)     # a real editor for `spectro lsp`
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)   # venvs for the Python tests
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]} (Debian packages)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null \
        || log "could not install ${need_apt[*]}; their interop tests will skip"
fi

# The official SARIF 2.1.0 JSON Schema (from the npm registry) for the SARIF output test.
SARIF_DIR="$ROOT/target/sarif"
if [ ! -f "$SARIF_DIR/sarif-2.1.0.json" ] && command -v npm >/dev/null; then
    mkdir -p "$SARIF_DIR"
    (cd "$SARIF_DIR" && npm pack -q @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1 \
        && tar xzf microsoft-jest-sarif-*.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json \
        && mv package/lib/schemas/sarif-2.1.0-rtm.5.json sarif-2.1.0.json && rm -rf package ./*.tgz) \
        || log "could not fetch the SARIF schema; its test will skip"
fi
[ -f "$SARIF_DIR/sarif-2.1.0.json" ] && export SARIF_SCHEMA="$SARIF_DIR/sarif-2.1.0.json"

LOGDIR=$(mktemp -d)
REGDIR="$LOGDIR/registries"
trap 'scripts/registries.sh stop "$REGDIR"; rm -rf "$LOGDIR"' EXIT

log "starting CNCF distribution registries on 127.0.0.1"
eval "$(scripts/registries.sh start "$REGDIR")"
export SPECTRO_REQUIRE_REGISTRY=1
echo "anonymous: $SPECTRO_TEST_REGISTRY, htpasswd: $SPECTRO_TEST_REGISTRY_AUTH" >&2

# The registry server's load test runs a minute here (ten seconds in a bare `cargo test`).
export SPECTRO_LOAD_SECONDS=60 SPECTRO_LOAD_REPORT="$LOGDIR/load.txt"
log "cargo test (workspace; the library with every feature, as the CLI and tests enable them)"
cargo test --workspace --locked 2>&1 | tee "$LOGDIR/cargo.log"

# The library as `cargo add spectro-packs` gives it: no features, no HTTP stack. (Its
# default feature set is empty today, so this is the default build too.)
log "cargo test -p spectro-packs --no-default-features"
cargo test -p spectro-packs --no-default-features --locked 2>&1 | tee "$LOGDIR/cargo-nodefault.log"

log "library examples (spectro-packs/examples)"
EX=$(mktemp -d -p "$LOGDIR")
cargo run -q --locked -p spectro-packs --example validate -- fixtures/packs/valid/hello-universe
rc=0
cargo run -q --locked -p spectro-packs --example validate -- fixtures/packs/invalid/PK006-invalid-enum-value >/dev/null || rc=$?
[ "$rc" = 1 ] || { echo "examples/validate exited $rc on an invalid pack, not 1" >&2; exit 1; }
cargo run -q --locked -p spectro-packs --example build_archive -- fixtures/packs/valid/nginx-chart "$EX/dist/"
cargo run -q --locked -p spectro-packs --example registry_roundtrip -- "$EX/registry" "$EX/pulled" \
    fixtures/packs/valid/nginx-chart fixtures/packs/valid/hello-universe
test -f "$EX/pulled/nginx/pack.json"

log "Python binding: venv, build, pytest, stubtest"
VENV=${SPECTRO_VENV:-$ROOT/.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check maturin pytest mypy oras==0.2.43 pytest-lsp==1.0.1

# The artifacts (tarball, wheel, sdist, crates) exactly as scripts/dist.sh makes them, but
# with the dev profile in the main target dir, where the tests already built everything:
# what is checked here is the packaging, and a release build of the CLI and the wheel
# would cost CI about ten minutes. `scripts/dist.sh` alone builds release artifacts.
log "artifacts (scripts/dist.sh, dev profile)"
SPECTRO_DIST_ALLOW_DIRTY=1 SPECTRO_DIST_PROFILE=dev CARGO_TARGET_DIR="$ROOT/target" \
    SPECTRO_VENV="$VENV" scripts/dist.sh "$ROOT/target/dist"
log "install and run each artifact (scripts/check_dist.sh)"
scripts/check_dist.sh "$ROOT/target/dist"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT"/target/dist/spectro_packs-*.whl
cargo build -q -p spectro-cli   # the pytest suite compares with the CLI's JSON
"$VENV/bin/python" -m pytest -q spectro-py/tests 2>&1 | tee "$LOGDIR/pytest.log"
(cd "$LOGDIR" && "$VENV/bin/python" -m mypy.stubtest spectro_packs)

log "registry server: the official OCI conformance suite, then ORAS, skopeo and oras-py against it"
rc=0
CONFORMANCE_REPORT="$LOGDIR/conformance.txt" scripts/conformance.sh "$ROOT/target/debug/spectro" || rc=$?
if [ "$rc" = 3 ]; then
    log "WARNING: Go is missing, so the OCI conformance suite and the ORAS CLI interop did NOT run"
elif [ "$rc" != 0 ]; then
    exit "$rc"
fi
scripts/server_interop.sh "$ROOT/target/debug/spectro" "$VENV" "$REGDIR" 2>&1 | tee "$LOGDIR/server-interop.log"

log "language server: pytest-lsp with recorded editor capabilities, then headless Neovim"
SPECTRO_BIN="$ROOT/target/debug/spectro" "$VENV/bin/python" -m pytest -q -c tests/lsp/pytest.ini tests/lsp 2>&1 \
    | tee "$LOGDIR/pytest-lsp.log"
if command -v nvim >/dev/null; then
    NV=$(mktemp -d -p "$LOGDIR")
    cp -r fixtures/packs/valid/hello-universe "$NV/pack"
    SPECTRO_BIN="$ROOT/target/debug/spectro" SPECTRO_PACK="$NV/pack" \
        timeout 120 nvim --headless --clean -u NONE -c 'luafile tests/lsp/nvim.lua'
else
    log "nvim not installed: the Neovim test is skipped"
fi
log "VS Code extension: packaged to a .vsix with @vscode/vsce (npm) and its contents checked"
scripts/vsix.sh

for f in "$LOGDIR/conformance.txt" "$LOGDIR/load.txt"; do
    [ -f "$f" ] && cat "$f"
done
# One closing line over every suite, so the total is visible at the end of the run.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1); if ($i ~ /^ignored/) s += $(i-1) } }
     /^[0-9]+ passed/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1); if ($i ~ /^skipped/) s += $(i-1) } }
     END { printf "\nall suites: %d passed, %d failed, %d skipped\n", p, f, s }' "$LOGDIR"/*.log
