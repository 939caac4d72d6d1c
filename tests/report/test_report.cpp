// The report writers on a synthetic RunReport: JSON fields, JSON against the text table, determinism, the
// HTML's structure and synthetic labels, atomic writes, Pareto flags, validation.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "example_report.h"

using namespace fp8sim::report;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_dir() {
  char tmpl[] = "/tmp/fp8sim_report_test_XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  REQUIRE(d != nullptr);
  return d;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The line of `text` that starts with `prefix` (after leading spaces), or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t p = line.find_first_not_of(' ');
    if (p != std::string::npos && line.compare(p, prefix.size(), prefix) == 0) return line;
  }
  return "";
}

// Every non-void element closed, in order; self-closed SVG shapes allowed. Returns "" or the first problem.
std::string tag_balance(const std::string& html) {
  static const std::set<std::string> kVoid{"br", "meta", "hr", "img", "link", "input"};
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 2, "<!") == 0) {
      i = html.find('>', i);
      continue;
    }
    const size_t end = html.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = html.substr(i + 1, end - i - 1);
    i = end;
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self = !tag.empty() && tag.back() == '/';
    if (closing) tag = tag.substr(1);
    const std::string name = tag.substr(0, tag.find_first_of(" /\n"));
    if (self || kVoid.count(name)) continue;
    if (!closing) {
      stack.push_back(name);
    } else {
      if (stack.empty() || stack.back() != name)
        return "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
      stack.pop_back();
    }
  }
  return stack.empty() ? "" : "<" + stack.back() + "> never closed";
}

void check_run_fields(const json& j) {
  for (const char* k : {"format", "config", "layers", "totals", "accuracy", "verification"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  for (const char* k : {"cycles", "macs", "energy_pj", "area_um2", "latency_s", "energy_per_mac_pj", "tops_per_w",
                        "tops_per_mm2", "energy_breakdown_pj", "area", "stall_cycles", "traffic_bytes"}) {
    INFO(k);
    CHECK(j["totals"].contains(k));
  }
  for (const char* k : {"mac", "sram", "dram", "leakage"}) CHECK(j["totals"]["energy_breakdown_pj"].contains(k));
  for (const char* k : {"array_um2", "buffers_um2", "total_um2", "nand2_eq"}) CHECK(j["totals"]["area"].contains(k));
  for (const char* k : {"metric", "value", "fp32_value"}) CHECK(j["accuracy"].contains(k));
  for (const char* k : {"checked_outputs", "mismatches", "reference"}) CHECK(j["verification"].contains(k));
  REQUIRE(j["layers"].is_array());
  REQUIRE_FALSE(j["layers"].empty());
  for (const auto& l : j["layers"])
    for (const char* k : {"name", "m", "k", "n", "cycles", "stall_cycles", "pe_utilization", "macs", "traffic_bytes",
                          "energy_pj"}) {
      INFO(k);
      CHECK(l.contains(k));
    }
  // Totals are the sums of the layers.
  uint64_t cycles = 0, macs = 0;
  double energy = 0;
  for (const auto& l : j["layers"]) {
    cycles += l["cycles"].get<uint64_t>();
    macs += l["macs"].get<uint64_t>();
    energy += l["energy_pj"].get<double>();
  }
  CHECK(j["totals"]["cycles"].get<uint64_t>() == cycles);
  CHECK(j["totals"]["macs"].get<uint64_t>() == macs);
  CHECK(j["totals"]["energy_pj"].get<double>() == Approx(energy).epsilon(1e-7));
}

}  // namespace

TEST_CASE("JSON has every field of issue #6, for the run and each compared format") {
  const RunReport r = fp8sim::test::example_report();
  const json j = json::parse(to_json(r));
  for (const char* k : {"workload", "config", "layers", "totals", "accuracy", "verification", "comparison",
                        "synthetic", "synthetic_note", "cost_model", "notes", "seed", "sweep"}) {
    INFO(k);
    CHECK(j.contains(k));
  }
  CHECK(j["workload"] == "synthetic-mlp3");
  CHECK(j["synthetic"] == true);
  CHECK_THAT(j["synthetic_note"].get<std::string>(), Contains("invented"));
  CHECK_FALSE(j.contains("timestamp"));
  check_run_fields(j);
  REQUIRE(j["comparison"].size() == 1);
  check_run_fields(j["comparison"][0]);
  CHECK(j["comparison"][0]["format"] == "int8");
  CHECK(j["comparison"][0]["relative_to_chosen"].contains("energy_ratio"));
  CHECK(j["verification"]["mismatches"] == 0);
  CHECK(j["verification"]["reference"] == "golden");
  CHECK(j["verification"]["checked_outputs"] == j["verification"]["total_outputs"]);
  // Derived figures agree with their definitions.
  const auto& t = j["totals"];
  CHECK(t["energy_per_mac_pj"].get<double>() ==
        Approx(t["energy_pj"].get<double>() / t["macs"].get<double>()).epsilon(1e-7));
  CHECK(t["tops_per_w"].get<double>() == Approx(2 * t["macs"].get<double>() / t["energy_pj"].get<double>()).epsilon(1e-7));
  CHECK(t["latency_s"].get<double>() == Approx(t["cycles"].get<double>() / 1e9).epsilon(1e-7));
  // With the network's timeline the latency is its critical path: 600 overlapped cycles at the example's 1 GHz
  // = 6e-7 s, whatever totals.cycles says; TOPS/mm^2 follows it (2 x MACs / latency / area).
  RunReport rt = fp8sim::test::example_report();
  rt.run.network.timeline = true;
  rt.run.network.serial_cycles = rt.run.totals.cycles;
  rt.run.network.overlapped_cycles = 600;
  CHECK(latency_s(rt.run) == Approx(6e-7));
  CHECK(tops_per_mm2(rt.run) ==
        Approx(2.0 * double(rt.run.totals.macs) / 6e-7 * 1e-12 / (rt.run.totals.area.total_um2() * 1e-6)));
  // Cost model rows carry their sources.
  for (const auto& f : j["cost_model"]) CHECK_FALSE(f["source"].get<std::string>().empty());
}

TEST_CASE("JSON and the text table agree") {
  const RunReport r = fp8sim::test::example_report();
  const json j = json::parse(to_json(r));
  const std::string text = to_text(r);
  CHECK_THAT(text, Contains("SYNTHETIC DATA"));
  for (const auto& l : j["layers"]) {
    const std::string line = line_starting(text, l["name"].get<std::string>());
    INFO(line);
    REQUIRE_FALSE(line.empty());
    CHECK_THAT(line, Contains(fmt_count(l["cycles"].get<uint64_t>())));
    CHECK_THAT(line, Contains(fmt_count(l["macs"].get<uint64_t>())));
    CHECK_THAT(line, Contains(fmt_sig(l["energy_pj"].get<double>(), 6)));
    CHECK_THAT(line, Contains(fmt_count(l["stall_cycles"]["dram_wait"].get<uint64_t>())));
  }
  // The totals table: the chosen format's column, then the compared one's.
  auto both = [&](const std::string& label, const std::string& a, const std::string& b) {
    const std::string line = line_starting(text, label);
    INFO(label << ": " << line);
    REQUIRE_FALSE(line.empty());
    const size_t pa = line.find(a), pb = line.rfind(b);
    CHECK(pa != std::string::npos);
    CHECK(pb != std::string::npos);
    CHECK(pa <= pb);
  };
  const auto& t0 = j["totals"];
  const auto& t1 = j["comparison"][0]["totals"];
  both("cycles", fmt_count(t0["cycles"].get<uint64_t>()), fmt_count(t1["cycles"].get<uint64_t>()));
  both("energy (pJ)", fmt_sig(t0["energy_pj"].get<double>(), 6), fmt_sig(t1["energy_pj"].get<double>(), 6));
  both("TOPS/W", fmt_sig(t0["tops_per_w"].get<double>(), 6), fmt_sig(t1["tops_per_w"].get<double>(), 6));
  both("total area (um^2)", fmt_sig(t0["area_um2"].get<double>(), 6), fmt_sig(t1["area_um2"].get<double>(), 6));
  both("accuracy  ", fmt_sig(j["accuracy"]["value"].get<double>(), 6),
       fmt_sig(j["comparison"][0]["accuracy"]["value"].get<double>(), 6));
  CHECK_THAT(text, Contains("e4m3 against golden: 492,800 of 492,800 outputs checked, 0 mismatches"));
}

TEST_CASE("reports are deterministic: byte-identical JSON, text and HTML, no timestamp unless asked") {
  const RunReport a = fp8sim::test::example_report(), b = fp8sim::test::example_report();
  CHECK(to_json(a) == to_json(b));
  CHECK(to_text(a) == to_text(b));
  CHECK(to_html(a) == to_html(b));
  const std::string dir = temp_dir();
  write_file_atomic(dir + "/one.json", to_json(a));
  write_file_atomic(dir + "/two.json", to_json(b));
  CHECK(slurp(dir + "/one.json") == slurp(dir + "/two.json"));
  RunReport c = a;
  c.timestamp = "2026-01-01T00:00:00Z";
  CHECK(json::parse(to_json(c))["timestamp"] == "2026-01-01T00:00:00Z");
  std::remove((dir + "/one.json").c_str());
  std::remove((dir + "/two.json").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("JSON numbers: 9 significant digits, non-finite as null") {
  CHECK(json_number(1.0 / 3) == "0.333333333");
  CHECK(json_number(-0.0) == "0");
  CHECK(json_number(std::numeric_limits<double>::infinity()) == "null");
  RunReport r = fp8sim::test::example_report();
  r.run.accuracy.value = std::numeric_limits<double>::quiet_NaN();
  r.run.accuracy.fp32_value.reset();
  const json j = json::parse(to_json(r));
  CHECK(j["accuracy"]["value"].is_null());
  CHECK(j["accuracy"]["fp32_value"].is_null());
  CHECK(fmt_count(1234567) == "1,234,567");
  CHECK(fmt_count(0) == "0");
  CHECK(fmt_count(999) == "999");
}

TEST_CASE("HTML: self-contained, balanced, with the charts, and synthetic data labelled") {
  const RunReport r = fp8sim::test::example_report();
  const std::string html = to_html(r);
  CHECK(tag_balance(html).empty());
  INFO(tag_balance(html));
  for (const char* cls : {"layer-cycles", "layer-energy", "compare", "energy-split", "area-split", "pareto"})
    CHECK_THAT(html, Contains(std::string("class=\"chart ") + cls));
  CHECK_THAT(html, Contains("id=\"synthetic\""));
  CHECK_THAT(html, Contains("SYNTHETIC"));
  CHECK_THAT(html, Contains("Energy per layer (e4m3) (synthetic data)"));
  CHECK_THAT(html, Contains("<polyline class=\"front\""));
  for (const char* bad : {"<script", "<link", "src=", "href=", "@import", "url("}) CHECK(html.find(bad) == std::string::npos);
  // Not synthetic: no synthetic label anywhere.
  RunReport real = r;
  real.synthetic = false;
  const std::string plain = to_html(real);
  for (const char* label : {"SYNTHETIC", "synthetic data", "Synthetic data", "id=\"synthetic\""})
    CHECK(plain.find(label) == std::string::npos);
  CHECK(to_text(real).find("SYNTHETIC") == std::string::npos);
  CHECK(json::parse(to_json(real))["synthetic_note"] == "");
  // Text from the run is escaped.
  real.run.layers[0].name = "<script>alert('x')</script> & co";
  const std::string escaped = to_html(real);
  CHECK(escaped.find("<script") == std::string::npos);
  CHECK_THAT(escaped, Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
  CHECK(tag_balance(escaped).empty());
}

TEST_CASE("HTML of a minimal report: one format, one layer, no sweep") {
  RunReport r;
  r.workload = "tiny";
  r.run.format = "e4m3";
  r.run.config.name = "small8";
  r.run.config.rows = r.run.config.cols = 8;
  r.run.config.clock_mhz = 1000;
  r.run.accuracy.metric = "sqnr_db";
  r.run.accuracy.value = 31.5;
  LayerRow l;
  l.name = "gemm0";
  l.m = l.k = l.n = 8;
  l.cycles = 40;
  l.macs = 512;
  l.pe_utilization = 0.2;
  r.run.layers.push_back(l);
  r.run.totals.cycles = 40;
  r.run.totals.macs = 512;
  const std::string html = to_html(r);
  CHECK(tag_balance(html).empty());
  CHECK_THAT(html, Contains("class=\"chart layer-cycles"));
  CHECK(html.find("class=\"chart pareto") == std::string::npos);
  const json j = json::parse(to_json(r));
  CHECK(j["comparison"].empty());
  CHECK(j["verification"]["reference"] == "none");
  CHECK(j["totals"]["tops_per_w"] == 0);  // no energy given: 0, not a division by zero
}

TEST_CASE("validation names the field") {
  RunReport r = fp8sim::test::example_report();
  r.run.verification[0].mismatches = r.run.verification[0].checked_outputs + 1;
  CHECK_THROWS_WITH(to_json(r), Contains("verification[0]") && Contains("mismatches"));
  r = fp8sim::test::example_report();
  r.synthetic_note.clear();
  CHECK_THROWS_WITH(to_html(r), Contains("synthetic_note"));
  r = fp8sim::test::example_report();
  r.comparison[0].layers[1].pe_utilization = 1.5;
  CHECK_THROWS_WITH(to_text(r), Contains("comparison[0]") && Contains("layers[1].pe_utilization"));
  r = fp8sim::test::example_report();
  r.workload.clear();
  CHECK_THROWS_AS(to_json(r), ReportError);
}

TEST_CASE("write_file_atomic: complete file or nothing, no temporary left behind") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/report.json";
  write_file_atomic(path, "first\n");
  CHECK(slurp(path) == "first\n");
  write_file_atomic(path, std::string(1 << 20, 'x'));  // overwrite with something larger
  CHECK(slurp(path).size() == (1u << 20));
  CHECK(list_dir(dir) == std::vector<std::string>{"report.json"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0044) != 0);  // readable by others under a usual umask, not mkstemp's 0600
  CHECK_THROWS_WITH(write_file_atomic(dir + "/missing/report.json", "x"),
                    Contains(dir + "/missing/report.json"));
  // Renaming onto a directory fails after the temporary was written: it must be removed again.
  REQUIRE(::mkdir((dir + "/adir").c_str(), 0777) == 0);
  REQUIRE(::mkdir((dir + "/adir/sub").c_str(), 0777) == 0);
  CHECK_THROWS_WITH(write_file_atomic(dir + "/adir", "x"), Contains("rename"));
  CHECK(list_dir(dir) == std::vector<std::string>{"adir", "report.json"});
  CHECK_THROWS_AS(write_file_atomic("", "x"), ReportError);
  ::rmdir((dir + "/adir/sub").c_str());
  ::rmdir((dir + "/adir").c_str());
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("Pareto flags, hand-checked") {
  SweepTable s;
  s.accuracy_metric = "top1";
  // a: cheap and worst; b: dominated by c (c is as cheap in energy and more accurate); c, d on the energy front.
  s.points = {{"a", "int8", "", 8, 8, 0.70, 100, 50, 0},
              {"b", "e4m3", "", 8, 8, 0.75, 300, 10, 0},
              {"c", "e4m3", "", 8, 8, 0.80, 300, 60, 0},
              {"d", "e5m2", "", 8, 8, 0.85, 900, 90, 0}};
  CHECK(pareto_energy(s) == std::vector<bool>{true, false, true, true});
  // Area: b (10) is cheapest; a (50) is less accurate than b and larger -> dominated; c, d on the front.
  CHECK(pareto_area(s) == std::vector<bool>{false, true, true, true});
  s.higher_is_better = false;  // e.g. perplexity: now a is best in accuracy and cheapest in energy
  CHECK(pareto_energy(s) == std::vector<bool>{true, false, false, false});
}
