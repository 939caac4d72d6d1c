// The cost model: statistics of a run (cycles, MACs, register toggles, SRAM and DRAM bytes) x per-event
// energies from a data file (cost/data/energy_45nm.json, every figure with its source) + the synthesized area
// table (rtl/synth/area.json) -> energy, area, energy per MAC, TOPS/W, TOPS/mm^2.
//
// Everything is expressed at 45 nm, the node of the energy figures (Horowitz, ISSCC 2014). Logic areas come
// from the OSU 0.18 um synthesis and are scaled by an ideal-scaling rule stated in the data file; NAND2
// equivalents (node-independent) are reported beside them.
//
// PE energy (per event; see int8_mac_rule in the data file):
//   E_ref(kind)      = E(INT8 MAC) x area(kind PE) / area(INT8 PE)            E(INT8 MAC) = 8b mult + 32b add
//   w_mul            = area(kind multiplier) / area(kind PE)
//   E_per_op_toggle  = w_mul x E_ref / (p x 2 x 8)           p = reference toggle probability (0.5)
//   E_per_acc_toggle = (1 - w_mul) x E_ref / (p x accumulator bits)
//   E_reg_toggle     = E(INT8 MAC) / NAND2eq(INT8 PE) / p x NAND2eq(DFF)   (operand registers, outside the PE)
//   mac_pj = operand_toggles x (E_per_op_toggle + E_reg_toggle) + accumulator_toggles x E_per_acc_toggle
// so at the reference activity (random data, both operands reloaded every MAC) one MAC costs E_ref plus
// 8 x E_reg_toggle, and on real data the cost follows the toggles measured in simulation.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fp8sim::cost {

// Every error names the file, the key (or line) and the reason.
struct CostError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- the synthesis area table (rtl/synth/area.json) ----
struct AreaRow {
  std::string design;  // "int8_pe", "ws4_e4m3_fixed", ...
  std::string description;
  int64_t cells = 0;
  int64_t flip_flops = 0;
  double area_um2 = 0;  // at the synthesis node (OSU 0.18 um)
  double nand2_eq = 0;
  // Static timing of the synthesized netlist (OpenSTA, scripts/sta.sh), at the synthesis node; 0 = not timed.
  double critical_path_ns = 0;
  double max_clock_mhz = 0;
};

struct AreaTable {
  std::string path;
  std::vector<AreaRow> rows;  // file order
  const AreaRow* find(std::string_view design) const;
  const AreaRow& at(std::string_view design) const;  // throws CostError naming the file
};

AreaTable parse_area_table(std::string_view text, const std::string& name);
AreaTable load_area_table(const std::string& path);
std::string default_area_table_path();  // <source>/rtl/synth/area.json

// ---- the energy table (cost/data/energy_45nm.json) ----
struct Figure {
  double value = 0;
  std::string unit;
  std::string source;
  bool assumption = false;
};

struct PeKindSpec {
  std::string pe_design;            // area.json row of the PE (MAC + accumulator register)
  std::string multiplier_design;    // area.json row of its multiplier
  std::string array_design;         // area.json row of a synthesized array of these PEs ("" if none)
  int64_t array_pes = 0;            // PEs in that array
  std::string array_overhead_from;  // kind whose per-PE array overhead is borrowed when array_design is ""
  int64_t accumulator_bits = 0;
  std::string source;
};

struct SramPoint {
  double capacity_bytes = 0;
  Figure read_pj_per_64b;
};

struct EnergyTable {
  std::string path;
  std::string description;
  Figure node_nm, voltage_v, synthesis_node_nm, synthesis_nand2_um2, area_scaling_exponent;
  // Optional: gate delay scales by (node / synthesis node)^delay_scaling_exponent, so a maximum clock from
  // static timing at the synthesis node scales by its inverse (clock_check).
  Figure delay_scaling_exponent;
  bool has_delay_scaling = false;
  std::map<std::string, Figure> primitives_pj;
  std::vector<std::string> int8_mac_terms;
  std::string int8_mac_rule;
  Figure reference_toggle_probability, operand_bits, dff_nand2_eq;
  std::map<std::string, PeKindSpec> pe_kinds;  // "int8", "e4m3_fixed", "e4m3_f32", "e5m2_fixed", "e5m2_f32"
  std::vector<SramPoint> sram_points;          // increasing capacity
  std::string sram_size_rule;
  Figure sram_write_to_read_ratio, sram_bitcell_um2, sram_array_efficiency;
  Figure dram_pj_per_64b_low, dram_pj_per_64b_high, dram_pj_per_64b;
  Figure leakage_nw_per_um2;
};

EnergyTable parse_energy_table(std::string_view text, const std::string& name);
EnergyTable load_energy_table(const std::string& path);
std::string default_energy_table_path();  // <source>/cost/data/energy_45nm.json

// Checks that every area.json row the energy table names exists (throws CostError naming both files).
void check_consistent(const EnergyTable& energy, const AreaTable& area);

// ---- inputs: plain data, filled by an adapter from the simulator's statistics and the configuration ----
struct BufferTraffic {
  std::string name;         // "input", "weight", "output"
  uint64_t size_bytes = 0;  // capacity
  uint32_t banks = 1;       // a banked access activates one bank: energy is looked up at size / banks
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

struct EventCounts {
  uint64_t cycles = 0;
  uint64_t macs = 0;
  std::string pe = "e4m3";            // config [array].pe: "int8", "e4m3", "e5m2"
  std::string accumulator = "fixed";  // config [array].accumulator: "fixed", "fp32" (ignored for int8: int32)
  // Bit flips summed over all PEs: operand registers (activation and weight), accumulator registers.
  bool toggles_measured = true;  // false: the reference activity (random data) is assumed, and said so
  uint64_t operand_toggles = 0;
  uint64_t accumulator_toggles = 0;
  std::vector<BufferTraffic> buffers;
  uint64_t dram_bytes_read = 0;
  uint64_t dram_bytes_written = 0;
  uint64_t postprocessed = 0;  // outputs through the post-processing unit
  uint64_t buffer_adds = 0;    // words added into the accumulating output buffer (K tiles after the first)
  uint64_t mx_rounded_outputs = 0;  // MX arrays: outputs rounded from the Kulisch accumulator to float32 (rows x cols)
  uint32_t rows = 0, cols = 0;
  double clock_mhz = 0;
};

// "int8" | "e4m3_fixed" | "e4m3_f32" | "e5m2_fixed" | "e5m2_f32" | "<mx format>_exact" (pe "mxfp8", ...,
// accumulator "exact"); throws CostError for unknown names.
std::string pe_kind_key(const std::string& pe, const std::string& accumulator);

// ---- outputs ----
struct EnergyBreakdown {
  double mac_pj = 0;  // PE datapath: multiplier + adder/accumulator + operand registers
  double sram_pj = 0;
  double dram_pj = 0;
  double leakage_pj = 0;
  double postproc_pj = 0;  // post-processing unit
  double adder_pj = 0;     // accumulating output buffer's adders (+ MX arrays' output rounding, mx_round_pj)
  double mx_round_pj = 0;  // MX arrays: Kulisch -> float32 rounding at the array's edge (part of adder_pj)
  double total_pj = 0;
  // detail of mac_pj
  double multiplier_pj = 0, accumulator_pj = 0, operand_register_pj = 0;
  std::vector<std::pair<std::string, double>> sram_pj_by_buffer;  // input order
};

struct AreaBreakdown {
  double array_um2 = 0;  // at 45 nm (scaled from the synthesis node)
  double buffers_um2 = 0;
  double total_um2 = 0;
  double array_nand2_eq = 0;
  double buffers_nand2_eq = 0;
  double nand2_eq = 0;  // total
  double array_um2_synthesis_node = 0;  // the array unscaled, OSU 0.18 um
  std::vector<std::pair<std::string, double>> buffer_um2;  // input order
};

// The per-event figures the model derived for one PE kind (for the report's model table).
struct PeEnergy {
  std::string kind;
  double ref_mac_pj = 0;          // E_ref at the reference activity, without operand registers
  double multiplier_share = 0;    // w_mul
  double pj_per_operand_toggle = 0;  // multiplier part
  double pj_per_accumulator_toggle = 0;
  double pj_per_register_toggle = 0;  // operand registers
  double per_pe_area_um2_synthesis = 0;  // in an array, at the synthesis node
};

struct CostResult {
  EnergyBreakdown energy;
  AreaBreakdown area;
  PeEnergy pe;
  double latency_s = 0;
  double energy_per_mac_pj = 0;  // total energy / MACs (0 when no MACs)
  double tops_per_w = 0;         // 2 ops per MAC: 2 x MACs / total pJ
  double tops_per_mm2 = 0;       // achieved on this run: 2 x MACs / latency / area
  double peak_tops_per_mm2 = 0;  // 2 x rows x cols x clock / area
  std::vector<std::string> notes;  // what was assumed for this run (approximations, extrapolations)
};

double sram_pj_per_byte(const EnergyTable& t, double bank_capacity_bytes, bool* extrapolated = nullptr);
double sram_area_um2(const EnergyTable& t, double capacity_bytes);
double area_scale(const EnergyTable& t);  // synthesis node -> model node
PeEnergy pe_energy(const EnergyTable& t, const AreaTable& a, const std::string& kind);

// Throws CostError on inconsistent input (unknown PE, zero clock, zero banks, ...).
EnergyBreakdown energy(const EnergyTable& t, const AreaTable& a, const EventCounts& e,
                       std::vector<std::string>* notes = nullptr);
AreaBreakdown area(const EnergyTable& t, const AreaTable& a, const EventCounts& e,
                   std::vector<std::string>* notes = nullptr);
CostResult evaluate(const EnergyTable& t, const AreaTable& a, const EventCounts& e);

// The vector unit's dynamic energy (BF16 element operations, sim/vector_unit.h): adds x E(FP16 add) + muls x
// E(FP16 mult) + funcs x (4 E(FP16 mult) + 4 E(FP16 add)). Assumptions (said in *notes): a BF16 operation costs
// what Horowitz's FP16 one does; exp, erf, tanh, reciprocal and reciprocal square root cost four
// multiply-adds each (a short polynomial or Newton iteration).
double vector_energy_pj(const EnergyTable& t, uint64_t adds, uint64_t muls, uint64_t funcs,
                        std::vector<std::string>* notes = nullptr);
// A configuration's clock against its PE kind's maximum clock: the PE design's max_clock_mhz in the area table
// (static timing of the synthesized netlist, scripts/sta.sh, at the synthesis node) scaled to the energy table's
// node by (synthesis node / node)^delay_scaling_exponent. timed = false (and no check) when the table has no
// timing for the PE or the energy table no delay scaling. message: one line, set when exceeds.
struct ClockCheck {
  bool timed = false;
  bool exceeds = false;
  std::string kind, pe_design;
  double max_clock_mhz_synthesis = 0;  // at the synthesis node
  double max_clock_mhz = 0;            // scaled to the energy table's node
  std::string message;
};
ClockCheck clock_check(const EnergyTable& t, const AreaTable& a, const std::string& pe, const std::string& accumulator,
                       double clock_mhz);

// Leakage of `area_um2` (at the energy table's node) over `cycles` at clock_mhz, in pJ.
double leakage_pj(const EnergyTable& t, double area_um2, uint64_t cycles, double clock_mhz);

// One row per figure the model uses, with value, unit, source and whether it is an assumption, including the
// derived per-kind PE energies: for the reports' "cost model" table.
struct ModelFigureRow {
  std::string name;
  double value = 0;
  std::string unit;
  std::string source;
  bool assumption = false;
};
std::vector<ModelFigureRow> describe_model(const EnergyTable& t, const AreaTable& a);

}  // namespace fp8sim::cost
