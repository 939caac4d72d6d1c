#!/usr/bin/env bash
# Synthesizes the PE variants, the multipliers and small arrays of rtl/ with yosys against the OSU 0.18 um
# standard cells (Debian qflow-tech-osu018), times each mapped netlist with OpenSTA (scripts/sta.sh: critical
# path and maximum clock) and writes the area table.
#
#   scripts/synth_area.sh                 all designs -> rtl/synth/area.json and rtl/synth/area.md
#   scripts/synth_area.sh --check D...    re-synthesize designs D and compare with the committed area.json:
#                                         flip-flops exactly, cells, area and critical path within 5% (ABC
#                                         moves a few %)
#   scripts/synth_area.sh --fetch-only    only fetch the cell library
#   scripts/synth_area.sh --list          design names
#   scripts/synth_area.sh --one D         synthesize one design, print cells, flip-flops, area, critical path
# The library is fetched once into .deps/osu018 (apt-get download + dpkg-deb -x: installing the package
# would pull in all of qflow). Work files go to $FP8SIM_SYNTH_WORK (default build-synth/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rtl="$root/rtl"
deps="$root/.deps/osu018"
lib="$deps/usr/share/qflow/tech/osu018/osu018_stdcells.lib"
work="${FP8SIM_SYNTH_WORK:-$root/build-synth}"
table="$rtl/synth/area.json"
md="$rtl/synth/area.md"

# name | top | parameters | description   (FMT 0 = OCP E4M3, 1 = OCP E5M2: model/'s format table)
designs=(
  "int8_mul|int8_mul||INT8 multiplier (8x8 signed -> 16 b)"
  "e4m3_mul|fp8_mul|FMT_A=0 FMT_B=0|E4M3 multiplier (exact product, 37 b fixed point)"
  "e5m2_mul|fp8_mul|FMT_A=1 FMT_B=1|E5M2 multiplier (exact product, 65 b fixed point)"
  "f32_add|f32_add||float32 adder (RNE, subnormals)"
  "int8_pe|int8_pe||INT8 PE, int32 accumulator"
  "e4m3_pe_fixed|fp8_pe|FMT_A=0 FMT_B=0 ACC=0|E4M3 PE, exact fixed-point accumulator (49 b, K=4096)"
  "e4m3_pe_f32|fp8_pe|FMT_A=0 FMT_B=0 ACC=1|E4M3 PE, float32 accumulator"
  "e5m2_pe_fixed|fp8_pe|FMT_A=1 FMT_B=1 ACC=0|E5M2 PE, exact fixed-point accumulator (77 b, K=4096)"
  "e5m2_pe_f32|fp8_pe|FMT_A=1 FMT_B=1 ACC=1|E5M2 PE, float32 accumulator"
  "ws4_int8|systolic_array|ROWS=4 COLS=4 DATAFLOW=0 PE_KIND=0|4x4 weight-stationary array, INT8 PEs"
  "ws4_e4m3_fixed|systolic_array|ROWS=4 COLS=4 DATAFLOW=0 PE_KIND=1 FMT_A=0 FMT_B=0|4x4 weight-stationary array, E4M3 fixed-point PEs"
  "ws4_e4m3_f32|systolic_array|ROWS=4 COLS=4 DATAFLOW=0 PE_KIND=2 FMT_A=0 FMT_B=0|4x4 weight-stationary array, E4M3 float32 PEs"
  "ws4s_int8|systolic_array|ROWS=4 COLS=4 DATAFLOW=0 PE_KIND=0 SHADOW=1|4x4 WS array with shadow weights, INT8 PEs"
  "ws4s_e4m3_fixed|systolic_array|ROWS=4 COLS=4 DATAFLOW=0 PE_KIND=1 FMT_A=0 FMT_B=0 SHADOW=1|4x4 WS array with shadow weights, E4M3 fixed-point PEs"
  # MX (OCP MX v1.0): element multipliers and PEs (rtl/mx_pe.v: 1 lane, exact block sum, scale add as a shift,
  # exact Kulisch accumulator for any scales and K = 4096); FMT = model/'s format row (mx_formats.vh)
  "mxfp8_mul|mx_mul|FMT_A=0 FMT_B=0|MXFP8 E4M3 element multiplier (exact, 37 b)"
  "mxfp8_e5m2_mul|mx_mul|FMT_A=1 FMT_B=1|MXFP8 E5M2 element multiplier (exact, 65 b)"
  "mxfp6_e3m2_mul|mx_mul|FMT_A=5 FMT_B=5|MXFP6 E3M2 element multiplier (exact, 19 b)"
  "mxfp6_e2m3_mul|mx_mul|FMT_A=6 FMT_B=6|MXFP6 E2M3 element multiplier (exact, 13 b)"
  "mxfp4_mul|mx_mul|FMT_A=7 FMT_B=7|MXFP4 E2M1 element multiplier (exact, 9 b)"
  "mxint8_mul|mx_mul|FMT_A=8 FMT_B=8|MXINT8 element multiplier (exact, 16 b)"
  "mxfp8_pe|mx_pe|FMT_A=0 FMT_B=0|MXFP8 (E4M3) PE, exact block sum + scale shift + Kulisch accumulator (557 b)"
  "mxfp8_e5m2_pe|mx_pe|FMT_A=1 FMT_B=1|MXFP8 (E5M2) PE, exact, Kulisch accumulator (585 b)"
  "mxfp6_e3m2_pe|mx_pe|FMT_A=5 FMT_B=5|MXFP6 (E3M2) PE, exact, Kulisch accumulator (539 b)"
  "mxfp6_e2m3_pe|mx_pe|FMT_A=6 FMT_B=6|MXFP6 (E2M3) PE, exact, Kulisch accumulator (533 b)"
  "mxfp4_pe|mx_pe|FMT_A=7 FMT_B=7|MXFP4 (E2M1) PE, exact, Kulisch accumulator (529 b)"
  "mxint8_pe|mx_pe|FMT_A=8 FMT_B=8|MXINT8 PE, exact, Kulisch accumulator (536 b)"
)

fetch_lib() {
  [ -f "$lib" ] && return 0
  local tmp; tmp="$(mktemp -d)"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "synth_area: fetching qflow-tech-osu018 into $deps" >&2
  if ! (cd "$tmp" && apt-get download qflow-tech-osu018 >/dev/null 2>&1); then
    $sudo apt-get update -qq   # a fresh machine may have no package lists yet
    (cd "$tmp" && apt-get download qflow-tech-osu018 >/dev/null)
  fi
  mkdir -p "$deps"
  dpkg-deb -x "$tmp"/qflow-tech-osu018_*.deb "$deps"
  rm -rf "$tmp"
  [ -f "$lib" ] || { echo "synth_area: $lib missing after unpacking" >&2; exit 1; }
}

# synth NAME -> prints "cells flip_flops area critical_path" (area in um^2 from the liberty cell areas,
# critical path in ns from OpenSTA on the mapped netlist; the path report is kept in $work/NAME.sta)
synth() {
  local name="$1" entry top params chparam="" sources
  entry="$(printf '%s\n' "${designs[@]}" | grep "^$name|")" || { echo "unknown design $name" >&2; exit 2; }
  top="$(cut -d'|' -f2 <<<"$entry")"
  params="$(cut -d'|' -f3 <<<"$entry")"
  for p in $params; do chparam+=" -set ${p%%=*} ${p#*=}"; done
  [ -n "$chparam" ] && chparam="chparam$chparam $top"
  # The MX designs read rtl/mx_*.v only, the others every other file: yosys/ABC's mapping depends on the whole
  # set of sources read (see README), so adding the MX files does not move the other designs' numbers.
  local pat='^\./mx_'
  case "$top" in mx_*) sources="$(cd "$rtl" && ls ./*.v | grep "$pat")" ;; *) sources="$(cd "$rtl" && ls ./*.v | grep -v "$pat")" ;; esac
  sources="$(sed "s|^\./|$rtl/|" <<<"$sources" | tr '\n' ' ')"
  mkdir -p "$work"
  sed -e "s|@SOURCES@|$sources|" -e "s|@RTL@|$rtl|" -e "s|@TOP@|$top|g" -e "s|@CHPARAM@|$chparam|" \
      -e "s|@LIB@|$lib|g" -e "s|@STAT@|$work/$name.stat|" -e "s|@NETLIST@|$work/$name.net.v|" \
      "$rtl/synth/synth.ys.in" > "$work/$name.ys"
  yosys -q -l "$work/$name.log" -s "$work/$name.ys" >/dev/null
  local stat="$work/$name.stat"
  local cells ffs area
  cells="$(awk '/Number of cells:/ {n=$4} END {print n}' "$stat")"
  ffs="$(awk '$1 ~ /^(DFFPOSX1|DFFNEGX1|DFFSR|LATCH)$/ {s+=$2} END {print s+0}' "$stat")"
  area="$(awk '/Chip area for module/ {a=$NF} END {print a}' "$stat")"
  # Anything left unmapped (a generic $_..._ cell) would make the area meaningless.
  if grep -q '\$_' "$stat"; then echo "synth_area: $name has unmapped cells, see $stat" >&2; exit 1; fi
  # Static timing on the mapped netlist with fanout buffer trees added (scripts/sta_buffer.py; the buffers are
  # for timing only and not in the area above).
  local cp
  python3 "$root/scripts/sta_buffer.py" "$work/$name.net.v" "$work/$name.buf.v" 8 >/dev/null
  cp="$("$root/scripts/sta.sh" "$lib" "$work/$name.buf.v" "$top" "$work/$name.sta")"
  echo "$cells $ffs $area $cp"
}

nand2_area() { awk '/cell *\(NAND2X1\)/ {f=1} f && /area/ {gsub(/[;:]/," "); print $2; exit}' "$lib"; }

case "${1:-}" in
  --list) for d in "${designs[@]}"; do cut -d'|' -f1 <<<"$d"; done; exit 0 ;;
  --fetch-only) fetch_lib; echo "$lib"; exit 0 ;;
  --one) fetch_lib; echo "$2: cells flip_flops area_um2 critical_path_ns = $(synth "$2")"; exit 0 ;;
  --check)
    shift
    fetch_lib
    [ -f "$table" ] || { echo "synth_area: no committed table $table" >&2; exit 1; }
    status=0
    for name in "$@"; do
      read -r cells ffs area cp < <(synth "$name")
      row="$(python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["designs"]:
    if d["design"] == sys.argv[2]: print(d["cells"], d["flip_flops"], d["area_um2"], d.get("critical_path_ns", 0))' "$table" "$name")"
      [ -n "$row" ] || { echo "synth_area: $name not in $table" >&2; exit 1; }
      read -r c_cells c_ffs c_area c_cp <<<"$row"
      verdict="$(awk -v c="$cells" -v f="$ffs" -v a="$area" -v t="$cp" -v cc="$c_cells" -v cf="$c_ffs" -v ca="$c_area" \
                     -v ct="$c_cp" 'BEGIN {
        dc = (c - cc) / cc; da = (a - ca) / ca; dt = ct > 0 ? (t - ct) / ct : 1;
        if (dc < 0) dc = -dc; if (da < 0) da = -da; if (dt < 0) dt = -dt;
        printf "cells %d vs %d (%.2f%%), flip-flops %d vs %d, area %.0f vs %.0f um^2 (%.2f%%), critical path %.2f vs %.2f ns (%.2f%%)",
               c, cc, 100 * dc, f, cf, a, ca, 100 * da, t, ct, 100 * dt;
        exit !(dc <= 0.05 && da <= 0.05 && dt <= 0.05 && f == cf) }')" && ok=1 || ok=0
      if [ "$ok" = 1 ]; then echo "synth_area: $name OK: $verdict (synthesized vs committed)"
      else echo "synth_area: $name MISMATCH: $verdict (synthesized vs committed)"; status=1; fi
    done
    exit $status ;;
  "") ;;
  *) echo "usage: $0 [--check DESIGN...] [--one DESIGN] [--fetch-only] [--list]" >&2; exit 2 ;;
esac

fetch_lib
nand="$(nand2_area)"
rows="$(mktemp)"
for d in "${designs[@]}"; do
  name="$(cut -d'|' -f1 <<<"$d")"; desc="$(cut -d'|' -f4 <<<"$d")"
  echo "synth_area: $name" >&2
  read -r cells ffs area cp < <(synth "$name")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$desc" "$cells" "$ffs" "$area" "$cp" >> "$rows"
done
# The table as JSON (read by cost/ with nlohmann::json): areas rounded to whole um^2, NAND2 equivalents to
# whole cells, as before; critical path to 0.01 ns, maximum clock (1000 / critical path) to 0.1 MHz.
python3 - "$rows" "$nand" "$table" <<'PY'
import json, sys
rows, nand, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
designs = []
for line in open(rows):
    name, desc, cells, ffs, area, cp = line.rstrip("\n").split("\t")
    a = round(float(area))
    designs.append({"design": name, "description": desc, "cells": int(cells), "flip_flops": int(ffs),
                    "area_um2": a, "nand2_eq": round(float(area) / nand),
                    "critical_path_ns": round(float(cp), 2), "max_clock_mhz": round(1000.0 / round(float(cp), 2), 1)})
note = ("Generated by scripts/synth_area.sh (yosys + ABC, OSU 0.18 um cells; area_um2 and nand2_eq at the "
        "synthesis node; critical_path_ns and max_clock_mhz from OpenSTA on the mapped netlist with fanout buffer "
        "trees (scripts/sta_buffer.py), typical corner 1.8 V 25 C, no wire load, constraints in scripts/sta.sh); "
        "do not edit.")
with open(out + ".tmp", "w") as f:
    json.dump({"note": note, "designs": designs}, f, indent=1)
    f.write("\n")
import os; os.replace(out + ".tmp", out)
PY
rm -f "$rows"

# Markdown view with the FP8/INT8 ratios (area relative to the INT8 PE, or to the INT8 multiplier, or to
# the INT8 array of the same size).
{
  echo "<!-- Generated by scripts/synth_area.sh from area.json; do not edit. -->"
  echo "Synthesized with $(yosys -V | cut -d' ' -f1-2) (generic synth, ABC) against OSU 0.18 um standard"
  echo "cells (Debian qflow-tech-osu018 $(zcat "$deps/usr/share/doc/qflow-tech-osu018/changelog.Debian.gz" | head -1 | sed 's/.*(\(.*\)).*/\1/')); NAND2X1 = $nand um^2."
  echo "Regenerate: \`scripts/synth_area.sh\`. Combinational units have no flip-flops; a PE is its MAC and"
  echo "accumulator register, without operand registers. Critical path and maximum clock: OpenSTA $(sta -version 2>/dev/null | head -1)"
  echo "on the mapped netlist plus fanout buffer trees (at most 8 sinks per net, \`scripts/sta_buffer.py\`; buffers"
  echo "not counted in the area); typical corner, 1.8 V, 25 C; ideal clock, inputs from DFFPOSX1 at the clock edge,"
  echo "outputs captured at the next edge, no wire load (\`scripts/sta.sh\`); at the synthesis node."
  echo
  echo "| design | cells | flip-flops | area (um^2) | NAND2 eq. | vs INT8 | critical path (ns) | max clock (MHz) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  python3 - "$table" <<'PY'
import json, sys
ds = json.load(open(sys.argv[1]))["designs"]
area = {d["design"]: d["area_um2"] for d in ds}
for d in ds:
    x = d["design"]
    ref = "int8_mul" if x.endswith("_mul") else "int8_pe" if "_pe" in x else "ws4_int8" if x.startswith("ws4_") else ""
    r = "%.2fx" % (area[x] / area[ref]) if ref and x != ref else ("1.00x" if x == ref else "")
    print("| %s | %s | %s | %s | %s | %s | %.2f | %.1f |" % (d["description"], d["cells"], d["flip_flops"], d["area_um2"],
          d["nand2_eq"], r, d["critical_path_ns"], d["max_clock_mhz"]))
PY
} > "$md"
# The same table inside rtl/README.md, between its markers.
readme="$rtl/README.md"
if grep -q '<!-- area-table:begin -->' "$readme"; then
  awk -v md="$md" '/<!-- area-table:begin -->/ {print; while ((getline l < md) > 0) if (l !~ /^<!--/) print l; skip = 1; next}
                   /<!-- area-table:end -->/ {skip = 0} !skip' "$readme" > "$readme.tmp" && mv "$readme.tmp" "$readme"
fi
cat "$md"
