#!/usr/bin/env bash
# The single-process sweep the sharded runs are compared with (fixture of the other dist tests).
source "$(dirname "$0")/common.sh"
shared="${FP8SIM_SHARED:-$src/../shared}"
[ -f "$shared/data/stsb/sts-dev.tsv" ] || skip "no ../shared (STS-B inputs of minilm-l2)"
rm -rf "$ref" && mkdir -p "$ref"
if ! "$simrun" sweep "$spec" "${opts[@]}" --csv "$ref/sweep.csv" --json "$ref/sweep.json" \
     --report-html "$ref/sweep.html" --report-json "$ref/report.json" --quiet > "$ref/stdout.csv" 2> "$tmp/err"; then
  grep -q "workload 'minilm-l2'" "$tmp/err" && skip "minilm-l2 not available: $(cat "$tmp/err")"
  fail "reference sweep: $(cat "$tmp/err")"
fi
# 4 design points: 2 arrays x 2 formats, one CSV line each after the header, the same lines on stdout.
[ "$(wc -l < "$ref/sweep.csv")" -eq 5 ] || fail "expected a header and 4 lines in $ref/sweep.csv"
cmp "$ref/stdout.csv" "$ref/sweep.csv" || fail "stdout differs from --csv"
echo "reference sweep written to $ref"
