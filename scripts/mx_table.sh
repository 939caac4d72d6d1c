#!/usr/bin/env bash
# The accuracy cells of README's MX table (issue #13 item 5): bit-exact PTQ on the host's golden GEMMs (the same
# numerics simrun checks every simulated GEMM against), one fp8sim-ptq command per cell, logs in $1.
#   scripts/mx_table.sh OUT_DIR [RESNET_ITEMS] [MINILM_PAIRS] [BERT_ITEMS]
#   (ONLY=resnet20-cifar10|resnet56-cifar10|minilm-l6|bert-base in the environment: that workload alone, e.g.
#   two in parallel; BUILD=DIR: the build folder, default build)
# FP8/INT8: per-channel weight scales, static per-tensor activation scales (min/max over the workload's
# calibration items), exact FP8 accumulation / int32 (simrun's defaults). MX: blocks of 32 along K, activation
# scales at run time, exact accumulation rounded once to float32 (the MX array's semantics).
# Resumable: a cell whose log already holds its result line is not run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: scripts/mx_table.sh OUT_DIR [RESNET_ITEMS] [MINILM_PAIRS] [BERT_ITEMS]}"
resnet="${2:-500}" minilm="${3:-200}" bert="${4:-2}"
ptq="${BUILD:-$root/build}/workloads/fp8sim-ptq"
mkdir -p "$out"
formats=(int8 e4m3 e5m2 mxfp8 mxint8 mxfp8-e5m2 mxfp6-e3m2 mxfp6-e2m3 mxfp4)
for w in "resnet20-cifar10:$resnet" "resnet56-cifar10:$resnet" "minilm-l6:$minilm"; do
  name="${w%%:*}" n="${w##*:}"
  [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ] && continue
  for f in fp32 "${formats[@]}"; do
    log="$out/$name.$f.log"
    grep -qE "^(top1|spearman) " "$log" 2>/dev/null && continue
    if [ "$f" = fp32 ]; then cmd=("$ptq" eval --workload "$name" --fp32 --eval-count "$n")
    else cmd=("$ptq" eval --workload "$name" --format "$f" --weight-granularity per-channel --bit-exact --eval-count "$n"); fi
    echo "${cmd[*]#$root/}" > "$log"; "${cmd[@]}" >> "$log" 2>&1
  done
done
[ -n "${ONLY:-}" ] && [ "$ONLY" != bert-base ] && exit 0
cmd=("$ptq" error --workload bert-base --weight-granularity per-channel --bit-exact --eval-count "$bert")
echo "${cmd[*]#$root/}" > "$out/bert-base.log"; "${cmd[@]}" >> "$out/bert-base.log" 2>&1
