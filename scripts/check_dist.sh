#!/usr/bin/env bash
# Install every artifact scripts/dist.sh made, the way a user would, and run it:
#   - the tarball: checksum, unpack into an empty prefix, `spectro --version`,
#     `spectro validate` on a good and a bad fixture, man page and completions load;
#   - the wheel: a fresh venv with cargo and rustc off PATH, `pip install` of the file
#     (nothing may compile), then every ```python block of spectro-py/README.md;
#   - the library: a crate outside the workspace that depends on the unpacked
#     spectro-packs .crate builds and runs the README example of spectro-packs.
# Usage: scripts/check_dist.sh DIST_DIR
set -euo pipefail
DIST=$(realpath "${1:?usage: check_dist.sh DIST_DIR}")
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
TARGET=$(rustc -vV | sed -n 's/^host: //p')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
log() { printf '==> check_dist: %s\n' "$*" >&2; }
fail() { printf 'check_dist: FAILED: %s\n' "$*" >&2; exit 1; }

log "checksums"
(cd "$DIST" && sha256sum --quiet -c SHA256SUMS && sha256sum --quiet -c "spectro-$VERSION-$TARGET.tar.gz.sha256") \
    || fail "checksums do not match"

log "SBOM: CycloneDX of spectro-cli listing what Cargo.lock pins"
python3 - "$DIST/spectro-$VERSION-$TARGET.cdx.json" <<'PY' || fail "SBOM"
import json, sys
bom = json.load(open(sys.argv[1]))
assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5", bom.get("specVersion")
assert bom["metadata"]["component"]["name"] == "spectro-cli"
names = {c["name"] for c in bom["components"]}
lock = open("Cargo.lock").read()
for dep in ("spectro-packs", "serde", "tar", "flate2", "reqwest", "rustls"):
    assert dep in names, f"{dep} missing from the SBOM"
for c in bom["components"]:
    assert f'name = "{c["name"]}"\nversion = "{c["version"]}"' in lock, f'{c["name"]} {c["version"]} is not in Cargo.lock'
PY

log "tarball into an empty prefix"
mkdir "$WORK/prefix"
tar xzf "$DIST/spectro-$VERSION-$TARGET.tar.gz" -C "$WORK/prefix"
PKG="$WORK/prefix/spectro-$VERSION-$TARGET"
for f in spectro README.md LICENSE man/man1/spectro.1 completions/spectro.bash completions/_spectro completions/spectro.fish; do
    [ -e "$PKG/$f" ] || fail "tarball lacks $f"
done
[ -x "$PKG/spectro" ] || fail "spectro is not executable"
out=$(env -i PATH=/usr/bin:/bin HOME="$WORK/home" "$PKG/spectro" --version)
[ "$out" = "spectro $VERSION" ] || fail "spectro --version said '$out'"
env -i PATH=/usr/bin:/bin HOME="$WORK/home" "$PKG/spectro" validate fixtures/packs/valid/hello-universe >/dev/null \
    || fail "spectro validate on a valid pack"
rc=0
env -i PATH=/usr/bin:/bin HOME="$WORK/home" "$PKG/spectro" validate fixtures/packs/invalid/PK006-invalid-enum-value >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "spectro validate on an invalid pack exited $rc, not 1"
grep -q '^\.TH spectro 1' "$PKG/man/man1/spectro.1" || fail "man page has no .TH header"
bash -n "$PKG/completions/spectro.bash" || fail "bash completion does not parse"
grep -q "spectro" "$PKG/completions/_spectro" || fail "zsh completion is empty"

log "wheel into a fresh venv, without a Rust toolchain on PATH"
python3 -m venv "$WORK/venv"
CLEAN_PATH="$WORK/venv/bin:/usr/bin:/bin"
if env PATH="$CLEAN_PATH" sh -c 'command -v cargo || command -v rustc' >/dev/null; then
    log "warning: cargo or rustc is in /usr/bin on this machine; the wheel check cannot hide it"
fi
WHEEL=$(ls "$DIST"/spectro_packs-"$VERSION"-cp*-abi3-*.whl)
env PATH="$CLEAN_PATH" "$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check --no-index --no-deps "$WHEEL" \
    || fail "pip install of the wheel"
env PATH="$CLEAN_PATH" "$WORK/venv/bin/python" - "$ROOT/spectro-py/README.md" <<'EOF' || fail "the Python README examples"
import os, re, sys
import spectro_packs
blocks = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), flags=re.S)
assert len(blocks) >= 3, blocks
for i, code in enumerate(blocks):
    if "SPECTRO_TEST_REGISTRY" in code and not os.environ.get("SPECTRO_TEST_REGISTRY"):
        print(f"README block {i}: skipped (no test registry)")
        continue
    exec(compile(code, f"README block {i}", "exec"), {})
print(f"{spectro_packs.__name__} from the wheel: README blocks checked")
EOF

log "sdist holds the sources the wheel build needs"
SDIST=$(ls "$DIST"/spectro_packs-"$VERSION".tar.gz)
listing=$(tar tzf "$SDIST")
for f in pyproject.toml Cargo.toml Cargo.lock spectro-py/src/lib.rs spectro-packs/src/lib.rs spectro-packs/schemas/pack.schema.json; do
    grep -q "^spectro_packs-$VERSION/$f\$" <<<"$listing" || fail "sdist lacks $f"
done

log "the packaged spectro-packs crate, from a crate outside the workspace"
mkdir "$WORK/crate" "$WORK/consumer"
tar xzf "$DIST/spectro-packs-$VERSION.crate" -C "$WORK/crate"
mkdir "$WORK/consumer/src"
cat > "$WORK/consumer/Cargo.toml" <<EOF
[package]
name = "consumer"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
spectro-packs = { path = "$WORK/crate/spectro-packs-$VERSION" }

[workspace]

# The workspace's dev profile, so the dependencies built for the tests are reused.
[profile.dev.package."*"]
opt-level = 2
EOF
# The README's library example, as written.
python3 - "$ROOT/spectro-packs/README.md" > "$WORK/consumer/src/main.rs" <<'EOF'
import re, sys
print(re.findall(r"```rust\n(.*?)```", open(sys.argv[1]).read(), flags=re.S)[0])
EOF
cp Cargo.lock "$WORK/consumer/Cargo.lock"   # the versions CI tests with
(cd "$WORK/consumer" && CARGO_TARGET_DIR="$ROOT/target" cargo build -q) || fail "the consumer crate does not build"
"$ROOT/target/debug/consumer" fixtures/packs/valid/hello-universe >/dev/null || fail "README example on a valid pack"
out=$("$ROOT/target/debug/consumer" fixtures/packs/invalid/PK006-invalid-enum-value) && fail "README example exited 0 on an invalid pack"
grep -q "PK006" <<<"$out" || fail "README example did not report PK006: $out"
tree=$(cd "$WORK/consumer" && cargo tree -q -e normal --prefix none) || fail "cargo tree of the consumer"
grep -q '^spectro-packs ' <<<"$tree" || fail "cargo tree shows no spectro-packs: $tree"
if grep -qE '^(reqwest|rustls|hyper|tokio) ' <<<"$tree"; then
    fail "the default spectro-packs pulls in an HTTP stack"
fi
log "all artifacts install and run"
