#!/usr/bin/env bash
# Package editors/vscode as a .vsix with npm's @vscode/vsce, and check what is inside:
# the manifest, the entry point, the language client it needs, and that every setting the
# extension offers is one `spectro lsp` reads. Tools go to target/ (ignored), never the
# repository. Without npm, or when npm cannot install (offline), says so loudly and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VSCE_VERSION=3.9.2
OUT="$ROOT/target/vsix/spectro-vscode.vsix"
log() { printf '\n==> %s\n' "$*" >&2; }

if ! command -v npm >/dev/null; then
    log "WARNING: npm is missing, so the VS Code extension was NOT packaged"
    exit 0
fi
TOOLS="$ROOT/target/npm-tools"
BUILD="$ROOT/target/vscode-ext"
installed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$TOOLS/node_modules/@vscode/vsce/package.json" 2>/dev/null || true)
if [ "$installed" != "$VSCE_VERSION" ]; then
    rm -rf "$TOOLS"
    if ! npm install --no-audit --no-fund --loglevel=error --ignore-scripts --prefix "$TOOLS" "@vscode/vsce@$VSCE_VERSION" >&2; then
        log "WARNING: npm could not install @vscode/vsce (offline?), so the .vsix was NOT packaged"
        exit 0
    fi
fi
rm -rf "$BUILD"
mkdir -p "$BUILD" "$(dirname "$OUT")"
cp -r editors/vscode/. "$BUILD/"
cp LICENSE "$BUILD/LICENSE"
# The extension's one dependency is pinned to an exact version; no install scripts run.
(cd "$BUILD" && npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts >&2) || {
    log "WARNING: npm could not install vscode-languageclient (offline?), so the .vsix was NOT packaged"
    exit 0
}
(cd "$BUILD" && "$TOOLS/node_modules/.bin/vsce" package --allow-missing-repository --out "$OUT" >&2)

python3 - "$OUT" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
for need in ("extension/package.json", "extension/extension.js",
             "extension/node_modules/vscode-languageclient/package.json", "extension.vsixmanifest"):
    assert need in names, f"{need} missing from the .vsix"
manifest = json.loads(z.read("extension/package.json"))
assert manifest["name"] == "spectro" and manifest["main"] == "./extension.js", manifest
props = set(manifest["contributes"]["configuration"]["properties"])
# Every setting but the binary's path is one the server reads (lsp/mod.rs).
server = {"select", "extendSelect", "ignore", "severity", "packs", "rulesUrl"}
offered = {p.removeprefix("spectro.") for p in props} - {"path"}
assert offered == server, f"extension settings {sorted(offered)} != server settings {sorted(server)}"
source = z.read("extension/extension.js").decode()
for key in server:
    assert f"{key}: cfg.get(" in source, f"extension.js does not send `{key}`"
print(f"vsix ok: {sys.argv[1]} ({len(names)} files, {sum(i.file_size for i in z.infolist())} bytes unpacked)")
PY
