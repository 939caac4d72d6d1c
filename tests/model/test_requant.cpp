// model/requant.h: dequantization of accumulator words with ONE rounding, checked against an independent
// reference: the nearest float32 found by searching the neighbours of an approximation and comparing exact
// integer distances (ties to the even significand), on random words of every accumulator kind; plus
// hand-derived subnormal, tie and special cases, and the output conversions.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/model/requant.h"

using namespace fp8sim;
using namespace fp8sim::model;

namespace {

// The float32 nearest to p * 2^e (ties to even), for |p| < 2^62 and results in the normal range: candidates
// are the neighbours of a double approximation; the exact distance of each is computed in int128.
float nearest_f32(int64_t p, int e) {
  if (p == 0) return 0.0f;
  const float approx = static_cast<float>(std::ldexp(static_cast<double>(p), e));
  float best = approx;
  int128 best_d = -1;
  bool best_even = false;
  float c = std::nextafter(std::nextafter(approx, -INFINITY), -INFINITY);
  for (int i = 0; i < 5; ++i, c = std::nextafter(c, INFINITY)) {
    int ef = 0;
    const float m = std::frexp(c, &ef);
    const auto mf = static_cast<int64_t>(std::ldexp(m, 24));
    ef -= 24;
    const int emin = std::min(e, ef);
    REQUIRE(e - emin < 62);
    REQUIRE(ef - emin < 62);
    // Multiplications by powers of two, not shifts: left-shifting a negative value is undefined behaviour.
    int128 d = int128(p) * (int128{1} << (e - emin)) - int128(mf) * (int128{1} << (ef - emin));
    if (d < 0) d = -d;
    const bool even = (mf & 1) == 0;
    if (best_d < 0 || d < best_d || (d == best_d && even && !best_even)) {
      best = c, best_d = d, best_even = even;
    }
  }
  return best;
}

// s = ms * 2^es with ms a 24-bit integer.
void split(float s, int64_t* ms, int* es) {
  int e = 0;
  const float m = std::frexp(s, &e);
  *ms = static_cast<int64_t>(std::ldexp(m, 24));
  *es = e - 24;
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

}  // namespace

TEST_CASE("dequantize_word rounds value * scale once (int32 and fixed point), against a nearest search",
          "[model][requant]") {
  std::mt19937_64 rng(99);
  GemmNumerics i8;
  i8.int8 = true, i8.acc = AccumulatorKind::Int32;
  GemmNumerics fx;  // e4m3 x e4m3 -> fixed point, LSB 2^-18
  fx.acc = AccumulatorKind::FixedPoint;
  long checked = 0;
  for (int t = 0; t < 200000; ++t) {
    const float s = std::ldexp(1.0f + float(rng() % (1 << 23)) / float(1 << 23), -int(rng() % 24));
    int64_t ms;
    int es;
    split(s, &ms, &es);
    if (t % 2 == 0) {
      const auto v = static_cast<int32_t>(rng());
      const float want = nearest_f32(int64_t(v) * ms, es);
      REQUIRE(bits(dequantize_word(i8, AccWord{v, ValueClass::Finite}, s)) == bits(want));
    } else {
      // fixed-point words up to 2^38 in magnitude (products < 2^62)
      const int64_t raw = static_cast<int64_t>(rng() % (uint64_t{1} << 39)) - (int64_t{1} << 38);
      const float want = nearest_f32(raw * ms, es + fx.lsb_exp());
      REQUIRE(bits(dequantize_word(fx, AccWord{raw, ValueClass::Finite}, s)) == bits(want));
    }
    ++checked;
  }
  CHECK(checked == 200000);
}

TEST_CASE("dequantize_word: subnormal results, ties, float32 words and specials (hand-derived)", "[model][requant]") {
  GemmNumerics fx;  // e4m3 fixed point: LSB 2^-18
  fx.acc = AccumulatorKind::FixedPoint;
  REQUIRE(fx.lsb_exp() == -18);
  const float tiny = std::ldexp(1.0f, -131);  // s = 2^-131: raw * 2^-149 exactly
  // raw 1 -> 2^-149, the smallest subnormal
  CHECK(bits(dequantize_word(fx, AccWord{1, ValueClass::Finite}, tiny)) == 1u);
  const float s152 = std::ldexp(1.0f, -134);  // raw * 2^-152 = raw/8 of the smallest subnormal
  CHECK(bits(dequantize_word(fx, AccWord{4, ValueClass::Finite}, s152)) == 0u);   // 0.5: tie to even 0
  CHECK(bits(dequantize_word(fx, AccWord{5, ValueClass::Finite}, s152)) == 1u);   // 0.625 -> 1
  CHECK(bits(dequantize_word(fx, AccWord{12, ValueClass::Finite}, s152)) == 2u);  // 1.5: tie to even 2
  CHECK(bits(dequantize_word(fx, AccWord{-12, ValueClass::Finite}, s152)) == 0x80000002u);
  CHECK(bits(dequantize_word(fx, AccWord{3, ValueClass::Finite}, s152)) == 0u);   // 0.375 -> 0
  // Normal tie: (2^24 + 1) * 2^-18 * 2^18 = 2^24 + 1, halfway between 2^24 and 2^24 + 2: even -> 2^24.
  CHECK(dequantize_word(fx, AccWord{(1 << 24) + 1, ValueClass::Finite}, std::ldexp(1.0f, 18)) == 16777216.0f);
  CHECK(dequantize_word(fx, AccWord{(1 << 24) + 3, ValueClass::Finite}, std::ldexp(1.0f, 18)) == 16777220.0f);
  // Specials of the fixed-point word.
  CHECK(std::isnan(dequantize_word(fx, AccWord{0, ValueClass::NaN}, 0.5f)));
  CHECK(dequantize_word(fx, AccWord{0, ValueClass::PosInf}, 0.5f) == INFINITY);
  CHECK(dequantize_word(fx, AccWord{0, ValueClass::NegInf}, 0.5f) == -INFINITY);
  // Float32 words: one IEEE multiplication; NaN canonical.
  GemmNumerics f32;
  f32.acc = AccumulatorKind::Float32;
  CHECK(dequantize_word(f32, AccWord{bits(3.0f), ValueClass::Finite}, 0.5f) == 1.5f);
  CHECK(bits(dequantize_word(f32, AccWord{0xFFC12345u, ValueClass::Finite}, 0.5f)) == 0x7FC00000u);
  // Overflow to infinity: 2^127 * 4.
  CHECK(dequantize_word(fx, AccWord{int128{1} << 60, ValueClass::Finite}, std::ldexp(1.0f, 87)) == INFINITY);
  // Bias: one float32 addition, only when asked (so -0 stays -0 without a bias).
  CHECK(bits(dequantize_word_bias(fx, AccWord{0, ValueClass::Finite}, 1.0f, -0.0f, false)) == 0u);
  CHECK(dequantize_word_bias(fx, AccWord{1 << 18, ValueClass::Finite}, 1.0f, 0.25f, true) == 1.25f);
  CHECK(combined_scale(0.1f, 3.0f) == 0.1f * 3.0f);
}

TEST_CASE("requantize_value: every output format", "[model][requant]") {
  uint8_t b[4] = {};
  requantize_value(1.0f + 1.0f / 256, uint8_t(OutFormat::Bf16), 1.0f, b);  // tie between 1 and 1 + 2^-7: even -> 1
  CHECK((b[0] | (b[1] << 8)) == 0x3F80);
  CHECK(stored_float(uint8_t(OutFormat::Bf16), b) == 1.0f);
  requantize_value(-2.5f, uint8_t(OutFormat::F32), 1.0f, b);
  CHECK(stored_float(uint8_t(OutFormat::F32), b) == -2.5f);
  requantize_value(10.0f, 0, 0.25f, b);  // INT8: 40
  CHECK(int8_t(b[0]) == 40);
  requantize_value(1000.0f, out_format_code_fp8(Fp8Kind::E4M3), 1.0f, b);  // saturates to 448 = 0x7E
  CHECK(b[0] == 0x7E);
  requantize_value(3.0f, out_format_code_fp8(Fp8Kind::E5M2), 2.0f, b);  // 1.5 = 0x3E in E5M2
  CHECK(b[0] == 0x3E);
  CHECK(out_format_bytes(0) == 1);
  CHECK(out_format_bytes(uint8_t(OutFormat::Bf16)) == 2);
  CHECK(out_format_bytes(uint8_t(OutFormat::F32)) == 4);
  CHECK(std::string(out_format_name(uint8_t(OutFormat::Bf16))) == "bf16");
  CHECK_THROWS_AS(out_format_bytes(uint8_t(kOutFormatCodeCount)), std::invalid_argument);
  CHECK_THROWS_AS(stored_float(0, b), std::invalid_argument);
}

// requantize_via_bf16: the code a consuming GEMM gives an output the network holds in BF16 (BF16 rounding first,
// then the 8-bit code), which differs from quantizing the float32 value once. Hand-derived:
//  - INT8, scale 1, y = 2.5 + 2^-21 (float32: 2.5 has exponent 1, ulp 2^-22): directly int8 RNE(2.5000005) = 3;
//    via BF16 (7 fraction bits, ulp 2^-6 at 2.5) y rounds to 2.5, a tie that RNE sends to the even 2.
//  - E4M3, scale 1, y = 1.0625 + 2^-20: E4M3 near 1 holds 1.0 (0x38) and 1.125 (0x39); directly the value is
//    above the midpoint 1.0625 -> 0x39; via BF16 it rounds to 1.0625 exactly (1 + 2^-4), the midpoint, -> even
//    mantissa 000: 1.0 = 0x38.
//  - E5M2, scale 2, y = -6: -3 = -1.5 * 2^1: sign 1, exponent 1 + 15 = 16 (10000), mantissa 10 -> 0xC2 both ways.
TEST_CASE("requantize_via_bf16: BF16 rounding, then the consumer's code (hand-derived double roundings)",
          "[model][requant]") {
  uint8_t b[1] = {};
  const float y1 = 2.5f + std::ldexp(1.0f, -21);
  requantize_value(y1, 0, 1.0f, b);
  CHECK(int8_t(b[0]) == 3);
  requantize_via_bf16(y1, 0, 1.0f, b);
  CHECK(int8_t(b[0]) == 2);
  const float y2 = 1.0625f + std::ldexp(1.0f, -20);
  requantize_value(y2, out_format_code_fp8(Fp8Kind::E4M3), 1.0f, b);
  CHECK(b[0] == 0x39);
  requantize_via_bf16(y2, out_format_code_fp8(Fp8Kind::E4M3), 1.0f, b);
  CHECK(b[0] == 0x38);
  requantize_via_bf16(-6.0f, out_format_code_fp8(Fp8Kind::E5M2), 2.0f, b);
  CHECK(b[0] == 0xC2);
  // Only the 8-bit codes: BF16 and F32 outputs are not "via BF16".
  CHECK_THROWS_AS(requantize_via_bf16(1.0f, uint8_t(OutFormat::Bf16), 1.0f, b), std::invalid_argument);
  CHECK_THROWS_AS(requantize_via_bf16(1.0f, uint8_t(OutFormat::F32), 1.0f, b), std::invalid_argument);
}

TEST_CASE("requantize_value: E4M3/E5M2 codes equal fp8_encode(y / scale, Saturate) over a pattern sweep",
          "[model][requant]") {
  // requantize_value takes a fast path for the OCP formats (model/src/fp8_fast.h); the reference is the model's
  // encoder called on y / scale. Inputs: every 4099th float32 bit pattern (NaN, Inf, subnormals included) and
  // the FP8 rounding boundaries +-1 ulp (midpoints between neighbouring FP8 values).
  for (Fp8Kind k : {Fp8Kind::E4M3, Fp8Kind::E5M2}) {
    const Fp8Format& fmt = fp8_format(k);
    std::vector<float> in;
    for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4099) {
      const uint32_t b32 = static_cast<uint32_t>(b);
      float x;
      std::memcpy(&x, &b32, 4);
      in.push_back(x);
    }
    for (int c = 0; c + 1 < 128; ++c) {
      const float lo = fp8_decode_f32(fmt, uint8_t(c)), hi = fp8_decode_f32(fmt, uint8_t(c + 1));
      if (!std::isfinite(lo) || !std::isfinite(hi)) continue;
      const float mid = (lo + hi) / 2;  // exact: FP8 values have few bits
      for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), hi})
        in.push_back(x), in.push_back(-x);
    }
    long bad = 0;
    for (float scale : {1.0f, 0.0173f, 3.1e3f}) {
      for (float y : in) {
        uint8_t got = 0;
        requantize_value(y, out_format_code_fp8(k), scale, &got);
        const uint8_t want = fp8_encode(fmt, y / scale, Overflow::Saturate);
        if (got != want && ++bad <= 5) FAIL_CHECK("y " << y << " scale " << scale << ": " << int(got) << " vs " << int(want));
      }
    }
    CHECK(bad == 0);
  }
}
