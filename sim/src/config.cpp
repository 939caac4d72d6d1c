#include "fp8sim/sim/config.h"

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "fp8sim/model/format.h"

namespace fp8sim::sim {
namespace {

using Value = std::variant<int64_t, double, std::string, bool>;

struct Entry {
  Value v;
  int line;
};

[[noreturn]] void fail(const std::string& where, const std::string& key, const std::string& why) {
  throw std::invalid_argument(where + ": " + key + ": " + why);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Parses the TOML subset into "section.key" -> value.
std::map<std::string, Entry> parse_toml(const std::string& text, const std::string& origin) {
  std::map<std::string, Entry> out;
  std::istringstream in(text);
  std::string line, section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string where = origin + ":" + std::to_string(lineno);
    // Strip a comment that is not inside a string.
    bool in_str = false;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') in_str = !in_str;
      if (line[i] == '#' && !in_str) {
        line.resize(i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) fail(where, line, "malformed section header");
      section = trim(line.substr(1, line.size() - 2));
      for (char c : section)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) fail(where, section, "bad section name");
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) fail(where, line, "expected key = value");
    const std::string key = trim(line.substr(0, eq)), val = trim(line.substr(eq + 1));
    const std::string full = section.empty() ? key : section + "." + key;
    if (key.empty()) fail(where, full, "empty key");
    if (out.count(full)) fail(where, full, "duplicate key (first on line " + std::to_string(out[full].line) + ")");
    Value v;
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') {
      v = val.substr(1, val.size() - 2);
    } else if (val == "true" || val == "false") {
      v = val == "true";
    } else {
      std::string digits;
      for (char c : val)
        if (c != '_') digits += c;  // TOML allows 1_000
      size_t used = 0;
      bool ok = false;
      try {
        if (digits.find_first_of(".eE") == std::string::npos) {
          v = static_cast<int64_t>(std::stoll(digits, &used, 10));
        } else {
          v = std::stod(digits, &used);
        }
        ok = used == digits.size() && !digits.empty();
      } catch (const std::exception&) {
        ok = false;
      }
      if (!ok) fail(where, full, "cannot parse value '" + val + "'");
    }
    out[full] = Entry{v, lineno};
  }
  return out;
}

class Reader {
 public:
  Reader(std::map<std::string, Entry> kv, std::string origin) : kv_(std::move(kv)), origin_(std::move(origin)) {}
  std::string where(const std::string& key) const {
    auto it = kv_.find(key);
    return it == kv_.end() ? origin_ : origin_ + ":" + std::to_string(it->second.line);
  }
  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  int64_t integer(const std::string& key, std::optional<int64_t> def, int64_t lo, int64_t hi) {
    used_.insert(key);
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      if (!def) fail(origin_, key, "missing (required)");
      return *def;
    }
    const auto* p = std::get_if<int64_t>(&it->second.v);
    if (!p) fail(where(key), key, "must be an integer");
    if (*p < lo || *p > hi)
      fail(where(key), key, "value " + std::to_string(*p) + " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return *p;
  }
  double number(const std::string& key, double def) {
    used_.insert(key);
    auto it = kv_.find(key);
    if (it == kv_.end()) return def;
    if (const auto* i = std::get_if<int64_t>(&it->second.v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&it->second.v)) return *d;
    fail(where(key), key, "must be a number");
  }
  std::string str(const std::string& key, std::optional<std::string> def) {
    used_.insert(key);
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      if (!def) fail(origin_, key, "missing (required)");
      return *def;
    }
    const auto* p = std::get_if<std::string>(&it->second.v);
    if (!p) fail(where(key), key, "must be a string");
    return *p;
  }
  bool boolean(const std::string& key, bool def) {
    used_.insert(key);
    auto it = kv_.find(key);
    if (it == kv_.end()) return def;
    const auto* p = std::get_if<bool>(&it->second.v);
    if (!p) fail(where(key), key, "must be true or false");
    return *p;
  }
  void reject_unknown() const {
    for (const auto& [k, e] : kv_)
      if (!used_.count(k)) fail(origin_ + ":" + std::to_string(e.line), k, "unknown key");
  }

 private:
  std::map<std::string, Entry> kv_;
  std::set<std::string> used_;
  std::string origin_;
};

constexpr int64_t kMaxDim = 4096;

SramConfig read_sram(Reader& r, const std::string& s) {
  SramConfig b;
  b.size_bytes = r.integer(s + ".size_bytes", std::nullopt, 1, int64_t{1} << 34);
  b.banks = static_cast<int>(r.integer(s + ".banks", 1, 1, 4096));
  b.bank_width_bytes = static_cast<int>(r.integer(s + ".bank_width_bytes", std::nullopt, 1, 1 << 16));
  b.ports = static_cast<int>(r.integer(s + ".ports", 1, 1, 8));
  b.latency = static_cast<int>(r.integer(s + ".latency", 1, 1, 64));
  return b;
}

}  // namespace

firmware::ArrayTarget AcceleratorConfig::target() const {
  firmware::ArrayTarget t;
  t.rows = array.rows;
  t.cols = array.cols;
  t.dataflow = array.dataflow;
  t.input_buffer_bytes = input_buffer.size_bytes;
  t.weight_buffer_bytes = weight_buffer.size_bytes;
  t.output_buffer_bytes = output_buffer.size_bytes;
  t.word_bytes = word_bytes();
  t.os_k_tile = os_k_tile;
  // The mapper's cycle model (firmware/mapper.h).
  t.dram_bytes_per_cycle = dram.bytes_per_cycle;
  t.dram_latency = dram.latency;
  t.input_width_bytes = input_buffer.width_bytes();
  t.weight_width_bytes = weight_buffer.width_bytes();
  t.output_width_bytes = output_buffer.width_bytes();
  return t;
}

void AcceleratorConfig::validate() const {
  const std::string& o = source.empty() ? name : source;
  const int64_t R = array.rows, C = array.cols, wb = word_bytes();
  if (R < 1) fail(o, "array.rows", "must be >= 1");
  if (C < 1) fail(o, "array.cols", "must be >= 1");
  try {
    array.numerics().validate(1);
  } catch (const std::invalid_argument& e) {
    fail(o, "array.accumulator", e.what());
  }
  const bool ws = array.dataflow == Dataflow::WeightStationary;
  // One double-buffered tile: two slots of the smallest tile the lowering can make.
  auto need = [&](const SramConfig& b, const char* key, int64_t bytes, const std::string& what) {
    if (b.size_bytes < bytes)
      fail(o, key, "too small for one tile: " + std::to_string(b.size_bytes) + " bytes < " + std::to_string(bytes) +
                       " (" + what + ")");
  };
  need(input_buffer, "input_buffer.size_bytes", 2 * R, "two activation rows of " + std::to_string(R) + " codes");
  need(weight_buffer, "weight_buffer.size_bytes", ws ? 2 * R * C : 2 * C,
       ws ? "two " + std::to_string(R) + "x" + std::to_string(C) + " weight tiles" : "two weight rows");
  need(output_buffer, "output_buffer.size_bytes", ws ? 2 * C * wb : 2 * R * C * wb,
       ws ? "two output rows" : "two " + std::to_string(R) + "x" + std::to_string(C) + " output tiles");
  // The array moves one row per cycle: each buffer access must carry a whole row.
  auto width = [&](const SramConfig& b, const char* key, int64_t bytes) {
    if (b.width_bytes() < bytes)
      fail(o, key, "banks x bank_width_bytes = " + std::to_string(b.width_bytes()) + " bytes per access < one array row (" +
                       std::to_string(bytes) + " bytes)");
  };
  width(input_buffer, "input_buffer.bank_width_bytes", R);
  width(weight_buffer, "weight_buffer.bank_width_bytes", C);
  width(output_buffer, "output_buffer.bank_width_bytes", C * wb);
}

AcceleratorConfig parse_config(const std::string& text, const std::string& origin) {
  Reader r(parse_toml(text, origin), origin);
  AcceleratorConfig c;
  c.source = origin;
  c.name = r.str("name", std::nullopt);
  c.clock_mhz = r.number("clock_mhz", 1000);
  if (!(c.clock_mhz > 0)) fail(r.where("clock_mhz"), "clock_mhz", "must be > 0");
  c.array.rows = static_cast<int>(r.integer("array.rows", std::nullopt, 1, kMaxDim));
  c.array.cols = static_cast<int>(r.integer("array.cols", std::nullopt, 1, kMaxDim));
  const std::string df = r.str("array.dataflow", std::nullopt);
  if (df == "ws") c.array.dataflow = Dataflow::WeightStationary;
  else if (df == "os") c.array.dataflow = Dataflow::OutputStationary;
  else fail(r.where("array.dataflow"), "array.dataflow", "unknown dataflow '" + df + "' (ws or os)");
  const std::string pe = r.str("array.pe", std::nullopt);
  const std::string pe_b = r.str("array.pe_b", pe);
  const std::string acc = r.str("array.accumulator", std::nullopt);
  if (pe == "int8" || pe_b == "int8") {
    if (pe != pe_b) fail(r.where("array.pe_b"), "array.pe_b", "INT8 PEs take INT8 on both operands");
    if (acc != "int32") fail(r.where("array.accumulator"), "array.accumulator", "INT8 PEs need accumulator \"int32\"");
    c.array.pe = PeKind::Int8;
  } else {
    const auto fa = model::fp8_kind_from_name(pe), fb = model::fp8_kind_from_name(pe_b);
    if (!fa) fail(r.where("array.pe"), "array.pe", "unknown PE type '" + pe + "' (int8, e4m3, e5m2, e4m3fnuz, e5m2fnuz, e4m3ieee)");
    if (!fb) fail(r.where("array.pe_b"), "array.pe_b", "unknown PE type '" + pe_b + "'");
    c.array.fmt_a = *fa;
    c.array.fmt_b = *fb;
    if (acc == "fp32") c.array.pe = PeKind::Fp8Float32;
    else if (acc == "fixed") c.array.pe = PeKind::Fp8Fixed;
    else fail(r.where("array.accumulator"), "array.accumulator", "unknown accumulator '" + acc + "' for FP8 PEs (fixed or fp32)");
  }
  c.array.acc_width = static_cast<int>(r.integer("array.acc_width", 0, 0, 126));
  if (c.array.acc_width != 0 && c.array.pe != PeKind::Fp8Fixed)
    fail(r.where("array.acc_width"), "array.acc_width", "only the fixed-point accumulator has a width");
  c.array.toggles = r.boolean("array.toggles", true);
  c.input_buffer = read_sram(r, "input_buffer");
  c.weight_buffer = read_sram(r, "weight_buffer");
  c.output_buffer = read_sram(r, "output_buffer");
  c.dram.bytes_per_cycle = static_cast<int>(r.integer("dram.bytes_per_cycle", std::nullopt, 1, 1 << 20));
  c.dram.latency = static_cast<int>(r.integer("dram.latency", std::nullopt, 0, 1 << 20));
  c.os_k_tile = r.integer("lowering.os_k_tile", 0, 0, int64_t{1} << 30);
  c.queue_depth = static_cast<int>(r.integer("controller.queue_depth", 4, 1, 1024));
  c.watchdog_cycles = static_cast<uint64_t>(r.integer("controller.watchdog_cycles", 1000000, 0, int64_t{1} << 50));
  r.reject_unknown();
  c.validate();
  return c;
}

AcceleratorConfig load_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::invalid_argument(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace fp8sim::sim
