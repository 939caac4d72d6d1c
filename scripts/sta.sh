#!/usr/bin/env bash
# Static timing analysis of one synthesized gate-level netlist with OpenSTA (Debian package opensta) against
# the OSU 0.18 um liberty (typical corner: 1.8 V, 25 C), as used by scripts/synth_area.sh.
#
#   scripts/sta.sh LIBERTY NETLIST TOP [REPORT]   prints the critical path in ns (and writes the full path
#                                                 report to REPORT when given)
#
# Constraints (the same for every design, so the PE kinds compare):
#   - one ideal clock on port clk (no skew, no clock tree); a combinational design gets a virtual clock;
#   - every other input arrives at the clock edge, driven by a DFFPOSX1 (CLK -> Q arc: the operand registers
#     in front of a PE), every output is captured at the next edge (output delay 0);
#   - no wire load model (the library has none and there is no placement): net delay = pin capacitance only.
# The critical path is the clock period minus the worst setup slack at a 100 ns period, i.e. the longest
# register-to-register, input-to-register, register-to-output or input-to-output delay including the capture
# flip-flop's setup time. Maximum clock = 1000 / critical path (MHz).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 LIBERTY NETLIST TOP [REPORT]" >&2; exit 2; }
lib="$1" net="$2" top="$3" rpt="${4:-}"
command -v sta >/dev/null || { echo "sta: OpenSTA (Debian package opensta) is not installed; run scripts/setup.sh" >&2; exit 1; }
period=100
tcl="$(mktemp --suffix=.tcl)"
trap 'rm -f "$tcl"' EXIT
cat > "$tcl" <<EOF
read_liberty $lib
read_verilog $net
link_design $top
set ins [all_inputs]
if {[llength [get_ports -quiet clk]]} {
  create_clock -name clk -period $period [get_ports clk]
  set ins [delete_from_list \$ins [get_ports clk]]
} else {
  create_clock -name clk -period $period
}
set_input_delay 0 -clock clk \$ins
set_driving_cell -lib_cell DFFPOSX1 -from_pin CLK -pin Q \$ins
set_output_delay 0 -clock clk [all_outputs]
report_checks -path_delay max -digits 3
exit
EOF
out="$(sta -no_splash -exit "$tcl" 2>&1)" || { echo "sta: OpenSTA failed on $net:" >&2; echo "$out" >&2; exit 1; }
[ -n "$rpt" ] && printf '%s\n' "$out" > "$rpt"
slack="$(awk '/slack \((MET|VIOLATED)\)/ {print $1; exit}' <<<"$out")"
[ -n "$slack" ] || { echo "sta: no timing path found in $net (report follows)" >&2; echo "$out" >&2; exit 1; }
awk -v p="$period" -v s="$slack" 'BEGIN { printf "%.3f\n", p - s }'
