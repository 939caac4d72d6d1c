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
#include <atomic>
#include <functional>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "fp8sim/model/parse_number.h"
#include "sweep_spec.h"
#include "sweep_store.h"
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
  std::string params;  // the swept values of this point, "key=value;..." (names its result, with the run's identity)
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
                  const std::pair<const char*, const std::string*> swept[] = {
                      {"array", &arr}, {"dataflow", &df}, {"input_buffer_kb", &ib}, {"weight_buffer_kb", &wb},
                      {"output_buffer_kb", &ob}, {"dram_bytes_per_cycle", &bw}, {"format", &fmt}, {"accumulator", &acc}};
                  for (const auto& [k, v] : swept)
                    if (!v->empty()) p.params += (p.params.empty() ? "" : ";") + std::string(k) + "=" + *v;
                  p.format = fmt.empty() ? q.format : fmt;
                  if (!simulated_format(p.format))
                    throw UsageError("sweep: format '" + p.format + "' is not one of " + simulated_format_names());
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


// ---- one sweep: its definition, identity and design points (shared by a whole sweep, a shard and merge) ----

// Options that change no result: where the outputs go, the shard, threads, progress.
const std::set<std::string> kNotDefining = {"spec", "csv", "json", "report-json", "report-html", "shard",
                                            "out", "jobs", "quiet", "help"};

po::options_description sweep_options() {
  po::options_description d("options (as for simrun --workload, plus)");
  add_run_options(d);
  // clang-format off
  d.add_options()
    ("spec", po::value<std::string>(), "the sweep: a file or inline key=values (see above)")
    ("csv", po::value<std::string>(), "write the result lines (CSV, one per design point) here")
    ("json", po::value<std::string>(), "write the design points (JSON, deterministic) here")
    ("shard", po::value<std::string>(), "I/N: run only shard I of N (0 <= I < N; design points I, I+N, I+2N, ... in SPEC order) into --out; outputs come from simrun sweep merge")
    ("out", po::value<std::string>(), "result folder: each design point's result in its own folder, named by a hash of configuration, workload, options, seed and tool version; points whose result is there already are not run again")
    ("help,h", "this text");
  // clang-format on
  return d;
}

struct Sweep {
  std::vector<std::string> args;  // the defining arguments (SPEC and options, no output paths), as given
  po::variables_map vm;           // of args
  RunRequest q;
  PreparedRun p;
  std::vector<Point> pts;
  std::string identity;             // canonical text of everything but the point's own values
  std::vector<std::string> keys;    // per point: identity + its values
  std::vector<std::string> folders; // per point: "p-" + hash of its key
  std::string sweep_hash;           // of the identity and every point's values, in order
  std::string command() const {
    std::string c = "simrun sweep";
    for (const std::string& a : args) c += " " + a;
    return c;
  }
};

std::string value_text(const po::variable_value& v) {
  if (v.value().type() == typeid(bool)) return v.as<bool>() ? "true" : "false";
  if (v.value().type() == typeid(std::string)) return v.as<std::string>();
  return "?";
}

// The sweep of `vm` (already parsed from args): loads the workload and the configuration, expands SPEC.
void load_sweep(Sweep& s) {
  if (!s.vm.count("spec")) throw UsageError("sweep: missing SPEC (e.g. \"array=16x16,32x32;format=e4m3,int8\")");
  s.q = parse_run_request(s.vm, "sweep");
  if (!s.vm["compare"].defaulted())
    throw UsageError("sweep: --compare does not apply; put the formats into SPEC (format=e4m3,int8)");
  s.q.compare.clear();
  const auto spec = parse_sweep_spec(s.vm["spec"].as<std::string>());
  s.p = prepare_run(s.q);
  s.pts = expand(spec, s.q, s.p.base);
  if (s.q.engine == sim::Engine::Rtl)
    for (const Point& pt : s.pts)
      if (!sim::rtl_array_available(pt.cfg.array))
        throw UsageError("sweep: --engine rtl: no Verilated RTL array for design point " + pt.label);
  // Identity: the tool version, every option that can change a result (defaults included), and the bytes of
  // the files they name: configuration, cost tables, workload/weights/data files given on the command line.
  std::string id = std::string("tool ") + tool_version() + "\n";
  for (const auto& [name, v] : s.vm)
    if (!kNotDefining.count(name)) id += "option " + name + "=" + value_text(v) + "\n";
  for (const char* f : {"workload", "weights", "data", "vocab"})
    if (s.vm.count(f) && std::filesystem::is_regular_file(s.vm[f].as<std::string>()))
      id += std::string("file ") + f + " " + file_digest(s.vm[f].as<std::string>()) + "\n";
  id += "config " + file_digest(s.q.config_path) + "\n";
  id += "energy-table " + file_digest(cost::default_energy_table_path()) + "\n";
  id += "area-table " + file_digest(cost::default_area_table_path()) + "\n";
  s.identity = id;
  std::string all = id;
  for (const Point& pt : s.pts) {
    s.keys.push_back(id + "point " + pt.params + "\n");
    s.folders.push_back("p-" + fnv1a64_hex(s.keys.back()));
    all += "point " + pt.params + "\n";
  }
  s.sweep_hash = fnv1a64_hex(all);
}

// Parses args (a sweep's command line after "sweep") into s.vm and s.args (the defining arguments).
void parse_sweep_args(const std::vector<std::string>& args, Sweep& s) {
  po::positional_options_description pos;
  pos.add("spec", 1);
  const po::options_description d = sweep_options();  // parsed_options points into it
  const po::parsed_options parsed = po::command_line_parser(args).options(d).positional(pos).run();
  po::store(parsed, s.vm);
  po::notify(s.vm);
  for (const po::option& o : parsed.options)
    if (o.string_key == "spec" || !kNotDefining.count(o.string_key))
      s.args.insert(s.args.end(), o.original_tokens.begin(), o.original_tokens.end());
}

// ---- point results on disk: OUT/points/<folder>/result.json, OUT/shards/shard-I-of-N.json ----

constexpr const char* kPointSchema = "fp8sim-sweep-point/1";
constexpr const char* kShardSchema = "fp8sim-sweep-shard/1";

std::string read_text(const std::filesystem::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path result_path(const std::string& out, const std::string& folder) {
  return std::filesystem::path(out) / "points" / folder / "result.json";
}

// The stored result of point i in `out`, if complete and of this key. A file that does not parse is no result
// (said on stderr); one of another key (a hash collision) is an error.
std::optional<FormatOutcome> load_point(const Sweep& s, size_t i, const std::string& out, bool quiet) {
  const std::filesystem::path f = result_path(out, s.folders[i]);
  if (!std::filesystem::is_regular_file(f)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text(f));
    if (j.at("schema") != kPointSchema) throw std::runtime_error("schema is not " + std::string(kPointSchema));
  } catch (const std::exception& e) {
    if (!quiet) std::cerr << "simrun sweep: " << f.string() << " is no complete result (" << e.what() << "); running the point again\n";
    return std::nullopt;
  }
  if (j.value("key", "") != s.keys[i])
    throw std::runtime_error("sweep: " + f.string() + " holds the result of another design point (hash collision)");
  try {
    return outcome_from_json(j.at("outcome"));
  } catch (const std::exception& e) {
    throw std::runtime_error("sweep: " + f.string() + ": " + e.what());
  }
}

void store_point(const Sweep& s, size_t i, const std::string& out, const FormatOutcome& o) {
  nlohmann::json j;
  j["schema"] = kPointSchema;
  j["tool_version"] = tool_version();
  j["label"] = s.pts[i].label;
  j["key"] = s.keys[i];
  j["seconds"] = o.seconds;  // wall time, for people; no output reads it
  j["outcome"] = outcome_to_json(o);
  // What merge will read back must be what the sweep itself would print.
  if (outcome_to_json(outcome_from_json(j["outcome"])) != j["outcome"])
    throw std::logic_error("sweep: design point " + s.pts[i].label + ": its result does not read back exactly");
  const std::filesystem::path f = result_path(out, s.folders[i]);
  std::filesystem::create_directories(f.parent_path());
  report::write_file_atomic(f.string(), j.dump(1) + "\n");
}

std::string shard_name(size_t i, size_t n) { return std::to_string(i) + "/" + std::to_string(n); }
std::filesystem::path shard_manifest(const std::string& out, size_t i, size_t n) {
  return std::filesystem::path(out) / "shards" / ("shard-" + std::to_string(i) + "-of-" + std::to_string(n) + ".json");
}

void store_manifest(const Sweep& s, const std::string& out, size_t shard, size_t shards) {
  nlohmann::ordered_json j;
  j["schema"] = kShardSchema;
  j["tool_version"] = tool_version();
  j["sweep"] = s.sweep_hash;
  j["shard"] = shard;
  j["shards"] = shards;
  j["args"] = s.args;
  j["points"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < s.pts.size(); ++i)
    j["points"].push_back({{"label", s.pts[i].label}, {"folder", s.folders[i]}, {"shard", i % shards}});
  const std::filesystem::path f = shard_manifest(out, shard, shards);
  std::filesystem::create_directories(f.parent_path());
  report::write_file_atomic(f.string(), j.dump(1) + "\n");
}

// Runs the points `which` (threads: --jobs), or loads their stored results from `out` ("" : nothing stored).
// on_done(i) is called under a lock as each finishes. Returns how many were run (not loaded).
size_t run_points(const Sweep& s, const std::vector<size_t>& which, const std::string& out,
                  std::vector<FormatOutcome>& outs, const std::function<void(size_t, bool)>& on_done) {
  const PipelineSetup setup = make_setup(s.q, s.p);
  std::mutex mu;
  std::atomic<size_t> ran{0};
  parallel_for(which.size(), s.q.jobs, [&](size_t k) {
    const size_t i = which[k];
    std::optional<FormatOutcome> o;
    if (!out.empty()) o = load_point(s, i, out, s.q.quiet);
    const bool reused = o.has_value();
    if (!o) {
      o = run_format(setup, s.pts[i].format, s.pts[i].cfg, nullptr, 0);
      if (!out.empty()) store_point(s, i, out, *o);
      ++ran;
    }
    std::lock_guard<std::mutex> lock(mu);
    outs[i] = std::move(*o);
    on_done(i, reused);
  });
  return ran;
}

// ---- the outputs: identical whether the points ran here or came from shards ----

std::string csv_header_line(const std::vector<Point>& pts) {
  report::FormatRun blank;  // the header comes from the field list itself (values do not change the names)
  blank.config.buffers.resize(3);
  return csv_header(point_fields(pts.front(), blank));
}

struct Outputs {
  std::string csv, json, report_html, report_json;
};

void write_outputs(const Sweep& s, const std::vector<FormatOutcome>& outs, const Outputs& o) {
  const std::vector<Point>& pts = s.pts;
  std::string csv = csv_header_line(pts) + "\n";
  for (size_t i = 0; i < pts.size(); ++i) csv += csv_line(point_fields(pts[i], outs[i].run)) + "\n";
  if (!o.csv.empty()) report::write_file_atomic(o.csv, csv);

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
  if (!o.json.empty()) {
    nlohmann::ordered_json j;
    j["schema"] = "fp8sim-sweep/1";
    j["workload"] = s.p.workload->name();
    j["synthetic"] = s.p.workload->synthetic();
    j["samples"] = s.p.items.size();
    j["seed"] = s.q.seed;
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
    report::write_file_atomic(o.json, j.dump(2) + "\n");
  }
  if (!o.report_html.empty() || !o.report_json.empty()) {
    report::RunReport r = build_report(s.q, s.p, s.command(), {outs.front()});
    r.sweep = table;
    r.notes.insert(r.notes.begin(), "the per-layer tables and totals are those of the first design point (" +
                                        pts.front().label + "); the sweep table lists every point");
    if (!o.report_html.empty()) report::write_file_atomic(o.report_html, report::to_html(r));
    if (!o.report_json.empty()) report::write_file_atomic(o.report_json, report::to_json(r));
  }
}

void check_verified(const std::vector<FormatOutcome>& outs) {
  std::vector<report::FormatRun> runs;
  for (const auto& o : outs) runs.push_back(o.run);
  const std::string bad = verification_failure(runs);
  if (!bad.empty()) throw std::runtime_error("sweep: verification failed: " + bad);
}

Outputs outputs_of(const po::variables_map& vm) {
  Outputs o;
  if (vm.count("csv")) o.csv = vm["csv"].as<std::string>();
  if (vm.count("json")) o.json = vm["json"].as<std::string>();
  if (vm.count("report-html")) o.report_html = vm["report-html"].as<std::string>();
  if (vm.count("report-json")) o.report_json = vm["report-json"].as<std::string>();
  return o;
}

// ---- simrun sweep merge DIR... ----

const char* kMergeUsage =
    "usage: simrun sweep merge DIR... [--out D] [--csv F] [--json F] [--report-html F] [--report-json F] [--quiet]\n"
    "Merges the shards of a sweep (simrun sweep SPEC ... --shard I/N --out DIR, for I = 0 .. N-1; DIR may be one\n"
    "shared folder or one per shard) into the CSV (also on stdout), JSON and HTML/JSON reports a single-process\n"
    "`simrun sweep SPEC ...` with the same SPEC and options writes, byte for byte (points in SPEC order). Refuses,\n"
    "naming them, shards or design points without a result, shards of different sweeps and shards or results of\n"
    "another tool version. Loads the workload (as the sweep does) but runs no design point.\n\n";

struct Manifest {
  std::filesystem::path file;
  std::string dir;
  nlohmann::json j;
  size_t shard = 0, shards = 0;
};

int run_merge(const std::vector<std::string>& args) {
  po::options_description d("options");
  // clang-format off
  d.add_options()
    ("dirs", po::value<std::vector<std::string>>(), "the --out folders of the shards")
    ("csv", po::value<std::string>(), "write the result lines (CSV, one per design point) here")
    ("json", po::value<std::string>(), "write the design points (JSON, deterministic) here")
    ("report-html", po::value<std::string>(), "write the HTML report (Pareto fronts) here")
    ("report-json", po::value<std::string>(), "write the JSON report here")
    ("out", po::value<std::string>(), "write sweep.csv, sweep.json, sweep.html and report.json into this folder (as the launchers do); the options above override single names")
    ("quiet", po::bool_switch(), "nothing on stderr but errors")
    ("help,h", "this text");
  // clang-format on
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kMergeUsage << d;
    return 0;
  }
  if (!vm.count("dirs")) throw UsageError("sweep merge: no DIR given (the --out folders of the shards)");
  const std::vector<std::string> dirs = vm["dirs"].as<std::vector<std::string>>();
  const bool quiet = vm["quiet"].as<bool>();

  // The shard manifests, checked against each other and this tool.
  std::vector<Manifest> ms;
  for (const std::string& dir : dirs) {
    if (!std::filesystem::is_directory(dir)) throw UsageError("sweep merge: " + dir + " is not a folder");
    const std::filesystem::path sd = std::filesystem::path(dir) / "shards";
    size_t found = 0;
    if (std::filesystem::is_directory(sd))
      for (const auto& e : std::filesystem::directory_iterator(sd)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("shard-", 0) != 0 || e.path().extension() != ".json") continue;  // temporaries, others
        Manifest m;
        m.file = e.path();
        m.dir = dir;
        try {
          m.j = nlohmann::json::parse(read_text(e.path()));
          if (m.j.at("schema") != kShardSchema) throw std::runtime_error("schema is not " + std::string(kShardSchema));
          m.shard = m.j.at("shard").get<size_t>();
          m.shards = m.j.at("shards").get<size_t>();
          m.j.at("sweep").get<std::string>();
          m.j.at("args").get<std::vector<std::string>>();
          m.j.at("points").size();
        } catch (const std::exception& ex) {
          throw std::runtime_error("sweep merge: " + e.path().string() + " is not a shard manifest: " + ex.what());
        }
        ms.push_back(std::move(m));
        ++found;
      }
    if (!found)
      throw UsageError("sweep merge: " + dir + " holds no shard (no shards/shard-I-of-N.json: not the --out of "
                       "simrun sweep --shard I/N, or no shard has started)");
  }
  std::sort(ms.begin(), ms.end(), [](const Manifest& a, const Manifest& b) {
    return std::tie(a.shard, a.file) < std::tie(b.shard, b.file);
  });
  const Manifest& m0 = ms.front();
  const std::string v0 = m0.j.at("tool_version").get<std::string>();
  for (const Manifest& m : ms) {
    const std::string v = m.j.at("tool_version").get<std::string>();
    if (v != v0)
      throw std::runtime_error("sweep merge: tool versions differ: shard " + shard_name(m0.shard, m0.shards) + " (" +
                               m0.file.string() + ") ran fp8sim " + v0 + ", shard " + shard_name(m.shard, m.shards) +
                               " (" + m.file.string() + ") ran " + v + "; run every shard with one build");
    if (m.shards != m0.shards || m.j.at("sweep") != m0.j.at("sweep"))
      throw std::runtime_error("sweep merge: shards of different sweeps: shard " + shard_name(m.shard, m.shards) + " (" +
                               m.file.string() + ") and shard " + shard_name(m0.shard, m0.shards) + " (" +
                               m0.file.string() + ") differ in " +
                               (m.shards != m0.shards ? std::string("the shard count N (to re-shard into the same folder, remove the "
                                                                   "old shards/*.json; the point results are reused)")
                                                      : "SPEC, options or input files"));
  }
  if (v0 != tool_version())
    throw std::runtime_error("sweep merge: the shards ran fp8sim " + v0 + "; this simrun is " + tool_version() +
                             " (merge with the build that ran the shards)");
  const size_t n = m0.shards;
  std::vector<bool> have(n, false);
  for (const Manifest& m : ms) have[m.shard] = true;

  // Missing shards and points, named, before anything is loaded.
  const nlohmann::json& plist = m0.j.at("points");
  std::vector<std::string> missing_shards, missing_points;
  for (size_t i = 0; i < n; ++i)
    if (!have[i]) missing_shards.push_back(shard_name(i, n));
  auto find_dir = [&](const std::string& folder) -> std::string {  // the first DIR holding the point's result
    for (const std::string& dir : dirs)
      if (std::filesystem::is_regular_file(result_path(dir, folder))) return dir;
    return "";
  };
  std::vector<std::string> where(plist.size());
  for (size_t i = 0; i < plist.size(); ++i) {
    where[i] = find_dir(plist[i].at("folder").get<std::string>());
    if (where[i].empty())
      missing_points.push_back("#" + std::to_string(i) + " '" + plist[i].at("label").get<std::string>() + "' (shard " +
                               shard_name(i % n, n) + ")");
  }
  if (!missing_shards.empty() || !missing_points.empty()) {
    std::string msg = "sweep merge: incomplete sweep:";
    if (!missing_shards.empty()) {
      msg += " no manifest of shard(s)";
      for (size_t i = 0; i < missing_shards.size(); ++i) msg += (i ? ", " : " ") + missing_shards[i];
      msg += " (never started?);";
    }
    if (!missing_points.empty()) {
      msg += " " + std::to_string(missing_points.size()) + " of " + std::to_string(plist.size()) +
             " design points have no result:";
      for (size_t i = 0; i < missing_points.size() && i < 8; ++i) msg += (i ? ", " : " ") + missing_points[i];
      if (missing_points.size() > 8) msg += ", ... (" + std::to_string(missing_points.size() - 8) + " more)";
      msg += ";";
    }
    msg += " rerun the shards named (finished points are kept)";
    throw std::runtime_error(msg);
  }

  // The sweep itself, from the lowest shard's arguments; it must be the one the shards ran.
  Sweep s;
  parse_sweep_args(m0.j.at("args").get<std::vector<std::string>>(), s);
  s.q.quiet = quiet;
  load_sweep(s);
  if (s.sweep_hash != m0.j.at("sweep").get<std::string>())
    throw std::runtime_error("sweep merge: the sweep's inputs changed since the shards ran (its configuration, cost "
                             "tables or input files differ from the shards'); rerun the shards");
  std::vector<FormatOutcome> outs(s.pts.size());
  for (size_t i = 0; i < s.pts.size(); ++i) {
    std::optional<FormatOutcome> o = load_point(s, i, where[i], true);
    if (!o)
      throw std::runtime_error("sweep merge: " + result_path(where[i], s.folders[i]).string() +
                               " is not a complete result; rerun shard " + shard_name(i % n, n));
    outs[i] = std::move(*o);
  }
  if (!quiet)
    std::cerr << "simrun sweep merge: " << s.pts.size() << " design points from " << ms.size() << " shard manifest(s) of "
              << n << " shards\n";
  std::cout << csv_header_line(s.pts) << "\n";
  for (size_t i = 0; i < s.pts.size(); ++i) std::cout << csv_line(point_fields(s.pts[i], outs[i].run)) << "\n";
  std::cout << std::flush;
  Outputs o = outputs_of(vm);
  if (vm.count("out")) {
    const std::filesystem::path od = vm["out"].as<std::string>();
    std::filesystem::create_directories(od);
    if (o.csv.empty()) o.csv = (od / "sweep.csv").string();
    if (o.json.empty()) o.json = (od / "sweep.json").string();
    if (o.report_html.empty()) o.report_html = (od / "sweep.html").string();
    if (o.report_json.empty()) o.report_json = (od / "report.json").string();
  }
  write_outputs(s, outs, o);
  check_verified(outs);
  return 0;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "merge") return run_merge(std::vector<std::string>(args.begin() + 1, args.end()));
  Sweep s;
  parse_sweep_args(args, s);
  if (s.vm.count("help")) {
    std::cout << "usage: simrun sweep SPEC --workload NAME [options]\n"
                 "       simrun sweep SPEC --workload NAME [options] --shard I/N --out DIR   (one shard of N)\n"
                 "       simrun sweep merge DIR... [--csv F] [--json F] [--report-html F]  (see sweep merge --help)\n"
                 "A design-space sweep: every combination of the SPEC's values is one design point, run through the\n"
                 "whole pipeline (quantize, simulate, verify against the golden model, cost). SPEC is a file (one\n"
                 "'key = v1, v2' per line, # comments) or inline 'key=v1,v2;key=v1'. Keys: array (RxC), format\n"
                 "(e4m3, e5m2, int8), accumulator (exact, fp32; INT8 always int32 and is run once), dataflow (ws, os),\n"
                 "input_buffer_kb, weight_buffer_kb, output_buffer_kb, dram_bytes_per_cycle. Unswept parameters come\n"
                 "from --config and the options. Prints one CSV line per design point as it finishes (stdout).\n"
                 "--report-html adds the Pareto fronts of accuracy against energy and against area; the report's\n"
                 "command line leaves out the output paths, --shard, --out, --jobs and --quiet.\n"
                 "With --out DIR every design point is a hermetic job: its result goes to DIR/points/p-HASH/result.json\n"
                 "(HASH: of the tool version, the options, the bytes of the configuration, cost tables and input files\n"
                 "named, and the point's values; written to a temporary file and renamed), and a point whose result is\n"
                 "there already is not run again. --shard I/N runs points I, I+N, ... into DIR (writing\n"
                 "DIR/shards/shard-I-of-N.json first); simrun sweep merge DIR... then writes the CSV, JSON and HTML a\n"
                 "single-process sweep writes, byte for byte. Launchers: scripts/sweep-slurm.sh (a Slurm job array and\n"
                 "a merge job after it), scripts/sweep-parallel.sh (GNU parallel on one host).\n"
                 "Example: simrun sweep \"array=16x16,32x32;format=e4m3,int8\" --workload resnet20-cifar10\n\n"
              << sweep_options();
    return 0;
  }
  std::optional<ShardSpec> shard;
  if (s.vm.count("shard")) shard = parse_shard(s.vm["shard"].as<std::string>());
  const std::string out = s.vm.count("out") ? s.vm["out"].as<std::string>() : "";
  const Outputs o = outputs_of(s.vm);
  if (shard && out.empty()) throw UsageError("sweep: --shard needs --out DIR (the folder the shards' results go to)");
  if (shard && (!o.csv.empty() || !o.json.empty() || !o.report_html.empty() || !o.report_json.empty()))
    throw UsageError("sweep: --shard writes design-point results into --out only; --csv, --json, --report-html and "
                     "--report-json are written by simrun sweep merge");
  load_sweep(s);
  const std::vector<Point>& pts = s.pts;
  std::vector<FormatOutcome> outs(pts.size());

  if (shard) {
    const size_t n = shard->count, me = shard->index;
    std::vector<size_t> mine;
    for (size_t i = me; i < pts.size(); i += n) mine.push_back(i);
    store_manifest(s, out, me, n);
    if (!s.q.quiet)
      std::cerr << "simrun sweep: shard " << shard_name(me, n) << ": " << mine.size() << " of " << pts.size()
                << " design points on " << s.p.workload->name() << ", " << s.p.items.size() << " sample(s) each\n";
    size_t done = 0;
    const size_t ran = run_points(s, mine, out, outs, [&](size_t i, bool reused) {
      ++done;
      if (!s.q.quiet)
        std::cerr << "simrun sweep: shard " << shard_name(me, n) << ": point " << i + 1 << "/" << pts.size() << " ("
                  << done << "/" << mine.size() << ") " << (reused ? "already done" : "done") << ": " << pts[i].label
                  << "\n";
    });
    if (!s.q.quiet)
      std::cerr << "simrun sweep: shard " << shard_name(me, n) << ": " << ran << " point(s) run, " << mine.size() - ran
                << " already done, results in " << (std::filesystem::path(out) / "points").string() << "\n";
    std::vector<FormatOutcome> mine_outs;
    for (size_t i : mine) mine_outs.push_back(outs[i]);
    check_verified(mine_outs);
    return 0;
  }

  if (!s.q.quiet)
    std::cerr << "simrun sweep: " << pts.size() << " design points on " << s.p.workload->name() << ", "
              << s.p.items.size() << " sample(s) each\n";
  if (!out.empty()) store_manifest(s, out, 0, 1);
  std::cout << csv_header_line(pts) << "\n" << std::flush;
  std::vector<bool> done(pts.size(), false);
  size_t printed = 0;
  std::vector<size_t> all(pts.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  run_points(s, all, out, outs, [&](size_t i, bool reused) {
    done[i] = true;
    if (!s.q.quiet)
      std::cerr << "simrun sweep: point " << i + 1 << "/" << pts.size() << (reused ? " already done: " : " done: ")
                << pts[i].label << "\n";
    for (; printed < pts.size() && done[printed]; ++printed)  // lines in design-point order
      std::cout << csv_line(point_fields(pts[printed], outs[printed].run)) << "\n" << std::flush;
  });
  write_outputs(s, outs, o);
  check_verified(outs);
  return 0;
}

}  // namespace fp8sim::simrun
