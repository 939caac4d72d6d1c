// simrun sweep SPEC --workload NAME [options]: a design-space sweep. SPEC names the values of each swept
// parameter, as a file or inline:
//   array = 16x16, 32x32          format = e4m3, int8         accumulator = exact, fp32
//   dataflow = ws, os             input_buffer_kb = 64, 256   weight_buffer_kb = ...   output_buffer_kb = ...
//   dram_bytes_per_cycle = 16, 64
// (a file: one "key = values" per line, '#' comments; inline: "array=16x16,32x32;format=e4m3,int8").
// Every combination is one design point (INT8 ignores the accumulator, so it is run once per other
// combination); each point runs the whole pipeline (quantize, simulate, verify, cost). One result line per
// point (CSV on stdout and --csv), the points as JSON (--json), and the Pareto fronts in --report-html.
#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "fp8sim/model/parse_number.h"
#include "sweep_spec.h"
#include "workload_options.h"

namespace fp8sim::simrun {

namespace po = boost::program_options;

namespace {

int64_t positive(const std::string& key, const std::string& v, int64_t max) {
  try {
    return parse_number<int64_t>(v, "sweep: " + key + " value", 1, max);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

struct Point {
  std::string format, accumulator;  // accumulator: "exact" | "fp32" | "" (config's) ; int8: "int32"
  ConfigOverrides o;
  std::string label;
  sim::AcceleratorConfig cfg;
  std::vector<std::string> notes;
};

std::vector<Point> expand(const std::map<std::string, std::vector<std::string>>& spec, const RunRequest& q,
                          const sim::AcceleratorConfig& base) {
  auto vals = [&](const std::string& k) {
    auto it = spec.find(k);
    return it == spec.end() ? std::vector<std::string>{""} : it->second;
  };
  std::vector<Point> pts;
  for (const std::string& arr : vals("array"))
    for (const std::string& df : vals("dataflow"))
      for (const std::string& ib : vals("input_buffer_kb"))
        for (const std::string& wb : vals("weight_buffer_kb"))
          for (const std::string& ob : vals("output_buffer_kb"))
            for (const std::string& bw : vals("dram_bytes_per_cycle"))
              for (const std::string& fmt : vals("format"))
                for (const std::string& acc : vals("accumulator")) {
                  Point p;
                  p.format = fmt.empty() ? q.format : fmt;
                  if (!simulated_format(p.format))
                    throw UsageError("sweep: format '" + p.format + "' is not one of e4m3, e5m2, int8");
                  p.o = q.overrides;
                  if (!acc.empty()) {
                    if (acc != "exact" && acc != "fp32")
                      throw UsageError("sweep: accumulator '" + acc + "' is not exact or fp32");
                    p.o.accumulator = acc;
                  }
                  if (p.format == "int8") {
                    if (!acc.empty() && acc != vals("accumulator").front()) continue;  // INT8 has one accumulator
                    p.o.accumulator.clear();
                  }
                  if (!arr.empty()) {
                    const size_t x = arr.find_first_of("xX");
                    if (x == std::string::npos) throw UsageError("sweep: array '" + arr + "' is not RxC (e.g. 32x32)");
                    p.o.rows = static_cast<int>(positive("array rows", arr.substr(0, x), 4096));
                    p.o.cols = static_cast<int>(positive("array columns", arr.substr(x + 1), 4096));
                  }
                  if (!df.empty()) {
                    if (df != "ws" && df != "os") throw UsageError("sweep: dataflow '" + df + "' is not ws or os");
                    p.o.dataflow = df == "ws" ? firmware::Dataflow::WeightStationary : firmware::Dataflow::OutputStationary;
                  }
                  if (!ib.empty()) p.o.input_buffer_bytes = positive("input_buffer_kb", ib, 1 << 24) * 1024;
                  if (!wb.empty()) p.o.weight_buffer_bytes = positive("weight_buffer_kb", wb, 1 << 24) * 1024;
                  if (!ob.empty()) p.o.output_buffer_bytes = positive("output_buffer_kb", ob, 1 << 24) * 1024;
                  if (!bw.empty()) p.o.dram_bytes_per_cycle = static_cast<int>(positive("dram_bytes_per_cycle", bw, 1 << 20));
                  try {
                    p.cfg = derive_config(base, p.o, p.format, &p.notes);
                  } catch (const std::invalid_argument& e) {
                    throw UsageError(std::string("sweep: ") + e.what());
                  }
                  // The label names what the sweep varies (format and array always), so plots stay legible.
                  const report::ConfigSummary s = summarize(p.cfg);
                  p.label = p.format + "/" + s.accumulator + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
                  if (spec.count("dataflow")) p.label += " " + s.dataflow;
                  if (spec.count("input_buffer_kb")) p.label += " in" + std::to_string(p.cfg.input_buffer.size_bytes / 1024) + "K";
                  if (spec.count("weight_buffer_kb")) p.label += " w" + std::to_string(p.cfg.weight_buffer.size_bytes / 1024) + "K";
                  if (spec.count("output_buffer_kb")) p.label += " out" + std::to_string(p.cfg.output_buffer.size_bytes / 1024) + "K";
                  if (spec.count("dram_bytes_per_cycle")) p.label += " " + std::to_string(p.cfg.dram.bytes_per_cycle) + "B/c";
                  pts.push_back(std::move(p));
                }
  return pts;
}

// One design point's result as named fields, in column order: the one definition behind the CSV line and the
// JSON object (null: no value, e.g. the FP32 accuracy of an output-error workload).
using Fields = std::vector<std::pair<std::string, nlohmann::ordered_json>>;

Fields point_fields(const Point& p, const report::FormatRun& r) {
  const report::ConfigSummary& c = r.config;
  const auto& t = r.totals;
  auto o = [](const std::optional<double>& v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(); };
  uint64_t checked = 0, mism = 0;
  for (const auto& v : r.verification) checked += v.checked_outputs, mism += v.mismatches;
  const double util = t.cycles ? double(t.macs) / (double(c.rows) * c.cols * double(t.cycles)) : 0.0;
  return {{"label", p.label},
          {"format", r.format},
          {"accumulator", c.accumulator},
          {"dataflow", c.dataflow},
          {"rows", c.rows},
          {"cols", c.cols},
          {"input_buffer_bytes", c.buffers[0].size_bytes},
          {"weight_buffer_bytes", c.buffers[1].size_bytes},
          {"output_buffer_bytes", c.buffers[2].size_bytes},
          {"dram_bytes_per_cycle", c.dram_bytes_per_cycle},
          {"metric", r.accuracy.metric},
          {"accuracy", r.accuracy.value},
          {"fp32_accuracy", o(r.accuracy.fp32_value)},
          {"sqnr_db", o(r.accuracy.sqnr_db)},
          {"cosine", o(r.accuracy.cosine)},
          {"cycles", t.cycles},
          {"macs", t.macs},
          {"pe_utilization", util},
          {"energy_pj", t.energy_pj.total()},
          {"mac_pj", t.energy_pj.mac},
          {"sram_pj", t.energy_pj.sram},
          {"dram_pj", t.energy_pj.dram},
          {"leakage_pj", t.energy_pj.leakage},
          {"energy_per_mac_pj", report::energy_per_mac_pj(r)},
          {"tops_per_w", report::tops_per_w(r)},
          {"tops_per_mm2", report::tops_per_mm2(r)},
          {"area_um2", t.area.total_um2()},
          {"nand2_eq", t.area.nand2_eq},
          {"checked_outputs", checked},
          {"mismatches", mism}};
}

std::string csv_header(const Fields& f) {
  std::string s;
  for (const auto& [name, v] : f) s += (s.empty() ? "" : ",") + name;
  return s;
}

// Numbers as in the JSON reports (9 significant digits); strings quoted when they hold a comma or quote.
std::string csv_line(const Fields& f) {
  std::string s;
  for (size_t i = 0; i < f.size(); ++i) {
    const nlohmann::ordered_json& v = f[i].second;
    std::string cell;
    if (v.is_string()) {
      cell = v.get<std::string>();
      if (cell.find_first_of(",\"") != std::string::npos) {
        std::string q = "\"";
        for (char ch : cell) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        cell = q + "\"";
      }
    } else if (v.is_number_float()) {
      cell = report::json_number(v.get<double>());
    } else if (!v.is_null()) {
      cell = v.dump();
    }
    s += (i ? "," : "") + cell;
  }
  return s;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  po::options_description d("options (as for simrun --workload, plus)");
  add_run_options(d);
  // clang-format off
  d.add_options()
    ("spec", po::value<std::string>(), "the sweep: a file or inline key=values (see above)")
    ("csv", po::value<std::string>(), "write the result lines (CSV, one per design point) here")
    ("json", po::value<std::string>(), "write the design points (JSON, deterministic) here")
    ("help,h", "this text");
  // clang-format on
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: simrun sweep SPEC --workload NAME [options]\n"
                 "A design-space sweep: every combination of the SPEC's values is one design point, run through the\n"
                 "whole pipeline (quantize, simulate, verify against the golden model, cost). SPEC is a file (one\n"
                 "'key = v1, v2' per line, # comments) or inline 'key=v1,v2;key=v1'. Keys: array (RxC), format\n"
                 "(e4m3, e5m2, int8), accumulator (exact, fp32; INT8 always int32 and is run once), dataflow (ws, os),\n"
                 "input_buffer_kb, weight_buffer_kb, output_buffer_kb, dram_bytes_per_cycle. Unswept parameters come\n"
                 "from --config and the options. Prints one CSV line per design point as it finishes (stdout).\n"
                 "--report-html adds the Pareto fronts of accuracy against energy and against area.\n"
                 "Example: simrun sweep \"array=16x16,32x32;format=e4m3,int8\" --workload resnet20-cifar10\n\n"
              << d;
    return 0;
  }
  if (!vm.count("spec")) throw UsageError("sweep: missing SPEC (e.g. \"array=16x16,32x32;format=e4m3,int8\")");
  RunRequest q = parse_run_request(vm, "sweep");
  if (!vm["compare"].defaulted())
    throw UsageError("sweep: --compare does not apply; put the formats into SPEC (format=e4m3,int8)");
  q.compare.clear();
  const auto spec = parse_sweep_spec(vm["spec"].as<std::string>());
  const PreparedRun p = prepare_run(q);
  std::vector<Point> pts = expand(spec, q, p.base);
  if (q.engine == sim::Engine::Rtl)
    for (const Point& pt : pts)
      if (!sim::rtl_array_available(pt.cfg.array))
        throw UsageError("sweep: --engine rtl: no Verilated RTL array for design point " + pt.label);

  const PipelineSetup setup = make_setup(q, p);

  if (!q.quiet)
    std::cerr << "simrun sweep: " << pts.size() << " design points on " << p.workload->name() << ", "
              << p.items.size() << " sample(s) each\n";
  // The header comes from the field list itself (a point's values do not change the names).
  report::FormatRun blank;
  blank.config.buffers.resize(3);
  const std::string header = csv_header(point_fields(pts.front(), blank));
  std::cout << header << "\n" << std::flush;
  std::vector<FormatOutcome> outs(pts.size());
  std::vector<bool> done(pts.size(), false);
  size_t printed = 0;
  std::mutex mu;
  parallel_for(pts.size(), q.jobs, [&](size_t i) {
    outs[i] = run_format(setup, pts[i].format, pts[i].cfg, nullptr, 0);
    std::lock_guard<std::mutex> lock(mu);
    done[i] = true;
    if (!q.quiet) std::cerr << "simrun sweep: point " << i + 1 << "/" << pts.size() << " done: " << pts[i].label << "\n";
    for (; printed < pts.size() && done[printed]; ++printed)  // lines in design-point order
      std::cout << csv_line(point_fields(pts[printed], outs[printed].run)) << "\n" << std::flush;
  });

  std::string csv = header + "\n";
  for (size_t i = 0; i < pts.size(); ++i) csv += csv_line(point_fields(pts[i], outs[i].run)) + "\n";
  if (vm.count("csv")) report::write_file_atomic(vm["csv"].as<std::string>(), csv);

  report::SweepTable table;
  table.accuracy_metric = outs.front().run.accuracy.metric;
  table.higher_is_better = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    const report::FormatRun& r = outs[i].run;
    report::DesignPoint dp;
    dp.label = pts[i].label;
    dp.format = r.format;
    dp.accumulator = r.config.accumulator;
    dp.rows = r.config.rows;
    dp.cols = r.config.cols;
    dp.accuracy = r.accuracy.value;
    dp.energy_pj = r.totals.energy_pj.total();
    dp.area_um2 = r.totals.area.total_um2();
    dp.cycles = r.totals.cycles;
    table.points.push_back(dp);
  }
  if (vm.count("json")) {
    nlohmann::ordered_json j;
    j["schema"] = "fp8sim-sweep/1";
    j["workload"] = p.workload->name();
    j["synthetic"] = p.workload->synthetic();
    j["samples"] = p.items.size();
    j["seed"] = q.seed;
    j["accuracy_metric"] = table.accuracy_metric;
    const auto pe = report::pareto_energy(table), pa = report::pareto_area(table);
    j["points"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < pts.size(); ++i) {
      nlohmann::ordered_json x;
      for (auto& [name, v] : point_fields(pts[i], outs[i].run)) x[name] = std::move(v);
      x["pareto_energy"] = static_cast<bool>(pe[i]);
      x["pareto_area"] = static_cast<bool>(pa[i]);
      j["points"].push_back(x);
    }
    report::write_file_atomic(vm["json"].as<std::string>(), j.dump(2) + "\n");
  }
  if (!q.html_path.empty() || !q.json_path.empty()) {
    std::string command = "simrun sweep";
    for (const std::string& a : args) command += " " + a;
    report::RunReport r = build_report(q, p, command, {outs.front()});
    r.sweep = table;
    r.notes.insert(r.notes.begin(), "the per-layer tables and totals are those of the first design point (" +
                                        pts.front().label + "); the sweep table lists every point");
    if (!q.html_path.empty()) report::write_file_atomic(q.html_path, report::to_html(r));
    if (!q.json_path.empty()) report::write_file_atomic(q.json_path, report::to_json(r));
  }
  std::vector<report::FormatRun> runs;
  for (const auto& o : outs) runs.push_back(o.run);
  const std::string bad = verification_failure(runs);
  if (!bad.empty()) throw std::runtime_error("sweep: verification failed: " + bad);
  return 0;
}

}  // namespace fp8sim::simrun
