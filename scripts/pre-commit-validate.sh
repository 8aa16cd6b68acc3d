#!/usr/bin/env bash
# pre-commit entry: validate each pack that holds one of the changed files, once.
set -euo pipefail
declare -A packs=()
for f in "$@"; do
    d=$(dirname "$f")
    while [ "$d" != "." ] && [ "$d" != "/" ] && [ ! -f "$d/pack.json" ]; do d=$(dirname "$d"); done
    [ -f "$d/pack.json" ] && packs["$d"]=1
done
[ ${#packs[@]} -eq 0 ] && exit 0
exec spectro validate "${!packs[@]}"
