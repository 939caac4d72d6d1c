#!/usr/bin/env bash
# Issue #15, all 3,000 STS-B dev sentences: our FP32 all-mpnet-base-v2 sentence embeddings against the original
# implementation's (../shared/data/mpnet/stsb-dev-embeddings.safetensors, cosine >= 0.9999 each), and the FP32
# STS-B dev Spearman of ours and of the reference embeddings. The CI test test_mpnet_reference checks 200.
#   scripts/mpnet_check.sh [BUILD_DIR] [--jobs N]
# Exit 0: every sentence within the bound; 1: some not; 77: model (scripts/setup.sh) or ../shared missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/build"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then dir="$1"; shift; fi
ptq="$dir/workloads/fp8sim-ptq"
[ -x "$ptq" ] || { echo "mpnet_check: no $ptq (build first: scripts/build.sh)" >&2; exit 2; }
exec "$ptq" embed-check --workload mpnet-base "$@"
