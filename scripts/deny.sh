#!/usr/bin/env bash
# cargo deny (advisories, licenses, bans, sources) against the offline RustSec snapshot.
#
# This machine cannot reach GitHub, so the advisory database is the dated snapshot in
# ../shared/advisory-db (CC0). cargo-deny opens its databases as git checkouts under
# deny.toml's db-path; we copy the snapshot there as a one-commit repository dated like the
# snapshot, and run with --offline so nothing is fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

SNAPSHOT=${SPECTRO_ADVISORY_DB:-../shared/advisory-db}
# Pinned: the database folder name below is this version's hash of the official URL.
DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $DENY_VERSION" ]; then
  echo "cargo-deny $DENY_VERSION missing: installing it" >&2
  cargo install --locked cargo-deny --version "$DENY_VERSION"
fi
if [ ! -d "$SNAPSHOT/crates" ]; then
  echo "!!! no advisory snapshot at $SNAPSHOT: the advisories check is SKIPPED" >&2
  exec cargo deny --offline check licenses bans sources
fi
# The folder name is cargo-deny's for the official URL (see `-L debug`).
DB=target/advisory-dbs/advisory-db-3157b0e258782691
# "commit <sha> (<date>)" from SNAPSHOT.txt; without it, the newest advisory's date.
stamp=$(sed -n 's/.*commit \([0-9a-f]*\) (\([0-9-]*\)).*/\1 \2/p' "$SNAPSHOT/SNAPSHOT.txt" 2>/dev/null || true)
if [ -z "$stamp" ]; then
  newest=$(find "$SNAPSHOT/crates" -name '*.md' -printf '%TY-%Tm-%Td\n' | sort | tail -1)
  stamp="unknown ${newest:-1970-01-01}"
  echo "!!! $SNAPSHOT/SNAPSHOT.txt names no commit: dating the snapshot $newest" >&2
fi
if [ ! -f "$DB/.snapshot" ] || [ "$(cat "$DB/.snapshot")" != "$stamp" ]; then
  rm -rf "$DB"
  mkdir -p "$DB"
  # The files only (a snapshot that is itself a clone brings no history of its own).
  tar -C "$SNAPSHOT" --exclude=.git -cf - . | tar -C "$DB" -xf -
  date=$(echo "$stamp" | cut -d' ' -f2)
  (
    cd "$DB"
    git init -q
    git add -A
    GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
      git -c user.name=snapshot -c user.email=snapshot@localhost commit -qm "snapshot $stamp"
  )
  echo "$stamp" >"$DB/.snapshot"
fi
echo "advisory database: snapshot $stamp"
cargo deny --offline check advisories licenses bans sources
