#include "pipeline.h"

#include "network.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <thread>
#include <condition_variable>
#include <deque>
#include <memory>

#include <cstring>

#include "fp8sim/model/format.h"
#include "fp8sim/model/gemm_check.h"
#include "fp8sim/sim/fast_array.h"
#include "fp8sim/model/requant.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/mx_array.h"
#include "fp8sim/sim/vector_unit.h"

namespace fp8sim::simrun {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
std::string accumulator_name(const sim::ArrayParams& a) {
  if (a.mx) return sim::mx_accumulator_name(a);  // MX arrays: "exact" (sim/mx_array.h)
  return a.pe == sim::PeKind::Int8 ? "int32" : a.pe == sim::PeKind::Fp8Fixed ? "fixed" : "fp32";
}
std::string pe_name(const sim::ArrayParams& a) {
  if (a.mx) return sim::mx_pe_name(a);  // "mxfp8", "mxint8", ...
  return a.pe == sim::PeKind::Int8 ? "int8" : std::string(model::fp8_format(a.fmt_a).name);
}
}  // namespace

void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn) {
  if (!jobs) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<size_t>(jobs, n));
  std::vector<std::exception_ptr> errs(n);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i; (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        errs[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (auto& e : errs)
    if (e) std::rethrow_exception(e);
}

bool simulated_format(const std::string& f) {
  return f == "e4m3" || f == "e5m2" || f == "int8" || model::mx_kind_from_name(f).has_value();
}

std::string simulated_format_names() { return "e4m3, e5m2, int8, " + model::mx_format_names(); }

sim::AcceleratorConfig derive_config(const sim::AcceleratorConfig& base, const ConfigOverrides& o,
                                     const std::string& format, std::vector<std::string>* notes) {
  sim::AcceleratorConfig c = base;
  if (o.rows) c.array.rows = o.rows;
  if (o.cols) c.array.cols = o.cols;
  if (o.dataflow) c.array.dataflow = *o.dataflow;
  const auto mxk = model::mx_kind_from_name(format);
  if (!mxk && c.array.mx) {  // an MX base configuration running INT8/FP8: the same OS array with those PEs
    c.array.mx = false;
    c.array.pe = sim::PeKind::Fp8Fixed;
  }
  if (mxk) {
    // An MX array (sim/mx_array.h): output-stationary, exact (Kulisch) accumulation, float32 output words.
    if (!o.accumulator.empty() && o.accumulator != "exact")
      throw std::invalid_argument("--accumulator " + o.accumulator + ": the MX array (" + format +
                                  ") accumulates exactly (OCP MX v1.0 dot products, rtl/mx_pe.v)");
    if (o.dataflow && *o.dataflow != firmware::Dataflow::OutputStationary)
      throw std::invalid_argument("--dataflow ws: the MX array (" + format + ") is output-stationary (rtl/mx_array.v)");
    if (c.array.dataflow != firmware::Dataflow::OutputStationary && notes)
      notes->push_back(format + ": the MX array is output-stationary (rtl/mx_array.v): dataflow os instead of " +
                       (base.source.empty() ? base.name : base.source) + "'s ws");
    c.array.dataflow = firmware::Dataflow::OutputStationary;
    c.array.shadow_weights = c.array.shadow_outputs = false;
    sim::set_mx_array(c.array, *mxk, base.array.mx ? base.array.mx_block : model::kMxDefaultBlockSize);
  } else if (format == "int8") {
    c.array.pe = sim::PeKind::Int8;
    c.array.acc_width = 0;
  } else if (format == "e4m3" || format == "e5m2") {
    c.array.mx = false;
    c.array.fmt_a = c.array.fmt_b = format == "e4m3" ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2;
    if (o.accumulator == "fp32") c.array.pe = sim::PeKind::Fp8Float32;
    else if (o.accumulator == "exact") c.array.pe = sim::PeKind::Fp8Fixed;
    else if (base.array.pe == sim::PeKind::Int8) c.array.pe = sim::PeKind::Fp8Fixed;  // an INT8 file: exact FP8
    if (c.array.pe != sim::PeKind::Fp8Fixed) c.array.acc_width = 0;
  } else {
    throw std::invalid_argument("format '" + format + "' cannot be simulated (" + simulated_format_names() + ")");
  }
  if (o.input_buffer_bytes) c.input_buffer.size_bytes = o.input_buffer_bytes;
  if (o.weight_buffer_bytes) c.weight_buffer.size_bytes = o.weight_buffer_bytes;
  if (o.output_buffer_bytes) c.output_buffer.size_bytes = o.output_buffer_bytes;
  if (o.dram_bytes_per_cycle) c.dram.bytes_per_cycle = o.dram_bytes_per_cycle;
  // Each access must carry one array row (validate()): widen by banks, as a designer scaling the array would.
  const int64_t mxf = c.array.mx ? 2 : 1;  // MX: a block's last beat carries its codes and scales
  const int64_t row_bytes[3] = {mxf * c.array.rows, mxf * c.array.cols, int64_t{c.array.cols} * c.word_bytes()};
  sim::SramConfig* bufs[3] = {&c.input_buffer, &c.weight_buffer, &c.output_buffer};
  const char* names[3] = {"input_buffer", "weight_buffer", "output_buffer"};
  for (int i = 0; i < 3; ++i)
    if (bufs[i]->width_bytes() < row_bytes[i]) {
      const int banks = static_cast<int>((row_bytes[i] + bufs[i]->bank_width_bytes - 1) / bufs[i]->bank_width_bytes);
      if (notes)
        notes->push_back(std::string(names[i]) + ".banks raised from " + std::to_string(bufs[i]->banks) + " to " +
                         std::to_string(banks) + " so one access carries one " + std::to_string(c.array.rows) + "x" +
                         std::to_string(c.array.cols) + " array row (" + format + ")");
      bufs[i]->banks = banks;
    }
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("the ") + format + " configuration derived from " +
                                (base.source.empty() ? base.name : base.source) + " is not valid: " + e.what());
  }
  return c;
}

report::ConfigSummary summarize(const sim::AcceleratorConfig& cfg) {
  report::ConfigSummary s;
  s.name = cfg.name;
  s.pe = pe_name(cfg.array);
  s.accumulator = accumulator_name(cfg.array);
  s.dataflow = cfg.array.dataflow == firmware::Dataflow::WeightStationary ? "ws" : "os";
  s.rows = static_cast<uint32_t>(cfg.array.rows);
  s.cols = static_cast<uint32_t>(cfg.array.cols);
  s.clock_mhz = cfg.clock_mhz;
  s.buffers = {{"input", static_cast<uint64_t>(cfg.input_buffer.size_bytes), static_cast<uint32_t>(cfg.input_buffer.banks)},
               {"weight", static_cast<uint64_t>(cfg.weight_buffer.size_bytes), static_cast<uint32_t>(cfg.weight_buffer.banks)},
               {"output", static_cast<uint64_t>(cfg.output_buffer.size_bytes), static_cast<uint32_t>(cfg.output_buffer.banks)}};
  s.dram_bytes_per_cycle = cfg.dram.bytes_per_cycle;
  s.dram_latency_cycles = static_cast<uint32_t>(cfg.dram.latency);
  return s;
}

// ---------------------------------------------------------------- progress

Progress::Progress(bool enabled, std::vector<std::string> slots) : enabled_(enabled), t0_(now_s()) {
  for (auto& s : slots) slots_.push_back(Slot{std::move(s)});
}

void Progress::plan(size_t slot, uint64_t macs_total, uint64_t calls_total) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_.at(slot).macs_total = macs_total;
  slots_.at(slot).calls_total = calls_total;
}

void Progress::gemm_done(size_t slot, uint64_t macs, uint64_t cycles) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slots_.at(slot);
  s.macs += macs;
  s.cycles += cycles;
  ++s.calls;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_ || last_draw_ < 0) return;
  draw(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  const double t = now_s() - t0_;
  if (!force && last_draw_ >= 0 && t - last_draw_ < 0.5) return;
  last_draw_ = t;
  std::string line;
  uint64_t cycles = 0;
  double frac_min = 1.0;
  for (const Slot& s : slots_) {
    const double frac = s.macs_total ? std::min(1.0, double(s.macs) / double(s.macs_total)) : 0.0;
    frac_min = std::min(frac_min, frac);
    char b[160];
    std::snprintf(b, sizeof b, "%s%s layer %llu/%llu %3.0f%%", line.empty() ? "" : " | ", s.name.c_str(),
                  static_cast<unsigned long long>(s.calls), static_cast<unsigned long long>(s.calls_total), 100 * frac);
    line += b;
    cycles += s.cycles;
  }
  char b[200];
  const double left = frac_min > 0.02 ? t * (1 - frac_min) / frac_min : -1;
  if (left >= 0)
    std::snprintf(b, sizeof b, " | %.1f Mcycles simulated, %.2f Mcycles/s, %.0f s elapsed, ~%.0f s left", cycles / 1e6,
                  t > 0 ? cycles / 1e6 / t : 0.0, t, left);
  else
    std::snprintf(b, sizeof b, " | %.1f Mcycles simulated, %.0f s elapsed", cycles / 1e6, t);
  line += b;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

// ---------------------------------------------------------------- one format on one configuration

namespace {

struct LayerAgg {
  report::LayerRow row;
  cost::EnergyBreakdown energy;
};

void add_energy(report::Energy& e, const cost::EnergyBreakdown& b) {
  e.mac += b.mac_pj;
  e.sram += b.sram_pj;
  e.dram += b.dram_pj;
  e.leakage += b.leakage_pj;
  e.post_processing += b.postproc_pj;
  e.accumulator_adders += b.adder_pj;
}

cost::EventCounts event_counts(const sim::AcceleratorConfig& cfg, const sim::Stats& st) {
  cost::EventCounts e;
  e.cycles = st.cycles;
  e.macs = st.macs;
  e.pe = pe_name(cfg.array);
  e.accumulator = cfg.array.mx ? accumulator_name(cfg.array) : cfg.array.pe == sim::PeKind::Fp8Float32 ? "fp32" : "fixed";
  if (cfg.array.mx) e.mx_rounded_outputs = st.array_rows_out * uint64_t(cfg.array.cols);  // Kulisch -> float32 at the edge
  e.toggles_measured = cfg.array.toggles;
  e.operand_toggles = st.toggles.a_regs + st.toggles.b_regs;
  e.accumulator_toggles = st.toggles.acc_regs;
  const sim::SramConfig* b[3] = {&cfg.input_buffer, &cfg.weight_buffer, &cfg.output_buffer};
  const sim::BufferStats* s[3] = {&st.input, &st.weight, &st.output};
  const char* names[3] = {"input", "weight", "output"};
  for (int i = 0; i < 3; ++i)
    e.buffers.push_back({names[i], static_cast<uint64_t>(b[i]->size_bytes), static_cast<uint32_t>(b[i]->banks),
                         s[i]->bytes_read, s[i]->bytes_written});
  if (cfg.activation_sram.size_bytes > 0)
    e.buffers.push_back({"activation", static_cast<uint64_t>(cfg.activation_sram.size_bytes),
                         static_cast<uint32_t>(cfg.activation_sram.banks), st.act_sram_read, st.act_sram_written});
  e.dram_bytes_read = st.dram_read;
  e.dram_bytes_written = st.dram_written;
  e.postprocessed = st.postprocessed;
  e.buffer_adds = st.buffer_adds;
  e.rows = static_cast<uint32_t>(cfg.array.rows);
  e.cols = static_cast<uint32_t>(cfg.array.cols);
  e.clock_mhz = cfg.clock_mhz;
  return e;
}


// One simulated GEMM (a weight layer's calls of a batch stacked, or one attention call): prepared in program
// order, simulated and compared on a pool thread, and aggregated into the report in program order once all are
// done (so the report is the same for any thread count).
struct SimTask {
  std::string name;
  int64_t m = 0, k = 0, n = 0;
  bool on_chip = false;
  sim::GemmPostJob pj;
  firmware::GemmSpec spec;
  firmware::Mapping mapping;
  sim::GemmPlacement placement;
  std::unique_ptr<sim::ConvInput> conv;
  size_t net_index = 0, sim_index = 0;
  sim::GemmJob job;
  sim::MxScales mx;                                     // MX: the scales (--check-engine's re-run)
  bool is_mx = false;
  std::vector<int64_t> part_m;                          // rows of each call stacked in the GEMM
  std::vector<std::vector<float>> host_out;             // per call: the golden outputs the network continued with
  std::vector<std::vector<uint8_t>> host_codes;         // per call (outputs requantized to the consumer's code)
  std::vector<std::vector<model::AccWord>> host_words;  // per call (--store accumulators)
  // results
  std::exception_ptr error;
  uint64_t checked = 0, mismatches = 0, rtl_checked = 0, rtl_mismatches = 0;
  std::string first_mismatch;
  sim::Stats st;  // without the per-command records
  cost::EnergyBreakdown energy;
  std::vector<std::string> notes;
  bool engine_checked = false;
  double sim_s = 0, compare_s = 0;
};

// Runs submitted tasks on `threads` workers (1: at once, on the caller's thread). submit blocks while 2 x threads
// tasks wait (the network does not run far ahead of the simulations).
class GemmPool {
 public:
  explicit GemmPool(unsigned threads) : n_(std::max(1u, threads)) {}
  ~GemmPool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void submit(std::function<void()> f) {
    if (n_ == 1) {
      f();
      return;
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (workers_.empty())
      for (unsigned i = 0; i < n_; ++i) workers_.emplace_back([this] { loop(); });
    room_.wait(lk, [&] { return q_.size() < 2 * size_t(n_); });
    q_.push_back(std::move(f));
    ++outstanding_;
    cv_.notify_one();
  }
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [&] { return outstanding_ == 0; });
  }
  bool failed() const { return failed_; }
  void set_failed() { failed_ = true; }

 private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
        room_.notify_one();
      }
      f();
      std::lock_guard<std::mutex> lk(mu_);
      if (--outstanding_ == 0) done_.notify_all();
    }
  }
  unsigned n_;
  std::mutex mu_;
  std::condition_variable cv_, room_, done_;
  std::deque<std::function<void()>> q_;
  std::vector<std::thread> workers_;
  size_t outstanding_ = 0;
  bool stop_ = false;
  std::atomic<bool> failed_{false};
};

void rethrow_first_error(const std::deque<std::unique_ptr<SimTask>>& tasks) {
  for (const auto& t : tasks)
    if (t->error) std::rethrow_exception(t->error);
}

// The bytes of every field of a GemmSpec (the mapper's and the lowering's only input besides the target and
// the costs, which are fixed per format): a memo key for choose_mapping / fixed_mapping / k_chunk, which are
// pure functions of it (bert-base asks for the same dozen shapes thousands of times).
std::string spec_key(const firmware::GemmSpec& g) {
  std::string k;
  const auto put = [&](const auto& v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(g.m), put(g.k), put(g.n), put(g.a_addr), put(g.b_addr), put(g.c_addr), put(g.a_stride), put(g.b_stride);
  put(g.layer);
  put(g.post.enabled), put(g.post.scale_addr), put(g.post.bias_addr), put(g.post.out_addr), put(g.post.out_fmt);
  put(g.post.out_scale), put(g.post.has_bias), put(g.post.row_scales), put(g.post.row_scale_addr);
  put(g.post.via_bf16);
  const firmware::ConvSpec& c = g.gather.conv;
  put(g.gather.enabled), put(g.gather.pad_code), put(c.batch), put(c.in_h), put(c.in_w), put(c.in_c), put(c.out_c);
  put(c.kh), put(c.kw), put(c.stride), put(c.pad);
  put(g.mx.enabled), put(g.mx.block), put(g.mx.a_scale_addr), put(g.mx.b_scale_addr);
  return k;
}

// --check-engine: whether simulated GEMM `index` is re-run (splitmix64 of the seed and the index, below P percent).
bool engine_check_selected(double pct, uint64_t seed, size_t index) {
  if (pct <= 0) return false;
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + uint64_t(index) + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z % 1000000) < pct * 10000.0;
}

}  // namespace

uint64_t rtl_checked_outputs(const sim::Stats& st, int64_t m, int64_t n) {
  if (!st.rtl_compared_all()) return 0;
  return static_cast<uint64_t>(m) * static_cast<uint64_t>(n);
}

std::string verification_failure(const std::vector<report::FormatRun>& runs) {
  std::string msg;
  for (const report::FormatRun& r : runs) {
    if (r.verification.empty()) msg += (msg.empty() ? "" : "; ") + r.format + ": no verification";
    for (const report::VerificationCheck& v : r.verification) {
      if (v.checked_outputs < v.total_outputs)
        msg += (msg.empty() ? "" : "; ") + r.format + " against " + v.reference + ": " +
               std::to_string(v.total_outputs - v.checked_outputs) + " of " + std::to_string(v.total_outputs) +
               " GEMM outputs were not compared";
      if (v.mismatches)
        msg += (msg.empty() ? "" : "; ") + r.format + " against " + v.reference + ": " +
               std::to_string(v.mismatches) + " mismatches";
    }
  }
  return msg;
}

FormatOutcome run_format(const PipelineSetup& setup, const std::string& format, const sim::AcceleratorConfig& cfg,
                         Progress* progress, size_t slot, const BackendWrap& wrap) {
  const double t0 = now_s();
  FormatOutcome out;
  const auto mxk = model::mx_kind_from_name(format);
  const auto fmt = mxk ? std::optional<quant::Format>(quant::Format::E4M3) : quant::format_from_string(format);
  if (!fmt || !simulated_format(format))
    throw std::invalid_argument("format '" + format + "' cannot be simulated (" + simulated_format_names() + ")");
  if (bool(mxk) != cfg.array.mx || (mxk && cfg.array.mx_kind != *mxk))
    throw std::logic_error("format " + format + " on a configuration whose array is " + pe_name(cfg.array));
  const model::GemmNumerics array_num = cfg.array.numerics();  // MX: how the float32 output words are read
  std::optional<model::MxGemmNumerics> array_mx;  // MX: the array's MAC semantics (golden_gemm_mx)
  if (mxk) array_mx = sim::mx_gemm_numerics(cfg.array);
  std::vector<LayerAgg> layers;
  std::map<std::string, size_t> index;
  std::set<std::string> notes;
  if (setup.store_accumulators)
    notes.insert("--store accumulators (debugging): raw accumulator words went to DRAM and the host "
                 "post-processed them; the accelerator as built post-processes on chip");
  uint64_t checked = 0, mismatches = 0, rtl_checked = 0, rtl_mismatches = 0;
  report::AccumulatorCheck accum;
  const bool can_wrap = array_num.acc != model::AccumulatorKind::Float32;
  accum.wrap_free_k = model::max_wrap_free_k(array_num);
  accum.bound = model::wrap_bound_text(array_num);
  accum.wrap_allowed = setup.allow_accumulator_wrap;
  double sim_s = 0, golden_s = 0;
  NetworkSchedule net(cfg);  // where tensors live between operations (network.h)
  net.set_timeline(true);  // (with --batch every operation carries its place in program order: OpOrder)

  workloads::RunOptions opt;
  opt.quantize = true;
  opt.recipe = setup.recipe;
  opt.recipe.format = *fmt;  // MX: any quantized format (the executor's MX mode replaces it)
  if (array_mx) {
    // MX: weights and activations in blocks along K (activation scales from the data at run time), BitExact
    // GEMMs with the array's semantics; the executor hands codes and scales to the verifying backend.
    opt.mx = model::MxConfig{array_mx->a_kind, array_mx->block_size};
    opt.mx_acc = array_mx->acc;
  }
  opt.mode = quant::ExecMode::BitExact;
  opt.bitexact.fp8_acc = array_num.acc == model::AccumulatorKind::Float32 ? model::AccumulatorKind::Float32
                                                                            : model::AccumulatorKind::FixedPoint;
  opt.calib_count = setup.calib_items;
  opt.items = setup.items;
  opt.golden_items = setup.golden_items;  // bit-exact on the host's golden GEMM, not simulated
  opt.golden_threads = setup.golden_threads;
  // The energy objective's per-byte figures from the cost model's own table.
  firmware::MappingCosts mapping_costs;
  mapping_costs.dram_pj_per_byte = setup.energy->dram_pj_per_64b.value / 8.0;
  mapping_costs.sram_pj_per_byte = cost::sram_pj_per_byte(*setup.energy, double(cfg.input_buffer.size_bytes) / cfg.input_buffer.banks);
  // The network's GEMM calls, as the executor makes them. Each call is checked and its golden result computed
  // on the host at once (model::check_gemm: golden_gemm's words, by exact double sums where they apply; in the
  // accumulation order of the lowering, then the host's
  // post-processing, model/requant.h): that is what the network continues with. The accelerator simulates the
  // calls when a batch of items is complete (--batch N; N = 1: after every call): calls of one weight layer from
  // the batch's items become ONE GEMM (their activation rows stacked, the weights read once); attention matmuls
  // (both operands activations) stay one GEMM per call. Every simulated output is compared bit for bit with the
  // golden result the network used.
  struct Pending {
    std::string name;
    bool act_act = false;
    int64_t m = 0, k = 0, n = 0, k_chunk = 0;
    std::vector<uint8_t> a, b;
    sim::MxScales mx;                        // MX: A's M x nb and B's N x nb block scales (make_gemm_job's layout)
    bool on_chip = false;
    sim::GemmPostJob pj;
    bool is_conv = false;                    // A is the im2col matrix of a convolution's input (implicit im2col)
    quant::GemmConv conv;
    std::vector<float> host_out;             // on chip: the golden outputs the network continued with
    std::vector<model::AccWord> host_words;  // raw words (--store accumulators)
    // Requantized to the consuming GEMM's code (GemmPost::to_consumer): the codes the consumer gives host_out.
    bool requant = false;
    std::vector<uint8_t> host_codes;
    std::optional<quant::OpIo> io;           // the tensors it writes and reads (the network's timeline)
    uint64_t item = 0, pos = 0;              // its item and position in the item's calls (--batch: the timeline)
  };
  // The GEMM as lowered: shape, post-processing fields (they count in the mapper's DRAM estimate) and, for a
  // convolution with implicit im2col, the gather of A from the NHWC input of `images` images.
  const auto gemm_spec = [&](int64_t m, int64_t k, int64_t n, bool on_chip, const sim::GemmPostJob& pj,
                             const Pending* conv, int64_t images) {
    firmware::GemmSpec spec;
    if (conv && conv->is_conv && setup.implicit_im2col) {
      firmware::ConvSpec cs;
      cs.batch = images, cs.in_h = conv->conv.in_h, cs.in_w = conv->conv.in_w, cs.in_c = conv->conv.in_c;
      cs.out_c = n, cs.kh = conv->conv.kh, cs.kw = conv->conv.kw, cs.stride = conv->conv.stride, cs.pad = conv->conv.pad;
      spec = firmware::conv_as_gemm(cs, 0, 0, 0, 0, true, 0);
    }
    spec.m = m, spec.k = k, spec.n = n;
    if (cfg.array.mx) spec.mx.enabled = true, spec.mx.block = cfg.array.mx_block;
    if (on_chip) {
      spec.post.enabled = true;
      spec.post.out_fmt = pj.out_fmt;
      spec.post.has_bias = !pj.bias.empty();
      spec.post.row_scales = !pj.row_scales.empty();
      spec.post.out_scale = pj.out_scale;
      spec.post.via_bf16 = pj.via_bf16;
    }
    return spec;
  };
  // Memos of the mapper and of the lowering's accumulation order, by spec_key (pure functions of the spec here).
  std::map<std::string, firmware::Mapping> mapping_memo;
  std::map<std::string, int64_t> k_chunk_memo;
  const auto mapping_for = [&](const firmware::GemmSpec& spec, bool auto_map) -> const firmware::Mapping& {
    const std::string key = std::string(auto_map ? "a" : "f") + spec_key(spec);
    auto it = mapping_memo.find(key);
    if (it == mapping_memo.end())
      it = mapping_memo
               .emplace(key, auto_map
                                 ? firmware::choose_mapping(cfg.target(), spec, setup.mapping_objective, mapping_costs)
                                 : firmware::fixed_mapping(cfg.target(), spec, mapping_costs))
               .first;
    return it->second;
  };
  const auto k_chunk_for = [&](const firmware::GemmSpec& spec, bool auto_map) -> int64_t {
    const std::string key = std::string(auto_map ? "a" : "f") + spec_key(spec);
    auto it = k_chunk_memo.find(key);
    if (it == k_chunk_memo.end())
      it = k_chunk_memo
               .emplace(key, (auto_map ? firmware::lower_gemm(cfg.target(), spec, mapping_for(spec, true))
                                                 : firmware::lower_gemm(cfg.target(), spec))
                                 .k_chunk)
               .first;
    return it->second;
  };
  std::vector<Pending> pending;
  uint64_t calls_seen = 0;
  // --batch N > 1: every operation's place in the accelerator's program order (NetworkSchedule::OpOrder): its
  // item (items are numbered from 0 as the executor runs them) and its position among the item's calls.
  const uint64_t batch_n = std::max<size_t>(setup.batch, 1);
  uint64_t item_now = 0, pos_now = 0;
  size_t simulated_count = 0;
  // The simulation of one task and its comparison with the golden results the network used (any thread).
  std::deque<std::unique_ptr<SimTask>> tasks;
  const auto execute = [&](SimTask& t) {
    const double ts = now_s();
    sim::GemmJob& job = t.job;
    const int64_t n = t.n;
    try {
      job.acc->run();
    } catch (const std::exception& e) {
      throw std::runtime_error(format + ", layer " + t.name + ": " + e.what());
    }
    // --check-engine: the selected GEMMs again on the other model engine, compared field by field.
    if (setup.engine != sim::Engine::Rtl &&
        engine_check_selected(setup.check_engine_pct, setup.check_engine_seed, t.sim_index)) {
      const sim::Engine other = setup.engine == sim::Engine::Fast ? sim::Engine::Model : sim::Engine::Fast;
      sim::GemmJob ref = sim::make_gemm_job(cfg, t.m, t.k, t.n, job.a, job.b, other, t.on_chip ? &t.pj : nullptr,
                                            setup.mapping_auto && !t.is_mx ? &t.mapping : nullptr, t.placement,
                                            t.conv.get(), t.is_mx ? &t.mx : nullptr);
      ref.acc->run();
      std::string diff = sim::stats_difference(job.acc->stats(), ref.acc->stats());
      if (diff.empty() && job.acc->dram() != ref.acc->dram()) diff = "DRAM contents (output words) differ";
      if (!diff.empty())
        throw std::runtime_error("--check-engine: " + format + ", layer " + t.name + " (simulated GEMM " +
                                 std::to_string(t.sim_index) + "): the fast and cycle engines differ: " + diff);
      t.engine_checked = true;
    }
    const double tg = now_s();
    t.sim_s += tg - ts;
    // Verification: the simulated outputs against the golden results the network used, bit for bit.
    size_t row0 = 0;
    if (t.on_chip && t.pj.via_bf16) {
      // Requantized to the consuming GEMM's code: byte for byte against the codes the consumer computes from
      // the BF16 outputs the network continued with (quant::quantize_code, the consumer's own quantization).
      const std::vector<uint8_t> bytes = job.outputs();
      for (size_t q = 0; q < t.part_m.size(); ++q) {
        const std::vector<uint8_t>& host = t.host_codes[q];
        for (size_t i = 0; i < host.size(); ++i) {
          ++t.checked;
          const uint8_t got = bytes[row0 * size_t(n) + i];
          if (got != host[i] && ++t.mismatches == 1) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "]: simulated %s code 0x%02x, golden 0x%02x (from %.9g)",
                          model::out_format_name(t.pj.out_fmt), unsigned(got), unsigned(host[i]), double(t.host_out[q][i]));
            t.first_mismatch = format + ", layer " + t.name + ", output [" + std::to_string(i / size_t(n)) + "][" +
                               std::to_string(i % size_t(n)) + buf;
          }
        }
        row0 += size_t(t.part_m[q]);
      }
    } else if (t.on_chip) {
      const std::vector<uint8_t> bytes = job.outputs();
      const int ob = model::out_format_bytes(t.pj.out_fmt);
      for (size_t q = 0; q < t.part_m.size(); ++q) {
        const std::vector<float>& host = t.host_out[q];
        for (size_t i = 0; i < host.size(); ++i) {
          ++t.checked;  // counted where the comparison happens
          const float got = model::stored_float(t.pj.out_fmt, bytes.data() + (row0 * size_t(n) + i) * size_t(ob));
          uint32_t x, y;
          std::memcpy(&x, &got, 4);
          std::memcpy(&y, &host[i], 4);
          if (x != y && ++t.mismatches == 1) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "]: simulated %.9g (0x%08x), golden %.9g (0x%08x)", double(got), x,
                          double(host[i]), y);
            t.first_mismatch = format + ", layer " + t.name + ", output [" + std::to_string(i / size_t(n)) + "][" +
                               std::to_string(i % size_t(n)) + buf;
          }
        }
        row0 += size_t(t.part_m[q]);
      }
    } else {
      const std::vector<model::AccWord> words = job.output();
      for (size_t q = 0; q < t.part_m.size(); ++q) {
        const std::vector<model::AccWord>& host = t.host_words[q];
        for (size_t i = 0; i < host.size(); ++i)
          if (++t.checked, words[row0 * size_t(n) + i] != host[i] && ++t.mismatches == 1)
            t.first_mismatch = format + ", layer " + t.name + ", C[" + std::to_string(i / size_t(n)) + "][" +
                               std::to_string(i % size_t(n)) + "]: simulated " +
                               model::acc_word_to_string(array_num, words[row0 * size_t(n) + i]) + ", golden " +
                               model::acc_word_to_string(array_num, host[i]);
        row0 += size_t(t.part_m[q]);
      }
    }
    t.compare_s = now_s() - tg;
    const sim::Stats& st = job.acc->stats();
    net.simulated(t.net_index, NetworkSchedule::phases(st));  // (thread-safe: network.h)
    if (setup.engine == sim::Engine::Rtl) {
      t.rtl_checked = rtl_checked_outputs(st, t.m, t.n);
      t.rtl_mismatches = st.rtl_mismatches;
    }
    const uint64_t macs = static_cast<uint64_t>(t.m * t.k * t.n);
    if (st.macs != macs)
      throw std::logic_error("layer " + t.name + ": the accelerator counted " + std::to_string(st.macs) +
                             " MACs, the GEMM has " + std::to_string(macs));
    t.energy = cost::energy(*setup.energy, *setup.area, event_counts(cfg, st), &t.notes);
    if (t.on_chip && t.pj.via_bf16) {
      // Requantization to the consumer's code: beyond the unit's per-output figure (cost/: scale multiply, bias
      // add, format conversion), each output is divided by the consumer's scale and rounded a second time (BF16,
      // then the code): one fp32 multiply and one 8-bit add (assumption; Horowitz ISSCC 2014 has no divider).
      const auto prim = [&](const char* key) {
        const auto it = setup.energy->primitives_pj.find(key);
        if (it == setup.energy->primitives_pj.end())
          throw std::runtime_error(std::string("energy table: primitives_pj.") + key + ": missing");
        return it->second.value;
      };
      const double extra = double(t.m * t.n) * (prim("fp32_mul") + prim("int_add_8b"));
      t.energy.postproc_pj += extra;
      t.energy.total_pj += extra;
    }
    t.st = st;
    t.st.commands.clear();
    t.st.commands.shrink_to_fit();
    if (progress) progress->gemm_done(slot, macs, st.cycles);
    t.job = sim::GemmJob{};  // free the accelerator and operands
    t.conv.reset();
    t.host_out = {};
    t.host_words = {};
    t.host_codes = {};
  };
  GemmPool pool(setup.gemm_threads);
  const auto simulate = [&](std::vector<Pending*> parts) {
    if (pool.failed()) {  // an earlier GEMM's simulation failed: stop with the first error (in program order)
      pool.wait();
      rethrow_first_error(tasks);
    }
    const Pending& p0 = *parts.front();
    int64_t m = 0;
    for (const Pending* p : parts) m += p->m;
    const int64_t k = p0.k, n = p0.n;
    const bool on_chip = p0.on_chip;
    std::string name = p0.name;
    std::vector<uint8_t> a;
    a.reserve(size_t(m * k));
    for (const Pending* p : parts) a.insert(a.end(), p->a.begin(), p->a.end());
    sim::MxScales mx;  // MX: A's scales stacked as its rows, B's as they are
    if (cfg.array.mx) {
      for (const Pending* p : parts) mx.a.insert(mx.a.end(), p->mx.a.begin(), p->mx.a.end());
      mx.b = p0.mx.b;
    }
    sim::GemmPostJob pj = p0.pj;
    if (!pj.row_scales.empty()) {
      pj.row_scales.clear();
      for (const Pending* p : parts) pj.row_scales.insert(pj.row_scales.end(), p->pj.row_scales.begin(), p->pj.row_scales.end());
    }
    const double ts = now_s();
    // The mapping: chosen for the GEMM as make_gemm_job lowers it, or the fixed order.
    const firmware::GemmSpec spec = gemm_spec(m, k, n, on_chip, pj, &p0, int64_t(parts.size()));
    // Implicit im2col: the images' NHWC input codes, recovered from their im2col rows (every input element
    // a tap reads; the others are never read), and checked: the gather must give back exactly A.
    std::unique_ptr<sim::ConvInput> conv;
    if (spec.gather.enabled) {
      conv = std::make_unique<sim::ConvInput>();
      conv->conv = spec.gather.conv;
      const firmware::ConvSpec& cs = conv->conv;
      const int64_t img = cs.in_h * cs.in_w * cs.in_c, oh = cs.out_h(), ow = cs.out_w();
      conv->nhwc.assign(size_t(cs.batch * img), 0);
      for (int64_t b = 0; b < cs.batch; ++b)
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            const uint8_t* row = a.data() + ((b * oh + oy) * ow + ox) * k;
            for (int64_t ky = 0; ky < cs.kh; ++ky)
              for (int64_t kx = 0; kx < cs.kw; ++kx) {
                const int64_t iy = oy * cs.stride - cs.pad + ky, ix = ox * cs.stride - cs.pad + kx;
                if (iy < 0 || iy >= cs.in_h || ix < 0 || ix >= cs.in_w) continue;
                std::copy_n(row + (ky * cs.kw + kx) * cs.in_c, cs.in_c,
                            conv->nhwc.begin() + b * img + (iy * cs.in_w + ix) * cs.in_c);
              }
          }
      if (firmware::im2col(cs, conv->nhwc.data(), 0) != a)
        throw std::logic_error("layer " + name + ": its A is not the im2col matrix of a convolution input");
    }
    // Where A (and attention's B) come from and the outputs go: the activation SRAM when they fit.
    NetworkSchedule::OpOrder order{p0.item / batch_n, p0.pos, {}};
    for (const Pending* p : parts) order.pos = std::min(order.pos, p->pos), order.items.push_back(p->item);
    const NetworkSchedule::Decision where =
        net.gemm(name, p0.act_act, m, k, n, on_chip ? model::out_format_bytes(pj.out_fmt) : 0,
                 conv ? int64_t(conv->nhwc.size()) : -1, p0.io ? &*p0.io : nullptr, p0.requant,
                 batch_n > 1 ? &order : nullptr);
    sim::GemmJob job;
    firmware::Mapping mapping;
    try {
      // (MX: the MX lowering's one fixed order; the mapping is only described.)
      mapping = mapping_for(spec, setup.mapping_auto && !cfg.array.mx);
      job = sim::make_gemm_job(cfg, m, k, n, std::move(a), p0.b, setup.engine, on_chip ? &pj : nullptr,
                               setup.mapping_auto && !cfg.array.mx ? &mapping : nullptr, where.placement, conv.get(),
                               cfg.array.mx ? &mx : nullptr);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layer " + name + " (M=" + std::to_string(m) + " K=" + std::to_string(k) +
                                  " N=" + std::to_string(n) + ") does not fit " + cfg.name + ": " + e.what());
    }
    if (job.lowered.k_chunk != p0.k_chunk)
      throw std::logic_error("layer " + name + ": the batched GEMM's accumulation order (K chunks of " +
                             std::to_string(job.lowered.k_chunk) + ") differs from the per-call one (" +
                             std::to_string(p0.k_chunk) + ")");
    if (setup.engine == sim::Engine::Rtl) job.acc->set_tile_golden_check(false);  // the whole GEMM is checked below
    auto t = std::make_unique<SimTask>();
    t->name = name;
    t->m = m, t->k = k, t->n = n;
    t->on_chip = on_chip;
    t->pj = pj;
    t->spec = spec;
    t->mapping = mapping;
    t->placement = where.placement;
    t->net_index = where.index;
    t->conv = std::move(conv);  // (implicit im2col: the input the job gathers A from; --check-engine's re-run too)
    t->sim_index = simulated_count++;
    t->job = std::move(job);
    t->is_mx = cfg.array.mx;
    if (t->is_mx && setup.check_engine_pct > 0) t->mx = std::move(mx);
    for (Pending* p : parts) {
      t->part_m.push_back(p->m);
      t->host_out.push_back(std::move(p->host_out));
      t->host_words.push_back(std::move(p->host_words));
      t->host_codes.push_back(std::move(p->host_codes));
    }
    t->sim_s = now_s() - ts;
    SimTask* tp = t.get();
    tasks.push_back(std::move(t));
    pool.submit([&, tp] {
      try {
        execute(*tp);
      } catch (...) {
        tp->error = std::current_exception();
        pool.set_failed();
      }
    });
  };
  // Simulates the pending calls: weight layers merged per name (first-call order), attention matmuls alone.
  double sim_wall = 0;  // the format's thread inside flush() and the final wait (the simulations' wall share)
  const auto flush = [&]() {
    const double tf = now_s();
    struct Add {
      double& acc;
      double t0;
      ~Add() { acc += now_s() - t0; }
    } add{sim_wall, tf};
    std::vector<std::vector<Pending*>> groups;
    std::map<std::string, size_t> group_of;
    for (Pending& p : pending) {
      auto g = group_of.end();
      if (!p.act_act) g = group_of.find(p.name);
      // Merged only when the weights and the post-processing's column parameters are the same bytes.
      if (g != group_of.end()) {
        const Pending& q = *groups[g->second].front();
        if (q.b != p.b || q.mx.b != p.mx.b || q.k != p.k || q.n != p.n || q.on_chip != p.on_chip || q.pj.col_scales != p.pj.col_scales ||
            q.pj.bias != p.pj.bias || q.pj.out_fmt != p.pj.out_fmt || q.pj.out_scale != p.pj.out_scale ||
            q.pj.via_bf16 != p.pj.via_bf16 || q.pj.row_scales.empty() != p.pj.row_scales.empty() ||
            q.k_chunk != p.k_chunk || q.is_conv != p.is_conv || q.conv.in_h != p.conv.in_h ||
            q.conv.in_w != p.conv.in_w || q.conv.in_c != p.conv.in_c || q.conv.kh != p.conv.kh ||
            q.conv.kw != p.conv.kw || q.conv.stride != p.conv.stride || q.conv.pad != p.conv.pad)
          g = group_of.end();
      }
      if (g == group_of.end()) {
        if (!p.act_act) group_of[p.name] = groups.size();
        groups.push_back({&p});
      } else {
        groups[g->second].push_back(&p);
      }
    }
    try {
      for (auto& g : groups) simulate(std::move(g));
    } catch (...) {
      pool.wait();
      rethrow_first_error(tasks);  // an earlier GEMM's error comes first (as when simulated one after another)
      throw;
    }
    pending.clear();
  };
  const quant::GemmBackend verifying = [&](const quant::GemmCall& c) -> std::vector<model::AccWord> {
    if (bool(c.mx) != bool(array_mx))
      throw std::logic_error("GEMM '" + c.name + "' is " + (c.mx ? c.mx->num.describe() : c.num.describe()) +
                             " but the array computes " + (array_mx ? array_mx->describe() : array_num.describe()));
    if (c.mx) {
      const model::MxGemmNumerics& g = c.mx->num;
      if (g.a_kind != array_mx->a_kind || g.b_kind != array_mx->b_kind || g.block_size != array_mx->block_size ||
          g.acc != array_mx->acc)
        throw std::logic_error("GEMM '" + c.name + "' is " + g.describe() + " but the MX array computes " +
                               array_mx->describe());
    } else if (c.num.int8 != array_num.int8 ||
               (!c.num.int8 && (c.num.a_kind != array_num.a_kind || c.num.b_kind != array_num.b_kind))) {
      throw std::logic_error("GEMM '" + c.name + "' is " + c.num.describe() + " but the array computes " +
                             array_num.describe());
    }
    accum.largest_k = std::max<uint64_t>(accum.largest_k, static_cast<uint64_t>(c.k));
    if (can_wrap && c.k > accum.wrap_free_k && !setup.allow_accumulator_wrap)
      throw std::invalid_argument(format + ", layer " + c.name + " (K=" + std::to_string(c.k) +
                                  "): the accumulator can wrap: " + accum.bound +
                                  "; use a wider acc_width, --accumulator fp32, or --allow-accumulator-wrap to "
                                  "run anyway and count the wraps");
    const double tg = now_s();
    Pending p;
    p.item = item_now, p.pos = pos_now++;
    p.name = c.name;
    p.act_act = c.act_act;
    p.m = c.m, p.k = c.k, p.n = c.n;
    p.a.assign(c.a, c.a + c.m * c.k);
    p.b.assign(c.b_kn, c.b_kn + c.k * c.n);
    if (c.mx) {  // the scales in make_gemm_job's layouts: A M x nb as given, B N x nb (from nb x N)
      const int64_t nb = (c.k + c.mx->num.block_size - 1) / c.mx->num.block_size;
      p.mx.a.assign(c.mx->a_scales, c.mx->a_scales + c.m * nb);
      p.mx.b.resize(size_t(c.n * nb));
      for (int64_t j = 0; j < c.n; ++j)
        for (int64_t kb = 0; kb < nb; ++kb) p.mx.b[size_t(j * nb + kb)] = c.mx->b_scales[kb * c.n + j];
    }
    // On-chip post-processing: the scale of output (i, j) is float32(row_scale[i] * col_scale[j]); with one
    // row scale (per-tensor activations) the unit's column table holds that product already.
    p.on_chip = !setup.store_accumulators && c.post_out;
    sim::GemmPostJob& pj = p.pj;
    if (p.on_chip) {
      pj.out_fmt = c.post.out_code;
      pj.col_scales.resize(size_t(c.n));
      for (int64_t j = 0; j < c.n; ++j)
        pj.col_scales[size_t(j)] = c.post.row_scale_count == 1 ? c.post.scale(0, j)
                                                               : c.post.col_scales[c.post.col_scale_count == 1 ? 0 : j];
      if (c.post.row_scale_count != 1) pj.row_scales.assign(c.post.row_scales, c.post.row_scales + c.m);
      if (c.post.bias) pj.bias.assign(c.post.bias, c.post.bias + c.n);
      if (c.post.to_consumer) {  // straight to the consuming GEMM's 8-bit code (model::requantize_via_bf16)
        p.requant = true;
        pj.out_fmt = c.post.consumer_code;
        pj.out_scale = c.post.consumer_scale;
        pj.via_bf16 = true;
      }
    }
    if (c.io) p.io = *c.io;
    if (c.conv) p.is_conv = true, p.conv = *c.conv;
    // The accumulation order of this call's lowering (a property of the array and buffers, not of M: checked
    // again when the batched GEMM is lowered).
    const firmware::GemmSpec spec = gemm_spec(c.m, c.k, c.n, p.on_chip, pj, &p, 1);
    try {
      p.k_chunk = k_chunk_for(spec, setup.mapping_auto && !c.mx);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layer " + c.name + " (M=" + std::to_string(c.m) + " K=" + std::to_string(c.k) +
                                  " N=" + std::to_string(c.n) + ") does not fit " + cfg.name + ": " + e.what());
    }
    // The golden words: model::golden_gemm_mx for MX (the array's semantics, from the executor's codes and
    // scales, in golden_gemm_mx's own layouts), else model::check_gemm.
    std::vector<model::AccWord> gold =
        c.mx ? model::golden_gemm_mx(c.mx->num, model::AccumulationOrder{p.k_chunk}, c.m, c.k, c.n, p.a.data(),
                                     c.mx->a_scales, p.b.data(), c.mx->b_scales)
             : model::check_gemm(array_num, model::AccumulationOrder{p.k_chunk}, c.m, c.k, c.n, p.a.data(), p.b.data());
    if (can_wrap && c.k > accum.wrap_free_k) {
      const model::WrapCount wc = model::count_accumulator_wraps(array_num, model::AccumulationOrder{p.k_chunk}, c.m,
                                                                 c.k, c.n, p.a.data(), p.b.data());
      accum.golden_wrap_events += wc.events;
      accum.wrapped_outputs += wc.outputs;
    }
    std::vector<model::AccWord> words;
    if (p.on_chip) {
      p.host_out = quant::postprocess_words(array_num, c.post, c.m, c.n, gold);
      *c.post_out = p.host_out;
      if (p.requant) {
        const quant::Format cf = c.post.consumer_code == 0 ? quant::Format::INT8
                                 : c.post.consumer_code == model::out_format_code_fp8(model::Fp8Kind::E4M3)
                                     ? quant::Format::E4M3
                                     : quant::Format::E5M2;
        p.host_codes.resize(p.host_out.size());
        quant::quantize_codes(cf, p.host_out.data(), p.host_codes.data(), p.host_out.size(), c.post.consumer_scale);
      }
    } else {
      p.host_words = gold;
      words = std::move(gold);
    }
    golden_s += now_s() - tg;
    // The network's input and output as the accelerator sees them, per inference: the first call's activations
    // (of the first item) and the latest call's outputs (of the last item, once all have run).
    if (calls_seen++ == 0)
      net.set_io_bytes(c.conv && setup.implicit_im2col ? uint64_t(c.conv->in_h * c.conv->in_w * c.conv->in_c)
                                                       : uint64_t(c.m * c.k),
                       NetworkSchedule::kKeep);
    net.set_io_bytes(NetworkSchedule::kKeep,
                     uint64_t(c.m * c.n) * (p.on_chip ? model::out_format_bytes(pj.out_fmt) : cfg.word_bytes()));
    pending.push_back(std::move(p));
    if (setup.batch <= 1) flush();
    return words;
  };
  opt.on_item = [&](size_t done, size_t, uint64_t macs_all, uint64_t calls_all) {
    item_now = done, pos_now = 0;
    if (progress) progress->plan(slot, macs_all, calls_all);
    if (done > 0 && done % std::max<size_t>(setup.batch, 1) == 0) flush();
  };

  // The vector unit: every non-GEMM operation of the bit-exact run, costed by sim/vector_unit.h.
  struct VecAgg {
    uint64_t calls = 0, elements = 0, cycles = 0, adds = 0, muls = 0, funcs = 0;
  };
  std::vector<VecAgg> vec(quant::kVectorOpCount);
  opt.vector_hook = [&](const quant::VectorCall& v) {
    const sim::VectorCost c = sim::vector_op_cost(cfg.vector, v.op, v.rows, v.cols);
    VecAgg& a = vec[static_cast<size_t>(v.op)];
    ++a.calls;
    a.elements += c.elements;
    a.cycles += c.cycles;
    a.adds += c.adds;
    a.muls += c.muls;
    a.funcs += c.funcs;
    if (batch_n > 1) {
      const NetworkSchedule::OpOrder o{item_now / batch_n, pos_now++, {item_now}};
      net.vector_op(c.cycles, v.io, &o);
    } else {
      ++pos_now;
      net.vector_op(c.cycles, v.io);
    }
  };

  opt.gemm_backend = wrap ? wrap(verifying) : verifying;
  const workloads::RunResult res = setup.workload->compare_with_fp32(opt);
  flush();  // the last, partial batch
  {
    const double tw = now_s();
    pool.wait();
    sim_wall += now_s() - tw;
  }
  rethrow_first_error(tasks);
  // Every simulated GEMM's contribution, in program order.
  for (const auto& tp : tasks) {
    const SimTask& t = *tp;
    checked += t.checked;
    mismatches += t.mismatches;
    if (out.first_mismatch.empty()) out.first_mismatch = t.first_mismatch;
    sim_s += t.sim_s;
    golden_s += t.compare_s;
    out.engine_checked += t.engine_checked;
    rtl_checked += t.rtl_checked;
    rtl_mismatches += t.rtl_mismatches;
    const sim::Stats& st = t.st;
    accum.array_wrap_events += st.acc_wraps;
    auto it = index.find(t.name);
    if (it == index.end()) {
      it = index.emplace(t.name, layers.size()).first;
      layers.emplace_back();
      layers.back().row.name = t.name;
      layers.back().row.calls = 0;
      layers.back().row.mapping = t.mapping.describe(t.spec);
      layers.back().row.mapping_kind = t.mapping.kind(t.spec);
    }
    report::LayerRow& r = layers[it->second].row;
    ++r.calls;
    r.m += static_cast<uint64_t>(t.m);
    r.k = std::max<uint64_t>(r.k, static_cast<uint64_t>(t.k));
    r.n = std::max<uint64_t>(r.n, static_cast<uint64_t>(t.n));
    r.cycles += st.cycles;
    r.stalls.dram_wait += st.array_stall_dram;
    r.stalls.buffer_conflict += st.array_stall_conflict;
    r.stalls.fill_drain += st.array_fill_drain;
    r.macs += st.macs;
    r.traffic.sram_read += st.input.bytes_read + st.weight.bytes_read + st.output.bytes_read + st.act_sram_read;
    r.traffic.sram_written +=
        st.input.bytes_written + st.weight.bytes_written + st.output.bytes_written + st.act_sram_written;
    r.traffic.dram_read += st.dram_read;
    r.traffic.dram_written += st.dram_written;
    notes.insert(t.notes.begin(), t.notes.end());
    add_energy(r.energy_pj, t.energy);
    ++out.gemms;
  }

  report::FormatRun& run = out.run;
  run.format = format;
  run.config = summarize(cfg);
  const double pes = double(cfg.array.rows) * cfg.array.cols;
  for (LayerAgg& l : layers) {
    l.row.pe_utilization = l.row.cycles ? double(l.row.macs) / (pes * double(l.row.cycles)) : 0.0;
    report::Totals& t = run.totals;
    t.cycles += l.row.cycles;
    t.macs += l.row.macs;
    t.stalls.dram_wait += l.row.stalls.dram_wait;
    t.stalls.buffer_conflict += l.row.stalls.buffer_conflict;
    t.stalls.fill_drain += l.row.stalls.fill_drain;
    t.traffic.sram_read += l.row.traffic.sram_read;
    t.traffic.sram_written += l.row.traffic.sram_written;
    t.traffic.dram_read += l.row.traffic.dram_read;
    t.traffic.dram_written += l.row.traffic.dram_written;
    t.energy_pj.mac += l.row.energy_pj.mac;
    t.energy_pj.sram += l.row.energy_pj.sram;
    t.energy_pj.dram += l.row.energy_pj.dram;
    t.energy_pj.leakage += l.row.energy_pj.leakage;
    t.energy_pj.post_processing += l.row.energy_pj.post_processing;
    t.energy_pj.accumulator_adders += l.row.energy_pj.accumulator_adders;
    run.layers.push_back(std::move(l.row));
  }
  // Area depends on the configuration only.
  cost::EventCounts ec = event_counts(cfg, sim::Stats{});
  std::vector<std::string> an;
  const cost::AreaBreakdown area = cost::area(*setup.energy, *setup.area, ec, &an);
  // The vector unit's operations run after the GEMM that feeds them (no overlap): their cycles add to the
  // network's latency, their energy is the vector unit's plus the accelerator's leakage over those cycles.
  for (int op = 0; op < quant::kVectorOpCount; ++op) {
    const VecAgg& a = vec[size_t(op)];
    if (!a.calls) continue;
    report::VectorOpRow row;
    row.op = quant::vector_op_name(static_cast<quant::VectorOp>(op));
    row.calls = a.calls, row.elements = a.elements, row.cycles = a.cycles;
    std::vector<std::string> vn;
    const double dyn = cost::vector_energy_pj(*setup.energy, a.adds, a.muls, a.funcs, &vn);
    notes.insert(vn.begin(), vn.end());
    const double leak = cost::leakage_pj(*setup.energy, area.total_um2, a.cycles, cfg.clock_mhz);
    row.energy_pj = dyn + leak;
    run.totals.cycles += a.cycles;
    run.totals.energy_pj.vector_unit += dyn;
    run.totals.energy_pj.leakage += leak;
    run.vector_ops.push_back(row);
  }
  notes.insert(an.begin(), an.end());
  // The network schedule: spill traffic of the vector unit (DRAM round trips of tensors that did not fit).
  run.network = net.finish(std::max<size_t>(setup.batch, 1), std::max<uint64_t>(res.items_simulated, 1));
  const uint64_t net_read = run.network.spill_dram_read + run.network.io_dram_read,
                 net_written = run.network.spill_dram_written + run.network.io_dram_written;
  run.totals.traffic.dram_read += net_read;
  run.totals.traffic.dram_written += net_written;
  run.network.dram_energy_pj = double(net_read + net_written) * setup.energy->dram_pj_per_64b.value / 8.0;
  run.totals.energy_pj.dram += run.network.dram_energy_pj;
  // Leakage over the network's latency (the overlapped cycles) where the timeline exists: a network-level
  // correction on top of the rows' stand-alone leakage.
  if (run.network.present && run.network.timeline)
    charge_leakage_over_latency(
        run, cost::leakage_pj(*setup.energy, area.total_um2, run.network.overlapped_cycles, cfg.clock_mhz));
  if (run.network.requantized_outputs)
    notes.insert("post-processing unit, outputs requantized to the consuming GEMM's 8-bit code: + one fp32 multiply "
                 "(the division by the consumer's scale) and one 8-bit add (the second rounding) per output "
                 "(assumption), in the producing layer's energy");
  if (cfg.activation_sram.size_bytes == 0)
    notes.insert("no activation SRAM in this configuration: every tensor goes through DRAM between operations "
                 "(GEMM inputs and outputs, and the vector unit's reads and writes of them: spill traffic)");
  run.totals.area.array_um2 = area.array_um2;
  run.totals.area.buffers_um2 = area.buffers_um2;
  run.totals.area.nand2_eq = area.nand2_eq;

  run.accuracy.metric = res.metric;
  run.accuracy.value = res.value;
  if (!std::isnan(res.fp32_value)) run.accuracy.fp32_value = res.fp32_value;
  run.accuracy.higher_is_better = true;
  run.accuracy.sqnr_db = res.sqnr_db;
  run.accuracy.cosine = res.cosine;
  run.accuracy.items = res.items;
  run.accuracy.items_simulated = res.items_simulated;
  run.accuracy.items_golden = res.items_golden;
  out.scores = res.scores;
  out.fp32_scores = res.fp32_scores;
  out.golden_items_seconds = res.golden_seconds;

  // Totals from the network's own list of GEMMs (the executor counts M x N where it hands a GEMM to the
  // backend), checked counts from the comparisons: a GEMM that escaped them shows as total > checked.
  report::VerificationCheck g;
  g.reference = "golden";
  g.checked_outputs = checked;
  g.total_outputs = res.backend_gemm_outputs;
  g.mismatches = mismatches;
  run.verification.push_back(g);
  if (setup.engine == sim::Engine::Rtl) {
    // The compute unit compares every output row of the Verilated array with its model twin's as it leaves
    // the array (a difference stops the run); a GEMM's outputs count when all its rows were compared.
    report::VerificationCheck r;
    r.reference = "rtl";
    r.checked_outputs = rtl_checked;
    r.total_outputs = res.backend_gemm_outputs;
    r.mismatches = rtl_mismatches;
    run.verification.push_back(r);
  }
  if (can_wrap) run.accumulator = accum;
  out.notes.assign(notes.begin(), notes.end());
  out.warnings = res.warnings;
  out.seconds = now_s() - t0;
  out.sim_seconds = sim_s;
  out.sim_wall_seconds = sim_wall;
  out.sim_threads = setup.gemm_threads;
  out.golden_seconds = golden_s;
  out.reference_seconds = res.reference_seconds;
  out.calibration_seconds = res.calibration_seconds;
  return out;
}

}  // namespace fp8sim::simrun
