// Derived figures, validation, the text and JSON writers and the atomic file write.
#include "fp8sim/report/report.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace fp8sim::report {

// ------------------------------------------------------------------ formatting

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v == 0 ? 0.0 : v);  // -0 prints as 0
  return buf;
}

std::string fmt_count(uint64_t v) {
  std::string s = std::to_string(v), out;
  const int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out += s[i];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return out;
}

std::string fmt_sig(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v == 0 ? 0.0 : v);
  return buf;
}

// ------------------------------------------------------------------ derived

// The network's latency: its timeline's critical path where the timeline exists (operations overlapped), else
// the operations one after another (totals.cycles).
double latency_s(const FormatRun& r) {
  const uint64_t cycles = r.network.timeline ? r.network.overlapped_cycles : r.totals.cycles;
  return r.config.clock_mhz > 0 ? static_cast<double>(cycles) / (r.config.clock_mhz * 1e6) : 0.0;
}
double energy_per_mac_pj(const FormatRun& r) {
  return r.totals.macs ? r.totals.energy_pj.total() / static_cast<double>(r.totals.macs) : 0.0;
}
double tops_per_w(const FormatRun& r) {
  const double e = r.totals.energy_pj.total();
  return e > 0 ? 2.0 * static_cast<double>(r.totals.macs) / e : 0.0;  // ops per pJ = 1e12 ops per J
}
// The PE array alone: its MAC energy (datapath and operand registers) and the accumulating adders.
double array_tops_per_w(const FormatRun& r) {
  const double e = r.totals.energy_pj.mac + r.totals.energy_pj.accumulator_adders;
  return e > 0 ? 2.0 * static_cast<double>(r.totals.macs) / e : 0.0;
}
double tops_per_mm2(const FormatRun& r) {
  const double t = latency_s(r), mm2 = r.totals.area.total_um2() * 1e-6;
  return t > 0 && mm2 > 0 ? 2.0 * static_cast<double>(r.totals.macs) / t * 1e-12 / mm2 : 0.0;
}

namespace {
double utilization(const FormatRun& r) {
  const double slots = static_cast<double>(r.totals.cycles) * r.config.rows * r.config.cols;
  return slots > 0 ? static_cast<double>(r.totals.macs) / slots : 0.0;
}

// Not dominated: no other point at least as good in both coordinates and strictly better in one.
std::vector<bool> pareto(const SweepTable& s, double DesignPoint::*cost) {
  std::vector<bool> out(s.points.size(), true);
  auto better_acc = [&](double a, double b) { return s.higher_is_better ? a > b : a < b; };
  for (size_t i = 0; i < s.points.size(); ++i)
    for (size_t j = 0; j < s.points.size() && out[i]; ++j) {
      if (i == j) continue;
      const auto &p = s.points[i], &q = s.points[j];
      const bool acc_ge = !better_acc(p.accuracy, q.accuracy), cost_le = q.*cost <= p.*cost;
      const bool strict = better_acc(q.accuracy, p.accuracy) || q.*cost < p.*cost;
      if (acc_ge && cost_le && strict) out[i] = false;
    }
  return out;
}
}  // namespace

std::vector<bool> pareto_energy(const SweepTable& s) { return pareto(s, &DesignPoint::energy_pj); }
std::vector<bool> pareto_area(const SweepTable& s) { return pareto(s, &DesignPoint::area_um2); }

// ------------------------------------------------------------------ validation

namespace {
void validate_run(const FormatRun& r, const std::string& where) {
  auto fail = [&](const std::string& what) { throw ReportError("report: " + where + ": " + what); };
  if (r.format.empty()) fail("format is empty");
  if (r.accuracy.metric.empty()) fail("accuracy.metric is empty");
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerRow& l = r.layers[i];
    const std::string w = "layers[" + std::to_string(i) + "]";
    if (l.name.empty()) fail(w + ".name is empty");
    if (!(l.pe_utilization >= 0 && l.pe_utilization <= 1)) fail(w + ".pe_utilization outside 0..1");
    if (l.stalls.total() > l.cycles) fail(w + ": stall cycles exceed cycles");
  }
  for (size_t i = 0; i < r.verification.size(); ++i) {
    const VerificationCheck& v = r.verification[i];
    const std::string w = "verification[" + std::to_string(i) + "]";
    if (v.reference.empty()) fail(w + ".reference is empty");
    if (v.mismatches > v.checked_outputs) fail(w + ": more mismatches than checked outputs");
    if (v.checked_outputs > v.total_outputs) fail(w + ": more checked outputs than outputs");
  }
  for (double e : {r.totals.energy_pj.mac, r.totals.energy_pj.sram, r.totals.energy_pj.dram,
                   r.totals.energy_pj.leakage, r.totals.energy_pj.post_processing,
                   r.totals.energy_pj.accumulator_adders, r.totals.energy_pj.vector_unit, r.totals.area.array_um2,
                   r.totals.area.buffers_um2})
    if (!(e >= 0) || !std::isfinite(e)) fail("totals: energies and areas must be finite and non-negative");
}
}  // namespace

void validate(const RunReport& r) {
  if (r.workload.empty()) throw ReportError("report: workload is empty");
  if (r.synthetic && r.synthetic_note.empty())
    throw ReportError("report: synthetic is set but synthetic_note does not say what is synthetic");
  validate_run(r.run, "run");
  for (size_t i = 0; i < r.comparison.size(); ++i)
    validate_run(r.comparison[i], "comparison[" + std::to_string(i) + "]");
  if (r.sweep && r.sweep->accuracy_metric.empty()) throw ReportError("report: sweep.accuracy_metric is empty");
}

// ------------------------------------------------------------------ JSON

namespace {
using oj = nlohmann::ordered_json;

oj num(double v) {
  if (!std::isfinite(v)) return nullptr;
  // Rounded to 9 significant digits, so last-bit differences between libm versions do not show.
  return std::strtod(json_number(v).c_str(), nullptr);
}
oj opt(const std::optional<double>& v) { return v ? num(*v) : oj(nullptr); }

oj energy_json(const Energy& e) {
  oj j;
  j["mac"] = num(e.mac);
  j["sram"] = num(e.sram);
  j["dram"] = num(e.dram);
  j["leakage"] = num(e.leakage);
  j["post_processing"] = num(e.post_processing);
  j["accumulator_adders"] = num(e.accumulator_adders);
  j["vector_unit"] = num(e.vector_unit);
  return j;
}
oj stalls_json(const Stalls& s) {
  oj j;
  j["dram_wait"] = s.dram_wait;
  j["buffer_conflict"] = s.buffer_conflict;
  j["fill_drain"] = s.fill_drain;
  j["total"] = s.total();
  return j;
}
oj traffic_json(const Traffic& t) {
  oj j;
  j["sram_read"] = t.sram_read;
  j["sram_written"] = t.sram_written;
  j["dram_read"] = t.dram_read;
  j["dram_written"] = t.dram_written;
  return j;
}

oj config_json(const ConfigSummary& c) {
  oj j;
  j["name"] = c.name;
  j["pe"] = c.pe;
  j["accumulator"] = c.accumulator;
  j["dataflow"] = c.dataflow;
  j["rows"] = c.rows;
  j["cols"] = c.cols;
  j["clock_mhz"] = num(c.clock_mhz);
  j["buffers"] = oj::array();
  for (const auto& b : c.buffers) {
    oj x;
    x["name"] = b.name;
    x["size_bytes"] = b.size_bytes;
    x["banks"] = b.banks;
    j["buffers"].push_back(x);
  }
  j["dram_bytes_per_cycle"] = num(c.dram_bytes_per_cycle);
  j["dram_latency_cycles"] = c.dram_latency_cycles;
  return j;
}

oj run_json(const FormatRun& r) {
  oj j;
  j["format"] = r.format;
  j["config"] = config_json(r.config);
  j["layers"] = oj::array();
  for (const auto& l : r.layers) {
    oj x;
    x["name"] = l.name;
    x["calls"] = l.calls;
    x["m"] = l.m;
    x["k"] = l.k;
    x["n"] = l.n;
    x["cycles"] = l.cycles;
    x["stall_cycles"] = stalls_json(l.stalls);
    x["pe_utilization"] = num(l.pe_utilization);
    x["macs"] = l.macs;
    x["traffic_bytes"] = traffic_json(l.traffic);
    x["energy_pj"] = num(l.energy_pj.total());
    x["energy_breakdown_pj"] = energy_json(l.energy_pj);
    x["mapping"] = l.mapping;
    j["layers"].push_back(x);
  }
  j["vector_ops"] = oj::array();
  for (const auto& v : r.vector_ops) {
    oj x;
    x["op"] = v.op;
    x["calls"] = v.calls;
    x["elements"] = v.elements;
    x["cycles"] = v.cycles;
    x["energy_pj"] = num(v.energy_pj);
    j["vector_ops"].push_back(x);
  }
  const Totals& t = r.totals;
  oj tj;
  tj["cycles"] = t.cycles;
  tj["latency_s"] = num(latency_s(r));
  tj["macs"] = t.macs;
  tj["pe_utilization"] = num(utilization(r));
  tj["stall_cycles"] = stalls_json(t.stalls);
  tj["traffic_bytes"] = traffic_json(t.traffic);
  tj["energy_pj"] = num(t.energy_pj.total());
  tj["energy_breakdown_pj"] = energy_json(t.energy_pj);
  tj["energy_per_mac_pj"] = num(energy_per_mac_pj(r));
  tj["tops_per_w"] = num(tops_per_w(r));
  tj["array_tops_per_w"] = num(array_tops_per_w(r));
  tj["tops_per_mm2"] = num(tops_per_mm2(r));
  tj["area_um2"] = num(t.area.total_um2());
  oj area;
  area["array_um2"] = num(t.area.array_um2);
  area["buffers_um2"] = num(t.area.buffers_um2);
  area["total_um2"] = num(t.area.total_um2());
  area["nand2_eq"] = num(t.area.nand2_eq);
  tj["area"] = area;
  j["totals"] = tj;
  oj acc;
  acc["metric"] = r.accuracy.metric;
  const bool shown = r.accuracy.withheld.empty();
  acc["value"] = shown ? num(r.accuracy.value) : oj(nullptr);
  acc["fp32_value"] = shown ? opt(r.accuracy.fp32_value) : oj(nullptr);
  auto interval = [&](const std::optional<Interval>& i) {
    if (!i || !shown) return oj(nullptr);
    oj x;
    x["low"] = num(i->low);
    x["high"] = num(i->high);
    return x;
  };
  acc["ci95"] = interval(r.accuracy.ci95);
  acc["fp32_ci95"] = interval(r.accuracy.fp32_ci95);
  acc["bootstrap_resamples"] = r.accuracy.bootstrap_resamples;
  acc["items"] = r.accuracy.items;
  acc["items_simulated"] = r.accuracy.items_simulated;
  acc["items_golden"] = r.accuracy.items_golden;
  if (!shown) acc["withheld"] = r.accuracy.withheld;
  acc["higher_is_better"] = r.accuracy.higher_is_better;
  acc["sqnr_db"] = opt(r.accuracy.sqnr_db);
  acc["cosine_similarity"] = opt(r.accuracy.cosine);
  j["accuracy"] = acc;
  oj ver;
  if (!r.verification.empty()) {
    const auto& v = r.verification.front();
    ver["reference"] = v.reference;
    ver["checked_outputs"] = v.checked_outputs;
    ver["total_outputs"] = v.total_outputs;
    ver["mismatches"] = v.mismatches;
  } else {
    ver["reference"] = "none";
    ver["checked_outputs"] = 0;
    ver["total_outputs"] = 0;
    ver["mismatches"] = 0;
  }
  ver["checks"] = oj::array();
  for (const auto& v : r.verification) {
    oj x;
    x["reference"] = v.reference;
    x["checked_outputs"] = v.checked_outputs;
    x["total_outputs"] = v.total_outputs;
    x["mismatches"] = v.mismatches;
    ver["checks"].push_back(x);
  }
  j["verification"] = ver;
  if (r.network.present) {
    const NetworkSchedule& n = r.network;
    oj x;
    x["activation_sram_bytes"] = n.activation_sram_bytes;
    x["batch"] = n.batch;
    x["resident_tensors"] = n.resident_tensors;
    x["resident_bytes"] = n.resident_bytes;
    x["spilled_tensors"] = n.spilled_tensors;
    x["spilled_bytes"] = n.spilled_bytes;
    x["spill_dram_read"] = n.spill_dram_read;
    x["spill_dram_written"] = n.spill_dram_written;
    x["io_dram_read"] = n.io_dram_read;
    x["io_dram_written"] = n.io_dram_written;
    x["dram_energy_pj"] = num(n.dram_energy_pj);
    x["dram_minimum_bytes"] = n.dram_minimum_bytes;
    const uint64_t dram = r.totals.traffic.dram_read + r.totals.traffic.dram_written;
    x["dram_over_minimum"] = num(n.dram_minimum_bytes ? double(dram) / double(n.dram_minimum_bytes) : 0.0);
    x["requantized_outputs"] = n.requantized_outputs;
    x["timeline"] = n.timeline;
    x["serial_cycles"] = n.serial_cycles;
    x["overlapped_cycles"] = n.overlapped_cycles;
    x["hidden_prefetch_cycles"] = n.hidden_prefetch_cycles;
    x["leakage_correction_pj"] = num(n.leakage_correction_pj);
    x["spills"] = oj::array();
    for (const auto& s : n.spills) {
      oj y;
      y["tensor"] = s.tensor;
      y["calls"] = s.calls;
      y["bytes"] = s.bytes;
      x["spills"].push_back(y);
    }
    j["network"] = x;
  }
  if (r.accumulator) {
    const AccumulatorCheck& a = *r.accumulator;
    oj x;
    x["bound"] = a.bound;
    x["wrap_free_k"] = a.wrap_free_k;
    x["largest_k"] = a.largest_k;
    x["wrap_allowed"] = a.wrap_allowed;
    x["array_wrap_events"] = a.array_wrap_events;
    x["golden_wrap_events"] = a.golden_wrap_events;
    x["wrapped_outputs"] = a.wrapped_outputs;
    j["accumulator"] = x;
  }
  return j;
}
}  // namespace

std::string to_json(const RunReport& r) {
  validate(r);
  oj j;
  j["schema"] = "fp8sim-run-report/1";
  j["tool"] = r.tool;
  j["tool_version"] = r.tool_version;
  j["command"] = r.command;
  j["workload"] = r.workload;
  j["weights"] = r.weights;
  j["inputs"] = r.inputs;
  j["samples"] = r.samples;
  j["seed"] = r.seed;
  j["synthetic"] = r.synthetic;
  j["synthetic_note"] = r.synthetic ? r.synthetic_note : std::string();
  j["engine"] = r.engine;
  if (!r.timestamp.empty()) j["timestamp"] = r.timestamp;
  const oj run = run_json(r.run);  // a named object: items() must not outlive it
  for (const auto& el : run.items()) j[el.key()] = el.value();
  j["comparison"] = oj::array();
  for (const auto& c : r.comparison) {
    oj x = run_json(c);
    // Ratios against the chosen format, so the side-by-side needs no arithmetic from the reader.
    oj rel;
    auto ratio = [](double a, double b) { return b != 0 ? num(a / b) : oj(nullptr); };
    rel["cycles_ratio"] = ratio(static_cast<double>(c.totals.cycles), static_cast<double>(r.run.totals.cycles));
    rel["energy_ratio"] = ratio(c.totals.energy_pj.total(), r.run.totals.energy_pj.total());
    rel["area_ratio"] = ratio(c.totals.area.total_um2(), r.run.totals.area.total_um2());
    rel["accuracy_difference"] = c.accuracy.metric == r.run.accuracy.metric && c.accuracy.withheld.empty() &&
                                         r.run.accuracy.withheld.empty()
                                     ? num(c.accuracy.value - r.run.accuracy.value)
                                     : oj(nullptr);
    x["relative_to_chosen"] = rel;
    j["comparison"].push_back(x);
  }
  j["differences"] = oj::array();
  for (const Difference& d : r.differences) {
    oj x;
    x["a"] = d.a;
    x["b"] = d.b;
    x["metric"] = d.metric;
    x["value"] = num(d.value);
    x["ci95"] = oj{{"low", num(d.ci95.low)}, {"high", num(d.ci95.high)}};
    x["items"] = d.items;
    x["bootstrap_resamples"] = d.bootstrap_resamples;
    j["differences"].push_back(x);
  }
  if (r.sweep) {
    oj s;
    s["accuracy_metric"] = r.sweep->accuracy_metric;
    s["higher_is_better"] = r.sweep->higher_is_better;
    const auto pe = pareto_energy(*r.sweep), pa = pareto_area(*r.sweep);
    s["points"] = oj::array();
    for (size_t i = 0; i < r.sweep->points.size(); ++i) {
      const auto& p = r.sweep->points[i];
      oj x;
      x["label"] = p.label;
      x["format"] = p.format;
      x["accumulator"] = p.accumulator;
      x["rows"] = p.rows;
      x["cols"] = p.cols;
      x["accuracy"] = num(p.accuracy);
      x["energy_pj"] = num(p.energy_pj);
      x["area_um2"] = num(p.area_um2);
      x["cycles"] = p.cycles;
      x["pareto_energy"] = static_cast<bool>(pe[i]);
      x["pareto_area"] = static_cast<bool>(pa[i]);
      s["points"].push_back(x);
    }
    j["sweep"] = s;
  }
  j["cost_model"] = oj::array();
  for (const auto& f : r.cost_model) {
    oj x;
    x["name"] = f.name;
    x["value"] = num(f.value);
    x["unit"] = f.unit;
    x["source"] = f.source;
    x["assumption"] = f.assumption;
    j["cost_model"].push_back(x);
  }
  j["notes"] = r.notes;
  return j.dump(2) + "\n";
}

// ------------------------------------------------------------------ text

namespace {
struct Table {
  std::vector<std::string> head;
  std::vector<bool> right;  // right-align numbers
  std::vector<std::vector<std::string>> rows;

  std::string render() const {
    std::vector<size_t> w(head.size(), 0);
    for (size_t c = 0; c < head.size(); ++c) w[c] = head[c].size();
    for (const auto& r : rows)
      for (size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], r[c].size());
    std::ostringstream os;
    auto line = [&](const std::vector<std::string>& r) {
      std::string s;
      for (size_t c = 0; c < head.size(); ++c) {
        const std::string cell = c < r.size() ? r[c] : "";
        const std::string pad(w[c] - cell.size(), ' ');
        s += (c ? "  " : "") + (right[c] ? pad + cell : cell + pad);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      os << s << "\n";
    };
    line(head);
    std::string rule;
    for (size_t c = 0; c < head.size(); ++c) rule += (c ? "  " : "") + std::string(w[c], '-');
    os << rule << "\n";
    for (const auto& r : rows) line(r);
    return os.str();
  }
};

// Word-wraps `text` at `width` columns, each line indented.
std::string wrap(const std::string& text, size_t width, const std::string& indent) {
  std::istringstream in(text);
  std::string word, line, out;
  while (in >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

std::string opt_text(const std::optional<double>& v, int digits = 6) { return v ? fmt_sig(*v, digits) : "-"; }
// A task metric with its 95 % interval ("81.3 [78.9, 83.6]"), or "withheld" when too few items.
std::string accuracy_text(const Accuracy& a, double v, const std::optional<Interval>& ci) {
  if (!a.withheld.empty()) return "withheld";
  std::string t = fmt_sig(v, 6);
  if (ci) t += " [" + fmt_sig(ci->low, 4) + ", " + fmt_sig(ci->high, 4) + "]";
  return t;
}

std::string config_line(const ConfigSummary& c) {
  std::ostringstream os;
  os << c.name << ": " << c.rows << "x" << c.cols << " " << c.dataflow << ", " << c.pe << " PEs, " << c.accumulator
     << " accumulator, " << fmt_sig(c.clock_mhz, 6) << " MHz";
  for (const auto& b : c.buffers) os << "; " << b.name << " " << fmt_count(b.size_bytes) << " B/" << b.banks << " banks";
  if (c.dram_bytes_per_cycle > 0)
    os << "; DRAM " << fmt_sig(c.dram_bytes_per_cycle, 6) << " B/cycle, " << c.dram_latency_cycles << " cycles latency";
  return os.str();
}
}  // namespace

std::string to_text(const RunReport& r) {
  validate(r);
  std::ostringstream os;
  os << "fp8sim run report: workload " << r.workload << "\n";
  if (r.synthetic) os << "*** SYNTHETIC DATA: " << r.synthetic_note << " ***\n";
  if (!r.command.empty()) os << "command: " << r.command << "\n";
  if (!r.weights.empty()) os << "weights: " << r.weights << "\n";
  if (!r.inputs.empty()) os << "inputs: " << r.inputs << "\n";
  os << "engine: " << r.engine << ", samples " << r.samples << ", seed " << r.seed << "\n";
  std::vector<const FormatRun*> runs{&r.run};
  for (const auto& c : r.comparison) runs.push_back(&c);
  for (const FormatRun* f : runs) os << "config (" << f->format << "): " << config_line(f->config) << "\n";

  for (const FormatRun* f : runs) {
    os << "\nPer layer, " << f->format << (f == &r.run ? " (chosen)" : "") << ":\n";
    Table t{{"layer", "calls", "M", "K", "N", "mapping", "cycles", "stall DRAM", "stall buffer", "stall fill/drain",
             "PE util", "MACs", "SRAM B", "DRAM B", "energy pJ"},
            {false, true, true, true, true, false, true, true, true, true, true, true, true, true, true},
            {}};
    for (const auto& l : f->layers)
      t.rows.push_back({l.name, fmt_count(l.calls), fmt_count(l.m), fmt_count(l.k), fmt_count(l.n),
                        l.mapping_kind.empty() ? "-" : l.mapping_kind, fmt_count(l.cycles),
                        fmt_count(l.stalls.dram_wait), fmt_count(l.stalls.buffer_conflict),
                        fmt_count(l.stalls.fill_drain), fmt_sig(l.pe_utilization * 100, 4) + "%", fmt_count(l.macs),
                        fmt_count(l.traffic.sram_read + l.traffic.sram_written),
                        fmt_count(l.traffic.dram_read + l.traffic.dram_written), fmt_sig(l.energy_pj.total(), 6)});
    os << t.render();
    if (!f->vector_ops.empty()) {
      os << "Vector unit (non-GEMM operations), " << f->format << ":\n";
      Table v{{"operation", "calls", "elements", "cycles", "energy pJ"}, {false, true, true, true, true}, {}};
      for (const auto& o : f->vector_ops)
        v.rows.push_back({o.op, fmt_count(o.calls), fmt_count(o.elements), fmt_count(o.cycles), fmt_sig(o.energy_pj, 6)});
      os << v.render();
    }
    if (f->network.present) {
      const NetworkSchedule& n = f->network;
      os << "Network on one accelerator, " << f->format << ": activation SRAM " << fmt_count(n.activation_sram_bytes)
         << " B; tensors kept on chip " << fmt_count(n.resident_tensors) << " (" << fmt_count(n.resident_bytes)
         << " B), spilled to DRAM " << fmt_count(n.spilled_tensors) << " (" << fmt_count(n.spilled_bytes) << " B)\n";
      os << "  outputs requantized to the consuming GEMM's 8-bit code: " << fmt_count(n.requantized_outputs)
         << " (1 byte each instead of 2)\n";
      if (n.timeline)
        os << "  timeline: " << fmt_count(n.serial_cycles) << " cycles one operation after another, "
           << fmt_count(n.overlapped_cycles) << " with operations overlapped (matrix engine beside vector unit, "
           << "weight loads under other operations: " << fmt_count(n.hidden_prefetch_cycles) << " cycles)\n"
           << "  leakage charged over the overlapped cycles: " << fmt_sig(n.leakage_correction_pj, 6)
           << " pJ against the rows' leakage over their own cycles\n";
      else
        os << "  timeline: not computed (the operations' program order is not known); " << fmt_count(n.serial_cycles) << " cycles one operation after another\n";
      const size_t shown = std::min<size_t>(n.spills.size(), 10);
      for (size_t i = 0; i < shown; ++i)
        os << "  spilled: " << n.spills[i].tensor << ", " << fmt_count(n.spills[i].calls) << " calls, "
           << fmt_count(n.spills[i].bytes) << " B\n";
      if (n.spills.size() > shown) os << "  ... and " << n.spills.size() - shown << " more spilled tensors (JSON)\n";
    }
  }

  if (r.samples <= 1)
    os << "\nTotals (one inference):\n";
  else
    os << "\nTotals (all " << r.samples << " inferences; per inference: divide cycles, MACs, bytes and energy by "
       << r.samples << "):\n";
  Table t{{"quantity"}, {false}, {}};
  for (const FormatRun* f : runs) {
    t.head.push_back(f->format + (f == &r.run ? " (chosen)" : ""));
    t.right.push_back(true);
  }
  auto row = [&](const std::string& name, auto get) {
    std::vector<std::string> x{name};
    for (const FormatRun* f : runs) x.push_back(get(*f));
    t.rows.push_back(x);
  };
  row("accuracy metric", [](const FormatRun& f) { return f.accuracy.metric; });
  row("accuracy", [](const FormatRun& f) { return accuracy_text(f.accuracy, f.accuracy.value, f.accuracy.ci95); });
  row("fp32 accuracy", [](const FormatRun& f) {
    return f.accuracy.fp32_value ? accuracy_text(f.accuracy, *f.accuracy.fp32_value, f.accuracy.fp32_ci95)
                                 : std::string("-");
  });
  row("items (simulated + golden)", [](const FormatRun& f) {
    return f.accuracy.items ? fmt_count(f.accuracy.items) + " (" + fmt_count(f.accuracy.items_simulated) + " + " +
                                  fmt_count(f.accuracy.items_golden) + ")"
                            : std::string("-");
  });
  row("SQNR vs FP32 (dB)", [](const FormatRun& f) { return opt_text(f.accuracy.sqnr_db); });
  row("cosine vs FP32", [](const FormatRun& f) { return opt_text(f.accuracy.cosine); });
  row("cycles", [](const FormatRun& f) { return fmt_count(f.totals.cycles); });
  row("latency (us)", [](const FormatRun& f) { return fmt_sig(latency_s(f) * 1e6, 6); });
  row("cycles overlapped (network timeline)", [](const FormatRun& f) {
    return f.network.present && f.network.timeline ? fmt_count(f.network.overlapped_cycles) : std::string("-");
  });
  row("MACs", [](const FormatRun& f) { return fmt_count(f.totals.macs); });
  row("PE utilization", [](const FormatRun& f) { return fmt_sig(utilization(f) * 100, 4) + "%"; });
  row("stall cycles", [](const FormatRun& f) { return fmt_count(f.totals.stalls.total()); });
  row("SRAM bytes", [](const FormatRun& f) { return fmt_count(f.totals.traffic.sram_read + f.totals.traffic.sram_written); });
  row("DRAM bytes", [](const FormatRun& f) { return fmt_count(f.totals.traffic.dram_read + f.totals.traffic.dram_written); });
  row("energy (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.total(), 6); });
  row("  MAC (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.mac, 6); });
  row("  SRAM (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.sram, 6); });
  row("  DRAM (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.dram, 6); });
  row("  leakage (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.leakage, 6); });
  row("  post-processing (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.post_processing, 6); });
  row("  accumulator adders (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.accumulator_adders, 6); });
  row("  vector unit (pJ)", [](const FormatRun& f) { return fmt_sig(f.totals.energy_pj.vector_unit, 6); });
  row("energy per MAC (pJ)", [](const FormatRun& f) { return fmt_sig(energy_per_mac_pj(f), 6); });
  row("TOPS/W", [](const FormatRun& f) { return fmt_sig(tops_per_w(f), 6); });
  row("TOPS/W, array alone", [](const FormatRun& f) { return fmt_sig(array_tops_per_w(f), 6); });
  row("DRAM minimum (bytes)", [](const FormatRun& f) {
    return f.network.present ? fmt_count(f.network.dram_minimum_bytes) : std::string("-");
  });
  row("tensors on chip / spilled", [](const FormatRun& f) {
    return f.network.present ? fmt_count(f.network.resident_tensors) + " / " + fmt_count(f.network.spilled_tensors)
                             : std::string("-");
  });
  row("TOPS/mm^2", [](const FormatRun& f) { return fmt_sig(tops_per_mm2(f), 6); });
  row("array area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.array_um2, 6); });
  row("buffer area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.buffers_um2, 6); });
  row("total area (um^2)", [](const FormatRun& f) { return fmt_sig(f.totals.area.total_um2(), 6); });
  row("NAND2 equivalents", [](const FormatRun& f) { return fmt_sig(f.totals.area.nand2_eq, 6); });
  os << t.render();

  if (!r.run.accuracy.withheld.empty())
    os << "\nAccuracy withheld: " << r.run.accuracy.withheld << "\n";
  if (!r.differences.empty()) {
    os << "\nDifferences of " << r.run.accuracy.metric
       << " between formats on the same items (paired bootstrap, 95 % interval; an interval holding 0: no "
          "difference shown):\n";
    for (const Difference& d : r.differences)
      os << "  " << d.a << " - " << d.b << ": " << fmt_sig(d.value, 4) << " [" << fmt_sig(d.ci95.low, 4) << ", "
         << fmt_sig(d.ci95.high, 4) << "] over " << fmt_count(d.items) << " items, " << fmt_count(d.bootstrap_resamples)
         << " resamples\n";
  }

  os << "\nVerification:\n";
  for (const FormatRun* f : runs) {
    if (f->verification.empty()) os << "  " << f->format << ": no outputs checked\n";
    for (const auto& v : f->verification)
      os << "  " << f->format << " against " << v.reference << ": " << fmt_count(v.checked_outputs) << " of "
         << fmt_count(v.total_outputs) << " outputs checked, " << fmt_count(v.mismatches) << " mismatches"
         << (v.mismatches ? "  <-- MISMATCH" : "")
         << (v.checked_outputs < v.total_outputs ? "  <-- " + fmt_count(v.total_outputs - v.checked_outputs) +
                                                       " NOT CHECKED"
                                                 : std::string())
         << "\n";
    if (f->accumulator && (f->accumulator->wrap_allowed || f->accumulator->array_wrap_events))
      os << "  " << f->format << " accumulator: largest K " << f->accumulator->largest_k << ", "
         << f->accumulator->bound << "; wrap events: array " << fmt_count(f->accumulator->array_wrap_events)
         << ", golden " << fmt_count(f->accumulator->golden_wrap_events) << "; outputs wrapped (wrong): "
         << fmt_count(f->accumulator->wrapped_outputs) << (f->accumulator->wrapped_outputs ? "  <-- WRAPPED" : "")
         << "\n";
  }

  if (r.sweep) {
    os << "\nSweep (" << r.sweep->accuracy_metric << "; * = Pareto-optimal against energy / area):\n";
    const auto pe = pareto_energy(*r.sweep), pa = pareto_area(*r.sweep);
    Table s{{"point", "format", "acc.", "array", r.sweep->accuracy_metric, "energy pJ", "area um^2", "cycles", "pareto E",
             "pareto A"},
            {false, false, false, false, true, true, true, true, false, false},
            {}};
    for (size_t i = 0; i < r.sweep->points.size(); ++i) {
      const auto& p = r.sweep->points[i];
      s.rows.push_back({p.label, p.format, p.accumulator, std::to_string(p.rows) + "x" + std::to_string(p.cols),
                        fmt_sig(p.accuracy, 6), fmt_sig(p.energy_pj, 6), fmt_sig(p.area_um2, 6), fmt_count(p.cycles),
                        pe[i] ? "*" : "", pa[i] ? "*" : ""});
    }
    os << s.render();
  }

  if (!r.notes.empty()) {
    os << "\nNotes:\n";
    for (const auto& n : r.notes) os << "  - " << n << "\n";
  }
  if (!r.cost_model.empty()) {
    os << "\nCost model (figures and sources; [assumption] = not a published figure):\n";
    for (const auto& f : r.cost_model) {
      os << "  " << f.name;
      if (!(f.unit.empty() && f.value == 0)) os << " = " << fmt_sig(f.value, 6) << (f.unit.empty() ? "" : " ") << f.unit;
      os << (f.assumption ? "  [assumption]" : "") << "\n" << wrap(f.source, 100, "      ");
    }
  }
  return os.str();
}

// ------------------------------------------------------------------ atomic write

void write_file_atomic(const std::string& path, const std::string& content) {
  if (path.empty()) throw ReportError("report: empty output path");
  std::string tmpl = path + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw ReportError(path + ": cannot create a temporary file beside it: " + std::strerror(errno));
  const std::string tmp(name.data());
  auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw ReportError(path + ": " + what + ": " + std::strerror(err));
  };
  // mkstemp creates 0600; a report is an ordinary file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) fail("cannot set permissions");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw ReportError(path + ": close failed: " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw ReportError(path + ": rename failed: " + std::strerror(err));
  }
}

}  // namespace fp8sim::report
