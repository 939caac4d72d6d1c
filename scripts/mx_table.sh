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
# Cycles and energy (SIM=1 in the environment: the simrun cells instead of the accuracy cells; every format in one
# run per workload, every simulated output verified against the golden GEMM, logs + JSON reports in $1):
#   resnet20-cifar10.sim[-fixed], resnet56-cifar10.sim[-fixed]: one image on sim/configs/small8_mx.toml (8x8), as built [and with the same data
#   movement for all formats: FP8/INT8 with --im2col explicit --mapping fixed, as MX runs]; minilm-l6.sim[-fixed]: 2 STS-B pairs on small8_mx;
#   bert-base.sim[-fixed]: one synthetic 128-token sequence on sim/configs/default32.toml (32x32).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: scripts/mx_table.sh OUT_DIR [RESNET_ITEMS] [MINILM_PAIRS] [BERT_ITEMS]}"
resnet="${2:-500}" minilm="${3:-200}" bert="${4:-2}"
ptq="${BUILD:-$root/build}/workloads/fp8sim-ptq"
mkdir -p "$out"
formats=(int8 e4m3 e5m2 mxfp8 mxint8 mxfp8-e5m2 mxfp6-e3m2 mxfp6-e2m3 mxfp4)
if [ -n "${SIM:-}" ]; then
  simrun="${BUILD:-$root/build}/simrun/simrun"
  all="mxfp8 --compare mxint8,mxfp8-e5m2,mxfp6-e3m2,mxfp6-e2m3,mxfp4,e4m3,e5m2,int8"
  for w in "resnet20-cifar10:sim/configs/small8_mx.toml:--samples 1 --eval-items 1" \
           "resnet56-cifar10:sim/configs/small8_mx.toml:--samples 1 --eval-items 1" \
           "minilm-l6:sim/configs/small8_mx.toml:--samples 2 --eval-items 2" \
           "bert-base:sim/configs/default32.toml:"; do
    IFS=: read -r name cfg items <<< "$w"
    [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ] && continue
    for v in sim sim-fixed; do
      log="$out/$name.$v.log"
      grep -q "^Run time" "$log" 2>/dev/null && continue
      # sim-fixed: FP8/INT8 only (MX GEMMs always read explicit im2col matrices in the fixed order)
      fmts="$all" extra=(); [ "$v" = sim-fixed ] && fmts="e4m3 --compare e5m2,int8" extra=(--im2col explicit --mapping fixed)
      # shellcheck disable=SC2206
      cmd=("$simrun" --workload "$name" --config "$cfg" --format $fmts $items --threads 1 "${extra[@]}"
           --report-json "$out/$name.$v.json")
      echo "${cmd[*]#$root/}" > "$log"; SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "${cmd[@]}" >> "$log" 2>&1
    done
  done
  exit 0
fi
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
