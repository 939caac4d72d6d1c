// Register toggle counts (sim::ArrayToggles: the data-dependent MAC energy input):
//   - a 2x2 WS INT8 array driven beat by beat, counts derived by hand below;
//   - with the Verilated RTL: for every PE kind (int8, e4m3/e5m2 fixed, e4m3/e5m2 fp32) and both dataflows, the
//     model array's counts equal counts taken from the RTL's own per-cell registers (sim/src/rtl_array.cpp
//     reads them at every edge through rtl/public_regs.vlt) on random multi-tile GEMMs; the accelerator's
//     statistics under Engine::Rtl are the RTL's counts.
#include <catch2/catch.hpp>

#include <random>

#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/systolic_array.h"
#include "sim_test_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

// WS 2x2 INT8 (weights W[k][c] = {{2, 4}, {1, 3}}, activations a = {5, 6}; registers start at 0, the psum
// input is 0). Weight rows enter last row first and shift down:
//   edge 1 (wload {1, 3}):  w[0] 0->{1,3}: 1 + 2 = 3 bit flips
//   edge 2 (wload {2, 4}):  w[1] 0->{1,3}: 3; w[0] {1,3}->{2,4}: popcount(1^2) + popcount(3^4) = 2 + 3 = 5
//   b_regs = 11. During the weight beats a = 0 and all partial sums stay 0.
// The compute beat: row 0 takes a[0] = 5 at edge 3, row 1 takes a[1] = 6 one edge later (input skew); a
// moves right one cell per edge, partial sums move down one cell per edge (top input 0):
//   edge 3: (0,0) a 0->5 (2), p 0->5*2=10 (2)
//   edge 4: (0,0) a 5->0 (2), p 10->0 (2); (0,1) a 0->5 (2), p 0->5*4=20 (2); (1,0) a 0->6 (2),
//           p 0->10+6*1=16 (1)
//   edge 5: (0,1) a 5->0 (2), p 20->0 (2); (1,0) a 6->0 (2), p 16->0 (1); (1,1) a 0->6 (2),
//           p 0->20+6*3=38=0b100110 (3)
//   edge 6: (1,1) a 6->0 (2), p 38->0 (3)
//   a_regs = 2 + 6 + 6 + 2 = 16, acc_regs = 2 + 5 + 6 + 3 = 16; the outputs are 16 and 38.
TEST_CASE("toggles: 2x2 WS INT8 counts equal the hand derivation", "[sim][toggles]") {
  ArrayParams p;
  p.rows = 2, p.cols = 2, p.dataflow = Dataflow::WeightStationary, p.pe = PeKind::Int8;
  auto arr = make_systolic_array(p);
  const uint8_t w1[2] = {1, 3}, w0[2] = {2, 4}, a[2] = {5, 6};
  auto beat = [&](bool wload, const uint8_t* x) {
    ArrayInputs in;
    in.valid = true, in.wload = wload;
    (wload ? in.b : in.a) = x;
    REQUIRE(arr->in_ready(wload, true));
    arr->edge(in);
  };
  beat(true, w1);
  beat(true, w0);
  beat(false, a);
  std::vector<uint128> out;
  for (int e = 0; e < 8; ++e) {
    if (arr->out_valid()) {
      uint128 w[2];
      arr->out_words(w);
      out.assign(w, w + 2);
    }
    arr->edge(ArrayInputs{});
  }
  REQUIRE(out.size() == 2);
  CHECK(uint32_t(out[0]) == 16);
  CHECK(uint32_t(out[1]) == 38);
  CHECK(arr->toggles().b_regs == 11);
  CHECK(arr->toggles().a_regs == 16);
  CHECK(arr->toggles().acc_regs == 16);
}

#ifdef FP8SIM_HAVE_RTL
// Every 4x4 RTL array (rtl/CMakeLists.txt): M = 6, K = 7, N = 5 (WS: 2 N tiles x 2 K tiles; OS: 2 M tiles x
// 2 N tiles), random codes with 5 % NaN/Inf codes for the FP8 kinds. The model engine's run and the RTL
// engine's run see the same beats in the same cycles, so their counts must agree exactly.
TEST_CASE("toggles: the model array's counts equal the Verilated RTL's registers, every PE kind and dataflow",
          "[sim][rtl][toggles]") {
  struct K {
    const char *df, *pe, *acc;
  };
  const K kinds[] = {{"ws", "int8", "int32"}, {"ws", "e4m3", "fixed"}, {"ws", "e4m3", "fp32"},
                     {"ws", "e5m2", "fixed"}, {"ws", "e5m2", "fp32"},  {"os", "int8", "int32"},
                     {"os", "e4m3", "fixed"}, {"os", "e4m3", "fp32"},  {"os", "e5m2", "fixed"},
                     {"os", "e5m2", "fp32"}};
  uint64_t seed = 11;
  for (const K& k : kinds) {
    INFO(k.df << " " << k.pe << " " << k.acc);
    CfgText t;
    t.rows = 4, t.cols = 4, t.dataflow = k.df, t.pe = k.pe, t.acc = k.acc;
    const AcceleratorConfig cfg = t.make();
    REQUIRE(rtl_array_available(cfg.array));
    const auto num = cfg.array.numerics();
    std::mt19937_64 rng(seed++);
    const int64_t M = 6, KK = 7, N = 5;
    const auto A = random_codes(num, false, M * KK, rng, 50), B = random_codes(num, true, KK * N, rng, 50);
    GemmJob model = make_gemm_job(cfg, M, KK, N, A, B, Engine::Model);
    GemmJob rtl = make_gemm_job(cfg, M, KK, N, A, B, Engine::Rtl);
    model.acc->run(100000);
    rtl.acc->run(100000);
    CHECK(rtl.compare() == 0);
    const ArrayToggles &tm = model.acc->stats().toggles, &tr = rtl.acc->stats().toggles;
    CHECK(tm.a_regs > 0);
    CHECK(tm.b_regs > 0);
    CHECK(tm.acc_regs > 0);
    CHECK(tr.a_regs == tm.a_regs);
    CHECK(tr.b_regs == tm.b_regs);
    CHECK(tr.acc_regs == tm.acc_regs);
    CHECK(rtl.acc->stats().cycles == model.acc->stats().cycles);
  }
}
#endif
