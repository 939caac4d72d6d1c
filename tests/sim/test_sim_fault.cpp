// The mismatch reports of --engine rtl, exercised with fault injection that lives in this test: a FaultyArray
// wraps the array the accelerator's factory builds (ArrayFactory) and flips one bit of one output word at a
// chosen array output row, and the run must stop with a report naming exactly that layer, tile, row, column, the corrupted and the
// expected value, and the cycle. The expected cycle comes from a fault-free run of the same GEMM on the model
// engine (plain tick loop, no SystemC), the expected values from golden_gemm. One SystemC simulation per test
// case (SystemC elaborates once per process).
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "fp8sim/sim/gemm_run.h"
#include "sim_test_util.h"

#ifdef FP8SIM_HAVE_RTL  // built only with rtl/'s Verilated arrays (FP8SIM_WITH_RTL=ON)

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

namespace {

constexpr uint16_t kLayer = 5;

// A fault: XOR `xor_mask` into column `col` of array output row number `out_row` (counted from 0 over the whole
// run, in the order rows leave the array). model_too: the model twin gets the same flip (a bug both arrays
// share), so only the golden tile check can see it.
struct Fault {
  uint64_t out_row = 0;
  int col = 0;
  uint128 xor_mask = 1;
  bool model_too = false;
};

// Wraps an array and corrupts the chosen output word; everything else is the wrapped array's.
class FaultyArray final : public ArrayCore {
 public:
  FaultyArray(std::unique_ptr<ArrayCore> inner, const Fault& f)
      : ArrayCore(inner->params()), inner_(std::move(inner)), f_(f) {}
  bool in_ready(bool wload, bool out_ready, bool swap, bool last) const override {
    return inner_->in_ready(wload, out_ready, swap, last);
  }
  bool w_ready(bool out_ready) const override { return inner_->w_ready(out_ready); }
  bool out_valid() const override { return inner_->out_valid(); }
  void out_words(uint128* dst) const override {
    inner_->out_words(dst);
    if (rows_out_ == f_.out_row) dst[f_.col] ^= f_.xor_mask;
  }
  void edge(const ArrayInputs& in) override {
    if (inner_->out_valid() && in.out_ready) ++rows_out_;  // the row leaves at this edge
    inner_->edge(in);
    tog_ = inner_->toggles();
    ++edges_;
  }
  bool active() const override { return inner_->active(); }
  uint128 add_words(uint128 acc, uint128 x) const override { return inner_->add_words(acc, x); }
  model::AccWord to_acc_word(uint128 w) const override { return inner_->to_acc_word(w); }

 private:
  std::unique_ptr<ArrayCore> inner_;
  Fault f_;
  uint64_t rows_out_ = 0;
};

ArrayFactory faulty(const Fault& f) {
  return [f](const ArrayParams& p, Engine e, ArrayRole role) -> std::unique_ptr<ArrayCore> {
    auto a = make_engine_array(p, e, role);
    if (role == ArrayRole::Engine || f.model_too) return std::make_unique<FaultyArray>(std::move(a), f);
    return a;
  };
}

// make_gemm_job with a layer number (so that the report's layer is not the default 0).
GemmJob job_in_layer(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, const std::vector<uint8_t>& a,
                     const std::vector<uint8_t>& b, Engine engine, const ArrayFactory& factory = make_engine_array) {
  return simtest::gemm_job_in_layer(cfg, m, k, n, a, b, engine, factory, kLayer, 4096);
}

// Fault-free reference on the model engine: the cycle in which each array output row left the array
// (these configurations never back-pressure the array: no Accumulate, two output-buffer ports).
std::vector<uint64_t> output_row_cycles(GemmJob& ref) {
  std::vector<uint64_t> cycles;
  while (!ref.acc->done()) {
    REQUIRE(ref.acc->cycle() < 100000);
    ref.acc->tick();
    const TraceProbe& p = ref.acc->probe();
    if (p.out_valid) {
      REQUIRE(p.out_ready);
      cycles.push_back(p.cycle);
    }
  }
  REQUIRE(ref.compare() == 0);
  return cycles;
}

// INT8 x INT8 -> INT32: the word is the int32 itself, so a flipped bit is easy to state independently.
std::string int32_with_bit_flipped(const model::GemmNumerics& num, const model::AccWord& w, int bit) {
  const auto flipped = static_cast<int32_t>(static_cast<uint32_t>(w.raw) ^ (uint32_t{1} << bit));
  return model::acc_word_to_string(num, model::AccWord{flipped, model::ValueClass::Finite});
}

std::string error_of(Accelerator& acc) {
  try {
    run_systemc({&acc});
  } catch (const std::exception& e) {
    return e.what();
  }
  return "ran";
}

}  // namespace

// WS 4x4 INT8, M = 7 in M tiles of 3 rows (tiles 0, 1, 2), K = R (one K tile, no accumulation): array output
// row 4 is row 1 of tile 1, i.e. C[4][*]. The RTL's word of column 2 gets bit 4 flipped.
TEST_CASE("engine rtl: an RTL output fault stops naming layer tile row column both values and cycle",
          "[sim][rtl][fault]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "ws", t.pe = "int8", t.acc = "int32";
  t.in_bytes = 24;  // m_tile = 24 / (2 * 4) = 3
  const AcceleratorConfig cfg = t.make();
  REQUIRE(rtl_array_available(cfg.array));
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(41);
  const int64_t M = 7, K = 4, N = 4;
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  GemmJob ref = job_in_layer(cfg, M, K, N, A, B, Engine::Model);
  REQUIRE(ref.lowered.m_tile == 3);
  REQUIRE(ref.lowered.tiles == 3);
  const std::vector<uint64_t> row_cycles = output_row_cycles(ref);
  REQUIRE(row_cycles.size() == size_t(M));

  const uint64_t out_row = 4;
  const int col = 2, bit = 4;
  const model::AccWord want = ref.golden()[size_t(out_row * N + col)];
  GemmJob job = job_in_layer(cfg, M, K, N, A, B, Engine::Rtl, faulty({out_row, col, uint128{1} << bit, false}));
  const std::string msg = error_of(*job.acc);
  CHECK(msg == "RTL/model mismatch: layer 5 tile 1 row 1 col 2: rtl " + int32_with_bit_flipped(num, want, bit) +
                   ", model " + model::acc_word_to_string(num, want) + " at cycle " + std::to_string(row_cycles[out_row]));
  CHECK(msg.find('\n') == std::string::npos);  // one line (fp8sim_sim_run prints it after "fp8sim_sim_run: ")
  CHECK(job.acc->cycle() == row_cycles[out_row]);  // stopped in the cycle the corrupted row appeared
}

// The same flip in both arrays (a bug the RTL and the model share): the per-row RTL/model comparison passes
// and the golden tile check must catch it when the tile completes. OS 4x4 INT8, M = 6 (M tiles of R = 4 rows:
// tile 1 holds C rows 4, 5 and two padding rows), K = 5 (one K tile): OS rows leave bottom first
// (R-1, ..., 0), so array output row 4 + 2 is row 1 of tile 1, i.e. C[5][*].
TEST_CASE("engine rtl: a fault shared by RTL and model is caught by the golden tile check", "[sim][rtl][fault]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "os", t.pe = "int8", t.acc = "int32";
  const AcceleratorConfig cfg = t.make();
  REQUIRE(rtl_array_available(cfg.array));
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(43);
  const int64_t M = 6, K = 5, N = 3;
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  GemmJob ref = job_in_layer(cfg, M, K, N, A, B, Engine::Model);
  REQUIRE(ref.lowered.k_tile == K);
  REQUIRE(ref.lowered.tiles == 2);
  const std::vector<uint64_t> row_cycles = output_row_cycles(ref);
  REQUIRE(row_cycles.size() == 8);  // two tiles of R rows

  const uint64_t out_row = 6;
  const int col = 1, bit = 7;
  const model::AccWord want = ref.golden()[size_t(5 * N + col)];
  GemmJob job = job_in_layer(cfg, M, K, N, A, B, Engine::Rtl, faulty({out_row, col, uint128{1} << bit, true}));
  const std::string msg = error_of(*job.acc);
  // Reported in the cycle the tile's last row (array output row 7) is written.
  CHECK(msg == "RTL/golden mismatch: layer 5 tile 1 row 1 col 1: rtl " + int32_with_bit_flipped(num, want, bit) +
                   ", golden " + model::acc_word_to_string(num, want) + " at cycle " + std::to_string(row_cycles[7]));
  CHECK(msg.find('\n') == std::string::npos);

  // Without the golden tile check nothing stops the shared fault: it reaches DRAM (exactly that word). Plain
  // tick loop: this test case's one SystemC simulation is above.
  GemmJob blind = job_in_layer(cfg, M, K, N, A, B, Engine::Rtl, faulty({out_row, col, uint128{1} << bit, true}));
  blind.acc->set_tile_golden_check(false);
  blind.acc->run(100000);
  std::string report;
  CHECK(blind.compare(&report) == 1);
  CHECK(report == "C[5][1]: sim " + int32_with_bit_flipped(num, want, bit) + ", golden " +
                      model::acc_word_to_string(num, want) + "\n");
}

// The first test's fault, counted where the comparison happens: array output rows 0 .. 4 were compared (the
// corrupted one included: 5 rows of 4 words), the corrupted word is the one mismatch, and only rows 0 .. 3
// reached the accumulator buffer (the run stops before row 4 is written). Plain tick loop.
TEST_CASE("engine rtl: an injected fault is counted by the comparison that found it", "[sim][rtl][fault]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "ws", t.pe = "int8", t.acc = "int32";
  t.in_bytes = 24;
  const AcceleratorConfig cfg = t.make();
  REQUIRE(rtl_array_available(cfg.array));
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(41);
  const int64_t M = 7, K = 4, N = 4;
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  GemmJob job = job_in_layer(cfg, M, K, N, A, B, Engine::Rtl, faulty({4, 2, uint128{1} << 4, false}));
  std::string msg;
  try {
    job.acc->run(100000);
  } catch (const std::exception& e) {
    msg = e.what();
  }
  CHECK_THAT(msg, Catch::Matchers::StartsWith("RTL/model mismatch: layer 5 tile 1 row 1 col 2: "));
  const Stats& st = job.acc->stats();
  CHECK(st.rtl_rows_compared == 5);
  CHECK(st.rtl_words_compared == 20);
  CHECK(st.rtl_mismatches == 1);
  CHECK(st.array_rows_out == 4);
  CHECK_FALSE(st.rtl_compared_all());
}

#endif
