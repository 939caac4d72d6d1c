#!/usr/bin/env bash
# verilator --lint-only -Wall on every top module of rtl/, over the parameter sets that matter (all format
# rows for the multiplier, each PE kind and dataflow for the array, ragged and 1x1 array shapes).
# Exits non-zero on any warning. Waivers in the sources are commented where they are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
srcs=(./*.v)
n=0
lint() { verilator --lint-only -Wall -I. "${srcs[@]}" --top-module "$@"; n=$((n + 1)); }
for fa in 0 1 2 3 4; do for fb in 0 1 2 3 4; do lint fp8_mul -GFMT_A=$fa -GFMT_B=$fb; done; done
for f in 0 1; do lint fp8_prod_f32 -GFMT_A=$f -GFMT_B=$f; done
lint f32_add
lint int8_mul
lint int8_pe
for f in 0 1; do for acc in 0 1; do lint fp8_pe -GFMT_A=$f -GFMT_B=$f -GACC=$acc; done; done
lint fp8_pe -GACC=0 -GACC_W=24   # narrower than one product: the truncating branch
for k in 0 1 2; do lint mac_pe -GPE_KIND=$k; lint pe_mac -GPE_KIND=$k; done
for df in 0 1; do for k in 0 1 2; do for rc in "1 1" "4 4" "3 5"; do   # 8x8 and 16x16 are linted by the build (-Wall)
  set -- $rc
  lint systolic_array -GDATAFLOW=$df -GPE_KIND=$k -GROWS=$1 -GCOLS=$2 -GFMT_A=1 -GFMT_B=1
done; done; done
for df in 0 1; do for k in 0 1 2; do for rc in "1 1" "4 4" "3 5" "2 1"; do   # SHADOW = 1: shadow weights / outputs
  set -- $rc
  lint systolic_array -GDATAFLOW=$df -GSHADOW=1 -GPE_KIND=$k -GROWS=$1 -GCOLS=$2 -GFMT_A=1 -GFMT_B=1
done; done; done
lint sa_ws -GSHADOW=1
lint sa_os -GSHADOW=1
for t in sa_ws sa_os; do lint $t; done
# MX (mx_formats.vh rows: 0 E4M3, 1 E5M2, 5 E3M2, 6 E2M3, 7 E2M1, 8 MXINT8)
for f in 0 1 5 6 7 8; do
  lint mx_mul -GFMT_A=$f -GFMT_B=$f
  lint mx_pe -GFMT_A=$f -GFMT_B=$f
done
lint mx_mul -GFMT_A=0 -GFMT_B=1
lint mx_pe -GFMT_A=0 -GFMT_B=0 -GLANES=4
lint mx_pe -GFMT_A=8 -GFMT_B=8 -GLANES=32
for rc in "1 1" "4 4" "3 5"; do set -- $rc; lint mx_array -GROWS=$1 -GCOLS=$2 -GFMT_A=0 -GFMT_B=0; done
lint mx_array -GROWS=2 -GCOLS=2 -GFMT_A=8 -GFMT_B=8 -GBLOCK=4
echo "lint: $n top/parameter combinations clean under verilator -Wall"
