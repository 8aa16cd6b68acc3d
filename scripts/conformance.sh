#!/usr/bin/env bash
# Run the official OCI distribution-spec conformance suite against `spectro registry serve`.
#
#   scripts/conformance.sh [SPECTRO_BIN]
#
# Installs the suite through the Go module proxy into target/gotools (never committed),
# serves a fresh registry folder on a free 127.0.0.1 port, runs every workflow (pull,
# push, content discovery, content management, referrers, sha512, and the 1.1+dev
# extras), and prints tests/passed/failed/skipped from its JUnit file. Exits 1 on any
# failure, 2 when the suite could not run (no results file), 3 when Go is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${1:-$ROOT/target/debug/spectro}
SUITE_VERSION=v0.0.0-20260831232431-97274622c111
TOOLS=$ROOT/target/gotools

if ! command -v go >/dev/null; then
    echo "conformance: go is not installed; the OCI conformance suite is SKIPPED" >&2
    exit 3
fi
if [ ! -x "$TOOLS/bin/conformance" ] || [ "$(cat "$TOOLS/version" 2>/dev/null)" != "$SUITE_VERSION" ]; then
    echo "conformance: installing the suite $SUITE_VERSION" >&2
    mkdir -p "$TOOLS"
    GOBIN="$TOOLS/bin" GOFLAGS=-modcacherw CGO_ENABLED=0 \
        go install "github.com/opencontainers/distribution-spec/conformance@$SUITE_VERSION"
    echo "$SUITE_VERSION" > "$TOOLS/version"
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "${CONFORMANCE_KEEP:-}" ] && cp -r "$WORK" "$CONFORMANCE_KEEP"; rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" registry serve --root "$WORK/root" --addr 127.0.0.1:0 --quiet 2> "$WORK/serve.log" &
SERVER_PID=$!
ADDR=
for _ in $(seq 1 100); do
    ADDR=$(sed -n 's|.* on http://\([0-9.:]*\) .*|\1|p' "$WORK/serve.log" | head -1)
    [ -n "$ADDR" ] && break
    sleep 0.1
done
if [ -z "$ADDR" ]; then
    echo "conformance: the server did not start:" >&2
    cat "$WORK/serve.log" >&2
    exit 2
fi

mkdir -p "$WORK/results"
(
    cd "$WORK"
    export OCI_REGISTRY=$ADDR OCI_TLS=disabled OCI_RESULTS_DIR="$WORK/results" OCI_VERSION=1.1
    export OCI_API_PING=true OCI_API_PULL=true OCI_API_PUSH=true OCI_API_REFERRER=true
    export OCI_API_BLOBS_ATOMIC=true OCI_API_BLOBS_DELETE=true OCI_API_BLOBS_MOUNT_ANONYMOUS=true
    export OCI_API_BLOBS_UPLOAD_CANCEL=true OCI_API_BLOBS_DIGEST_HEADER=true
    export OCI_API_MANIFESTS_ATOMIC=true OCI_API_MANIFESTS_DELETE=true
    export OCI_API_MANIFESTS_TAG_PARAM=true OCI_API_MANIFESTS_DIGEST_HEADER=true
    export OCI_API_TAGS_ATOMIC=true OCI_API_TAGS_DELETE=true OCI_API_TAGS_LIST=true
    export OCI_DATA_SHA512=true OCI_DATA_SPARSE=false
    "$TOOLS/bin/conformance" > "$WORK/conformance.log" 2>&1
) || true

JUNIT=$WORK/results/junit.xml
if [ ! -s "$JUNIT" ]; then
    # The suite exits 0 when its configuration fails to load: trust only its results.
    echo "conformance: no results were written; its output:" >&2
    tail -40 "$WORK/conformance.log" >&2
    exit 2
fi
python3 - "$JUNIT" "${CONFORMANCE_REPORT:-}" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
t = f = s = 0
failed = []
for suite in suites:
    for case in suite.iter("testcase"):
        t += 1
        status = case.get("status") or ("failure" if case.find("failure") is not None else "passed")
        if status in ("failure", "error"):
            f += 1
            out = case.find("system-out")
            first = (out.text or "").strip().splitlines()[:2] if out is not None else []
            failed.append(f"{case.get('name')}: {' | '.join(first)[:300]}")
        elif status != "passed":
            s += 1
line = f"OCI conformance suite: {t} tests, {t - f - s} passed, {f} failed, {s} skipped"
print(line)
for x in failed[:60]:
    print("  FAIL", x)
if sys.argv[2]:
    open(sys.argv[2], "w").write(line + "\n")
sys.exit(1 if f else 0)
PY
