// Checks that make the accelerator's figures trustworthy (issue 11):
//   - watchdog: a hung unit stops the run with an error naming the stuck command and what it waits for;
//   - accumulator wraps: the array (cells and accumulating buffer) counts wrap events on a narrow fixed-point
//     register, equal to hand-derived counts and to model::count_accumulator_wraps in the lowering's order;
//   - RTL comparisons are counted where they happen (rows and words), and a disabled comparison shows.
// Faults and hangs are injected by wrapping the arrays the accelerator's ArrayFactory builds (as in
// test_sim_fault.cpp); nothing in the production classes serves the tests.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "fp8sim/model/fp8.h"
#include "fp8sim/sim/gemm_run.h"
#include "sim_test_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

namespace {

constexpr uint16_t kLayer = 3;

// A GEMM job with a layer number and an array factory (make_gemm_job takes neither).
GemmJob job_with(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, const std::vector<uint8_t>& a,
                 const std::vector<uint8_t>& b, Engine engine, const ArrayFactory& factory,
                 std::vector<firmware::Command>* program = nullptr) {
  return simtest::gemm_job_in_layer(cfg, m, k, n, a, b, engine, factory, kLayer, 8192, program);
}

// A hung array: never ready for a beat, never an output.
class HungArray final : public ArrayCore {
 public:
  explicit HungArray(std::unique_ptr<ArrayCore> inner) : ArrayCore(inner->params()), inner_(std::move(inner)) {}
  bool in_ready(bool, bool, bool, bool) const override { return false; }
  bool w_ready(bool) const override { return false; }
  bool out_valid() const override { return false; }
  void out_words(uint128* dst) const override { inner_->out_words(dst); }
  void edge(const ArrayInputs&) override { ++edges_; }
  bool active() const override { return true; }
  uint128 add_words(uint128 acc, uint128 x) const override { return inner_->add_words(acc, x); }
  model::AccWord to_acc_word(uint128 w) const override { return inner_->to_acc_word(w); }

 private:
  std::unique_ptr<ArrayCore> inner_;
};

std::string run_error(Accelerator& acc, uint64_t max_cycles) {
  try {
    acc.run(max_cycles);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "ran";
}

}  // namespace

TEST_CASE("config: [controller] watchdog_cycles, default 1,000,000, 0 turns it off", "[sim][watchdog]") {
  CfgText t;
  CHECK(t.make().watchdog_cycles == 1000000);
  CHECK(parse_config(t.text() + "[controller]\nwatchdog_cycles = 123\n", "t.toml").watchdog_cycles == 123);
  CHECK(parse_config(t.text() + "[controller]\nwatchdog_cycles = 0\n", "t.toml").watchdog_cycles == 0);
  CHECK_THROWS_WITH(parse_config(t.text() + "[controller]\nwatchdog_cycles = -1\n", "t.toml"),
                    Catch::Matchers::Contains("watchdog_cycles"));
}

// WS 4x4 INT8, M = 4, K = N = 4: one tile. The array never takes a beat, so the Compute never completes; the
// loads before it complete, so the watchdog fires watchdog_cycles after the last load completed. The feeder
// has read latency + 1 = 2 beats (SRAM latency 1) into its FIFO and stops there.
TEST_CASE("watchdog: a hung array stops the run naming the stuck compute and what it waits for",
          "[sim][watchdog]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "ws", t.pe = "int8", t.acc = "int32";
  AcceleratorConfig cfg = t.make();
  cfg.watchdog_cycles = 300;
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(5);
  const int64_t M = 4, K = 4, N = 4;
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  std::vector<firmware::Command> prog;
  ArrayFactory hung = [](const ArrayParams& p, Engine e, ArrayRole r) -> std::unique_ptr<ArrayCore> {
    return std::make_unique<HungArray>(make_engine_array(p, e, r));
  };
  GemmJob job = job_with(cfg, M, K, N, A, B, Engine::Model, hung, &prog);
  size_t compute = prog.size();
  for (size_t i = 0; i < prog.size() && compute == prog.size(); ++i)
    if (prog[i].op == firmware::Opcode::Compute) compute = i;
  REQUIRE(compute < prog.size());
  const std::string msg = run_error(*job.acc, 100000);
  INFO(msg);
  CHECK_THAT(msg, Catch::Matchers::StartsWith("watchdog: no command completed for 300 cycles (cycle "));
  CHECK_THAT(msg, Catch::Matchers::Contains("command " + std::to_string(compute) + " (compute, layer " +
                                            std::to_string(kLayer) + ", tile 0, compute unit) waits for the array "
                                            "(compute unit): 2 beats read, 0 of 4 output rows written"));
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(job.acc->cycle() < 1000);  // stopped by the watchdog, not by run()'s limit

  // The same GEMM on a working array runs with the same watchdog and gives the golden words.
  GemmJob ok = job_with(cfg, M, K, N, A, B, Engine::Model, make_engine_array);
  CHECK(run_error(*ok.acc, 100000) == "ran");
  CHECK(ok.compare() == 0);
}

// A narrow fixed-point register: E4M3, acc_width 38 (range [-2^37, 2^37 - 1]); all operands 448 (0x7E), so
// every product is P = 229376^2 = 52,613,349,376 LSBs: P and 2P fit, 3P = 157,840,048,128 does not.
//   WS 4x4, K = 8 in two K tiles of R = 4: in each tile a column's cells add P, 2P, 3P (wraps: 1 event), 4P;
//     the buffer adds the two wrapped tile sums: 2 x (4P - 2^38) = -128,849,018,880 >= -2^37: no event.
//     2 events per output x (M = 2) x (N = 3) = 12.
//   OS 4x4, one K tile of 8: the cell adds P .. 8P: 3P wraps (to -117,037,858,816), then -64.4e9, -11.8e9,
//     +40.8e9, +93.4e9, +146.0e9 > 2^37 - 1 wraps again: 2 events per output = 12.
// Padding columns (N = 3 of 4) have weight 0 and add nothing. Every output is wrong (8P does not fit): 6.
TEST_CASE("accumulator wraps: the array counts the events of a narrow register, as derived and as golden",
          "[sim][wrap]") {
  for (const char* df : {"ws", "os"}) {
    INFO(df);
    CfgText t;
    t.rows = 4, t.cols = 4, t.dataflow = df, t.pe = "e4m3", t.acc = "fixed";
    AcceleratorConfig cfg = t.make();
    cfg.array.acc_width = 38;
    cfg.validate();
    const auto num = cfg.array.numerics();
    REQUIRE(num.acc_width == 38);
    const int64_t M = 2, K = 8, N = 3;
    const std::vector<uint8_t> A(size_t(M * K), 0x7E), B(size_t(K * N), 0x7E);
    GemmJob job = make_gemm_job(cfg, M, K, N, A, B);
    job.acc->run(100000);
    CHECK(job.compare() == 0);  // bit-exact with golden, which wraps alike
    CHECK(job.acc->stats().acc_wraps == 12);
    const model::WrapCount g = model::count_accumulator_wraps(num, model::AccumulationOrder{job.lowered.k_chunk}, M,
                                                              K, N, A.data(), B.data());
    CHECK(g.events == 12);
    CHECK(g.outputs == 6);
  }
}

// The accumulating buffer's adder: acc_width 40 (range [-2^39, 2^39 - 1] = +-549,755,813,888), K = 12 in three
// WS K tiles of 4: each tile sum 4P = 210,453,397,504 fits (no cell event); the buffer adds 4P + 4P = 8P
// (fits), then 8P + 4P = 12P = 631,360,192,512 (wraps): 1 event per output x 6 outputs.
TEST_CASE("accumulator wraps: the accumulating buffer's additions are counted", "[sim][wrap]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "ws", t.pe = "e4m3", t.acc = "fixed";
  AcceleratorConfig cfg = t.make();
  cfg.array.acc_width = 40;
  cfg.validate();
  const int64_t M = 2, K = 12, N = 3;
  const std::vector<uint8_t> A(size_t(M * K), 0x7E), B(size_t(K * N), 0x7E);
  GemmJob job = make_gemm_job(cfg, M, K, N, A, B);
  REQUIRE(job.lowered.k_chunk == 4);
  job.acc->run(100000);
  CHECK(job.compare() == 0);
  CHECK(job.acc->stats().acc_wraps == 6);
  CHECK(model::count_accumulator_wraps(cfg.array.numerics(), model::AccumulationOrder{4}, M, K, N, A.data(),
                                       B.data())
            .events == 6);
  // The shipped width (exact for K = 4096) on the same GEMM: nothing wraps.
  cfg.array.acc_width = 0;
  GemmJob wide = make_gemm_job(cfg, M, K, N, A, B);
  wide.acc->run(100000);
  CHECK(wide.acc->stats().acc_wraps == 0);
}

TEST_CASE("accumulator width narrower than one product is refused", "[sim][wrap]") {
  CfgText t;
  t.pe = "e4m3", t.acc = "fixed";
  AcceleratorConfig cfg = t.make();
  cfg.array.acc_width = 36;  // an E4M3 product needs 37 bits (fp8_product_bits)
  CHECK_THROWS_WITH(make_systolic_array(cfg.array), Catch::Matchers::Contains("narrower than one product (37 bits"));
}

#ifdef FP8SIM_HAVE_RTL
// WS 4x4 INT8, M = 5, K = 6, N = 7: 2 N tiles x 2 K tiles, each delivering M = 5 output rows of 4 words:
// 20 rows, 80 words, every one compared with the model twin as it leaves the array.
TEST_CASE("engine rtl: comparisons are counted where they happen, a disabled comparison shows",
          "[sim][rtl][verification]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "ws", t.pe = "int8", t.acc = "int32";
  const AcceleratorConfig cfg = t.make();
  REQUIRE(rtl_array_available(cfg.array));
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(7);
  const int64_t M = 5, K = 6, N = 7;
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  GemmJob job = job_with(cfg, M, K, N, A, B, Engine::Rtl, make_engine_array);
  REQUIRE(job.lowered.tiles == 4);
  job.acc->run(100000);
  CHECK(job.compare() == 0);
  const Stats& st = job.acc->stats();
  CHECK(st.array_rows_out == 20);
  CHECK(st.rtl_rows_compared == 20);
  CHECK(st.rtl_words_compared == 80);
  CHECK(st.rtl_mismatches == 0);
  CHECK(st.rtl_compared_all());

  // The comparison switched off (no model twin built): the run still ends with the right words, but nothing
  // was compared, and the statistics say so.
  ArrayFactory no_twin = [](const ArrayParams& p, Engine e, ArrayRole r) -> std::unique_ptr<ArrayCore> {
    if (r == ArrayRole::ModelTwin) return nullptr;
    return make_engine_array(p, e, r);
  };
  GemmJob blind = job_with(cfg, M, K, N, A, B, Engine::Rtl, no_twin);
  blind.acc->run(100000);
  CHECK(blind.compare() == 0);
  CHECK(blind.acc->stats().array_rows_out == 20);
  CHECK(blind.acc->stats().rtl_rows_compared == 0);
  CHECK_FALSE(blind.acc->stats().rtl_compared_all());
}
#endif
