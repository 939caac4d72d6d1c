// The arithmetic of the cost model; the rules are documented in cost.h and in the data file.
#include "fp8sim/cost/cost.h"
#include "fp8sim/model/mx.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace fp8sim::cost {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const PeKindSpec& spec_of(const EnergyTable& t, const std::string& kind) {
  auto it = t.pe_kinds.find(kind);
  if (it == t.pe_kinds.end()) throw CostError(t.path + ": no entry pe.kinds." + kind);
  return it->second;
}

double int8_mac_pj(const EnergyTable& t) {
  double e = 0;
  for (const auto& term : t.int8_mac_terms) e += t.primitives_pj.at(term).value;
  return e;
}

// Area of one PE inside an array, at the synthesis node: the synthesized array divided by its PEs (operand
// registers and the array's skew registers amortized over the PEs), or, for a kind without a synthesized
// array, its bare PE plus the per-PE overhead of the kind named by array_overhead_from.
double per_pe_array_area(const EnergyTable& t, const AreaTable& a, const std::string& kind) {
  const PeKindSpec& s = spec_of(t, kind);
  if (!s.array_design.empty()) return a.at(s.array_design).area_um2 / static_cast<double>(s.array_pes);
  const PeKindSpec& from = spec_of(t, s.array_overhead_from);
  const double overhead =
      a.at(from.array_design).area_um2 / static_cast<double>(from.array_pes) - a.at(from.pe_design).area_um2;
  return a.at(s.pe_design).area_um2 + std::max(0.0, overhead);
}

// A path as the reports show it: relative to the source tree when inside it, so a report does not depend on
// where the checkout lives.
std::string display_path(const std::string& p) {
  const std::string root = FP8SIM_SOURCE_ROOT "/";
  return p.compare(0, root.size(), root) == 0 ? p.substr(root.size()) : p;
}

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

}  // namespace

std::string pe_kind_key(const std::string& pe_in, const std::string& acc_in) {
  const std::string pe = lower(pe_in), acc = lower(acc_in);
  if (pe == "int8") {
    if (acc.empty() || acc == "int32" || acc == "fixed") return "int8";
    throw CostError("PE 'int8' has an int32 accumulator, not '" + acc_in + "'");
  }
  if (model::mx_kind_from_name(pe)) {  // MX arrays (sim/mx_array.h): exact (Kulisch) accumulation only
    if (acc.empty() || acc == "exact") return pe + "_exact";
    throw CostError("MX PE '" + pe_in + "' accumulates exactly (accumulator 'exact'), not '" + acc_in + "'");
  }
  if (pe != "e4m3" && pe != "e5m2")
    throw CostError("unknown PE type '" + pe_in + "' (expected int8, e4m3, e5m2 or an MX format: " +
                    model::mx_format_names() + ")");
  if (acc == "fixed") return pe + "_fixed";
  if (acc == "fp32" || acc == "f32") return pe + "_f32";
  throw CostError("unknown accumulator '" + acc_in + "' for PE '" + pe_in + "' (expected fixed or fp32)");
}

double area_scale(const EnergyTable& t) {
  return std::pow(t.node_nm.value / t.synthesis_node_nm.value, t.area_scaling_exponent.value);
}

double sram_pj_per_byte(const EnergyTable& t, double bank_capacity_bytes, bool* extrapolated) {
  if (!(bank_capacity_bytes > 0)) throw CostError("SRAM bank capacity must be greater than zero");
  const auto& p = t.sram_points;
  if (extrapolated) *extrapolated = false;
  if (p.size() == 1) {  // a single point: every size costs the same (the fallback rule)
    if (extrapolated) *extrapolated = bank_capacity_bytes != p[0].capacity_bytes;
    return p[0].read_pj_per_64b.value / 8.0;
  }
  // Segment [i, i+1] containing the size, or the nearest end segment (extrapolation).
  size_t i = 0;
  while (i + 2 < p.size() && bank_capacity_bytes > p[i + 1].capacity_bytes) ++i;
  if (extrapolated)
    *extrapolated = bank_capacity_bytes < p.front().capacity_bytes || bank_capacity_bytes > p.back().capacity_bytes;
  const double x0 = std::log(p[i].capacity_bytes), x1 = std::log(p[i + 1].capacity_bytes);
  const double y0 = std::log(p[i].read_pj_per_64b.value), y1 = std::log(p[i + 1].read_pj_per_64b.value);
  const double y = y0 + (y1 - y0) * (std::log(bank_capacity_bytes) - x0) / (x1 - x0);
  return std::exp(y) / 8.0;
}

double sram_area_um2(const EnergyTable& t, double capacity_bytes) {
  return capacity_bytes * 8.0 * t.sram_bitcell_um2.value / t.sram_array_efficiency.value;
}

PeEnergy pe_energy(const EnergyTable& t, const AreaTable& a, const std::string& kind) {
  const PeKindSpec& s = spec_of(t, kind);
  const PeKindSpec& ref = spec_of(t, "int8");
  const double e_int8 = int8_mac_pj(t);
  const double a_int8 = a.at(ref.pe_design).area_um2;
  const double a_pe = a.at(s.pe_design).area_um2;
  const double a_mul = a.at(s.multiplier_design).area_um2;
  if (a_mul > a_pe)
    throw CostError(a.path + ": multiplier '" + s.multiplier_design + "' is larger than its PE '" + s.pe_design + "'");
  const double p = t.reference_toggle_probability.value;
  PeEnergy r;
  r.kind = kind;
  r.ref_mac_pj = e_int8 * a_pe / a_int8;
  r.multiplier_share = a_mul / a_pe;
  r.pj_per_operand_toggle = r.multiplier_share * r.ref_mac_pj / (p * 2.0 * t.operand_bits.value);
  r.pj_per_accumulator_toggle =
      (1.0 - r.multiplier_share) * r.ref_mac_pj / (p * static_cast<double>(s.accumulator_bits));
  r.pj_per_register_toggle = e_int8 / (a_int8 / t.synthesis_nand2_um2.value) / p * t.dff_nand2_eq.value;
  r.per_pe_area_um2_synthesis = per_pe_array_area(t, a, kind);
  return r;
}

EnergyBreakdown energy(const EnergyTable& t, const AreaTable& a, const EventCounts& e,
                       std::vector<std::string>* notes) {
  const std::string kind = pe_kind_key(e.pe, e.accumulator);
  const PeEnergy pe = pe_energy(t, a, kind);
  const PeKindSpec& s = spec_of(t, kind);
  if (!(e.clock_mhz > 0)) throw CostError("event counts: clock_mhz must be greater than zero");

  EnergyBreakdown b;
  double op_toggles = static_cast<double>(e.operand_toggles);
  double acc_toggles = static_cast<double>(e.accumulator_toggles);
  if (!e.toggles_measured) {
    const double p = t.reference_toggle_probability.value, macs = static_cast<double>(e.macs);
    op_toggles = macs * p * 2.0 * t.operand_bits.value;
    acc_toggles = macs * p * static_cast<double>(s.accumulator_bits);
    if (notes)
      notes->push_back("register toggles not measured: the reference activity (random data, toggle probability " +
                       fmt(p) + ") was assumed for the PE energy");
  }
  b.multiplier_pj = op_toggles * pe.pj_per_operand_toggle;
  b.operand_register_pj = op_toggles * pe.pj_per_register_toggle;
  b.accumulator_pj = acc_toggles * pe.pj_per_accumulator_toggle;
  b.mac_pj = b.multiplier_pj + b.operand_register_pj + b.accumulator_pj;

  for (const auto& buf : e.buffers) {
    if (buf.banks == 0) throw CostError("event counts: buffer '" + buf.name + "' has 0 banks");
    if (buf.size_bytes == 0) throw CostError("event counts: buffer '" + buf.name + "' has size 0");
    bool extrapolated = false;
    const double bank = static_cast<double>(buf.size_bytes) / buf.banks;
    const double per_byte = sram_pj_per_byte(t, bank, &extrapolated);
    const double pj = per_byte * (static_cast<double>(buf.bytes_read) +
                                  static_cast<double>(buf.bytes_written) * t.sram_write_to_read_ratio.value);
    if (extrapolated && notes)
      notes->push_back("buffer '" + buf.name + "': bank of " + fmt(bank) +
                       " bytes lies outside the SRAM energy table's sizes; its energy per byte is extrapolated");
    b.sram_pj_by_buffer.emplace_back(buf.name, pj);
    b.sram_pj += pj;
  }
  b.dram_pj = static_cast<double>(e.dram_bytes_read + e.dram_bytes_written) * t.dram_pj_per_64b.value / 8.0;

  const AreaBreakdown ar = area(t, a, e, nullptr);
  const double latency_s = static_cast<double>(e.cycles) / (e.clock_mhz * 1e6);
  // nW x s = 1e-9 J = 1e3 pJ
  b.leakage_pj = t.leakage_nw_per_um2.value * ar.total_um2 * latency_s * 1e3;
  // Post-processing unit, per output: one float32 multiplication (the scale) and one float32 addition (the
  // bias), Horowitz's figures; the conversion to the output format is costed as one 8-bit add (assumption).
  const auto prim = [&](const char* k) {
    const auto it = t.primitives_pj.find(k);
    if (it == t.primitives_pj.end()) throw CostError(t.path + ": primitives_pj." + k + ": missing");
    return it->second.value;
  };
  if (e.postprocessed)
    b.postproc_pj = static_cast<double>(e.postprocessed) * (prim("fp32_mul") + prim("fp32_add") + prim("int_add_8b"));
  // Accumulating output buffer, per word added: the PE kind's adder: float32 add for fp32 accumulation, an
  // integer add of the accumulator's width otherwise (a 32-bit add scaled linearly by width: assumption).
  if (e.buffer_adds) {
    const double add_pj = kind == "e4m3_f32" || kind == "e5m2_f32"
                              ? prim("fp32_add")
                              : prim("int_add_32b") * static_cast<double>(s.accumulator_bits) / 32.0;
    b.adder_pj = static_cast<double>(e.buffer_adds) * add_pj;
  }
  // MX arrays: each output's Kulisch sum is rounded once to float32 where it leaves the array (sim/mx_array.h).
  // Costed as one float32 addition per output (assumption: a leading-zero count, shift and round of the wide
  // word, like an fp32 adder's normalize-and-round stage); included in adder_pj, detail in mx_round_pj.
  if (e.mx_rounded_outputs) {
    b.mx_round_pj = static_cast<double>(e.mx_rounded_outputs) * prim("fp32_add");
    b.adder_pj += b.mx_round_pj;
    if (notes)
      notes->push_back("MX array: the Kulisch-to-float32 rounding of each output costed as one fp32 add (assumption)");
  }
  if (notes && (e.postprocessed || e.buffer_adds))
    notes->push_back("post-processing unit: fp32 multiply + fp32 add per output (Horowitz ISSCC 2014) + one 8-bit add "
                     "for the format conversion (assumption); accumulator adders: fp32 add, or a 32-bit add scaled "
                     "by the accumulator width (assumption)");
  b.total_pj = b.mac_pj + b.sram_pj + b.dram_pj + b.leakage_pj + b.postproc_pj + b.adder_pj;
  return b;
}

AreaBreakdown area(const EnergyTable& t, const AreaTable& a, const EventCounts& e, std::vector<std::string>* notes) {
  const std::string kind = pe_kind_key(e.pe, e.accumulator);
  if (e.rows == 0 || e.cols == 0) throw CostError("event counts: array rows and cols must be greater than zero");
  const PeKindSpec& s = spec_of(t, kind);
  const double scale = area_scale(t);
  const double nand2_synth = t.synthesis_nand2_um2.value;
  AreaBreakdown r;
  r.array_um2_synthesis_node = static_cast<double>(e.rows) * e.cols * per_pe_array_area(t, a, kind);
  r.array_um2 = r.array_um2_synthesis_node * scale;
  r.array_nand2_eq = r.array_um2_synthesis_node / nand2_synth;
  if (notes && s.array_design.empty())
    notes->push_back("PE kind '" + kind + "': no synthesized array; per-PE array overhead borrowed from '" +
                     s.array_overhead_from + "' (approximation)");
  for (const auto& buf : e.buffers) {
    const double um2 = sram_area_um2(t, static_cast<double>(buf.size_bytes));
    r.buffer_um2.emplace_back(buf.name, um2);
    r.buffers_um2 += um2;
  }
  // NAND2 equivalents of the SRAM: its 45 nm area over the NAND2 area scaled by the same rule as the logic.
  r.buffers_nand2_eq = r.buffers_um2 / (nand2_synth * scale);
  r.total_um2 = r.array_um2 + r.buffers_um2;
  r.nand2_eq = r.array_nand2_eq + r.buffers_nand2_eq;
  return r;
}

double vector_energy_pj(const EnergyTable& t, uint64_t adds, uint64_t muls, uint64_t funcs,
                        std::vector<std::string>* notes) {
  const auto prim = [&](const char* k) {
    const auto it = t.primitives_pj.find(k);
    if (it == t.primitives_pj.end()) throw CostError(t.path + ": primitives_pj." + k + ": missing");
    return it->second.value;
  };
  const double add = prim("fp16_add"), mul = prim("fp16_mul");
  if (notes)
    notes->push_back("vector unit: a BF16 add/multiply costs Horowitz's FP16 figure (assumption); exp, erf, tanh, "
                     "reciprocal and rsqrt cost four multiply-adds each (assumption)");
  return static_cast<double>(adds) * add + static_cast<double>(muls) * mul + static_cast<double>(funcs) * 4.0 * (add + mul);
}

ClockCheck clock_check(const EnergyTable& t, const AreaTable& a, const std::string& pe, const std::string& accumulator,
                       double clock_mhz) {
  ClockCheck c;
  c.kind = pe_kind_key(pe, accumulator);
  const PeKindSpec& k = spec_of(t, c.kind);
  const AreaRow& row = a.at(k.pe_design);
  c.pe_design = row.design;
  if (!(row.max_clock_mhz > 0) || !t.has_delay_scaling) return c;
  c.timed = true;
  c.max_clock_mhz_synthesis = row.max_clock_mhz;
  c.max_clock_mhz =
      row.max_clock_mhz * std::pow(t.synthesis_node_nm.value / t.node_nm.value, t.delay_scaling_exponent.value);
  c.exceeds = clock_mhz > c.max_clock_mhz;
  if (c.exceeds) {
    std::ostringstream os;
    os << "clock_mhz " << fmt(clock_mhz) << " exceeds the " << c.kind << " PE's maximum clock of "
       << std::lround(c.max_clock_mhz) << " MHz (static timing of " << row.design << ": " << fmt(row.max_clock_mhz)
       << " MHz at " << fmt(t.synthesis_node_nm.value) << " nm, " << display_path(a.path) << "; scaled to "
       << fmt(t.node_nm.value) << " nm by (node ratio)^" << fmt(t.delay_scaling_exponent.value)
       << (t.delay_scaling_exponent.assumption ? ", an assumption" : "")
       << "): at the PE's clock the same cycles take " << std::lround(clock_mhz / c.max_clock_mhz * 100) / 100.0
       << "x longer";
    c.message = os.str();
  }
  return c;
}

double leakage_pj(const EnergyTable& t, double area_um2, uint64_t cycles, double clock_mhz) {
  if (!(clock_mhz > 0)) throw CostError("leakage: clock_mhz must be greater than zero");
  return t.leakage_nw_per_um2.value * area_um2 * (static_cast<double>(cycles) / (clock_mhz * 1e6)) * 1e3;
}

CostResult evaluate(const EnergyTable& t, const AreaTable& a, const EventCounts& e) {
  CostResult r;
  r.energy = energy(t, a, e, &r.notes);
  r.area = area(t, a, e, &r.notes);
  r.pe = pe_energy(t, a, pe_kind_key(e.pe, e.accumulator));
  r.latency_s = static_cast<double>(e.cycles) / (e.clock_mhz * 1e6);
  const double macs = static_cast<double>(e.macs);
  const double mm2 = r.area.total_um2 * 1e-6;
  if (macs > 0) r.energy_per_mac_pj = r.energy.total_pj / macs;
  if (r.energy.total_pj > 0) r.tops_per_w = 2.0 * macs / r.energy.total_pj;  // ops / (pJ) = 1e12 ops/J
  if (r.latency_s > 0 && mm2 > 0) r.tops_per_mm2 = 2.0 * macs / r.latency_s * 1e-12 / mm2;
  if (mm2 > 0) r.peak_tops_per_mm2 = 2.0 * e.rows * e.cols * e.clock_mhz * 1e6 * 1e-12 / mm2;
  if (t.area_scaling_exponent.assumption)
    r.notes.push_back("logic areas scaled from " + fmt(t.synthesis_node_nm.value) + " nm to " + fmt(t.node_nm.value) +
                      " nm by (node ratio)^" + fmt(t.area_scaling_exponent.value) + " (assumption)");
  if (t.leakage_nw_per_um2.assumption)
    r.notes.push_back("leakage uses an assumed " + fmt(t.leakage_nw_per_um2.value) + " nW/um^2; shown separately");
  return r;
}

std::vector<ModelFigureRow> describe_model(const EnergyTable& t, const AreaTable& a) {
  std::vector<ModelFigureRow> rows;
  auto add = [&](const std::string& name, const Figure& f) {
    rows.push_back({name, f.value, f.unit, f.source, f.assumption});
  };
  add("technology node", t.node_nm);
  add("supply voltage", t.voltage_v);
  add("synthesis node", t.synthesis_node_nm);
  add("NAND2 area at the synthesis node", t.synthesis_nand2_um2);
  add("area scaling exponent", t.area_scaling_exponent);
  for (const auto& [k, f] : t.primitives_pj) add("primitive " + k, f);
  std::string terms;
  for (const auto& term : t.int8_mac_terms)
    terms += (terms.empty() ? "" : " + ") + term + " (" + t.primitives_pj.at(term).source + ")";
  rows.push_back({"INT8 MAC (reference)", int8_mac_pj(t), "pJ", "derived: " + terms, false});
  add("reference toggle probability", t.reference_toggle_probability);
  add("flip-flop size", t.dff_nand2_eq);
  const std::string int8_pe = spec_of(t, "int8").pe_design;
  for (const auto& [k, s] : t.pe_kinds) {
    const PeEnergy pe = pe_energy(t, a, k);
    const std::string ratio = "area(" + s.pe_design + ")/area(" + int8_pe + ") = " +
                              fmt(a.at(s.pe_design).area_um2 / a.at(int8_pe).area_um2);
    const std::string area_file = display_path(a.path);
    rows.push_back({"PE " + k + ": MAC energy at reference activity", pe.ref_mac_pj, "pJ",
                    "derived: INT8 MAC x " + ratio + " from " + area_file +
                        " (assumption: energy proportional to area at equal activity)",
                    true});
    rows.push_back({"PE " + k + ": multiplier share", pe.multiplier_share, "",
                    "derived: area(" + s.multiplier_design + ")/area(" + s.pe_design + ")", true});
    rows.push_back({"PE " + k + ": energy per operand toggle (multiplier)", pe.pj_per_operand_toggle, "pJ",
                    "derived (cost.h)", true});
    rows.push_back({"PE " + k + ": energy per accumulator toggle", pe.pj_per_accumulator_toggle, "pJ",
                    "derived (cost.h), " + std::to_string(s.accumulator_bits) + "-bit accumulator", true});
    rows.push_back({"PE " + k + ": area per PE in an array (synthesis node)", pe.per_pe_area_um2_synthesis, "um^2",
                    s.source, !s.array_overhead_from.empty()});
  }
  rows.push_back({"operand register energy per bit toggle", pe_energy(t, a, "int8").pj_per_register_toggle, "pJ",
                  "derived from the flip-flop size and the INT8 PE energy density (assumption)", true});
  for (const auto& p : t.sram_points)
    rows.push_back({"SRAM 64-bit read, " + fmt(p.capacity_bytes / 1024) + " KB", p.read_pj_per_64b.value,
                    p.read_pj_per_64b.unit, p.read_pj_per_64b.source, p.read_pj_per_64b.assumption});
  rows.push_back({"SRAM size scaling rule", 0, "", t.sram_size_rule, false});
  add("SRAM write/read energy ratio", t.sram_write_to_read_ratio);
  add("SRAM bit cell", t.sram_bitcell_um2);
  add("SRAM array efficiency", t.sram_array_efficiency);
  add("DRAM 64-bit access (low)", t.dram_pj_per_64b_low);
  add("DRAM 64-bit access (high)", t.dram_pj_per_64b_high);
  add("DRAM 64-bit access (used)", t.dram_pj_per_64b);
  add("leakage", t.leakage_nw_per_um2);
  return rows;
}

}  // namespace fp8sim::cost
