// Exact JSON of a design point's outcome, the --shard syntax, folder hashes (sweep_store.h).
#include "sweep_store.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "cli.h"
#include "fp8sim_tool_version.h"  // generated at build time (simrun/tool_version.cmake)

namespace fp8sim::simrun {

namespace {

using J = nlohmann::json;
template <class T>
struct Tag {};

// The field lists: one per struct, used for writing and for reading, so the two cannot disagree. A field added
// to one of these structs must be added here too, or a merged sweep would lose it: the size checks below make
// such a change fail to compile until this list is looked at (and the dist tests compare merged sweeps with
// single-process ones byte for byte).
static_assert(sizeof(report::FormatRun) == 912 && sizeof(report::NetworkSchedule) == 176 &&
                  sizeof(report::Accuracy) == 208 &&
                  sizeof(report::LayerRow) == 264 && sizeof(report::ConfigSummary) == 184 &&
                  sizeof(report::Totals) == 152 && sizeof(FormatOutcome) == 1280,
              "a report struct changed: update the field lists in simrun/sweep_store.cpp, then these sizes");

template <class S, class F>
void fields(S& s, F&& f, Tag<report::BufferConfig>) {
  f("name", s.name), f("size_bytes", s.size_bytes), f("banks", s.banks);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::ConfigSummary>) {
  f("name", s.name), f("pe", s.pe), f("accumulator", s.accumulator), f("dataflow", s.dataflow), f("rows", s.rows);
  f("cols", s.cols), f("clock_mhz", s.clock_mhz), f("buffers", s.buffers);
  f("dram_bytes_per_cycle", s.dram_bytes_per_cycle), f("dram_latency_cycles", s.dram_latency_cycles);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Stalls>) {
  f("dram_wait", s.dram_wait), f("buffer_conflict", s.buffer_conflict), f("fill_drain", s.fill_drain);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Energy>) {
  f("mac", s.mac), f("sram", s.sram), f("dram", s.dram), f("leakage", s.leakage);
  f("post_processing", s.post_processing), f("vector_unit", s.vector_unit), f("accumulator_adders", s.accumulator_adders);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Traffic>) {
  f("sram_read", s.sram_read), f("sram_written", s.sram_written), f("dram_read", s.dram_read);
  f("dram_written", s.dram_written);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::LayerRow>) {
  f("name", s.name), f("calls", s.calls), f("m", s.m), f("k", s.k), f("n", s.n), f("cycles", s.cycles);
  f("stalls", s.stalls), f("pe_utilization", s.pe_utilization), f("macs", s.macs), f("traffic", s.traffic);
  f("energy_pj", s.energy_pj), f("mapping", s.mapping), f("mapping_kind", s.mapping_kind);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Area>) {
  f("array_um2", s.array_um2), f("buffers_um2", s.buffers_um2), f("nand2_eq", s.nand2_eq);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Totals>) {
  f("cycles", s.cycles), f("macs", s.macs), f("stalls", s.stalls), f("traffic", s.traffic);
  f("energy_pj", s.energy_pj), f("area", s.area);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Interval>) {
  f("low", s.low), f("high", s.high);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::Accuracy>) {
  f("metric", s.metric), f("value", s.value), f("fp32_value", s.fp32_value), f("higher_is_better", s.higher_is_better);
  f("sqnr_db", s.sqnr_db), f("cosine", s.cosine), f("items", s.items), f("items_simulated", s.items_simulated);
  f("items_golden", s.items_golden), f("ci95", s.ci95), f("fp32_ci95", s.fp32_ci95);
  f("bootstrap_resamples", s.bootstrap_resamples), f("withheld", s.withheld);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::VerificationCheck>) {
  f("reference", s.reference), f("checked_outputs", s.checked_outputs), f("total_outputs", s.total_outputs);
  f("mismatches", s.mismatches);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::AccumulatorCheck>) {
  f("bound", s.bound), f("wrap_free_k", s.wrap_free_k), f("largest_k", s.largest_k), f("wrap_allowed", s.wrap_allowed);
  f("array_wrap_events", s.array_wrap_events), f("golden_wrap_events", s.golden_wrap_events);
  f("wrapped_outputs", s.wrapped_outputs);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::VectorOpRow>) {
  f("op", s.op), f("calls", s.calls), f("elements", s.elements), f("cycles", s.cycles), f("energy_pj", s.energy_pj);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::SpillRow>) {
  f("tensor", s.tensor), f("calls", s.calls), f("bytes", s.bytes);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::NetworkSchedule>) {
  f("present", s.present), f("activation_sram_bytes", s.activation_sram_bytes), f("batch", s.batch);
  f("resident_tensors", s.resident_tensors), f("spilled_tensors", s.spilled_tensors);
  f("resident_bytes", s.resident_bytes), f("spilled_bytes", s.spilled_bytes);
  f("spill_dram_read", s.spill_dram_read), f("spill_dram_written", s.spill_dram_written);
  f("io_dram_read", s.io_dram_read), f("io_dram_written", s.io_dram_written), f("dram_energy_pj", s.dram_energy_pj);
  f("dram_minimum_bytes", s.dram_minimum_bytes), f("requantized_outputs", s.requantized_outputs);
  f("timeline", s.timeline), f("serial_cycles", s.serial_cycles), f("overlapped_cycles", s.overlapped_cycles);
  f("hidden_prefetch_cycles", s.hidden_prefetch_cycles), f("leakage_correction_pj", s.leakage_correction_pj);
  f("spills", s.spills);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<report::FormatRun>) {
  f("format", s.format), f("config", s.config), f("layers", s.layers), f("vector_ops", s.vector_ops);
  f("totals", s.totals), f("accuracy", s.accuracy), f("verification", s.verification), f("accumulator", s.accumulator);
  f("network", s.network);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<workloads::ItemScores>) {
  f("metric", s.metric), f("correct", s.correct), f("pred", s.pred), f("gold", s.gold);
}
template <class S, class F>
void fields(S& s, F&& f, Tag<FormatOutcome>) {
  f("run", s.run), f("notes", s.notes), f("warnings", s.warnings), f("first_mismatch", s.first_mismatch);
  f("gemms", s.gemms), f("scores", s.scores), f("fp32_scores", s.fp32_scores), f("engine_checked", s.engine_checked);
}

struct Probe {
  template <class X>
  void operator()(const char*, X&) const {}
};
template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(fields(std::declval<T&>(), Probe{}, Tag<T>{}))>> : std::true_type {};

J enc(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
void dec(const J& j, double& v) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "nan") v = std::numeric_limits<double>::quiet_NaN();
    else if (s == "inf") v = std::numeric_limits<double>::infinity();
    else if (s == "-inf") v = -std::numeric_limits<double>::infinity();
    else throw std::runtime_error("'" + s + "' is not a number");
    return;
  }
  if (!j.is_number()) throw std::runtime_error("not a number");
  v = j.get<double>();
}

template <class T>
J enc(const T& v);
template <class T>
void dec(const J& j, T& v);

template <class T>
J enc(const std::optional<T>& v) {
  return v ? enc(*v) : J();
}
template <class T>
void dec(const J& j, std::optional<T>& v) {
  if (j.is_null()) return v.reset();
  T x{};
  dec(j, x);
  v = std::move(x);
}
template <class T>
J enc(const std::vector<T>& v) {
  J a = J::array();
  for (const T& x : v) a.push_back(enc(x));
  return a;
}
template <class T>
void dec(const J& j, std::vector<T>& v) {
  if (!j.is_array()) throw std::runtime_error("not an array");
  v.assign(j.size(), T{});
  for (size_t i = 0; i < j.size(); ++i) dec(j[i], v[i]);
}

template <class T>
J enc(const T& v) {
  if constexpr (has_fields<T>::value) {
    J o = J::object();
    fields(v, [&](const char* k, const auto& x) { o[k] = enc(x); }, Tag<T>{});
    return o;
  } else {
    static_assert(std::is_arithmetic_v<T> || std::is_same_v<T, std::string>, "no field list for this type");
    return J(v);
  }
}
template <class T>
void dec(const J& j, T& v) {
  if constexpr (has_fields<T>::value) {
    if (!j.is_object()) throw std::runtime_error("not an object");
    fields(
        v,
        [&](const char* k, auto& x) {
          const auto it = j.find(k);
          if (it == j.end()) throw std::runtime_error(std::string("missing field '") + k + "'");
          try {
            dec(*it, x);
          } catch (const std::exception& e) {
            throw std::runtime_error(std::string(k) + ": " + e.what());
          }
        },
        Tag<T>{});
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw std::runtime_error("not true or false");
    v = j.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) throw std::runtime_error("not a string");
    v = j.get<std::string>();
  } else {
    static_assert(std::is_integral_v<T>, "no field list for this type");
    if (!j.is_number_integer()) throw std::runtime_error("not an integer");
    if (std::is_unsigned_v<T> ? (!j.is_number_unsigned() || j.get<uint64_t>() > std::numeric_limits<T>::max())
                              : (j.get<int64_t>() < std::numeric_limits<T>::min() ||
                                 j.get<int64_t>() > std::numeric_limits<T>::max()))
      throw std::runtime_error("integer out of range");
    v = j.get<T>();
  }
}

}  // namespace

nlohmann::json outcome_to_json(const FormatOutcome& o) { return enc(o); }

FormatOutcome outcome_from_json(const nlohmann::json& j) {
  FormatOutcome o;
  dec(j, o);
  return o;
}

ShardSpec parse_shard(const std::string& text) {
  const std::string pre = "sweep: --shard '" + text + "': ";
  const size_t slash = text.find('/');
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (slash == std::string::npos || !digits(text.substr(0, slash)) || !digits(text.substr(slash + 1)))
    throw UsageError(pre + "expected I/N, shard I of N numbered from 0 (e.g. 0/4 .. 3/4)");
  ShardSpec s;
  s.index = std::stoul(text.substr(0, slash));
  s.count = std::stoul(text.substr(slash + 1));
  if (s.count == 0) throw UsageError(pre + "N must be at least 1");
  if (s.index >= s.count)
    throw UsageError(pre + "I must be below N (shards are numbered 0 .. " + std::to_string(s.count - 1) + ")");
  return s;
}

std::string fnv1a64_hex(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a offset basis and prime (64-bit)
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

std::string file_digest(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  f.seekg(0);
  constexpr std::streamoff kWhole = 64 << 20, kPart = 1 << 20;
  std::string data;
  auto read = [&](std::streamoff at, std::streamoff n) {
    std::string b(static_cast<size_t>(n), '\0');
    f.seekg(at);
    f.read(b.data(), n);
    data += b;
  };
  if (size <= kWhole) read(0, size);
  else read(0, kPart), read(size - kPart, kPart);
  return std::to_string(size) + ":" + fnv1a64_hex(data);
}

const char* tool_version() {
  // A build from a tree with uncommitted changes ("-dirty") is told apart from other such builds of the same
  // commit by the bytes of the running executable, so that stored results are not taken for its own.
  static const std::string v = [] {
    std::string s = FP8SIM_TOOL_VERSION;
    if (s.size() >= 6 && s.compare(s.size() - 6, 6, "-dirty") == 0) s += "+exe-" + file_digest("/proc/self/exe");
    return s;
  }();
  return v.c_str();
}

}  // namespace fp8sim::simrun
