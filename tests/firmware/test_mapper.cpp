// The mapper (firmware/mapper.h): every mapping it can emit runs through the abstract interpreter
// (abstract_interp.h, independent of sim/ and of the firmware's address helpers): in bounds, every product
// pairs A[m][k] with B[k][n], every output stored exactly once with each k exactly once. The mapper's DRAM
// estimate must equal the bytes the interpreter counts in the stream, and its compute count the Computes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "abstract_interp.h"
#include "fp8sim/firmware/lowering.h"
#include "fp8sim/firmware/mapper.h"
#include "fp8sim/model/requant.h"

using namespace fp8sim::firmware;
using fp8sim::testing::Interp;

namespace {

void check_mapping(const ArrayTarget& t, const GemmSpec& g, const Mapping& m) {
  INFO("mapping: " << m.describe(g));
  const LoweredGemm L = lower_gemm(t, g, m);
  Interp in(t, g);
  REQUIRE_NOTHROW(in.run(L.commands));
  for (int64_t e = 0; e < g.m * g.n; ++e) REQUIRE(in.stored[e] == 1);
  CHECK(in.dram_read == m.est.dram_read);
  CHECK(in.dram_written == m.est.dram_written);
  CHECK(uint64_t(in.computes) == m.est.computes);
  CHECK(L.k_chunk == m.k_tile);
  CHECK(L.commands.back().op == Opcode::Barrier);
}

}  // namespace

TEST_CASE("every mapping the mapper can emit covers each output exactly once, DRAM estimate exact",
          "[firmware][mapper]") {
  std::mt19937_64 rng(20261129);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % uint64_t(hi - lo + 1)); };
  std::set<std::string> kinds;
  std::set<int> buffering;         // a_double | w_double << 1 | o_double << 2 of the mappings run
  bool os_multi_row_block = false;  // an OS block of several R-row tiles
  int mappings = 0;
  for (int trial = 0; trial < 160; ++trial) {
    ArrayTarget t;
    t.rows = static_cast<int>(pick(1, 8));
    t.cols = static_cast<int>(pick(1, 8));
    t.dataflow = trial % 2 ? Dataflow::OutputStationary : Dataflow::WeightStationary;
    t.word_bytes = std::vector<int>{4, 8, 16}[rng() % 3];
    t.input_buffer_bytes = 2 * t.rows * pick(1, 200);
    t.weight_buffer_bytes = 2 * t.rows * t.cols + 2 * t.cols * pick(0, 120);
    t.output_buffer_bytes = 2 * int64_t{t.rows} * t.cols * t.word_bytes * pick(1, 12);
    t.os_k_tile = pick(0, 1) ? pick(1, 50) : 0;
    GemmSpec g;
    const bool conv = trial % 4 == 1 || trial % 4 == 2;
    if (conv) {  // implicit im2col: A is gathered from an NHWC input
      ConvSpec c;
      c.batch = pick(1, 2), c.in_h = pick(1, 7), c.in_w = pick(1, 7), c.in_c = pick(1, 4), c.out_c = pick(1, 20);
      c.kh = pick(1, 3), c.kw = pick(1, 3), c.stride = pick(1, 2), c.pad = pick(0, 2);
      if (c.in_h + 2 * c.pad < c.kh || c.in_w + 2 * c.pad < c.kw) c.pad = 2;
      g = conv_as_gemm(c, 0, 0, 0, 7, /*implicit=*/true, /*pad_code=*/0);
    } else {
      g.m = pick(1, 40), g.k = pick(1, 70), g.n = pick(1, 40);
    }
    const uint64_t a_bytes = conv ? uint64_t(g.gather.conv.batch * g.gather.conv.in_h * g.gather.conv.in_w *
                                             g.gather.conv.in_c)
                                  : uint64_t(g.m * g.k);
    g.a_addr = 0;
    g.b_addr = a_bytes + 64;
    g.c_addr = g.b_addr + static_cast<uint64_t>(g.k * g.n) + 128;
    if (trial % 3 == 0) {
      // post-processed outputs (codes, BF16 or F32), with or without biases and row scales
      g.post.enabled = true;
      g.post.scale_addr = g.c_addr + uint64_t(g.m * g.n * t.word_bytes);
      g.post.bias_addr = g.post.scale_addr + uint64_t(4 * g.n);
      g.post.row_scale_addr = g.post.bias_addr + uint64_t(4 * g.n);
      g.post.out_addr = g.post.row_scale_addr + uint64_t(4 * g.m);
      const uint8_t fmts[3] = {0, uint8_t(fp8sim::model::OutFormat::Bf16), uint8_t(fp8sim::model::OutFormat::F32)};
      g.post.out_fmt = fmts[(trial / 3) % 3];
      g.post.has_bias = (trial / 9) % 2 == 0;
      g.post.row_scales = (trial / 6) % 2 == 1;
    }
    INFO("trial " << trial << " array " << t.rows << "x" << t.cols << (trial % 2 ? " os" : " ws") << " M=" << g.m
                  << " K=" << g.k << " N=" << g.n << (conv ? " implicit im2col" : ""));
    const std::vector<Mapping> all = enumerate_mappings(t, g);
    REQUIRE(!all.empty());
    REQUIRE(all[0].fixed);
    // The chosen mapping of every objective, the fixed order, and a random sample of the other candidates.
    std::vector<Mapping> run = {all[0], choose_mapping(t, g, MappingObjective::DramBytes),
                                choose_mapping(t, g, MappingObjective::Cycles),
                                choose_mapping(t, g, MappingObjective::Energy)};
    for (int i = 0; i < 12; ++i) run.push_back(all[rng() % all.size()]);
    for (const Mapping& m : run) {
      check_mapping(t, g, m);
      kinds.insert(m.kind(g));
      if (!m.fixed) buffering.insert(int(m.a_double) | int(m.w_double) << 1 | int(m.o_double) << 2);
      os_multi_row_block |= !m.fixed && t.dataflow == Dataflow::OutputStationary && m.m_block > t.rows && g.m > t.rows;
      ++mappings;
    }
    // The mapper never does worse than the fixed order on its own objective.
    CHECK(run[1].est.dram_bytes() <= all[0].est.dram_bytes());
    CHECK(double(run[2].est.cycles) <= (1 + kCyclesTolerance) * double(all[0].est.cycles));
    CHECK(run[3].est.energy_pj <= all[0].est.energy_pj);
  }
  CHECK(mappings == 160 * 16);
  CHECK(kinds == std::set<std::string>{"fixed", "act-resident", "weight-resident", "k-blocked"});
  CHECK(buffering.size() == 8);
  CHECK(os_multi_row_block);
}

TEST_CASE("the fixed mapping lowers exactly like lower_gemm(t, g)", "[firmware][mapper]") {
  ArrayTarget t{4, 4, Dataflow::WeightStationary, 256, 64, 1024, 4, 0};
  GemmSpec g;
  g.m = 13, g.k = 30, g.n = 9, g.b_addr = 4096, g.c_addr = 8192;
  const Mapping f = fixed_mapping(t, g);
  CHECK(f.fixed);
  CHECK(f.kind(g) == "fixed");
  const auto a = lower_gemm(t, g).commands, b = lower_gemm(t, g, f).commands;
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
}

// DRAM bytes of the candidates for a bert-base shape on default32 (32x32 WS, 256 KiB input and output
// buffers, 64 KiB weights, 8-byte accumulator words), derived by hand:
//   fixed: m_tile = min(128, 262144 / 64, 262144 / (2 * 32 * 8)) = 128, so one row block; A (128 x 768) is
//   read once per 32-column tile: 24 x 98,304 = 2,359,296; B once: 589,824; C: 128 * 768 * 8 = 786,432.
//   act-resident: A once (98,304), B once, C once: 1,474,560, which is the minimum (every byte once).
TEST_CASE("mapper on a bert-base GEMM shape (default32): act-resident reads A once", "[firmware][mapper]") {
  ArrayTarget t{32, 32, Dataflow::WeightStationary, 262144, 65536, 262144, 8, 0};
  GemmSpec g;
  g.m = 128, g.k = 768, g.n = 768;
  const Mapping f = fixed_mapping(t, g);
  CHECK(f.est.dram_read == 2359296u + 589824u);
  CHECK(f.est.dram_written == 786432u);
  const Mapping m = choose_mapping(t, g);
  INFO(m.describe(g));
  CHECK(m.est.dram_read == 98304u + 589824u);
  CHECK(m.est.dram_written == 786432u);
  CHECK(m.kind(g) == "act-resident");
  CHECK(parse_mapping_objective("cycles") == MappingObjective::Cycles);
  CHECK_THROWS_WITH(parse_mapping_objective("area"), Catch::Contains("expected dram, cycles or energy"));
}

TEST_CASE("implicit im2col reads fewer DRAM bytes than the im2col matrix", "[firmware][mapper]") {
  // 3x3, pad 1, stride 1 on 8x8x4: the im2col matrix has 64 x 36 = 2,304 bytes; the taps inside the input,
  // per axis: 8 output positions x 3 taps - 2 taps in the padding (first and last) = 22, so 22 * 22 * 4 =
  // 1,936 bytes per pass over A, against the input's 256 bytes.
  ConvSpec c;
  c.batch = 1, c.in_h = 8, c.in_w = 8, c.in_c = 4, c.out_c = 8, c.kh = 3, c.kw = 3, c.stride = 1, c.pad = 1;
  const GemmSpec gi = conv_as_gemm(c, 0, 4096, 8192, 0, true), ge = conv_as_gemm(c, 0, 4096, 8192, 0, false);
  CHECK(a_pass_bytes(ge) == 64 * 36);
  CHECK(a_pass_bytes(gi) == 22 * 22 * 4);
  ArrayTarget t{4, 4, Dataflow::WeightStationary, 256, 64, 1024, 4, 0};
  Interp in(t, gi);
  REQUIRE_NOTHROW(in.run(lower_gemm(t, gi).commands));
  for (int v : in.stored) CHECK(v == 1);
  GemmSpec bad = gi;
  bad.m += 1;
  CHECK_THROWS_WITH(lower_gemm(t, bad), Catch::Contains("is not the convolution's"));
}
