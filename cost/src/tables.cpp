// Loaders for the two data files of the cost model: strict, so a typo in a key or a lost source is an error
// that names the file, the key and the reason rather than a silently different energy.
#include "fp8sim/cost/cost.h"

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fp8sim::cost {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CostError(path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw CostError(path + ": read error");
  return ss.str();
}


// ------------------------------------------------------------------ energy json

using json = nlohmann::json;

struct Walker {
  std::string file;

  [[noreturn]] void fail(const std::string& key, const std::string& reason) const {
    throw CostError(file + ": key '" + key + "': " + reason);
  }
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  // The object at `path` must have every key of `required`, may have those of `optional`, nothing else.
  void keys(const json& j, const std::string& path, std::initializer_list<const char*> required,
            std::initializer_list<const char*> optional = {}) const {
    if (!j.is_object()) fail(path.empty() ? "(top level)" : path, "expected an object");
    std::set<std::string> known;
    for (const char* k : required) {
      known.insert(k);
      if (!j.contains(k)) fail(join(path, k), "missing");
    }
    for (const char* k : optional) known.insert(k);
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!known.count(it.key())) fail(join(path, it.key()), "unknown key");
  }
  std::string str(const json& j, const std::string& path, bool nonempty = true) const {
    if (!j.is_string()) fail(path, "expected a string");
    std::string s = j.get<std::string>();
    if (nonempty && s.empty()) fail(path, "empty string");
    return s;
  }
  double num(const json& j, const std::string& path) const {
    if (!j.is_number()) fail(path, "expected a number");
    const double v = j.get<double>();
    if (!std::isfinite(v)) fail(path, "not finite");
    if (v < 0) {
      std::ostringstream os;
      os << "negative number (" << v << ")";
      fail(path, os.str());
    }
    return v;
  }
  int64_t integer(const json& j, const std::string& path) const {
    if (!j.is_number_integer()) fail(path, "expected an integer");
    const int64_t v = j.get<int64_t>();
    if (v < 0) fail(path, "negative number (" + std::to_string(v) + ")");
    return v;
  }
  Figure figure(const json& j, const std::string& path) const {
    keys(j, path, {"value", "unit", "source"}, {"assumption"});
    Figure f;
    f.value = num(j["value"], path + ".value");
    f.unit = str(j["unit"], path + ".unit", false);
    f.source = str(j["source"], path + ".source");
    if (j.contains("assumption")) {
      if (!j["assumption"].is_boolean()) fail(path + ".assumption", "expected true or false");
      f.assumption = j["assumption"].get<bool>();
    }
    return f;
  }
  Figure positive(const json& j, const std::string& path) const {
    Figure f = figure(j, path);
    if (!(f.value > 0)) fail(path + ".value", "must be greater than zero");
    return f;
  }
};

}  // namespace

// ------------------------------------------------------------------ AreaTable

const AreaRow* AreaTable::find(std::string_view design) const {
  for (const auto& r : rows)
    if (r.design == design) return &r;
  return nullptr;
}

const AreaRow& AreaTable::at(std::string_view design) const {
  if (const AreaRow* r = find(design)) return *r;
  throw CostError(path + ": no row for design '" + std::string(design) + "'");
}

// The synthesis area table (rtl/synth/area.json, written by scripts/synth_area.sh): {"designs": [{"design",
// "description", "cells", "flip_flops", "area_um2", "nand2_eq" [, "critical_path_ns", "max_clock_mhz"]}, ...]},
// read with nlohmann::json. Errors name the file, the row (designs[i]) and the field.
AreaTable parse_area_table(std::string_view text, const std::string& name) {
  AreaTable t;
  t.path = name;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) throw CostError(name + ": empty file");
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw CostError(name + ": invalid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("designs") || !j["designs"].is_array())
    throw CostError(name + ": expected an object with an array \"designs\"");
  const json& ds = j["designs"];
  for (size_t i = 0; i < ds.size(); ++i) {
    const std::string where = name + ": designs[" + std::to_string(i) + "]";
    const json& d = ds[i];
    if (!d.is_object()) throw CostError(where + ": not an object");
    for (const auto& [k, v] : d.items())
      if (k != "design" && k != "description" && k != "cells" && k != "flip_flops" && k != "area_um2" && k != "nand2_eq" &&
          k != "critical_path_ns" && k != "max_clock_mhz")
        throw CostError(where + ": unknown field '" + k + "'");
    auto text_of = [&](const char* k) {
      if (!d.contains(k) || !d[k].is_string()) throw CostError(where + ": field '" + k + "' must be a string");
      return d[k].get<std::string>();
    };
    auto number = [&](const char* k) {
      if (!d.contains(k) || !d[k].is_number()) throw CostError(where + ": field '" + k + "' must be a number");
      const double v = d[k].get<double>();
      if (!std::isfinite(v)) throw CostError(where + ": field '" + k + "': not finite");
      if (v < 0) throw CostError(where + ": field '" + k + "': negative number");
      return v;
    };
    auto count = [&](const char* k) {
      if (!d.contains(k) || !d[k].is_number_unsigned())
        throw CostError(where + ": field '" + k + "' must be a non-negative integer");
      const uint64_t v = d[k].get<uint64_t>();
      if (v > uint64_t{1} << 53) throw CostError(where + ": field '" + k + "': out of range");
      return static_cast<int64_t>(v);
    };
    AreaRow r;
    r.design = text_of("design");
    if (r.design.empty()) throw CostError(where + ": field 'design' is empty");
    if (t.find(r.design)) throw CostError(where + ": duplicate design '" + r.design + "'");
    r.description = text_of("description");
    r.cells = count("cells");
    r.flip_flops = count("flip_flops");
    r.area_um2 = number("area_um2");
    r.nand2_eq = number("nand2_eq");
    if (!(r.area_um2 > 0)) throw CostError(where + ": field 'area_um2': must be greater than zero");
    // Static timing (scripts/sta.sh), optional: both fields or neither, consistent with each other.
    if (d.contains("critical_path_ns") != d.contains("max_clock_mhz"))
      throw CostError(where + ": fields 'critical_path_ns' and 'max_clock_mhz' come together");
    if (d.contains("critical_path_ns")) {
      r.critical_path_ns = number("critical_path_ns");
      r.max_clock_mhz = number("max_clock_mhz");
      if (!(r.critical_path_ns > 0) || !(r.max_clock_mhz > 0))
        throw CostError(where + ": fields 'critical_path_ns' and 'max_clock_mhz' must be greater than zero");
      if (std::abs(r.max_clock_mhz * r.critical_path_ns / 1000.0 - 1.0) > 0.002)  // both rounded in the file
        throw CostError(where + ": field 'max_clock_mhz' is not 1000 / critical_path_ns");
    }
    t.rows.push_back(std::move(r));
  }
  if (t.rows.empty()) throw CostError(name + ": no designs");
  return t;
}

AreaTable load_area_table(const std::string& path) { return parse_area_table(read_file(path), path); }

std::string default_area_table_path() { return FP8SIM_COST_DEFAULT_AREA; }
std::string default_energy_table_path() { return FP8SIM_COST_DEFAULT_ENERGY; }

// ------------------------------------------------------------------ EnergyTable

EnergyTable parse_energy_table(std::string_view text, const std::string& name) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw CostError(name + ": invalid JSON: " + e.what());
  }
  Walker w{name};
  EnergyTable t;
  t.path = name;
  w.keys(j, "", {"format", "version", "description", "technology", "primitives_pj", "pe", "sram", "dram", "leakage"});
  if (w.str(j["format"], "format") != "fp8sim-energy-table") w.fail("format", "expected \"fp8sim-energy-table\"");
  if (w.integer(j["version"], "version") != 1) w.fail("version", "unsupported version (this build reads 1)");
  t.description = w.str(j["description"], "description");

  const json& tech = j["technology"];
  w.keys(tech, "technology",
         {"node_nm", "voltage_v", "synthesis_node_nm", "synthesis_nand2_um2", "area_scaling_exponent"},
         {"delay_scaling_exponent"});
  t.node_nm = w.positive(tech["node_nm"], "technology.node_nm");
  t.voltage_v = w.positive(tech["voltage_v"], "technology.voltage_v");
  t.synthesis_node_nm = w.positive(tech["synthesis_node_nm"], "technology.synthesis_node_nm");
  t.synthesis_nand2_um2 = w.positive(tech["synthesis_nand2_um2"], "technology.synthesis_nand2_um2");
  t.area_scaling_exponent = w.figure(tech["area_scaling_exponent"], "technology.area_scaling_exponent");
  if (tech.contains("delay_scaling_exponent")) {
    t.delay_scaling_exponent = w.figure(tech["delay_scaling_exponent"], "technology.delay_scaling_exponent");
    t.has_delay_scaling = true;
  }

  const json& prim = j["primitives_pj"];
  if (!prim.is_object() || prim.empty()) w.fail("primitives_pj", "expected a non-empty object");
  for (auto it = prim.begin(); it != prim.end(); ++it)
    t.primitives_pj[it.key()] = w.figure(it.value(), "primitives_pj." + it.key());

  const json& pe = j["pe"];
  w.keys(pe, "pe", {"int8_mac_terms", "int8_mac_rule", "reference_toggle_probability", "operand_bits",
                    "dff_nand2_eq", "kinds"});
  if (!pe["int8_mac_terms"].is_array() || pe["int8_mac_terms"].empty())
    w.fail("pe.int8_mac_terms", "expected a non-empty array of primitive names");
  for (size_t i = 0; i < pe["int8_mac_terms"].size(); ++i) {
    const std::string key = "pe.int8_mac_terms[" + std::to_string(i) + "]";
    std::string term = w.str(pe["int8_mac_terms"][i], key);
    if (!t.primitives_pj.count(term)) w.fail(key, "names no entry of primitives_pj ('" + term + "')");
    t.int8_mac_terms.push_back(term);
  }
  t.int8_mac_rule = w.str(pe["int8_mac_rule"], "pe.int8_mac_rule");
  t.reference_toggle_probability = w.positive(pe["reference_toggle_probability"], "pe.reference_toggle_probability");
  if (t.reference_toggle_probability.value > 1)
    w.fail("pe.reference_toggle_probability.value", "a probability must be at most 1");
  t.operand_bits = w.positive(pe["operand_bits"], "pe.operand_bits");
  t.dff_nand2_eq = w.figure(pe["dff_nand2_eq"], "pe.dff_nand2_eq");
  const json& kinds = pe["kinds"];
  if (!kinds.is_object() || kinds.empty()) w.fail("pe.kinds", "expected a non-empty object");
  for (auto it = kinds.begin(); it != kinds.end(); ++it) {
    const std::string p = "pe.kinds." + it.key();
    const json& k = it.value();
    w.keys(k, p, {"pe_design", "multiplier_design", "accumulator_bits", "source"},
           {"array_design", "array_pes", "array_overhead_from"});
    PeKindSpec s;
    s.pe_design = w.str(k["pe_design"], p + ".pe_design");
    s.multiplier_design = w.str(k["multiplier_design"], p + ".multiplier_design");
    s.accumulator_bits = w.integer(k["accumulator_bits"], p + ".accumulator_bits");
    if (s.accumulator_bits == 0) w.fail(p + ".accumulator_bits", "must be greater than zero");
    s.source = w.str(k["source"], p + ".source");
    const bool has_array = k.contains("array_design"), has_from = k.contains("array_overhead_from");
    if (has_array == has_from) w.fail(p, "needs exactly one of 'array_design' or 'array_overhead_from'");
    if (has_array) {
      s.array_design = w.str(k["array_design"], p + ".array_design");
      if (!k.contains("array_pes")) w.fail(p + ".array_pes", "missing (required with array_design)");
      s.array_pes = w.integer(k["array_pes"], p + ".array_pes");
      if (s.array_pes == 0) w.fail(p + ".array_pes", "must be greater than zero");
    } else {
      if (k.contains("array_pes")) w.fail(p + ".array_pes", "only allowed with array_design");
      s.array_overhead_from = w.str(k["array_overhead_from"], p + ".array_overhead_from");
    }
    t.pe_kinds[it.key()] = s;
  }
  if (!t.pe_kinds.count("int8")) w.fail("pe.kinds.int8", "missing (the reference PE kind)");
  for (const auto& [kname, s] : t.pe_kinds) {
    if (s.array_overhead_from.empty()) continue;
    auto from = t.pe_kinds.find(s.array_overhead_from);
    if (from == t.pe_kinds.end() || from->second.array_design.empty())
      w.fail("pe.kinds." + kname + ".array_overhead_from",
             "must name a kind that has an array_design ('" + s.array_overhead_from + "')");
  }

  const json& sram = j["sram"];
  w.keys(sram, "sram", {"read_pj_per_64b", "size_rule", "write_to_read_ratio", "bitcell_um2", "array_efficiency"});
  const json& pts = sram["read_pj_per_64b"];
  if (!pts.is_array() || pts.empty()) w.fail("sram.read_pj_per_64b", "expected a non-empty array");
  for (size_t i = 0; i < pts.size(); ++i) {
    const std::string p = "sram.read_pj_per_64b[" + std::to_string(i) + "]";
    w.keys(pts[i], p, {"capacity_bytes", "value", "unit", "source"}, {"assumption"});
    SramPoint sp;
    sp.capacity_bytes = w.num(pts[i]["capacity_bytes"], p + ".capacity_bytes");
    json fig = pts[i];
    fig.erase("capacity_bytes");
    sp.read_pj_per_64b = w.positive(fig, p);
    if (!(sp.capacity_bytes > 0)) w.fail(p + ".capacity_bytes", "must be greater than zero");
    if (!t.sram_points.empty() && !(sp.capacity_bytes > t.sram_points.back().capacity_bytes))
      w.fail(p + ".capacity_bytes", "capacities must increase");
    t.sram_points.push_back(sp);
  }
  t.sram_size_rule = w.str(sram["size_rule"], "sram.size_rule");
  t.sram_write_to_read_ratio = w.figure(sram["write_to_read_ratio"], "sram.write_to_read_ratio");
  t.sram_bitcell_um2 = w.positive(sram["bitcell_um2"], "sram.bitcell_um2");
  t.sram_array_efficiency = w.positive(sram["array_efficiency"], "sram.array_efficiency");
  if (t.sram_array_efficiency.value > 1) w.fail("sram.array_efficiency.value", "an efficiency must be at most 1");

  const json& dram = j["dram"];
  w.keys(dram, "dram", {"pj_per_64b_low", "pj_per_64b_high", "pj_per_64b"});
  t.dram_pj_per_64b_low = w.figure(dram["pj_per_64b_low"], "dram.pj_per_64b_low");
  t.dram_pj_per_64b_high = w.figure(dram["pj_per_64b_high"], "dram.pj_per_64b_high");
  t.dram_pj_per_64b = w.figure(dram["pj_per_64b"], "dram.pj_per_64b");
  if (t.dram_pj_per_64b_low.value > t.dram_pj_per_64b_high.value)
    w.fail("dram.pj_per_64b_low.value", "greater than pj_per_64b_high");
  if (t.dram_pj_per_64b.value < t.dram_pj_per_64b_low.value || t.dram_pj_per_64b.value > t.dram_pj_per_64b_high.value)
    w.fail("dram.pj_per_64b.value", "outside the range [pj_per_64b_low, pj_per_64b_high]");

  const json& leak = j["leakage"];
  w.keys(leak, "leakage", {"nw_per_um2"});
  t.leakage_nw_per_um2 = w.figure(leak["nw_per_um2"], "leakage.nw_per_um2");
  return t;
}

EnergyTable load_energy_table(const std::string& path) { return parse_energy_table(read_file(path), path); }

void check_consistent(const EnergyTable& energy, const AreaTable& area) {
  auto need = [&](const std::string& design, const std::string& key) {
    if (!area.find(design))
      throw CostError(energy.path + ": key '" + key + "': names design '" + design + "', which " + area.path +
                      " does not have");
  };
  for (const auto& [k, s] : energy.pe_kinds) {
    need(s.pe_design, "pe.kinds." + k + ".pe_design");
    need(s.multiplier_design, "pe.kinds." + k + ".multiplier_design");
    if (!s.array_design.empty()) need(s.array_design, "pe.kinds." + k + ".array_design");
  }
}

}  // namespace fp8sim::cost
