// simrun sweep's SPEC: "key=v,v;key=v" on the command line, or a file of "key = v, v" lines ('#' comments).
#include "sweep_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli.h"

namespace fp8sim::simrun {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, sep)) v.push_back(trim(x));
  return v;
}

const std::vector<std::string> kKeys = {"array", "format", "accumulator", "dataflow", "input_buffer_kb",
                                        "weight_buffer_kb", "output_buffer_kb", "dram_bytes_per_cycle"};

}  // namespace

std::map<std::string, std::vector<std::string>> parse_sweep_spec(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> lines;  // (where, text)
  if (std::filesystem::is_regular_file(spec)) {
    std::ifstream f(spec);
    std::string line;
    for (int n = 1; std::getline(f, line); ++n) {
      const size_t h = line.find('#');
      if (h != std::string::npos) line.resize(h);
      if (!trim(line).empty()) lines.emplace_back(spec + ":" + std::to_string(n), trim(line));
    }
  } else {
    if (spec.find('=') == std::string::npos)
      throw UsageError("sweep: SPEC '" + spec + "' is neither a file nor key=values (e.g. \"array=16x16,32x32;format=e4m3,int8\")");
    for (const std::string& part : split(spec, ';'))
      if (!part.empty()) lines.emplace_back("SPEC", part);
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [where, text] : lines) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos) throw UsageError("sweep: " + where + ": expected key = values, got '" + text + "'");
    const std::string key = trim(text.substr(0, eq));
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string keys;
      for (const auto& k : kKeys) keys += (keys.empty() ? "" : ", ") + k;
      throw UsageError("sweep: " + where + ": unknown key '" + key + "' (keys: " + keys + ")");
    }
    if (out.count(key)) throw UsageError("sweep: " + where + ": key '" + key + "' given twice");
    std::vector<std::string> vals;
    for (const std::string& v : split(text.substr(eq + 1), ','))
      if (!v.empty()) vals.push_back(v);
    if (vals.empty()) throw UsageError("sweep: " + where + ": '" + key + "' has no values");
    out[key] = vals;
  }
  if (out.empty()) throw UsageError("sweep: SPEC names no parameter");
  return out;
}


}  // namespace fp8sim::simrun
