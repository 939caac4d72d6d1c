#!/usr/bin/env bash
# scripts/sweep-parallel.sh: 3 shards of the 4-point sweep, 2 at once, merged: the single-process sweep's bytes.
# Rerun: nothing is run again (every result file keeps its inode: the atomic writer would have made a new one).
source "$(dirname "$0")/common.sh"
need_reference
command -v parallel >/dev/null || skip "GNU parallel not installed (scripts/setup.sh installs it)"
"$src/scripts/sweep-parallel.sh" --shards 3 --jobs 2 --simrun "$simrun" --out "$tmp/out" -- "$spec" "${opts[@]}"
same_as_reference "$tmp/out"
# One folder per design point, named p-<16 hex digits>, holding only its result.
n=0
for d in "$tmp/out"/points/*; do
  [[ "$(basename "$d")" =~ ^p-[0-9a-f]{16}$ ]] || fail "unexpected point folder $d"
  [ "$(ls -A "$d")" = result.json ] || fail "$d holds more than result.json: $(ls -A "$d")"
  n=$((n + 1))
done
[ "$n" -eq 4 ] || fail "expected 4 point folders, found $n"
before="$(stat -c '%i %n' "$tmp/out"/points/*/result.json)"
"$src/scripts/sweep-parallel.sh" --shards 3 --jobs 2 --simrun "$simrun" --out "$tmp/out" -- "$spec" "${opts[@]}"
[ "$(stat -c '%i %n' "$tmp/out"/points/*/result.json)" = "$before" ] || fail "the rerun wrote results again"
same_as_reference "$tmp/out"
echo "ok: sweep-parallel.sh (3 shards) equals the single-process sweep; the rerun ran nothing"
