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
if ! command -v cargo-deny >/dev/null; then
  echo "cargo-deny missing: installing it (cargo install --locked cargo-deny)" >&2
  cargo install --locked cargo-deny
fi
if [ ! -d "$SNAPSHOT/crates" ]; then
  echo "!!! no advisory snapshot at $SNAPSHOT: the advisories check is SKIPPED" >&2
  exec cargo deny --offline check licenses bans sources
fi
# The folder name is cargo-deny's for the official URL (see `-L debug`).
DB=target/advisory-dbs/advisory-db-3157b0e258782691
stamp=$(sed -n 's/.*commit \([0-9a-f]*\) (\([0-9-]*\)).*/\1 \2/p' "$SNAPSHOT/SNAPSHOT.txt")
if [ ! -f "$DB/.snapshot" ] || [ "$(cat "$DB/.snapshot")" != "$stamp" ]; then
  rm -rf "$DB"
  mkdir -p "$DB"
  cp -R "$SNAPSHOT"/. "$DB"/
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
