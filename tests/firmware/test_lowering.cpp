// The lowering checked by an abstract interpreter written here, independent of sim/: it executes a command
// stream on buffers whose cells hold *which* element they contain (A[m][k], B[k][n], or padding), and
// checks, for random shapes and array configurations, both dataflows:
//   - no access outside a buffer (no overfill) and no DRAM access outside A, B, C;
//   - every product pairs A[m][k] with B[k][n] of the same k (or involves padding);
//   - every output C[m][n] is stored exactly once, and its word holds each k in [0, K) exactly once;
//   - the Accumulate flag is set exactly when the output word already holds a partial sum of that output.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/firmware/lowering.h"
#include "fp8sim/model/requant.h"
#include "abstract_interp.h"

using namespace fp8sim::firmware;
namespace model = fp8sim::model;

using fp8sim::testing::Interp;

TEST_CASE("lowering covers every output exactly once without overfilling a buffer", "[firmware]") {
  std::mt19937_64 rng(20240601);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % uint64_t(hi - lo + 1)); };
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    ArrayTarget t;
    t.rows = static_cast<int>(pick(1, 12));
    t.cols = static_cast<int>(pick(1, 12));
    t.dataflow = trial % 2 ? Dataflow::OutputStationary : Dataflow::WeightStationary;
    t.word_bytes = std::vector<int>{4, 8, 16}[rng() % 3];
    // Buffers from just enough for one double-buffered tile to a few times more.
    t.input_buffer_bytes = 2 * t.rows * pick(1, 40);
    t.weight_buffer_bytes = 2 * t.rows * t.cols + 2 * t.cols * pick(0, 40);
    t.output_buffer_bytes = 2 * int64_t{t.rows} * t.cols * t.word_bytes * pick(1, 6);
    t.os_k_tile = pick(0, 1) ? pick(1, 50) : 0;
    GemmSpec g;
    g.m = pick(1, 40), g.k = pick(1, 70), g.n = pick(1, 40);
    g.a_addr = 0;
    g.b_addr = static_cast<uint64_t>(g.m * g.k) + 64;
    g.c_addr = g.b_addr + static_cast<uint64_t>(g.k * g.n) + 128;
    if (trial % 3 == 0) {  // post-processed outputs (codes, BF16 or F32) instead of accumulator words
      g.post.enabled = true;
      g.post.scale_addr = g.c_addr + uint64_t(g.m * g.n * t.word_bytes);
      g.post.bias_addr = g.post.scale_addr + uint64_t(4 * g.n);
      g.post.row_scale_addr = g.post.bias_addr + uint64_t(4 * g.n);
      g.post.out_addr = g.post.row_scale_addr + uint64_t(4 * g.m);
      const uint8_t fmts[3] = {0, uint8_t(model::OutFormat::Bf16), uint8_t(model::OutFormat::F32)};
      g.post.out_fmt = fmts[(trial / 3) % 3];
      g.post.has_bias = (trial / 9) % 2 == 0;
      g.post.row_scales = (trial / 18) % 2 == 1;
    }
    const LoweredGemm L = lower_gemm(t, g);
    Interp in(t, g);
    INFO("trial " << trial << " array " << t.rows << "x" << t.cols << (trial % 2 ? " os" : " ws") << " M=" << g.m
                  << " K=" << g.k << " N=" << g.n);
    REQUIRE_NOTHROW(in.run(L.commands));
    for (int64_t e = 0; e < g.m * g.n; ++e) REQUIRE(in.stored[e] == 1);
    // Tile count: ceil(M/mt) * ceil(N/C) * ceil(K/kt) compute commands.
    const int64_t want = (g.m + L.m_tile - 1) / L.m_tile * ((g.n + t.cols - 1) / t.cols) * ((g.k + L.k_tile - 1) / L.k_tile);
    CHECK(in.computes == want);
    CHECK(L.k_chunk == (t.dataflow == Dataflow::WeightStationary ? t.rows : L.k_tile));
    ++checked;
  }
  CHECK(checked == 300);
}

TEST_CASE("lowering rejects buffers too small for one tile", "[firmware]") {
  GemmSpec g;
  g.m = 4, g.k = 4, g.n = 4;
  ArrayTarget ws{4, 4, Dataflow::WeightStationary, 8, 32, 128, 4, 0};  // input: 2 x 4 bytes -> mt = 1
  CHECK(lower_gemm(ws, g).m_tile == 1);
  ws.input_buffer_bytes = 7;  // not even one 1 x 4 activation row per slot
  CHECK_THROWS_WITH(lower_gemm(ws, g), Catch::Contains("buffers too small for one tile"));
  ArrayTarget ws2{4, 4, Dataflow::WeightStationary, 64, 31, 128, 4, 0};
  CHECK_THROWS_WITH(lower_gemm(ws2, g), Catch::Contains("weight buffer (31 bytes) cannot hold two 4x4"));
  ArrayTarget os{4, 4, Dataflow::OutputStationary, 64, 64, 127, 4, 0};
  CHECK_THROWS_WITH(lower_gemm(os, g), Catch::Contains("output buffer (127 bytes) cannot hold two 4x4"));
  g.k = 0;
  CHECK_THROWS_WITH(lower_gemm(ws, g), Catch::Contains("empty GEMM"));
}

TEST_CASE("convolution through im2col and attention lower to covered GEMMs", "[firmware]") {
  // 1 x 5 x 4 x 3 input, 3x3 kernel, stride 2, pad 1: out 3 x 2. Input codes = position + 1 (never 0).
  ConvSpec c;
  c.batch = 1, c.in_h = 5, c.in_w = 4, c.in_c = 3, c.out_c = 5, c.kh = 3, c.kw = 3, c.stride = 2, c.pad = 1;
  std::vector<uint8_t> x(5 * 4 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i + 1);
  const auto a = im2col(c, x.data());
  REQUIRE(c.out_h() == 3);
  REQUIRE(c.out_w() == 2);
  REQUIRE(a.size() == size_t(6 * 27));
  // Output (1, 1) (row 3 of A): taps at iy = 1 + dy, ix = 1 + dx; tap (2, 2) reads iy = 3, ix = 3.
  CHECK(a[3 * 27 + (2 * 3 + 2) * 3 + 1] == x[(3 * 4 + 3) * 3 + 1]);
  // Output (0, 0): tap (0, 0) is padding.
  CHECK(a[0] == 0);
  CHECK(a[(1 * 3 + 1) * 3 + 2] == x[(0 * 4 + 0) * 3 + 2]);
  ArrayTarget t{4, 4, Dataflow::WeightStationary, 256, 64, 1024, 4, 0};
  const GemmSpec g = conv_as_gemm(c, 0, 4096, 8192, 0);
  CHECK((g.m == 6 && g.k == 27 && g.n == 5));
  Interp in(t, g);
  REQUIRE_NOTHROW(in.run(lower_gemm(t, g).commands));
  for (int v : in.stored) CHECK(v == 1);

  AttentionSpec at;
  at.heads = 2, at.seq = 7, at.head_dim = 5;
  at.q_addr = 0, at.kt_addr = 1000, at.p_addr = 2000, at.v_addr = 3000, at.s_addr = 10000, at.o_addr = 20000;
  const auto gs = attention_gemms(at, 4);
  REQUIRE(gs.size() == 4);
  CHECK((gs[0].m == 7 && gs[0].k == 5 && gs[0].n == 7));
  CHECK((gs[1].m == 7 && gs[1].k == 7 && gs[1].n == 5));
  CHECK(gs[3].c_addr == 20000 + 7 * 5 * 4);
  for (const GemmSpec& gg : gs) {
    Interp i2(t, gg);
    REQUIRE_NOTHROW(i2.run(lower_gemm(t, gg).commands));
    for (int v : i2.stored) CHECK(v == 1);
  }
}

// The MX lowering (lower_gemm_mx) under the interpreter's MX checks (abstract_interp.h): scales beside their
// blocks on every block-last beat, K tiles of whole blocks, the PEs' products continued across K tiles, every
// output stored once holding each k once; plain GEMMs and convolutions with implicit im2col (the element codes
// gathered from the NHWC input, the scales from the M x nb matrix of the im2col rows).
TEST_CASE("MX lowering: scales travel with their blocks, K tiles are whole blocks, implicit im2col", "[firmware]") {
  std::mt19937_64 rng(20261130);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % uint64_t(hi - lo + 1)); };
  int checked = 0, gathered = 0, ktiled = 0, negatives = 0;
  for (int trial = 0; trial < 300; ++trial) {
    ArrayTarget t;
    t.rows = static_cast<int>(pick(1, 10));
    t.cols = static_cast<int>(pick(1, 10));
    t.dataflow = Dataflow::OutputStationary;
    t.word_bytes = 4;
    const int B = rng() % 3 == 0 ? 32 : static_cast<int>(pick(1, 9));
    // From one double-buffered block (codes + scale) per side to several.
    t.input_buffer_bytes = 2 * t.rows * (B + 1) * pick(1, 6);
    t.weight_buffer_bytes = 2 * t.cols * (B + 1) * pick(1, 6);
    t.output_buffer_bytes = 2 * int64_t{t.rows} * t.cols * t.word_bytes * pick(1, 3);
    t.os_k_tile = pick(0, 3) == 0 ? pick(1, 80) : 0;
    GemmSpec g;
    const bool conv = trial % 2 == 1;
    if (conv) {
      ConvSpec cv;
      cv.batch = pick(1, 2), cv.in_h = pick(1, 6), cv.in_w = pick(1, 6);
      cv.in_c = rng() % 2 ? B * pick(1, 3) : pick(1, 12);  // whole channel blocks per tap, or blocks across taps
      cv.kh = pick(1, 3), cv.kw = pick(1, 3), cv.stride = pick(1, 2), cv.pad = pick(0, 1);
      cv.out_c = pick(1, 12);
      if (cv.out_h() < 1 || cv.out_w() < 1) continue;
      const uint64_t in_bytes = uint64_t(cv.batch * cv.in_h * cv.in_w * cv.in_c);
      g = conv_as_gemm(cv, 0, in_bytes + 64, 0, 0, /*implicit=*/true, 0);
      g.c_addr = g.b_addr + uint64_t(g.k * g.n) + 64;
      ++gathered;
    } else {
      g.m = pick(1, 30), g.k = pick(1, 150), g.n = pick(1, 30);
      g.a_addr = 0;
      g.b_addr = uint64_t(g.m * g.k) + 64;
      g.c_addr = g.b_addr + uint64_t(g.k * g.n) + 128;
    }
    if (g.k > 128 * B) continue;
    const int64_t nb = (g.k + B - 1) / B;
    g.mx.enabled = true;
    g.mx.block = B;
    g.mx.a_scale_addr = g.c_addr + uint64_t(g.m * g.n * 4) + 32;
    g.mx.b_scale_addr = g.mx.a_scale_addr + uint64_t(g.m * nb) + 32;
    const LoweredGemm L = lower_gemm(t, g);
    Interp in(t, g);
    INFO("trial " << trial << " array " << t.rows << "x" << t.cols << " block " << B << " M=" << g.m << " K=" << g.k
                  << " N=" << g.n << (conv ? " conv" : ""));
    REQUIRE_NOTHROW(in.run(L.commands));
    for (int64_t e = 0; e < g.m * g.n; ++e) REQUIRE(in.stored[e] == 1);
    REQUIRE(L.k_tile % B == 0);
    const int64_t want = (g.m + t.rows - 1) / t.rows * ((g.n + t.cols - 1) / t.cols) * ((g.k + L.k_tile - 1) / L.k_tile);
    CHECK(in.computes == want);
    if (L.k_tile < g.k) ++ktiled;
    // The interpreter sees a scale that is not its block's: the A scales of one K tile read one block further
    // (plain GEMMs: every product is real; a convolution's first tiles may hold only padding taps).
    if (nb >= 2 && !conv) {
      std::vector<Command> bad = L.commands;
      for (Command& c : bad)
        if (c.op == Opcode::LoadActivations && c.dram_addr >= g.mx.a_scale_addr &&
            c.dram_addr < g.mx.a_scale_addr + uint64_t(g.m * nb) && c.cols < nb) {
          c.dram_addr += 1;
          break;
        }
      Interp in2(t, g);
      bool moved = false;
      for (size_t q = 0; q < bad.size(); ++q) moved |= bad[q].dram_addr != L.commands[q].dram_addr;
      if (moved) {
        CHECK_THROWS(in2.run(bad));
        ++negatives;
      }
    }
    // ... and a K tile that does not continue the product in the PEs (kFlagMxCont dropped).
    if (L.k_tile < g.k) {
      std::vector<Command> bad = L.commands;
      for (Command& c : bad)
        if (c.op == Opcode::Compute && (c.flags & kFlagMxCont)) {
          c.flags = static_cast<uint8_t>(c.flags & ~kFlagMxCont);
          break;
        }
      Interp in3(t, g);
      CHECK_THROWS(in3.run(bad));
    }
    ++checked;
  }
  CHECK(checked > 250);
  CHECK(gathered > 100);
  CHECK(ktiled > 50);
  CHECK(negatives > 50);
}
