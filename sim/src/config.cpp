#include "fp8sim/sim/config.h"
#include "fp8sim/sim/mx_array.h"

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <variant>

#include <toml++/toml.h>

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

// What a syntax error is about, for "origin:line: key: reason": the dotted key of the line (its section's
// name before it, as parse_toml names keys), or the line's text when it holds no key.
std::string key_of_line(const std::string& text, size_t lineno) {
  std::istringstream in(text);
  std::string line, section;
  for (size_t n = 1; std::getline(in, line) && n <= lineno; ++n) {
    const std::string t = trim(line.substr(0, line.find('#')));
    if (t.empty()) continue;
    if (n == lineno) {
      const auto eq = t.find('=');
      if (t.front() == '[' || eq == std::string::npos || trim(t.substr(0, eq)).empty()) return t;
      const std::string key = trim(t.substr(0, eq));
      return section.empty() ? key : section + "." + key;
    }
    if (t.front() == '[' && t.back() == ']') section = trim(t.substr(1, t.size() - 2));
  }
  return "(end of file)";
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// Parses the TOML (toml++, TOML 1.0) into "section.key" -> value: top-level keys and one level of tables,
// scalar values (integers, floats, strings, booleans). Errors: "origin:line: key: reason".
std::map<std::string, Entry> parse_toml(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const size_t line = e.source().begin.line;
    fail(origin + ":" + std::to_string(line), key_of_line(text, line), std::string(e.description()));
  }
  std::map<std::string, Entry> out;
  std::function<void(const toml::table&, const std::string&, int)> walk = [&](const toml::table& t,
                                                                              const std::string& prefix, int depth) {
    for (const auto& [k, v] : t) {
      const std::string full = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      const std::string where = origin + ":" + std::to_string(line_of(v));
      if (const toml::table* sub = v.as_table()) {
        if (depth > 0) fail(where, full, "nested tables are not used by configurations");
        walk(*sub, full, depth + 1);
        continue;
      }
      Value val;
      if (const auto* i = v.as_integer()) val = i->get();
      else if (const auto* d = v.as_floating_point()) val = d->get();
      else if (const auto* s = v.as_string()) val = s->get();
      else if (const auto* b = v.as_boolean()) val = b->get();
      else fail(where, full, "unsupported value type (integers, numbers, strings and booleans only)");
      out[full] = Entry{val, line_of(v)};
    }
  };
  walk(root, "", 0);
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

std::string mx_names() {  // "mxfp8, mxfp8-e5m2, ..."
  std::string s = model::mx_format_names();
  for (size_t i = s.find('|'); i != std::string::npos; i = s.find('|', i)) s.replace(i, 1, ", ");
  return s;
}

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
  t.shadow_weights = array.shadow_weights;
  t.shadow_outputs = array.shadow_outputs;
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
  if (array.mx) {
    if (ws || array.shadow_outputs || array.mx_block < 1) fail(o, "array.pe", "an MX array is output-stationary without shadow outputs");
    // An MX block-last beat reads its codes and scales in one access; a slot holds one block of codes + scales.
    width(input_buffer, "input_buffer.bank_width_bytes", 2 * R);
    width(weight_buffer, "weight_buffer.bank_width_bytes", 2 * C);
    need(input_buffer, "input_buffer.size_bytes", 2 * (int64_t{array.mx_block} + 1) * R,
         "two slots of one MX block of " + std::to_string(R) + " rows with their scales");
    need(weight_buffer, "weight_buffer.size_bytes", 2 * (int64_t{array.mx_block} + 1) * C,
         "two slots of one MX block of " + std::to_string(C) + " columns with their scales");
  }
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
  const auto mxk = model::mx_kind_from_name(pe);
  if (mxk) {
    // An MX array (sim/mx_array.h): one format for both operands, output-stationary, exact accumulation.
    if (pe_b != pe) fail(r.where("array.pe_b"), "array.pe_b", "MX arrays take the same MX format on both operands");
    if (acc != "exact")
      fail(r.where("array.accumulator"), "array.accumulator", "MX arrays accumulate exactly: accumulator = \"exact\"");
    if (c.array.dataflow != Dataflow::OutputStationary)
      fail(r.where("array.dataflow"), "array.dataflow", "MX arrays are output-stationary (dataflow = \"os\")");
    set_mx_array(c.array, *mxk, static_cast<int>(r.integer("array.block_size", model::kMxDefaultBlockSize, 1, 4096)));
  } else if (pe == "int8" || pe_b == "int8") {
    if (pe != pe_b) fail(r.where("array.pe_b"), "array.pe_b", "INT8 PEs take INT8 on both operands");
    if (acc != "int32") fail(r.where("array.accumulator"), "array.accumulator", "INT8 PEs need accumulator \"int32\"");
    c.array.pe = PeKind::Int8;
  } else {
    const auto fa = model::fp8_kind_from_name(pe), fb = model::fp8_kind_from_name(pe_b);
    if (!fa)
      fail(r.where("array.pe"), "array.pe",
           "unknown PE type '" + pe + "' (int8, e4m3, e5m2, e4m3fnuz, e5m2fnuz, e4m3ieee; MX arrays: " + mx_names() + ")");
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
  // Hidden weight loads (shadow weight registers, rtl/systolic_array.v SHADOW = 1): default on for WS.
  const bool ws = c.array.dataflow == Dataflow::WeightStationary;
  c.array.shadow_weights = r.boolean("array.shadow_weights", ws);
  if (c.array.shadow_weights && !ws)
    fail(r.where("array.shadow_weights"), "array.shadow_weights", "only the weight-stationary dataflow has stationary weights");
  // OS: double-buffered accumulators (shadow output registers, SHADOW = 1): default on for OS (not MX).
  c.array.shadow_outputs = r.boolean("array.shadow_outputs", !ws && !c.array.mx);
  if (c.array.shadow_outputs && c.array.mx)
    fail(r.where("array.shadow_outputs"), "array.shadow_outputs", "the MX array (rtl/mx_array.v) has no shadow outputs");
  if (c.array.shadow_outputs && ws)
    fail(r.where("array.shadow_outputs"), "array.shadow_outputs", "only the output-stationary dataflow has stationary outputs");
  c.input_buffer = read_sram(r, "input_buffer");
  c.weight_buffer = read_sram(r, "weight_buffer");
  c.output_buffer = read_sram(r, "output_buffer");
  c.dram.bytes_per_cycle = static_cast<int>(r.integer("dram.bytes_per_cycle", std::nullopt, 1, 1 << 20));
  c.dram.latency = static_cast<int>(r.integer("dram.latency", std::nullopt, 0, 1 << 20));
  c.activation_sram.size_bytes = r.integer("activation_sram.size_bytes", 0, 0, int64_t{1} << 40);
  c.activation_sram.bytes_per_cycle =
      static_cast<int>(r.integer("activation_sram.bytes_per_cycle", c.activation_sram.bytes_per_cycle, 1, 1 << 20));
  c.activation_sram.latency = static_cast<int>(r.integer("activation_sram.latency", c.activation_sram.latency, 0, 1 << 20));
  c.activation_sram.banks = static_cast<int>(r.integer("activation_sram.banks", c.activation_sram.banks, 1, 1 << 16));
  c.os_k_tile = r.integer("lowering.os_k_tile", 0, 0, int64_t{1} << 30);
  c.queue_depth = static_cast<int>(r.integer("controller.queue_depth", 4, 1, 1024));
  c.watchdog_cycles = static_cast<uint64_t>(r.integer("controller.watchdog_cycles", 1000000, 0, int64_t{1} << 50));
  // [vector]: the BF16 vector unit (sim/vector_unit.h); every key optional, defaults from VectorUnitConfig.
  const VectorUnitConfig dv;
  VectorUnitConfig& v = c.vector;
  v.lanes = static_cast<int>(r.integer("vector.lanes", dv.lanes, 1, 1 << 16));
  v.latency = static_cast<int>(r.integer("vector.latency", dv.latency, 0, 1 << 16));
  const std::pair<const char*, int*> costs[] = {{"vector.add", &v.add},     {"vector.mul", &v.mul},
                                                {"vector.exp", &v.exp},     {"vector.div", &v.div},
                                                {"vector.rsqrt", &v.rsqrt}, {"vector.erf", &v.erf},
                                                {"vector.tanh", &v.tanh}};
  for (const auto& [key, field] : costs) *field = static_cast<int>(r.integer(key, *field, 1, 1 << 16));
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
