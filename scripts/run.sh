#!/usr/bin/env bash
# README's main-job command: sets up, builds, and runs `simrun --workload bert-base`: BERT-base (sequence
# length 128, SYNTHETIC BERT-like weights) post-training-quantized to E4M3 and, for comparison, INT8; every
# quantized GEMM lowered onto the default 32x32 accelerator and simulated cycle by cycle, every output word
# checked against the golden model; then accuracy against FP32, cycles, area and energy side by side. The
# report is printed, and written as JSON and HTML under build/out/ (named after the workload). Extra arguments go to simrun (e.g.
# --engine rtl, --workload minilm-l6, --samples 4); without ../shared the inputs are SYNTHETIC token ids.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
out="$root/build/out"
mkdir -p "$out"
# --workload W among the arguments replaces bert-base; the reports are named after the workload.
workload=bert-base
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --workload) workload="${args[i+1]:-}"; unset 'args[i]' 'args[i+1]'; ((i++)) || true ;;
    --workload=*) workload="${args[i]#--workload=}"; unset 'args[i]' ;;
  esac
done
name="$(basename "$workload" .json)"
"$root/build/simrun/simrun" --workload "$workload" --report-json "$out/$name.json" --report-html "$out/$name.html" \
  ${args[@]+"${args[@]}"}
