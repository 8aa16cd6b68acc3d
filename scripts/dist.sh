#!/usr/bin/env bash
# Build the release artifacts for this machine into dist/ (or $1):
#   spectro-<version>-<target>.tar.gz (+ .sha256): the binary, man page, shell
#       completions, README and LICENSE, in a folder of the same name;
#   spectro_packs-<version>-cp39-abi3-<platform>.whl and the sdist (Python);
#   spectro-packs-<version>.crate and spectro-cli-<version>.crate;
#   spectro-<version>-<target>.cdx.json: a CycloneDX SBOM of the CLI's dependencies
#       (cargo-cyclonedx, offline from Cargo.lock; installed when missing);
#   SHA256SUMS over all of them.
#
# Environment: SPECTRO_DIST_PROFILE (cargo profile, default release),
# SPECTRO_DIST_ALLOW_DIRTY=1 (package uncommitted changes; the test command sets it),
# CARGO_TARGET_DIR (shared with the Python build, so dependencies compile once),
# SPECTRO_PACKAGE_TARGET_DIR (where the packaged crates are verified; default the same),
# SPECTRO_VENV (a venv with maturin; created under target/ when unset).
set -euo pipefail
OUT=$(realpath -m "${1:-$(dirname "$0")/../dist}")
cd "$(dirname "$0")/.."
ROOT=$PWD
PROFILE=${SPECTRO_DIST_PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/dist-build}
log() { printf '==> %s\n' "$*" >&2; }

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
TARGET=$(rustc -vV | sed -n 's/^host: //p')
NAME="spectro-$VERSION-$TARGET"
mkdir -p "$OUT"
# Only this run's artifacts end up in OUT (and in SHA256SUMS). OUT may be any folder the
# user names: remove only files with our artifacts' names, never other wheels or crates.
rm -f "$OUT"/spectro-*-*.cdx.json "$OUT"/spectro-*-*.tar.gz "$OUT"/spectro-*-*.tar.gz.sha256 "$OUT"/spectro_packs-*.whl \
    "$OUT"/spectro_packs-*.tar.gz "$OUT"/spectro-packs-*.crate "$OUT"/spectro-cli-*.crate "$OUT/SHA256SUMS"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

log "spectro $VERSION for $TARGET (cargo profile $PROFILE)"
cargo build --locked --profile "$PROFILE" -p spectro-cli
case $PROFILE in dev) BIN_DIR=debug ;; *) BIN_DIR=$PROFILE ;; esac
BIN="$CARGO_TARGET_DIR/$BIN_DIR/spectro"

log "tarball $NAME.tar.gz"
PKG="$STAGE/$NAME"
mkdir -p "$PKG/man/man1" "$PKG/completions"
install -m 0755 "$BIN" "$PKG/spectro"
"$BIN" man > "$PKG/man/man1/spectro.1"
"$BIN" completions bash > "$PKG/completions/spectro.bash"
"$BIN" completions zsh > "$PKG/completions/_spectro"
"$BIN" completions fish > "$PKG/completions/spectro.fish"
cp README.md LICENSE "$PKG/"
chmod 0644 "$PKG"/man/man1/* "$PKG"/completions/* "$PKG/README.md" "$PKG/LICENSE"
# Same bytes for the same inputs: sorted names, fixed owner and time.
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --mode=u+rw,go+r,go-w \
    -C "$STAGE" -cf - "$NAME" | gzip -n -9 > "$OUT/$NAME.tar.gz.tmp"
mv "$OUT/$NAME.tar.gz.tmp" "$OUT/$NAME.tar.gz"
(cd "$OUT" && sha256sum "$NAME.tar.gz" > "$NAME.tar.gz.sha256")

log "SBOM $NAME.cdx.json (CycloneDX, the CLI's normal dependencies for $TARGET)"
command -v cargo-cyclonedx >/dev/null || cargo install --locked cargo-cyclonedx >&2
cargo cyclonedx --manifest-path spectro-cli/Cargo.toml --format json --spec-version 1.5 \
    --no-build-deps --target "$TARGET" --override-filename "$NAME.cdx" >&2
mv spectro-cli/"$NAME.cdx.json" "$OUT/$NAME.cdx.json"
# cargo-cyclonedx writes one file per workspace member whatever --manifest-path says:
# only the CLI's is ours to ship.
rm -f -- */"$NAME.cdx.json"

log "Python wheel and sdist"
VENV=${SPECTRO_VENV:-$ROOT/target/dist-venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2"
MATURIN_PROFILE=(--release)
[ "$PROFILE" = release ] || MATURIN_PROFILE=(--profile "$PROFILE")
"$VENV/bin/maturin" build --locked "${MATURIN_PROFILE[@]}" -m spectro-py/Cargo.toml --out "$OUT" >&2
"$VENV/bin/maturin" sdist -m spectro-py/Cargo.toml --out "$OUT" >&2

log "crates (cargo publish --dry-run: packaged, then verified by building the packaged sources)"
DIRTY=()
[ "${SPECTRO_DIST_ALLOW_DIRTY:-0}" = 1 ] && DIRTY=(--allow-dirty)
# The dry run verifies spectro-cli against spectro-packs from a temporary local registry,
# which cargo unpacks under $CARGO_HOME/registry/src/<registry hash>/ and never refreshes
# while the same version is there: a checkout at the same path with other sources would
# be built against stale ones. Drop our own unpacked crates (never crates.io's folders).
for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/* "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*; do
    case "$(basename "$d")" in index.crates.io-*) continue ;; esac
    rm -rf "$d/spectro-packs-$VERSION" "$d/spectro-cli-$VERSION" \
        "$d/spectro-packs-$VERSION.crate" "$d/spectro-cli-$VERSION.crate"
done
CARGO_TARGET_DIR=${SPECTRO_PACKAGE_TARGET_DIR:-$CARGO_TARGET_DIR} \
    cargo publish --dry-run --locked "${DIRTY[@]}" -p spectro-packs -p spectro-cli \
    --config 'profile.dev.package."*".opt-level=2' >&2   # the workspace's dev profile: reuse its builds
# The .crate files themselves (already verified above).
cargo package --no-verify --locked "${DIRTY[@]}" -p spectro-packs -p spectro-cli >&2
cp "$CARGO_TARGET_DIR/package/spectro-packs-$VERSION.crate" "$CARGO_TARGET_DIR/package/spectro-cli-$VERSION.crate" "$OUT/"

(cd "$OUT" && sha256sum -- "$NAME.tar.gz" "$NAME.cdx.json" spectro_packs-"$VERSION"*.whl spectro_packs-"$VERSION".tar.gz \
    spectro-packs-"$VERSION".crate spectro-cli-"$VERSION".crate > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
log "artifacts in $OUT:"
ls -l "$OUT" >&2
