// The PTQ quantizer: scales, rounding and saturation on hand-computed cases; calibration observers; the
// executor's fake-quantized and bit-exact GEMMs; the recipe.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/sgemm.h"
#include "fp8sim/model/quant/executor.h"
#include "fp8sim/model/quant/quantize.h"
#include "fp8sim/model/quant/recipe.h"

using namespace fp8sim::quant;

TEST_CASE("scale = amax / format max", "[quant]") {
  Warnings w;
  w.quiet = true;
  CHECK(scale_from_amax(Format::E4M3, 448.0, "t", &w) == 1.0f);
  CHECK(scale_from_amax(Format::E5M2, 57344.0, "t", &w) == 1.0f);
  CHECK(scale_from_amax(Format::INT8, 127.0, "t", &w) == 1.0f);
  CHECK(scale_from_amax(Format::E4M3, 896.0, "t", &w) == 2.0f);
  CHECK(scale_from_amax(Format::INT8, 63.5, "t", &w) == 0.5f);
  CHECK(scale_from_amax(Format::FP32, 123.0, "t", &w) == 1.0f);
  CHECK(w.messages.empty());
}

TEST_CASE("zero or non-finite amax: scale 1 and a warning naming the tensor", "[quant]") {
  Warnings w;
  w.quiet = true;
  CHECK(scale_from_amax(Format::E4M3, 0.0, "layer1.0.conv1.input", &w) == 1.0f);
  CHECK(scale_from_amax(Format::INT8, std::numeric_limits<double>::infinity(), "fc.weight", &w) == 1.0f);
  CHECK(scale_from_amax(Format::E5M2, std::nan(""), "q.weight", &w) == 1.0f);
  REQUIRE(w.messages.size() == 3);
  CHECK(w.messages[0].find("layer1.0.conv1.input") != std::string::npos);
  CHECK(w.messages[1].find("fc.weight") != std::string::npos);
  CHECK(w.messages[2].find("q.weight") != std::string::npos);
  // A whole weight tensor of zeros quantizes to zeros (no NaN from 0/0).
  std::vector<float> zeros(6, 0.0f);
  QTensor q = quantize_weight("zero.weight", zeros.data(), 2, 3, Format::E4M3, Granularity::PerTensor,
                              CalibMethod::MinMax, 99.99, &w);
  CHECK(q.scales == std::vector<float>{1.0f});
  for (float v : dequantize(q)) CHECK(v == 0.0f);
  CHECK(w.messages.back().find("zero.weight") != std::string::npos);
}

TEST_CASE("INT8 rounding: ties to even, symmetric clamp at +-127", "[quant]") {
  CHECK(fake_quant(Format::INT8, 0.5f, 1.0f) == 0.0f);
  CHECK(fake_quant(Format::INT8, 1.5f, 1.0f) == 2.0f);
  CHECK(fake_quant(Format::INT8, 2.5f, 1.0f) == 2.0f);
  CHECK(fake_quant(Format::INT8, -2.5f, 1.0f) == -2.0f);
  CHECK(fake_quant(Format::INT8, 200.0f, 1.0f) == 127.0f);
  CHECK(fake_quant(Format::INT8, -200.0f, 1.0f) == -127.0f);
  CHECK(fake_quant(Format::INT8, 5.0f, 2.0f) == 4.0f);   // 2.5 -> 2, times 2
  CHECK(fake_quant(Format::INT8, 7.0f, 2.0f) == 8.0f);   // 3.5 -> 4
  CHECK(quantize_code(Format::INT8, -3.0f, 1.0f) == 0xFD);  // two's complement byte
}

TEST_CASE("FP8 rounding: RNE before the overflow test, saturation at the format max", "[quant]") {
  // E4M3 has 3 mantissa bits: between 1 and 2 the spacing is 1/8.
  CHECK(fake_quant(Format::E4M3, 1.0625f, 1.0f) == 1.0f);    // tie between 1 and 1.125 -> even (1.000)
  CHECK(fake_quant(Format::E4M3, 1.1875f, 1.0f) == 1.25f);   // tie between 1.125 and 1.25 -> even (1.010)
  CHECK(fake_quant(Format::E4M3, 464.0f, 1.0f) == 448.0f);   // tie, rounds down to 448 (OCP)
  CHECK(fake_quant(Format::E4M3, 1e6f, 1.0f) == 448.0f);     // saturating
  CHECK(fake_quant(Format::E4M3, -1e6f, 1.0f) == -448.0f);
  CHECK(fake_quant(Format::E4M3, 3.0f, 2.0f) == 3.0f);       // 1.5 exact, times 2
  CHECK(fake_quant(Format::E4M3, 0x1p-10f, 1.0f) == 0.0f);   // half the smallest subnormal 2^-9: tie -> 0
  CHECK(fake_quant(Format::E4M3, 0x1.8p-9f, 1.0f) == 0x1p-8f);  // 1.5 LSB -> 2 LSB (even)
  // E5M2 has 2 mantissa bits: between 1 and 2 the spacing is 1/4.
  CHECK(fake_quant(Format::E5M2, 1.125f, 1.0f) == 1.0f);
  CHECK(fake_quant(Format::E5M2, 1.375f, 1.0f) == 1.5f);
  CHECK(fake_quant(Format::E5M2, 1e9f, 1.0f) == 57344.0f);
  CHECK(quantize_code(Format::E4M3, 448.0f, 1.0f) == 0x7E);
  CHECK(quantize_code(Format::E5M2, -57344.0f, 1.0f) == 0xFB);
  CHECK(dequantize_code(Format::E4M3, 0x7E, 0.5f) == 224.0f);
}

TEST_CASE("weights: per-tensor and per-channel scales and codes", "[quant]") {
  Warnings w;
  w.quiet = true;
  // Row 0 amax 127 -> INT8 scale 1; row 1 amax 254 -> scale 2; whole tensor amax 254 -> scale 2.
  const std::vector<float> wt = {127.0f, -63.5f, 254.0f, 3.0f};
  QTensor pc = quantize_weight("w", wt.data(), 2, 2, Format::INT8, Granularity::PerChannel, CalibMethod::MinMax,
                               99.99, &w);
  CHECK(pc.scales == std::vector<float>{1.0f, 2.0f});
  CHECK(pc.codes == std::vector<uint8_t>{127, static_cast<uint8_t>(-64), 127, 2});  // -63.5 -> -64, 1.5 -> 2
  CHECK(dequantize(pc) == std::vector<float>{127.0f, -64.0f, 254.0f, 4.0f});
  QTensor pt = quantize_weight("w", wt.data(), 2, 2, Format::INT8, Granularity::PerTensor, CalibMethod::MinMax,
                               99.99, &w);
  CHECK(pt.scales == std::vector<float>{2.0f});
  CHECK(dequantize(pt) == std::vector<float>{128.0f, -64.0f, 254.0f, 4.0f});  // 63.5 -> 64, -31.75 -> -32
  // E4M3 per channel: row 0 amax 448 (scale 1), row 1 amax 56 (scale 1/8): 7 * 8 = 56 exact, 5.5*8 = 44 exact.
  const std::vector<float> w8 = {448.0f, 100.0f, 56.0f, 5.5f};
  QTensor e = quantize_weight("w8", w8.data(), 2, 2, Format::E4M3, Granularity::PerChannel, CalibMethod::MinMax,
                              99.99, &w);
  CHECK(e.scales == std::vector<float>{1.0f, 0.125f});
  CHECK(dequantize(e) == std::vector<float>{448.0f, 96.0f, 56.0f, 5.5f});  // 100 -> 96 (spacing 8 in [64,128))
  CHECK(w.messages.empty());
}

TEST_CASE("observer: min/max, percentile, order independence", "[quant][observer]") {
  std::vector<float> v;
  for (int i = 1; i <= 10000; ++i) v.push_back(static_cast<float>(i % 2 ? i : -i));
  Observer o;
  o.observe(v.data(), v.size());
  CHECK(o.amax() == 10000.0);
  CHECK(o.count() == 10000);
  // 99.99th percentile of |x| = 1..10000 is 9999; the histogram's bin width is 16384 / 8192 = 2.
  CHECK(std::fabs(o.percentile_amax(99.99) - 9999.0) <= 2.0);
  CHECK(std::fabs(o.percentile_amax(50.0) - 5000.0) <= 2.0);
  CHECK(o.percentile_amax(100.0) == 10000.0);
  // The same values in another order and split into other batches give the same statistics.
  Observer r;
  for (int i = 9999; i >= 0; i -= 1000) r.observe(v.data() + std::max(0, i - 999), static_cast<size_t>(std::min(1000, i + 1)));
  CHECK(r.count() == o.count());
  CHECK(r.percentile_amax(99.9) == o.percentile_amax(99.9));
  CHECK(r.percentile_amax(90.0) == o.percentile_amax(90.0));
  // Non-finite values are counted and ignored.
  const float bad[] = {std::numeric_limits<float>::infinity(), std::nanf(""), 3.0f, 0.0f};
  Observer b;
  b.observe(bad, 4);
  CHECK(b.nonfinite() == 2);
  CHECK(b.amax() == 3.0);
  CHECK(b.count() == 2);
}

namespace {
double mse_at(Format f, const std::vector<float>& v, double amax) {
  const float s = static_cast<float>(amax / format_max(f));
  double e = 0.0;
  for (float x : v) {
    const double d = static_cast<double>(x) - fake_quant(f, x, s);
    e += d * d;
  }
  return e;
}
}  // namespace

TEST_CASE("observer: MSE search clips the tail of a Gaussian", "[quant][observer]") {
  // 20000 samples of N(0, 1): the few samples near the max (about 4 sigma) cost less when clipped than the
  // coarser step they impose on everything else, so the search clips (a little, at 8 bits) and must beat
  // min/max on its own criterion.
  std::vector<float> v;
  fp8sim::nn::Rng rng(7);
  for (int i = 0; i < 20000; ++i) v.push_back(static_cast<float>(rng.normal()));
  Observer o;
  o.observe(v.data(), v.size());
  const double c = o.mse_amax(Format::INT8);
  INFO("amax " << o.amax() << " mse amax " << c);
  CHECK(c < o.amax());
  CHECK(c > 0.5 * o.amax());
  CHECK(mse_at(Format::INT8, v, c) < mse_at(Format::INT8, v, o.amax()));
  // On exact values (the small-tensor path used for weight rows) the result is the argmin over the grid.
  const std::vector<float> small(v.begin(), v.begin() + 3000);
  const double amax = finite_amax(small.data(), small.size());
  const double ce = calibrated_amax_of(small.data(), small.size(), CalibMethod::MSE, Format::INT8, 0.0);
  for (int i = 1; i <= Observer::kMseSteps; ++i)
    CHECK(mse_at(Format::INT8, small, ce) <= mse_at(Format::INT8, small, amax * i / Observer::kMseSteps));
}

TEST_CASE("recipe: overrides, JSON round trip, validation", "[quant][recipe]") {
  CHECK(glob_match("encoder.layer.0.*", "encoder.layer.0.attention.self.query"));
  CHECK_FALSE(glob_match("encoder.layer.0.*", "encoder.layer.10.output.dense"));
  CHECK(glob_match("*.matmul_*", "encoder.layer.3.attention.self.matmul_qk"));
  CHECK(glob_match("conv1", "conv1"));
  CHECK_FALSE(glob_match("conv1", "layer1.0.conv1"));
  Recipe r;
  r.format = Format::INT8;
  r.weight_granularity = Granularity::PerChannel;
  r.act_calibration = CalibMethod::Percentile;
  r.percentile = 99.9;
  r.overrides = {{"conv1", Format::FP32}, {"linear", Format::E4M3}};
  CHECK(r.format_for("conv1") == Format::FP32);
  CHECK(r.format_for("linear") == Format::E4M3);
  CHECK(r.format_for("layer1.0.conv1") == Format::INT8);
  const Recipe back = Recipe::from_json(nlohmann::json::parse(r.to_json().dump()));
  CHECK(back.to_json() == r.to_json());
  CHECK(back.describe() == "int8 w:per-channel/minmax a:per-tensor/percentile99.9 overrides:2");
  Recipe bad;
  bad.weight_granularity = Granularity::PerToken;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("per token"));
  CHECK_THROWS_WITH(Recipe::from_json({{"format", "fp16"}}), Catch::Contains("unknown format 'fp16'"));
}

namespace {
LinearParams diag_layer(float d) {
  LinearParams p;
  p.name = "fc";
  p.n = 2, p.k = 2;
  p.weight = {d, 0.0f, 0.0f, d};
  p.bias = {0.5f, -0.5f};
  return p;
}
}  // namespace

TEST_CASE("executor: calibrate, fake-quant and bit-exact on a hand-checked layer", "[quant][executor]") {
  Recipe r;
  r.format = Format::INT8;
  r.nongemm_bf16 = false;  // GEMM outputs in float32 (the BF16 delivery is checked at the end)
  Executor ex(r);
  ex.warnings().quiet = true;
  const LinearParams p = diag_layer(127.0f);  // weight amax 127 -> scale 1
  CHECK_THROWS_AS(ex.set_mode(ExecMode::FakeQuant), std::logic_error);  // static scales need calibration
  ex.set_mode(ExecMode::Calibrate);
  const float calib[] = {254.0f, -10.0f};  // activation amax 254 -> scale 2
  float y[2];
  ex.linear(p, calib, 1, y);
  CHECK(y[0] == 254.0f * 127.0f + 0.5f);
  ex.finish_calibration();
  CHECK(ex.info("fc").a_scale == 2.0f);
  const float x[] = {3.0f, 5.0f};  // 1.5 -> 2, 2.5 -> 2: both dequantize to 4
  ex.set_mode(ExecMode::FakeQuant);
  ex.linear(p, x, 1, y);
  CHECK(y[0] == 4.0f * 127.0f + 0.5f);
  CHECK(y[1] == 4.0f * 127.0f - 0.5f);
  ex.set_mode(ExecMode::BitExact);
  ex.linear(p, x, 1, y);
  CHECK(y[0] == 4.0f * 127.0f + 0.5f);
  CHECK(y[1] == 4.0f * 127.0f - 0.5f);
  CHECK(ex.golden_gemm_calls() == 1);
  REQUIRE(ex.quantized_weight("fc") != nullptr);
  CHECK(ex.quantized_weight("fc")->codes == std::vector<uint8_t>{127, 0, 0, 127});
  // With nongemm_bf16 (the default recipe) GEMM outputs are delivered in BF16, in both quantized modes:
  // 508.5 = 1.111111001b x 2^8 rounds down to 1.1111110b x 2^8 = 508 (7 fraction bits), and
  // 507.5 = 1.111110111b x 2^8 rounds up to the same 508.
  Recipe rb = r;
  rb.nongemm_bf16 = true;
  Executor eb(rb);
  eb.warnings().quiet = true;
  eb.set_mode(ExecMode::Calibrate);
  eb.linear(p, calib, 1, y);
  eb.finish_calibration();
  for (ExecMode mode : {ExecMode::FakeQuant, ExecMode::BitExact}) {
    eb.set_mode(mode);
    eb.linear(p, x, 1, y);
    CHECK(y[0] == 508.0f);
    CHECK(y[1] == 508.0f);
  }
}

TEST_CASE("executor: bit-exact golden GEMM agrees with fake-quant up to float32 summation", "[quant][executor]") {
  fp8sim::nn::Rng rng(11);
  const int64_t m = 7, k = 300, n = 9;
  LinearParams p;
  p.name = "layer";
  p.n = n, p.k = k;
  for (int64_t i = 0; i < n * k; ++i) p.weight.push_back(static_cast<float>(rng.normal() * 0.05));
  for (int64_t i = 0; i < n; ++i) p.bias.push_back(static_cast<float>(rng.normal()));
  std::vector<float> x(static_cast<size_t>(m * k));
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (Format f : {Format::E4M3, Format::E5M2, Format::INT8})
    for (Granularity wg : {Granularity::PerTensor, Granularity::PerChannel})
      for (Granularity ag : {Granularity::PerTensor, Granularity::PerToken}) {
        Recipe r;
        r.format = f;
        r.weight_granularity = wg;
        r.act_granularity = ag;
        r.nongemm_bf16 = false;  // compare the sums, not a BF16 delivery that can round them apart
        Executor ex(r);
        ex.warnings().quiet = true;
        ex.set_mode(ExecMode::Calibrate);
        std::vector<float> y0(static_cast<size_t>(m * n)), yf(y0.size()), yb(y0.size());
        ex.linear(p, x.data(), m, y0.data());
        ex.finish_calibration();
        ex.set_mode(ExecMode::FakeQuant);
        ex.linear(p, x.data(), m, yf.data());
        ex.set_mode(ExecMode::BitExact);
        ex.linear(p, x.data(), m, yb.data());
        INFO(r.describe());
        for (size_t i = 0; i < y0.size(); ++i) CHECK(std::fabs(yb[i] - yf[i]) <= 1e-4 * (1.0 + std::fabs(yf[i])));
        const double s = sqnr_db(y0.data(), yf.data(), y0.size());
        CHECK(s > (f == Format::E5M2 ? 15.0 : 20.0));  // quantization noise is well below the signal
      }
}

TEST_CASE("executor: FP32 overrides bypass quantization; attention matmuls quantize both operands",
          "[quant][executor]") {
  Recipe r;
  r.format = Format::E4M3;
  r.overrides = {{"fc", Format::FP32}};
  Executor ex(r);
  const LinearParams p = diag_layer(0.3f);
  ex.set_mode(ExecMode::Calibrate);
  const float x[] = {0.1f, 0.7f}, b[] = {0.2f, 0.3f, -0.4f, 0.05f};
  float y[2], ym[2];
  ex.linear(p, x, 1, y);
  ex.matmul("attn.matmul_qk", x, b, 1, 2, 2, ym);
  ex.finish_calibration();
  ex.set_mode(ExecMode::FakeQuant);
  float yq[2], ymq[2];
  ex.linear(p, x, 1, yq);
  CHECK(yq[0] == y[0]);
  CHECK(yq[1] == y[1]);
  CHECK(ex.quantized_weight("fc") == nullptr);
  CHECK(ex.info("attn.matmul_qk").a_scale == static_cast<float>(0.7 / 448.0));
  CHECK(ex.info("attn.matmul_qk").b_scale == static_cast<float>(0.4 / 448.0));
  ex.matmul("attn.matmul_qk", x, b, 1, 2, 2, ymq);
  // 0.1*0.2 + 0.7*0.3 = 0.23; E4M3 keeps 3 mantissa bits: each operand within 2^-4 relative.
  CHECK(std::fabs(ymq[0] - ym[0]) < 0.23 * 0.13);
  // BF16 rounding of non-GEMM ops is active only in the quantized modes.
  float v = 1.00390625f;  // 1 + 2^-8: a tie in bf16 -> 1.0
  ex.round_nongemm(&v, 1);
  CHECK(v == 1.0f);
}

TEST_CASE("sqnr and cosine similarity", "[quant]") {
  const float a[] = {1.0f, 0.0f, 0.0f}, b[] = {1.0f, 0.1f, 0.0f};
  CHECK(sqnr_db(a, b, 3) == Approx(20.0));  // 1 / 0.01
  CHECK(std::isinf(sqnr_db(a, a, 3)));
  CHECK(cosine_similarity(a, b, 3) == Approx(1.0 / std::sqrt(1.01)));
}

namespace {
uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
// Inputs around every rounding boundary of a format: each FP8 value and each midpoint between neighbours,
// 2 ulps either side, both signs; beyond the max (the E4M3 464 tie), specials, float32 subnormals, and a
// sweep over float32 bit patterns.
std::vector<float> boundary_inputs(Format f) {
  std::vector<float> pos;
  if (f == Format::INT8) {
    for (int q = 0; q <= 130; ++q) pos.push_back(static_cast<float>(q)), pos.push_back(q + 0.5f);
  } else {
    const auto& fmt = fp8sim::model::fp8_format(f == Format::E4M3 ? fp8sim::model::Fp8Kind::E4M3
                                                                   : fp8sim::model::Fp8Kind::E5M2);
    std::vector<float> vals;
    for (int c = 0; c < 128; ++c) {
      const float d = fp8sim::model::fp8_decode_f32(fmt, static_cast<uint8_t>(c));
      if (std::isfinite(d)) vals.push_back(d);
    }
    std::sort(vals.begin(), vals.end());
    for (size_t i = 0; i < vals.size(); ++i) {
      pos.push_back(vals[i]);
      if (i + 1 < vals.size()) pos.push_back((vals[i] + vals[i + 1]) / 2);
    }
    const float mx = vals.back(), step = mx - vals[vals.size() - 2];
    pos.push_back(mx + step / 2);
    pos.push_back(mx + step);
    pos.push_back(mx * 4);
  }
  std::vector<float> in;
  for (float v : pos) {
    float lo = v, hi = v;
    for (int k = 0; k < 3; ++k) {
      for (float x : {lo, hi}) in.push_back(x), in.push_back(-x);
      lo = std::nextafter(lo, -1.0f);
      hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
    }
  }
  for (float x : {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::min()})
    in.push_back(x);
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 65521) {
    float x;
    const uint32_t b32 = static_cast<uint32_t>(b);
    std::memcpy(&x, &b32, 4);
    in.push_back(x);
  }
  return in;
}
}  // namespace

TEST_CASE("fast fake-quant equals the reference encode/decode bit for bit", "[quant][fastpath]") {
  // fake_quant / fake_quant_array use branch-free vector code; the reference goes through model::fp8_encode,
  // fp8_decode_f32 and model::int8_quantize one value at a time. Also run with FP8SIM_NO_AVX2=1 (ctest).
  for (Format f : {Format::E4M3, Format::E5M2, Format::INT8}) {
    const std::vector<float> in = boundary_inputs(f);
    for (float scale : {1.0f, 0.0173f, 3.1e3f, 1.5e-30f}) {
      std::vector<float> out(in.size());
      fake_quant_array(f, in.data(), out.data(), in.size(), scale);
      size_t bad = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        const uint32_t ref = bits_of(fake_quant_reference(f, in[i], scale));
        if (bits_of(out[i]) != ref || bits_of(fake_quant(f, in[i], scale)) != ref) {
          if (++bad <= 5)
            FAIL_CHECK(to_string(f) << " scale " << scale << " x " << in[i] << " (0x" << std::hex << bits_of(in[i])
                                    << "): fast 0x" << bits_of(out[i]) << " ref 0x" << ref << std::dec);
        }
      }
      INFO(to_string(f) << " scale " << scale << ": " << in.size() << " inputs");
      CHECK(bad == 0);
      // Tails shorter than a vector go through the scalar path.
      for (size_t n : {size_t{1}, size_t{3}, size_t{7}, size_t{13}}) {
        std::vector<float> o2(n);
        fake_quant_array(f, in.data() + 100, o2.data(), n, scale);
        for (size_t i = 0; i < n; ++i) CHECK(bits_of(o2[i]) == bits_of(fake_quant_reference(f, in[100 + i], scale)));
      }
    }
  }
}

TEST_CASE("executor: imported calibration statistics give the same scales as a calibration pass",
          "[quant][executor]") {
  fp8sim::nn::Rng rng(7);
  LinearParams p1{"l1", 6, 5, {}, {}}, p2{"l2", 4, 6, {}, {}};
  for (LinearParams* p : {&p1, &p2}) {
    p->weight.resize(static_cast<size_t>(p->n * p->k));
    for (float& v : p->weight) v = static_cast<float>(rng.normal());
  }
  std::vector<std::vector<float>> xs(5, std::vector<float>(15));
  for (auto& x : xs)
    for (float& v : x) v = static_cast<float>(rng.normal() * 3.0);
  auto calibrate = [&](Executor& ex) {
    ex.set_mode(ExecMode::Calibrate);
    for (const auto& x : xs) {
      std::vector<float> h(18), y(12), z(9);
      ex.linear(p1, x.data(), 3, h.data());
      ex.linear(p2, h.data(), 3, y.data());
      ex.matmul("mm", y.data(), y.data(), 3, 4, 3, z.data());
    }
  };
  Executor source(Recipe{});  // statistics gathered under another recipe
  source.warnings().quiet = true;
  calibrate(source);
  const CalibrationData data = source.calibration_data();
  CHECK(data.gemms.size() == 3);
  for (CalibMethod c : {CalibMethod::MinMax, CalibMethod::Percentile, CalibMethod::MSE}) {
    Recipe r;
    r.format = Format::INT8;
    r.act_calibration = c;
    r.percentile = 99.0;
    Executor direct(r), imported(r);
    direct.warnings().quiet = imported.warnings().quiet = true;
    calibrate(direct);
    direct.finish_calibration();
    imported.load_calibration(data);
    imported.finish_calibration();
    CHECK(imported.gemm_order() == direct.gemm_order());
    for (const std::string& n : direct.gemm_order()) {
      CHECK(imported.info(n).a_scale == direct.info(n).a_scale);
      CHECK(imported.info(n).b_scale == direct.info(n).b_scale);
      CHECK(imported.info(n).calls == direct.info(n).calls);
    }
  }
  Executor used(Recipe{});
  used.warnings().quiet = true;
  calibrate(used);
  CHECK_THROWS_AS(used.load_calibration(data), std::logic_error);
}

TEST_CASE("quantize_codes equals model::fp8_encode / int8_quantize code for code", "[quant][fastpath]") {
  // quantize_codes reads FP8 codes off the fast-path rounding; the reference is the model's encoder called
  // on x / scale one value at a time (every FP8 rounding boundary, +-3 ulps, specials, a sweep of patterns).
  for (Format f : {Format::E4M3, Format::E5M2, Format::INT8}) {
    const std::vector<float> in = boundary_inputs(f);
    for (float scale : {1.0f, 0.0173f, 3.1e3f, 1.5e-30f}) {
      std::vector<uint8_t> out(in.size());
      quantize_codes(f, in.data(), out.data(), in.size(), scale);
      size_t bad = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        uint8_t ref;
        if (f == Format::INT8) {
          ref = static_cast<uint8_t>(fp8sim::model::int8_quantize(in[i], scale));
        } else {
          const auto& fmt = fp8sim::model::fp8_format(f == Format::E4M3 ? fp8sim::model::Fp8Kind::E4M3
                                                                         : fp8sim::model::Fp8Kind::E5M2);
          ref = fp8sim::model::fp8_encode(fmt, in[i] / scale, fp8sim::model::Overflow::Saturate);
        }
        if (out[i] != ref && ++bad <= 5)
          FAIL_CHECK(to_string(f) << " scale " << scale << " x " << in[i] << ": code " << int(out[i]) << " ref "
                                  << int(ref));
      }
      INFO(to_string(f) << " scale " << scale << ": " << in.size() << " inputs");
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("finite_amax equals the plain loop (largest finite |x|, non-finite count)", "[quant]") {
  // finite_amax works on bit patterns, four lanes at a time; the reference here is the obvious double loop.
  fp8sim::nn::Rng rng(5);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{7}, size_t{64}, size_t{1001}}) {
    for (int t = 0; t < 20; ++t) {
      std::vector<float> x(n);
      for (float& v : x) {
        const uint64_t r = rng.next_u64() % 16;
        v = r == 0 ? inf : r == 1 ? -inf : r == 2 ? -nan : r == 3 ? -0.0f : r == 4 ? 1e-45f
            : static_cast<float>(rng.normal() * std::ldexp(1.0, static_cast<int>(rng.next_u64() % 60) - 30));
      }
      double want = 0.0;
      size_t want_bad = 0;
      for (float v : x) {
        if (!std::isfinite(v)) ++want_bad;
        else want = std::max(want, static_cast<double>(std::fabs(v)));
      }
      size_t bad = 99;
      CHECK(finite_amax(x.data(), n, &bad) == want);
      CHECK(bad == want_bad);
    }
  }
}
