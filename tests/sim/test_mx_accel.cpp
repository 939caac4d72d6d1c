// MX GEMMs on the whole accelerator (make_gemm_job with MxScales on an MX array configuration): every output
// word against model::golden_gemm_mx (exact semantics), K tiles on block boundaries with scales loaded beside
// their codes (DRAM traffic derived by hand below), post-processing to F32/BF16 through model/requant.h, the
// configuration file, one-line errors, and --engine rtl (Verilated MX arrays) against the cycle model.
#include <catch2/catch.hpp>

#include <random>

#include "fp8sim/model/requant.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/mx_array.h"
#include "test_mx_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;

namespace {

AcceleratorConfig small8_mx() { return load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8_mx.toml"); }

GemmJob run_mx(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, uint64_t seed,
               Engine engine = Engine::Model, const GemmPostJob* post = nullptr) {
  std::mt19937_64 rng(seed);
  auto op = simtest::mx_random_operands(cfg.array.mx_kind, cfg.array.mx_block, m, k, n, rng);
  GemmJob j = make_gemm_job(cfg, m, k, n, op.a, op.b, engine, post, nullptr, {}, nullptr, &op.s);
  j.acc->run(50'000'000);
  return j;
}

}  // namespace

TEST_CASE("mx accel: small8_mx.toml is an 8x8 OS mxfp8 array, exact accumulation", "[sim][mx]") {
  const AcceleratorConfig cfg = small8_mx();
  REQUIRE(cfg.array.mx);
  REQUIRE(cfg.array.mx_kind == model::MxKind::MXFP8_E4M3);
  REQUIRE(cfg.array.mx_block == 32);
  REQUIRE(cfg.array.rows == 8);
  REQUIRE(cfg.array.dataflow == Dataflow::OutputStationary);
  REQUIRE(mx_accumulator_name(cfg.array) == "exact");
  REQUIRE(mx_gemm_numerics(cfg.array).describe() == "mxfp8 x mxfp8 (block 32) -> exact");
  REQUIRE(cfg.word_bytes() == 4);
}

TEST_CASE("mx accel: bad MX configurations and calls fail with one line", "[sim][mx]") {
  const std::string base = "name = \"x\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"os\"\npe = \"mxfp8\"\n";
  const std::string bufs = "[input_buffer]\nsize_bytes = 4096\nbank_width_bytes = 8\n[weight_buffer]\nsize_bytes = 4096\n"
                           "bank_width_bytes = 8\n[output_buffer]\nsize_bytes = 4096\nbank_width_bytes = 16\n"
                           "[dram]\nbytes_per_cycle = 16\nlatency = 10\n";
  REQUIRE_NOTHROW(parse_config(base + "accumulator = \"exact\"\n" + bufs, "t"));
  REQUIRE_THROWS_WITH(parse_config(base + "accumulator = \"fp32\"\n" + bufs, "t"), Catch::Contains("accumulate exactly"));
  REQUIRE_THROWS_WITH(parse_config("name = \"x\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"ws\"\npe = \"mxint8\"\n"
                                   "accumulator = \"exact\"\n" + bufs, "t"),
                      Catch::Contains("output-stationary"));
  REQUIRE_THROWS_WITH(parse_config(base + "accumulator = \"exact\"\nblock_size = 0\n" + bufs, "t"),
                      Catch::Contains("block_size"));
  const AcceleratorConfig cfg = small8_mx();
  std::vector<uint8_t> a(8 * 64), b(64 * 8);
  REQUIRE_THROWS_WITH(make_gemm_job(cfg, 8, 64, 8, a, b), Catch::Contains("block scales"));
  MxScales s;
  s.a.resize(8 * 2), s.b.resize(8 * 3);
  REQUIRE_THROWS_WITH(make_gemm_job(cfg, 8, 64, 8, a, b, Engine::Model, nullptr, nullptr, {}, nullptr, &s),
                      Catch::Contains("MX scales must be"));
  // K past the Kulisch register's 128 blocks (KBLK_BITS = 7 at block 32: K <= 4096)
  std::vector<uint8_t> a2(size_t(8 * 4097)), b2(size_t(4097 * 8));
  MxScales s2;
  s2.a.resize(8 * 129), s2.b.resize(8 * 129);
  REQUIRE_THROWS_WITH(make_gemm_job(cfg, 8, 4097, 8, a2, b2, Engine::Model, nullptr, nullptr, {}, nullptr, &s2),
                      Catch::Contains("at most 128"));
  // --engine rtl on an MX array that is not Verilated (8x8 mxfp4): one line naming what is built
  AcceleratorConfig fp4 = cfg;
  set_mx_array(fp4, model::MxKind::MXFP4, 32);
  REQUIRE_FALSE(rtl_array_available(fp4.array));
  s.a.resize(8 * 2), s.b.resize(8 * 2);
  REQUIRE_THROWS_WITH(make_gemm_job(fp4, 8, 64, 8, a, b, Engine::Rtl, nullptr, nullptr, {}, nullptr, &s),
                      Catch::Contains("Verilated MX arrays"));
}

TEST_CASE("mx accel: every format, K tiles on block boundaries, words equal golden_gemm_mx", "[sim][mx]") {
  AcceleratorConfig cfg = small8_mx();
  uint64_t seed = 100;
  for (int kind = 0; kind < model::kMxKindCount; ++kind) {
    set_mx_array(cfg, static_cast<model::MxKind>(kind), 32);
    // 13 x 100 x 11: one K tile (100 < 480), edge tiles in M and N, a short last block (100 = 3 x 32 + 4)
    GemmJob j = run_mx(cfg, 13, 100, 11, ++seed);
    std::string why;
    INFO(model::mx_format(cfg.array.mx_kind).name << ": " << why);
    REQUIRE(j.compare(&why) == 0);
    REQUIRE(j.output() == j.golden());
  }
  // Several K tiles per product: small8_mx's weight buffer holds 8192 / (2 x 8 x 33) = 15 blocks per slot, so
  // K = 600 runs as 480 + 120; with os_k_tile = 64 (two blocks), K = 200 runs as 64 + 64 + 64 + 8.
  set_mx_array(cfg, model::MxKind::MXFP8_E4M3, 32);
  GemmJob big = run_mx(cfg, 20, 600, 9, 7);
  REQUIRE(big.lowered.k_tile == 480);
  REQUIRE(big.compare() == 0);
  cfg.os_k_tile = 64;
  for (int kind : {0, 5}) {
    set_mx_array(cfg, static_cast<model::MxKind>(kind), 32);
    GemmJob j = run_mx(cfg, 9, 200, 10, 8);
    REQUIRE(j.lowered.k_tile == 64);
    REQUIRE(j.lowered.tiles == 2 * 2 * 4);  // ceil(9/8) x ceil(10/8) output tiles x 4 K tiles
    REQUIRE(j.compare() == 0);
    // DRAM reads, derived from the tiling: each of the ceil(N/8) = 2 column tiles reads all of A (M x K codes
    // + M x ceil(K/32) scales), each of the ceil(M/8) = 2 row tiles all of B (K x N codes + N x ceil(K/32)
    // scales): 2 (9*200 + 9*7) + 2 (200*10 + 10*7) = 3726 + 4140 = 7866 bytes; scales: 2*63 + 2*70 = 266.
    REQUIRE(j.acc->stats().dram_read == 7866);
    // Output words: 9 x 10 float32 = 360 bytes.
    REQUIRE(j.acc->stats().dram_written == 360);
    // One array beat per k per output tile: 4 tiles x 200.
    REQUIRE(j.acc->stats().array_compute == 800);
    REQUIRE(j.acc->stats().macs == uint64_t(9) * 200 * 10);
  }
}

TEST_CASE("mx accel: post-processing dequantizes the float32 words through model/requant.h", "[sim][mx]") {
  const AcceleratorConfig cfg = small8_mx();
  const int64_t m = 10, k = 70, n = 12;
  for (uint8_t fmt : {uint8_t(model::OutFormat::F32), uint8_t(model::OutFormat::Bf16)}) {
    GemmPostJob post;
    std::mt19937_64 rng(5);
    for (int64_t j = 0; j < n; ++j) post.col_scales.push_back(std::ldexp(1.0f + float(rng() % 100) / 100.0f, -3));
    for (int64_t j = 0; j < n; ++j) post.bias.push_back(float(int(rng() % 21) - 10) / 4.0f);
    post.out_fmt = fmt;
    GemmJob j = run_mx(cfg, m, k, n, 77, Engine::Model, &post);
    const auto gold = j.golden();
    const auto out = j.outputs();
    const int ob = model::out_format_bytes(fmt);
    const model::GemmNumerics wnum = cfg.array.numerics();  // float32 words
    for (int64_t i = 0; i < m * n; ++i) {
      const float y = model::dequantize_word_bias(wnum, gold[size_t(i)], post.col_scales[size_t(i % n)],
                                                  post.bias[size_t(i % n)], true);
      std::vector<uint8_t> want(static_cast<size_t>(ob));
      model::requantize_value(y, fmt, 1.0f, want.data());
      REQUIRE(std::vector<uint8_t>(out.begin() + i * ob, out.begin() + (i + 1) * ob) == want);
    }
  }
}

TEST_CASE("mx accel: --engine rtl equals the cycle model (words, cycles, every row compared)", "[sim][mx][rtl]") {
  AcceleratorConfig cfg = small8_mx();
  if (!rtl_array_available(cfg.array)) {
    WARN("no Verilated MX arrays in this build: skipped");
    return;
  }
  for (int kind : {0, 5}) {
    set_mx_array(cfg, static_cast<model::MxKind>(kind), 32);
    for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{8, 64, 8}, {13, 600, 11}}) {
      GemmJob model_job = run_mx(cfg, m, k, n, 900 + k, Engine::Model);
      GemmJob rtl_job = run_mx(cfg, m, k, n, 900 + k, Engine::Rtl);
      REQUIRE(rtl_job.compare() == 0);
      REQUIRE(rtl_job.output() == model_job.output());
      REQUIRE(rtl_job.acc->stats().cycles == model_job.acc->stats().cycles);
      REQUIRE(rtl_job.acc->stats().dram_read == model_job.acc->stats().dram_read);
      REQUIRE(rtl_job.acc->stats().array_stall_dram == model_job.acc->stats().array_stall_dram);
      REQUIRE(rtl_job.acc->stats().toggles.acc_regs == model_job.acc->stats().toggles.acc_regs);
      REQUIRE(rtl_job.acc->stats().toggles.acc_regs > 0);
      REQUIRE(rtl_job.acc->stats().rtl_compared_all());
      REQUIRE(rtl_job.acc->stats().rtl_mismatches == 0);
      REQUIRE(rtl_job.acc->stats().rtl_words_compared == uint64_t((m + 7) / 8 * 8) * ((n + 7) / 8) * 8);
    }
  }
}

TEST_CASE("mx accel: default32.toml with its array made MX (as simrun's --format mxint8 does)", "[sim][mx]") {
  AcceleratorConfig cfg = load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/default32.toml");
  REQUIRE_FALSE(cfg.array.mx);
  set_mx_array(cfg, model::MxKind::MXINT8, 32);
  REQUIRE(cfg.array.dataflow == Dataflow::OutputStationary);
  REQUIRE_FALSE(cfg.array.shadow_weights);
  // 40 x 1100 x 33: K = 34 blocks + 12 (the weight buffer's 65536 / (2 x 32 x 33) = 31 blocks per slot: two K
  // tiles, 992 + 108), two row tiles and two column tiles.
  GemmJob j = run_mx(cfg, 40, 1100, 33, 11);
  REQUIRE(j.lowered.k_tile == 992);
  REQUIRE(j.lowered.tiles == 2 * 2 * 2);
  REQUIRE(j.compare() == 0);
}

TEST_CASE("mx lowering: K tiles are whole blocks, scales loaded with their codes, product flags", "[sim][mx]") {
  AcceleratorConfig cfg = small8_mx();
  firmware::GemmSpec g;
  g.m = 10, g.k = 150, g.n = 9;  // nb = 5 blocks (4 x 32 + 22)
  g.a_addr = 0, g.b_addr = 4096, g.c_addr = 8192;
  g.mx.enabled = true;
  g.mx.block = 32;
  g.mx.a_scale_addr = 20000, g.mx.b_scale_addr = 30000;
  for (int64_t os_k : {0, 50, 64, 100}) {
    cfg.os_k_tile = os_k;
    const firmware::LoweredGemm L = firmware::lower_gemm(cfg.target(), g);
    // os_k_tile rounded down to whole blocks (at least one): 0 -> all 150 fit (160 rounded), 50 -> 32, 64 -> 64,
    // 100 -> 96.
    const int64_t want_kt = os_k == 0 ? 160 : os_k == 50 ? 32 : os_k == 64 ? 64 : 96;
    INFO("os_k_tile " << os_k);
    REQUIRE(L.k_tile == want_kt);
    REQUIRE(L.k_chunk == 0);
    int64_t k0 = 0, computes = 0;
    std::vector<firmware::Command> loads;
    for (const firmware::Command& c : L.commands) {
      if (c.op == firmware::Opcode::LoadActivations || c.op == firmware::Opcode::LoadWeights) loads.push_back(c);
      if (c.op != firmware::Opcode::Compute) continue;
      ++computes;
      REQUIRE(k0 % 32 == 0);  // every K tile starts on a block boundary
      const int64_t kv = std::min(want_kt, g.k - k0), nbt = (kv + 31) / 32;
      REQUIRE(int64_t(c.k) == kv);
      REQUIRE(bool(c.flags & firmware::kFlagMxCont) == (k0 > 0));
      REQUIRE(bool(c.flags & firmware::kFlagMxMore) == (k0 + kv < g.k));
      REQUIRE_FALSE(c.flags & firmware::kFlagAccumulate);
      // the four loads before it: A codes, A scales (M x 5 at 20000, columns kb0 .. kb0 + nbt), B codes, B scales
      REQUIRE(loads.size() == 4);
      const firmware::Command &as = loads[1], &ws = loads[3];
      REQUIRE(as.dram_addr % 5 == (20000 + k0 / 32) % 5);
      REQUIRE(int64_t(as.cols) == nbt);
      REQUIRE(int64_t(ws.cols) == nbt);
      REQUIRE(as.dram_stride == 5);
      REQUIRE(int64_t(as.buf_addr) == c.a_addr + (nbt * 32) * 8);  // right after the tile's codes
      REQUIRE(int64_t(ws.buf_addr) == c.w_addr + (nbt * 32) * 8);
      REQUIRE(as.slot == c.a_slot);
      REQUIRE(ws.slot == c.w_slot);
      loads.clear();
      k0 += kv;
      if (k0 == g.k) k0 = 0;
    }
    REQUIRE(computes == 2 * 2 * ((g.k + want_kt - 1) / want_kt));
  }
}

// Requantization to MX on chip: the expected codes and scales are model::mx_quantize of each whole output row
// (blocks along N), applied to the dequantized golden words; the array computes each block's scale per tile.
TEST_CASE("mx accel: requantization to MX on chip (each output block's scale as model/mx.h computes it)", "[sim][mx]") {
  AcceleratorConfig d32 = load_config(std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/default32.toml");
  set_mx_array(d32, model::MxKind::MXFP8_E4M3, 32);   // 32 columns = one block per tile row
  AcceleratorConfig s8 = small8_mx();
  set_mx_array(s8, model::MxKind::MXINT8, 8);          // 8 columns = one block of 8
  for (const AcceleratorConfig* cfg : {&d32, &s8}) {
    const int64_t m = 9, k = 64, n = cfg == &d32 ? 70 : 20;  // last block of each row short (70 % 32, 20 % 8)
    GemmPostJob post;
    for (int64_t j = 0; j < n; ++j) post.col_scales.push_back(std::ldexp(1.0f, int(j % 5) - 2));
    for (int64_t j = 0; j < n; ++j) post.bias.push_back(float(int(j % 7) - 3) / 8.0f);
    post.mx_out = true;
    GemmJob j = run_mx(*cfg, m, k, n, 31, Engine::Model, &post);
    const auto gold = j.golden();
    const model::MxConfig mc{cfg->array.mx_kind, cfg->array.mx_block};
    const int64_t nbo = (n + mc.block_size - 1) / mc.block_size;
    std::vector<uint8_t> codes(size_t(m * n)), scales(size_t(m * nbo));
    std::vector<float> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t q = 0; q < n; ++q)
        y[size_t(q)] = model::dequantize_word_bias(cfg->array.numerics(), gold[size_t(i * n + q)],
                                                   post.col_scales[size_t(q)], post.bias[size_t(q)], true);
      model::mx_quantize(mc, y.data(), size_t(n), codes.data() + i * n, scales.data() + i * nbo);
    }
    REQUIRE(j.outputs() == codes);
    REQUIRE(j.outputs_mx_scales() == scales);
    // DRAM writes: M x N codes + M x ceil(N / block) scales
    REQUIRE(j.acc->stats().dram_written == uint64_t(m * n + m * nbo));
  }
  // An array whose columns do not hold whole blocks (8 columns, block 32) cannot requantize to MX on chip.
  AcceleratorConfig bad = small8_mx();
  GemmPostJob post;
  post.col_scales.assign(8, 1.0f);
  post.mx_out = true;
  std::mt19937_64 rng(1);
  std::vector<uint8_t> a, b;
  MxScales s = random_mx_operands(bad.array, 8, 32, 8, rng, a, b);
  REQUIRE_THROWS_WITH(make_gemm_job(bad, 8, 32, 8, a, b, Engine::Model, &post, nullptr, {}, nullptr, &s),
                      Catch::Contains("whole blocks"));
}

// Implicit im2col with MX: the NHWC input is quantized per pixel in blocks of 32 channels (in_c = 64, so every
// 32-wide block of an im2col row is one tap's channel block: k = (dy * kw + dx) * in_c + ci); the im2col row's
// scales are those blocks' scales (padding taps: codes +0, scale 2^0). The loads gather the codes from the
// NHWC tensor; golden_gemm_mx runs on the explicit im2col matrix.
TEST_CASE("mx accel: convolution with implicit im2col (channel blocks of each tap)", "[sim][mx]") {
  const AcceleratorConfig cfg = small8_mx();
  firmware::ConvSpec c;
  c.batch = 1, c.in_h = 5, c.in_w = 5, c.in_c = 64, c.out_c = 10, c.kh = 3, c.kw = 3, c.stride = 1, c.pad = 1;
  const int64_t B = 32, cb = c.in_c / B, pixels = c.in_h * c.in_w;
  std::mt19937_64 rng(77);
  const model::MxConfig mc{cfg.array.mx_kind, int(B)};
  std::vector<uint8_t> nhwc(size_t(pixels * c.in_c)), pix_scales(size_t(pixels * cb));
  for (int64_t p = 0; p < pixels; ++p) {
    const auto v = simtest::mx_random_values(c.in_c, int(B), rng);
    model::mx_quantize(mc, v.data(), size_t(c.in_c), nhwc.data() + p * c.in_c, pix_scales.data() + p * cb);
  }
  const int64_t m = c.batch * c.out_h() * c.out_w(), k = c.kh * c.kw * c.in_c, n = c.out_c, nb = k / B;
  std::vector<uint8_t> a = firmware::im2col(c, nhwc.data(), 0);
  MxScales s;
  s.a.assign(size_t(m * nb), 127);
  for (int64_t oy = 0; oy < c.out_h(); ++oy)
    for (int64_t ox = 0; ox < c.out_w(); ++ox)
      for (int64_t dy = 0; dy < c.kh; ++dy)
        for (int64_t dx = 0; dx < c.kw; ++dx) {
          const int64_t iy = oy + dy - c.pad, ix = ox + dx - c.pad;
          if (iy < 0 || ix < 0 || iy >= c.in_h || ix >= c.in_w) continue;
          for (int64_t q = 0; q < cb; ++q)
            s.a[size_t((oy * c.out_w() + ox) * nb + (dy * c.kw + dx) * cb + q)] = pix_scales[size_t((iy * c.in_w + ix) * cb + q)];
        }
  auto wts = simtest::mx_random_operands(cfg.array.mx_kind, int(B), 1, k, n, rng);  // its B side: K x N + scales
  s.b = wts.s.b;
  ConvInput ci{c, nhwc, 0};
  GemmJob j = make_gemm_job(cfg, m, k, n, a, wts.b, Engine::Model, nullptr, nullptr, {}, &ci, &s);
  j.acc->run(10'000'000);
  std::string why;
  REQUIRE(j.compare(&why) == 0);
  // The activation loads gathered only the non-padding taps from the NHWC tensor (not an M x K matrix):
  // reads = A codes gathered + A scales + B codes + B scales, with A passed once per column tile (1 here).
  uint64_t taps = 0;
  for (int64_t oy = 0; oy < c.out_h(); ++oy)
    for (int64_t ox = 0; ox < c.out_w(); ++ox)
      for (int64_t dy = 0; dy < c.kh; ++dy)
        for (int64_t dx = 0; dx < c.kw; ++dx) {
          const int64_t iy = oy + dy - c.pad, ix = ox + dx - c.pad;
          taps += (iy >= 0 && ix >= 0 && iy < c.in_h && ix < c.in_w) ? uint64_t(c.in_c) : 0;
        }
  const uint64_t row_tiles = uint64_t((m + 7) / 8), col_tiles = uint64_t((n + 7) / 8);
  REQUIRE(j.acc->stats().dram_read == col_tiles * (taps + uint64_t(m * nb)) + row_tiles * uint64_t(k * n + n * nb));
}
