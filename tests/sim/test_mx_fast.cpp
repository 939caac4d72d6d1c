// The fast MX array (make_mx_fast_array, Engine::Fast on an MX array) against the MX cycle model (make_mx_array,
// one model::MxPe per cell, itself compared edge by edge with the Verilated rtl/mx_array.v in test_mx_array.cpp),
// field by field. The cycle model is the oracle: nothing here is computed by the code under test alone.
//   - array level: random cases (array 1..9 x 1..9, every MX element format, block sizes 1..40, toggles on/off),
//     each driven for up to a few hundred edges by a random stream of products (K 1..100 beats) with bubbles
//     (in_valid low), back-pressure (out_ready low), idle buses (a/b/scales absent), scales driven on other
//     beats than a block's last, random codes with NaN/Inf/max/zero codes at a raised rate, E8M0 scales with
//     0x00 (2^-127), 0xFE (2^127) and 0xFF (NaN) at a raised rate, and sometimes flags flipped at random (a
//     first/last/fin out of place: the two must still agree, also when the stream then deadlocks). After every
//     edge: in_ready, out_valid, active, the output row's words, every cell's Kulisch word, the toggle counts
//     of the A, B and accumulator registers, and the edge count.
//   - accelerator level: random MX GEMMs (shapes, array 1..8 x 1..8, every format, block sizes 1..32, SRAM
//     latency and ports (conflicts, back-pressure of the output writer), DRAM latency and bandwidth (DRAM
//     stalls), buffers small enough to split K into several tiles of one product, operands with NaN/Inf
//     elements and extreme or NaN scales) on Engine::Model and Engine::Fast: every Stats field (sim::
//     stats_difference: cycles, each stall class, traffic, toggles, per-command and per-layer records) and the
//     whole DRAM image equal, and the fast engine's words equal model::golden_gemm_mx.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <typeinfo>

#include "fp8sim/model/mx.h"
#include "fp8sim/sim/fast_array.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/mx_array.h"
#include "sim_test_util.h"
#include "test_mx_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;

namespace {

constexpr model::MxKind kKinds[] = {model::MxKind::MXFP8_E4M3, model::MxKind::MXFP8_E5M2, model::MxKind::MXFP6_E3M2,
                                    model::MxKind::MXFP6_E2M3, model::MxKind::MXFP4,      model::MxKind::MXINT8};

// An element code of f (a byte; narrow formats get random high bits now and then, which decoding ignores):
// NaN/Inf codes, zeros, the largest magnitudes at a raised rate.
uint8_t pick_code(std::mt19937_64& rng, const model::Fp8Format& f, unsigned special_pm) {
  const unsigned r = unsigned(rng() % 1000);
  const uint8_t mask = f.code_mask();
  uint8_t c = 0;
  if (r < special_pm) {
    for (int i = 0; i < 64; ++i) {
      const uint8_t x = uint8_t(rng() & mask);
      if (model::mx_element_is_nan(f, x) || model::mx_element_is_inf(f, x)) return x;
    }
  }
  if (r < special_pm + 60) c = 0;
  else if (r < special_pm + 120) c = uint8_t(mask >> 1);  // (near) the largest positive magnitude
  else c = uint8_t(rng() & mask);
  if (rng() % 16 == 0) c |= uint8_t(~mask & uint8_t(rng()));  // bits above the element: ignored
  return c;
}

uint8_t pick_scale(std::mt19937_64& rng, unsigned extreme_pm) {
  const unsigned r = unsigned(rng() % 1000);
  if (r < extreme_pm / 3) return model::kE8M0NaN;
  if (r < 2 * extreme_pm / 3) return 0x00;
  if (r < extreme_pm) return 0xFE;
  return uint8_t(127 - 20 + int(rng() % 41));
}

std::string describe(const ArrayParams& p, unsigned spm, unsigned epm) {
  std::ostringstream o;
  o << p.rows << "x" << p.cols << " " << model::mx_format(p.mx_kind).name << " block " << p.mx_block << " toggles "
    << p.toggles << " special codes/1000 " << spm << " extreme scales/1000 " << epm;
  return o.str();
}

uint64_t g_cases = 0, g_products_out = 0;

void compare_arrays(std::mt19937_64& rng, int edges) {
  ArrayParams p;
  p.rows = 1 + int(rng() % 9);
  p.cols = 1 + int(rng() % 9);
  set_mx_array(p, kKinds[rng() % 6], 1 + int(rng() % 40));
  p.toggles = rng() % 5 != 0;
  const unsigned spm = rng() % 2 ? 0 : unsigned(rng() % 100), epm = rng() % 2 ? 0 : unsigned(rng() % 200);
  const unsigned busy = 30 + unsigned(rng() % 71), stall = unsigned(rng() % 40), noise = rng() % 4 ? 0 : 20;
  auto ref = make_mx_array(p);
  auto fast = make_mx_fast_array(p);
  const int R = p.rows, C = p.cols, B = p.mx_block;
  const model::Fp8Format& f = model::fp8_format(p.fmt_a);
  std::vector<uint8_t> a(static_cast<size_t>(R)), b(static_cast<size_t>(C)), sa(static_cast<size_t>(R)), sb(static_cast<size_t>(C));
  std::vector<uint128> wr(static_cast<size_t>(C)), wf(static_cast<size_t>(C));
  int64_t k = 0, K = 1 + int64_t(rng() % 100);
  INFO(describe(p, spm, epm));
  for (int e = 0; e < edges; ++e) {
    ArrayInputs in;
    in.valid = rng() % 100 < busy;
    in.out_ready = rng() % 100 >= stall;
    in.mx_first = k == 0;
    in.mx_blk_last = k % B == B - 1 || k + 1 == K;
    in.mx_fin = k + 1 == K;
    if (noise && rng() % 1000 < noise) in.mx_first = !in.mx_first;
    if (noise && rng() % 1000 < noise) in.mx_blk_last = !in.mx_blk_last;
    if (noise && rng() % 1000 < noise) in.mx_fin = !in.mx_fin;
    for (auto& x : a) x = pick_code(rng, f, spm);
    for (auto& x : b) x = pick_code(rng, f, spm);
    for (auto& x : sa) x = pick_scale(rng, epm);
    for (auto& x : sb) x = pick_scale(rng, epm);
    if (in.valid || rng() % 3 == 0) in.a = a.data();
    if (in.valid || rng() % 3 == 0) in.b = b.data();
    if (rng() % 10 != 0 && (in.mx_blk_last || rng() % 4 == 0)) in.sa = sa.data(), in.sb = sb.data();
    const bool ready = ref->in_ready(false, in.out_ready);
    INFO("edge " << e);
    REQUIRE(fast->in_ready(false, in.out_ready) == ready);
    REQUIRE(fast->in_ready(true, !in.out_ready, true, true) == ref->in_ready(true, !in.out_ready, true, true));
    REQUIRE(fast->w_ready(true) == ref->w_ready(true));
    if (in.valid && ready && ++k == K) k = 0, K = 1 + int64_t(rng() % 100);
    ref->edge(in);
    fast->edge(in);
    REQUIRE(ref->out_valid() == fast->out_valid());
    REQUIRE(ref->active() == fast->active());
    REQUIRE(ref->edges() == fast->edges());
    if (ref->out_valid()) {
      ref->out_words(wr.data());
      fast->out_words(wf.data());
      for (int c = 0; c < C; ++c) {
        INFO("output column " << c);
        REQUIRE(static_cast<uint64_t>(wr[size_t(c)]) == static_cast<uint64_t>(wf[size_t(c)]));
      }
      if (in.out_ready) ++g_products_out;
    }
    const ArrayToggles &tr = ref->toggles(), &tf = fast->toggles();
    REQUIRE(tr.a_regs == tf.a_regs);
    REQUIRE(tr.b_regs == tf.b_regs);
    REQUIRE(tr.acc_regs == tf.acc_regs);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        if (mx_cell_words(*ref, r, c) != mx_cell_words(*fast, r, c)) {
          INFO("cell " << r << "," << c);
          REQUIRE(mx_cell_words(*ref, r, c) == mx_cell_words(*fast, r, c));
        }
  }
  ++g_cases;
}

// A random MX operand set for make_gemm_job; with specials: NaN/Inf element codes, NaN/extreme scales.
simtest::MxOperands operands(const ArrayParams& p, int64_t m, int64_t k, int64_t n, std::mt19937_64& rng,
                             unsigned spm, unsigned epm) {
  simtest::MxOperands o = simtest::mx_random_operands(p.mx_kind, p.mx_block, m, k, n, rng);
  const model::Fp8Format& f = model::fp8_format(p.fmt_a);
  if (spm) {
    for (auto& x : o.a)
      if (rng() % 1000 < spm) x = pick_code(rng, f, 1000);
    for (auto& x : o.b)
      if (rng() % 1000 < spm) x = pick_code(rng, f, 1000);
  }
  if (epm) {
    for (auto& x : o.s.a)
      if (rng() % 1000 < epm) x = pick_scale(rng, 1000);
    for (auto& x : o.s.b)
      if (rng() % 1000 < epm) x = pick_scale(rng, 1000);
  }
  return o;
}

uint64_t g_gemms = 0, g_stalled = 0, g_ktiled = 0;

void compare_gemm(std::mt19937_64& rng, int i) {
  simtest::CfgText t;
  t.rows = 1 + int(rng() % 8);
  t.cols = 1 + int(rng() % 8);
  t.dataflow = "os";
  t.pe = "e4m3", t.acc = "fixed";
  t.sram_latency = 1 + int(rng() % 3);
  t.ports = 1 + int(rng() % 2);
  t.bw = 1 << int(rng() % 6);
  t.dram_latency = int(rng() % 40);
  t.in_bytes = 512 << int(rng() % 3), t.w_bytes = 512 << int(rng() % 3), t.out_bytes = 16384;
  AcceleratorConfig cfg = t.make();
  const model::MxKind kind = kKinds[rng() % 6];
  const int block = rng() % 2 ? 32 : 1 + int(rng() % 32);
  try {
    set_mx_array(cfg, kind, block);
  } catch (const std::invalid_argument&) {
    return;  // buffers too small for two slots of one block: not an MX configuration
  }
  const int64_t m = 1 + int64_t(rng() % 20), n = 1 + int64_t(rng() % 20);
  const int64_t k = 1 + int64_t(rng() % std::min<int64_t>(160, 128 * block));
  const unsigned spm = rng() % 3 ? 0 : unsigned(rng() % 30), epm = rng() % 3 ? 0 : unsigned(rng() % 100);
  const simtest::MxOperands o = operands(cfg.array, m, k, n, rng, spm, epm);
  INFO("case " << i << ": M " << m << " K " << k << " N " << n << " " << describe(cfg.array, spm, epm) << "\n"
                << t.text());
  GemmJob jr, jf;
  try {
    jr = make_gemm_job(cfg, m, k, n, o.a, o.b, Engine::Model, nullptr, nullptr, {}, nullptr, &o.s);
  } catch (const std::invalid_argument& e) {
    return;  // does not fit this configuration (both engines would refuse it)
  }
  jf = make_gemm_job(cfg, m, k, n, o.a, o.b, Engine::Fast, nullptr, nullptr, {}, nullptr, &o.s);
  REQUIRE(std::string(typeid(jf.acc->array()).name()).find("MxFastArray") != std::string::npos);
  REQUIRE(std::string(typeid(jr.acc->array()).name()).find("MxArrayModel") != std::string::npos);
  jr.acc->run(5'000'000);
  jf.acc->run(5'000'000);
  REQUIRE(stats_difference(jr.acc->stats(), jf.acc->stats()) == "");
  REQUIRE(jr.acc->dram() == jf.acc->dram());
  REQUIRE(jf.compare() == 0);  // and both equal model::golden_gemm_mx
  ++g_gemms;
  if (jf.acc->stats().array_stall_dram + jf.acc->stats().array_stall_conflict > 0) ++g_stalled;
  uint64_t computes = 0;
  for (const auto& c : jf.lowered.commands) computes += c.op == firmware::Opcode::Compute;
  const uint64_t out_tiles = uint64_t((m + t.rows - 1) / t.rows) * uint64_t((n + t.cols - 1) / t.cols);
  if (computes > out_tiles) ++g_ktiled;  // some product split into several K tiles (kFlagMxMore / kFlagMxCont)
}

}  // namespace

TEST_CASE("mx fast: array-level differential against the MX cycle model, edge by edge", "[sim][mx][engine]") {
  std::mt19937_64 rng(1313);
  g_cases = g_products_out = 0;
  for (int i = 0; i < 600; ++i) compare_arrays(rng, 60 + int(rng() % 300));
  WARN("cases " << g_cases << " rows out " << g_products_out);
  REQUIRE(g_cases == 600);
  REQUIRE(g_products_out > 1000);  // output rows were compared (not only idle edges)
}

TEST_CASE("mx fast: accelerator-level differential (every Stats field, DRAM image, golden)", "[sim][mx][engine]") {
  std::mt19937_64 rng(1314);
  g_gemms = g_stalled = g_ktiled = 0;
  for (int i = 0; i < 250; ++i) compare_gemm(rng, i);
  WARN("gemms " << g_gemms << " stalled " << g_stalled << " ktiled " << g_ktiled);
  REQUIRE(g_gemms > 200);
  REQUIRE(g_stalled > 50);   // DRAM stalls / conflicts happened in many of them
  REQUIRE(g_ktiled > 20);    // products split into K tiles (the PEs keep their sums between tiles)
}

TEST_CASE("mx fast: small8_mx GEMM (ResNet-20 conv shape) equal on both engines, Engine::Fast is the fast array",
          "[sim][mx][engine]") {
  AcceleratorConfig cfg = load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8_mx.toml");
  for (auto kind : {model::MxKind::MXFP8_E4M3, model::MxKind::MXFP8_E5M2}) {
    set_mx_array(cfg, kind, 32);
    REQUIRE(std::string(typeid(*make_engine_array(cfg.array, Engine::Fast, ArrayRole::Engine)).name())
                .find("MxFastArray") != std::string::npos);
    std::mt19937_64 rng(77);
    const int64_t m = 16, k = 576, n = 16;
    const auto o = simtest::mx_random_operands(kind, 32, m, k, n, rng);
    GemmJob jr = make_gemm_job(cfg, m, k, n, o.a, o.b, Engine::Model, nullptr, nullptr, {}, nullptr, &o.s);
    GemmJob jf = make_gemm_job(cfg, m, k, n, o.a, o.b, Engine::Fast, nullptr, nullptr, {}, nullptr, &o.s);
    jr.acc->run(50'000'000);
    jf.acc->run(50'000'000);
    REQUIRE(stats_difference(jr.acc->stats(), jf.acc->stats()) == "");
    REQUIRE(jr.acc->dram() == jf.acc->dram());
    REQUIRE(jf.compare() == 0);
    REQUIRE(jf.acc->stats().toggles.acc_regs > 0);
  }
}
