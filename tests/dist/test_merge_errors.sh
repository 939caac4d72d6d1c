#!/usr/bin/env bash
# simrun sweep --shard and sweep merge: bad --shard syntax, incomplete sweeps (missing shards and points named),
# a result cut short (as a writer without temp + rename would leave it) rerun, resuming, shards of different
# sweeps or tool versions refused, each with one error line; and shards run one after another into one folder
# merge to the single-process sweep's bytes. Design points in SPEC order (array outermost, then format):
#   #0 e4m3 8x8, #1 int8 8x8, #2 e4m3 16x16, #3 int8 16x16; with N = 3, shard I runs points I, I+3: 0/3 {#0, #3},
#   1/3 {#1}, 2/3 {#2}.
source "$(dirname "$0")/common.sh"
need_reference

# expect_error STATUS TEXT COMMAND...: fails unless COMMAND exits STATUS with one stderr line containing TEXT.
expect_error() {
  local want="$1" text="$2" st=0
  shift 2
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt" || st=$?
  [ "$st" -eq "$want" ] || fail "status $st (expected $want): $* : $(cat "$tmp/err.txt")"
  [ "$(wc -l < "$tmp/err.txt")" -eq 1 ] || fail "not one error line: $* : $(cat "$tmp/err.txt")"
  grep -qF -- "$text" "$tmp/err.txt" || fail "'$text' not in: $(cat "$tmp/err.txt")"
}
shard() { "$simrun" sweep "$spec" "${opts[@]}" --shard "$1" --out "$2" "${@:3}"; }
merge() { "$simrun" sweep merge "$@" --csv "$tmp/m/sweep.csv" --json "$tmp/m/sweep.json" \
            --report-html "$tmp/m/sweep.html" --report-json "$tmp/m/report.json" --quiet; }
mkdir -p "$tmp/m"

# --shard syntax (checked before the workload is loaded).
expect_error 2 "I must be below N" "$simrun" sweep "$spec" "${opts[@]}" --shard=4/4 --out "$tmp/x"
expect_error 2 "N must be at least 1" "$simrun" sweep "$spec" "${opts[@]}" --shard=0/0 --out "$tmp/x"
for bad in x 1/ /4 -1/4 1/4/2 " 1/4" 1.0/4 a/b; do
  expect_error 2 "expected I/N" "$simrun" sweep "$spec" "${opts[@]}" "--shard=$bad" --out "$tmp/x"
done
expect_error 2 "--shard needs --out" "$simrun" sweep "$spec" "${opts[@]}" --shard 0/2
expect_error 2 "written by simrun sweep merge" "$simrun" sweep "$spec" "${opts[@]}" --shard 0/2 --out "$tmp/x" --csv "$tmp/x.csv"
[ ! -e "$tmp/x" ] || fail "a refused shard created its --out folder"

# Incomplete: only shard 1/3 ran.
d="$tmp/d"
shard 1/3 "$d" --quiet
expect_error 1 "no manifest of shard(s) 0/3, 2/3 (never started?); 3 of 4 design points have no result: #0 'e4m3/fp32 8x8' (shard 0/3), #2 'e4m3/fp32 16x16' (shard 2/3), #3 'int8/int32 16x16' (shard 0/3)" merge "$d"

# Shard 2/3 ran, but its result was cut short, and a temporary file was left beside it: merge refuses the
# point; a rerun of the shard runs it again (the temporary file is not a result and stays ignored).
shard 2/3 "$d" --quiet
r2="$(grep -l '"label": "e4m3/fp32 16x16"' "$d"/points/*/result.json)"
[ -n "$r2" ] || fail "no result file for point #2"
head -c 100 "$r2" > "$r2.cut" && mv "$r2.cut" "$r2"
echo partial > "$r2.tmp-AbC123"
shard 0/3 "$d" --quiet
expect_error 1 "is not a complete result; rerun shard 2/3" merge "$d"
shard 2/3 "$d" 2> "$tmp/rerun.txt"
grep -q "is no complete result" "$tmp/rerun.txt" || fail "the rerun did not say why it ran the point: $(cat "$tmp/rerun.txt")"
grep -q "1 point(s) run, 0 already done" "$tmp/rerun.txt" || fail "the rerun did not run the point: $(cat "$tmp/rerun.txt")"

# Complete: the merge is the single-process sweep, byte for byte; the CSV is on stdout too.
merge "$d" > "$tmp/m/stdout.csv"
same_as_reference "$tmp/m"
cmp "$tmp/m/stdout.csv" "$tmp/m/sweep.csv" || fail "merge's stdout differs from its --csv"
# Resuming: a shard whose points are done runs nothing.
shard 0/3 "$d" 2> "$tmp/resume.txt"
grep -q "0 point(s) run, 2 already done" "$tmp/resume.txt" || fail "the finished shard ran again: $(cat "$tmp/resume.txt")"

# One folder per shard works as well: shard 2/3's manifest and point moved to a second folder.
cp -r "$d" "$tmp/a"
mkdir -p "$tmp/b/shards" "$tmp/b/points"
mv "$tmp/a/shards/shard-2-of-3.json" "$tmp/b/shards/"
mv "$(dirname "${r2/$d/$tmp/a}")" "$tmp/b/points/"
rm -f "$tmp"/m/*
merge "$tmp/a" "$tmp/b" > /dev/null
same_as_reference "$tmp/m"
expect_error 1 "no manifest of shard(s) 2/3" merge "$tmp/a"

# Shards of another sweep or shard count (shards without points: only their manifests are written).
"$simrun" sweep "array=8x8;format=e4m3" "${opts[@]}" --shard 2/3 --out "$tmp/e" --quiet
expect_error 1 "shards of different sweeps" merge "$d" "$tmp/e"
shard 4/5 "$tmp/e5" --quiet
expect_error 1 "differ in the shard count N" merge "$d" "$tmp/e5"

# Another tool version: all shards (merge must use the build that ran them), or only one of them.
cp -r "$d" "$tmp/v"
sed -i 's/"tool_version": "[^"]*"/"tool_version": "0.0.0+other"/' "$tmp/v"/shards/*.json
expect_error 1 "the shards ran fp8sim 0.0.0+other; this simrun is" merge "$tmp/v"
cp -r "$d" "$tmp/w"
sed -i 's/"tool_version": "[^"]*"/"tool_version": "0.0.0+other"/' "$tmp/w/shards/shard-2-of-3.json"
expect_error 1 "tool versions differ" merge "$tmp/w"

# Folders that are no shard output.
mkdir -p "$tmp/empty"
expect_error 2 "holds no shard" merge "$tmp/empty"
expect_error 2 "is not a folder" merge "$tmp/no-such-folder"
expect_error 2 "no DIR given" "$simrun" sweep merge
echo "ok: --shard syntax, incomplete and cut-short results, resuming, mismatched sweeps and versions"
