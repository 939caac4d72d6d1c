// The mapper's streams and implicit im2col through the simulated accelerator: every output equals
// model::golden_gemm bit for bit in the declared accumulation order, the DRAM bytes the DMA moves equal the
// mapper's exact estimate, and a convolution gathered from its NHWC input (implicit im2col) equals
// golden_gemm of the explicit im2col matrix while reading fewer DRAM bytes than the explicit version.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fp8sim/firmware/lowering.h"
#include "fp8sim/firmware/mapper.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/model/requant.h"
#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/gemm_run.h"
#include "sim_test_util.h"
#include "test_paths.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

TEST_CASE("mapped GEMMs on the accelerator equal golden_gemm and DRAM bytes equal the estimate",
          "[sim][mapper]") {
  std::mt19937_64 rng(4242);
  int runs = 0;
  double worst_ratio = 1.0;  // cycle model / simulated cycles, the furthest from 1 (reported, see below)
  for (int trial = 0; trial < 24; ++trial) {
    CfgText t;
    t.rows = 2 + int(rng() % 5), t.cols = 2 + int(rng() % 5);
    t.dataflow = trial % 2 ? "os" : "ws";
    t.acc = trial % 3 ? "fp32" : "fixed";
    t.in_bytes = 2 * t.rows * (4 + int64_t(rng() % 60));
    t.w_bytes = 2 * t.rows * t.cols + 2 * t.cols * int64_t(rng() % 40);
    t.out_bytes = 2 * t.rows * t.cols * 16 * (1 + int64_t(rng() % 6));
    t.bw = 4 + int(rng() % 16);
    t.dram_latency = int(rng() % 20);
    const AcceleratorConfig cfg = t.make();
    const auto num = cfg.array.numerics();
    const int64_t M = 1 + int64_t(rng() % 30), K = 1 + int64_t(rng() % 40), N = 1 + int64_t(rng() % 20);
    firmware::GemmSpec spec;
    spec.m = M, spec.k = K, spec.n = N;
    const auto all = firmware::enumerate_mappings(cfg.target(), spec);
    std::vector<firmware::Mapping> ms = {firmware::choose_mapping(cfg.target(), spec, firmware::MappingObjective::DramBytes),
                                        firmware::choose_mapping(cfg.target(), spec, firmware::MappingObjective::Cycles),
                                        all[rng() % all.size()]};
    for (const firmware::Mapping& m : ms) {
      GemmJob j = make_gemm_job(cfg, M, K, N, random_codes(num, false, M * K, rng, 10),
                                random_codes(num, true, K * N, rng, 10), Engine::Model, nullptr, &m);
      j.acc->run(10'000'000);
      INFO(t.dataflow << " " << t.rows << "x" << t.cols << " M=" << M << " K=" << K << " N=" << N << ": "
                      << m.describe(spec));
      std::string why;
      CHECK(j.compare(&why) == 0);
      INFO(why);
      const Stats& st = j.acc->stats();
      CHECK(st.dram_read == m.est.dram_read);
      CHECK(st.dram_written == m.est.dram_written);
      const double ratio = double(m.est.cycles) / double(st.cycles);
      if (std::abs(std::log(ratio)) > std::abs(std::log(worst_ratio))) worst_ratio = ratio;
      ++runs;
    }
  }
  CHECK(runs == 72);
  WARN("cycle model / simulated cycles, furthest from 1 over the runs: " << worst_ratio);
}

// Post-processed outputs (dequantize with row x column scales, bias, requantize to INT8 / BF16 / F32) with
// mapped streams: every output equals model/requant.h applied to golden_gemm's word, and the DRAM bytes (the
// parameters read per store, the outputs written) equal the estimate.
TEST_CASE("mapped GEMMs with post-processing equal requantized golden words", "[sim][mapper]") {
  std::mt19937_64 rng(99);
  const uint8_t fmts[3] = {0, uint8_t(model::OutFormat::Bf16), uint8_t(model::OutFormat::F32)};
  for (int trial = 0; trial < 12; ++trial) {
    CfgText t;
    t.rows = 2 + int(rng() % 4), t.cols = 2 + int(rng() % 4);
    t.dataflow = trial % 2 ? "os" : "ws";
    t.acc = "fixed";
    t.in_bytes = 2 * t.rows * (8 + int64_t(rng() % 40));
    t.w_bytes = 2 * t.rows * t.cols + 2 * t.cols * int64_t(rng() % 30);
    t.out_bytes = 2 * t.rows * t.cols * 16 * (1 + int64_t(rng() % 4));
    const AcceleratorConfig cfg = t.make();
    const auto num = cfg.array.numerics();
    const int64_t M = 1 + int64_t(rng() % 20), K = 1 + int64_t(rng() % 30), N = 1 + int64_t(rng() % 14);
    GemmPostJob post;
    for (int64_t n = 0; n < N; ++n) {
      post.col_scales.push_back(std::ldexp(1.0f + float(rng() % 100) / 100.0f, -int(rng() % 8)));
      if (trial % 3 != 0) post.bias.push_back(float(int(rng() % 21) - 10) / 4.0f);
    }
    if (trial % 4 >= 2)
      for (int64_t m = 0; m < M; ++m) post.row_scales.push_back(std::ldexp(1.0f, -int(rng() % 4)));
    post.out_fmt = fmts[trial % 3];
    post.out_scale = post.out_fmt == 0 ? 0.25f : 1.0f;
    firmware::GemmSpec spec;  // the post fields the mapper's estimate depends on, as make_gemm_job sets them
    spec.m = M, spec.k = K, spec.n = N;
    spec.post.enabled = true, spec.post.out_fmt = post.out_fmt, spec.post.has_bias = !post.bias.empty();
    spec.post.row_scales = !post.row_scales.empty();
    const firmware::Mapping m = firmware::choose_mapping(cfg.target(), spec);
    GemmJob j = make_gemm_job(cfg, M, K, N, random_codes(num, false, M * K, rng), random_codes(num, true, K * N, rng),
                              Engine::Model, &post, &m);
    j.acc->run(10'000'000);
    INFO(t.dataflow << " " << t.rows << "x" << t.cols << " M=" << M << " K=" << K << " N=" << N << " -> "
                    << model::out_format_name(post.out_fmt) << ": " << m.describe(spec));
    const auto gold = j.golden();
    const auto out = j.outputs();
    const int ob = model::out_format_bytes(post.out_fmt);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t c = 0; c < N; ++c) {
        const float s = post.row_scales.empty() ? post.col_scales[size_t(c)]
                                                : model::combined_scale(post.row_scales[size_t(r)], post.col_scales[size_t(c)]);
        const float y = model::dequantize_word_bias(num, gold[size_t(r * N + c)], s,
                                                    post.bias.empty() ? 0.0f : post.bias[size_t(c)], !post.bias.empty());
        uint8_t want[4] = {};
        model::requantize_value(y, post.out_fmt, post.out_scale, want);
        for (int b = 0; b < ob; ++b) REQUIRE(out[size_t((r * N + c) * ob + b)] == want[b]);
      }
    CHECK(j.acc->stats().dram_read == m.est.dram_read);
    CHECK(j.acc->stats().dram_written == m.est.dram_written);
  }
}

namespace {

struct ConvRun {
  std::vector<model::AccWord> out;
  uint64_t dram_read = 0, cycles = 0;
  int64_t k_chunk = 0;
};

// Runs the convolution as one GEMM on the accelerator: implicit (the NHWC input in DRAM, gathered) or
// explicit (the im2col matrix in DRAM), with the fixed order or the mapper's choice.
ConvRun run_conv(const AcceleratorConfig& cfg, const firmware::ConvSpec& c, const std::vector<uint8_t>& x,
                 const std::vector<uint8_t>& w, bool implicit, bool mapped) {
  const std::vector<uint8_t> a = implicit ? x : firmware::im2col(c, x.data());
  const uint64_t b_addr = (a.size() + 63) / 64 * 64, c_addr = b_addr + (w.size() + 63) / 64 * 64;
  const firmware::GemmSpec g = firmware::conv_as_gemm(c, 0, b_addr, c_addr, 5, implicit);
  const firmware::LoweredGemm L = mapped ? firmware::lower_gemm(cfg.target(), g, firmware::choose_mapping(cfg.target(), g))
                                         : firmware::lower_gemm(cfg.target(), g);
  auto cmds = L.commands;
  firmware::finish_stream(cmds);
  Accelerator acc(cfg, c_addr + uint64_t(g.m * g.n * cfg.word_bytes()));
  std::copy(a.begin(), a.end(), acc.dram().begin());
  std::copy(w.begin(), w.end(), acc.dram().begin() + b_addr);
  acc.load_program(cmds);
  acc.run(10'000'000);
  return {acc.read_output(c_addr, g.m, g.n), acc.stats().dram_read, acc.stats().cycles, L.k_chunk};
}

}  // namespace

TEST_CASE("implicit im2col on the accelerator equals golden_gemm of the explicit im2col matrix",
          "[sim][mapper][conv]") {
  std::mt19937_64 rng(77);
  CfgText os;
  os.rows = 4, os.cols = 4, os.dataflow = "os", os.acc = "fixed", os.os_k_tile = 8;
  const AcceleratorConfig configs[] = {load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8.toml"), os.make()};
  struct Shape {
    int64_t batch, h, w, cin, cout, kh, kw, stride, pad;
  };
  const Shape shapes[] = {{1, 9, 7, 5, 6, 3, 3, 1, 1}, {2, 8, 8, 3, 10, 3, 3, 2, 1}, {1, 6, 5, 8, 4, 1, 1, 1, 0},
                          {1, 7, 7, 2, 3, 5, 3, 1, 2}};
  for (const AcceleratorConfig& cfg : configs)
    for (const Shape& s : shapes) {
      firmware::ConvSpec c;
      c.batch = s.batch, c.in_h = s.h, c.in_w = s.w, c.in_c = s.cin, c.out_c = s.cout, c.kh = s.kh, c.kw = s.kw,
      c.stride = s.stride, c.pad = s.pad;
      const auto num = cfg.array.numerics();
      const auto x = random_codes(num, false, c.batch * c.in_h * c.in_w * c.in_c, rng, 10);
      const int64_t M = c.batch * c.out_h() * c.out_w(), K = c.kh * c.kw * c.in_c, N = c.out_c;
      const auto w = random_codes(num, true, K * N, rng, 10);
      const auto cols = firmware::im2col(c, x.data());  // the explicit matrix, for the golden GEMM
      for (bool mapped : {false, true}) {
        INFO(cfg.name << " conv " << s.h << "x" << s.w << "x" << s.cin << " -> " << s.cout << " " << s.kh << "x" << s.kw
                      << " stride " << s.stride << " pad " << s.pad << (mapped ? " mapped" : " fixed"));
        const ConvRun imp = run_conv(cfg, c, x, w, true, mapped), exp = run_conv(cfg, c, x, w, false, mapped);
        const auto gold = model::golden_gemm(num, model::AccumulationOrder{imp.k_chunk}, M, K, N, cols.data(), w.data());
        CHECK(imp.out == gold);
        CHECK(exp.out == gold);
        // The gather fetches no padding tap: fewer bytes whenever the kernel overlaps the padding.
        if (c.pad > 0) CHECK(imp.dram_read < exp.dram_read);
        else CHECK(imp.dram_read == exp.dram_read);
      }
      // The same through make_conv_job (gemm_run.h), with the mapper's choice.
      const firmware::Mapping m = firmware::choose_mapping(cfg.target(), firmware::conv_as_gemm(c, 0, 0, 0, 0, true));
      GemmJob j = make_conv_job(cfg, c, x, w, Engine::Model, &m);
      j.acc->run(10'000'000);
      CHECK(j.compare() == 0);
      CHECK(j.acc->stats().dram_read == m.est.dram_read);
    }
}

TEST_CASE("a gather load with bad geometry is rejected with one line", "[sim][mapper][conv]") {
  const AcceleratorConfig cfg = load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8.toml");
  auto run = [&](firmware::Command c) {
    std::vector<firmware::Command> cmds = {c};
    firmware::finish_stream(cmds);
    Accelerator acc(cfg, 4096);
    acc.load_program(cmds);
    try {
      acc.run(100000);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  firmware::Command c;
  c.op = firmware::Opcode::LoadActivations;
  c.flags = firmware::kFlagGather;
  c.rows = 4, c.cols = 8, c.buf_rows = 4, c.buf_cols = 8;
  c.conv_in_h = 4, c.conv_in_w = 4, c.conv_in_c = 2, c.conv_kh = 3, c.conv_kw = 3, c.conv_stride = 1, c.conv_pad = 1;
  CHECK(run(c) == "no error");
  firmware::Command bad = c;
  bad.conv_stride = 0;
  CHECK_THAT(run(bad), Catch::Contains("gather: conv_in_h/w/c, conv_kh/kw and conv_stride must be >= 1"));
  bad = c;
  bad.conv_in_c = 1u << 20;
  CHECK_THAT(run(bad), Catch::Contains("must be <= 65535"));
  bad = c;
  bad.gather_k0 = 12;  // 12 + 8 > 3 * 3 * 2
  CHECK_THAT(run(bad), Catch::Contains("k range beyond"));
  bad = c;
  bad.gather_m0 = 10000;  // image 625 (16 pixels per image), offset 625 * 32 = 20,000 beyond the 4096-byte DRAM
  CHECK_THAT(run(bad), Catch::Contains("gather beyond the end of DRAM"));
}

// On-chip placement (GemmPlacement, [activation_sram]): the same GEMM with A, B and the outputs in the activation
// SRAM instead of DRAM. The bytes each transfer moves do not change, only where they go: DRAM reads drop by exactly
// the activation SRAM's reads (everything except the post-processing parameters moved), DRAM writes by its writes
// (= M x N outputs x 2 bytes, BF16, each output written once); the outputs are identical; the on-chip run is no
// slower (shorter latency, twice the rate of this configuration's DRAM).
TEST_CASE("on-chip placement moves the same bytes to the activation SRAM instead of DRAM, same outputs",
          "[sim][network]") {
  AcceleratorConfig cfg = load_config((test::source_dir() / "sim" / "configs" / "small8.toml").string());
  cfg.activation_sram.size_bytes = 1 << 20;
  cfg.activation_sram.bytes_per_cycle = 2 * cfg.dram.bytes_per_cycle;
  cfg.activation_sram.latency = 2;
  const auto num = cfg.array.numerics();
  std::mt19937_64 rng(11);
  const int64_t M = 21, K = 19, N = 13;
  const auto a = random_codes(num, false, M * K, rng), b = random_codes(num, true, K * N, rng);
  GemmPostJob post;
  for (int64_t n = 0; n < N; ++n) post.col_scales.push_back(std::ldexp(1.0f, -int(n % 5)));
  post.out_fmt = 6;  // BF16
  GemmPlacement on;
  on.a_on_chip = on.b_on_chip = on.out_on_chip = true;
  GemmJob off_job = make_gemm_job(cfg, M, K, N, a, b, Engine::Model, &post);
  GemmJob on_job = make_gemm_job(cfg, M, K, N, a, b, Engine::Model, &post, nullptr, on);
  off_job.acc->run(10'000'000);
  on_job.acc->run(10'000'000);
  const Stats &s0 = off_job.acc->stats(), &s1 = on_job.acc->stats();
  CHECK(on_job.outputs() == off_job.outputs());
  CHECK(s0.act_sram_read == 0);
  CHECK(s0.act_sram_written == 0);
  CHECK(s1.act_sram_written == uint64_t(M * N * 2));
  CHECK(s0.dram_written - s1.dram_written == s1.act_sram_written);
  CHECK(s0.dram_read - s1.dram_read == s1.act_sram_read);
  // What is left in DRAM is the post-processing parameters: N float32 column scales per PostProcess command.
  uint64_t params = 0;
  for (const auto& c : on_job.lowered.commands)
    if (c.op == firmware::Opcode::PostProcess) params += 4ull * c.cols;
  CHECK(s1.dram_read == params);
  CHECK(s1.cycles <= s0.cycles);
  CHECK(s1.macs == uint64_t(M * K * N));
  // An on-chip placement on a configuration without the SRAM is refused.
  cfg.activation_sram.size_bytes = 0;
  CHECK_THROWS_WITH(make_gemm_job(cfg, M, K, N, a, b, Engine::Model, &post, nullptr, on),
                    Catch::Matchers::Contains("no activation SRAM"));
}
