// INT8 quantization and bfloat16 rounding on hand-computed cases (the exhaustive bf16 sweep is in
// fp8_vs_ml_dtypes.py).
#include <catch2/catch.hpp>

#include <cmath>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/int8.h"

using namespace fp8sim::model;

TEST_CASE("int8: round half to even, clamp to [-127, 127] by default", "[int8]") {
  CHECK(int8_quantize(0.5f, 1.0f) == 0);
  CHECK(int8_quantize(1.5f, 1.0f) == 2);
  CHECK(int8_quantize(2.5f, 1.0f) == 2);
  CHECK(int8_quantize(-2.5f, 1.0f) == -2);
  CHECK(int8_quantize(-3.5f, 1.0f) == -4);
  CHECK(int8_quantize(0.26f, 0.1f) == 3);   // 2.6 -> 3
  CHECK(int8_quantize(200.0f, 1.0f) == 127);
  CHECK(int8_quantize(-200.0f, 1.0f) == -127);
  CHECK(int8_quantize(-127.6f, 1.0f) == -127);
  CHECK(int8_quantize(INFINITY, 1.0f) == 127);
  CHECK(int8_quantize(-INFINITY, 1.0f) == -127);
  CHECK(int8_quantize(std::nanf(""), 1.0f) == 0);
  Int8Options wide;
  wide.allow_minus_128 = true;
  CHECK(int8_quantize(-200.0f, 1.0f, wide) == -128);
  CHECK(int8_quantize(-127.6f, 1.0f, wide) == -128);
  CHECK(int8_dequantize(-3, 0.25f) == -0.75f);
  // Scale 448/127 (an E4M3-range tensor in INT8): 100 / 3.5275... = 28.35 -> 28.
  CHECK(int8_quantize(100.0f, 448.0f / 127.0f) == 28);
  // float64: 126.5 + 2^-40 is not a float32 value (float32 would make it the tie 126.5 -> 126).
  CHECK(int8_quantize(126.5 + std::ldexp(1.0, -40), 1.0) == 127);
  CHECK(int8_quantize(static_cast<float>(126.5 + std::ldexp(1.0, -40)), 1.0f) == 126);
  CHECK(int8_quantize(-1000.0, 1.0, wide) == -128);
  CHECK(int8_saturates(127.4f, 1.0f) == false);
  CHECK(int8_saturates(127.5f, 1.0f) == true);  // rounds to 128 (even)
  CHECK(int8_saturates(-127.5f, 1.0f) == true);
  CHECK(int8_saturates(-127.5f, 1.0f, wide) == false);
  CHECK(int8_saturates(std::nan(""), 1.0) == false);
}

TEST_CASE("bf16: round to nearest even, specials", "[bf16]") {
  CHECK(bf16_from_f32(1.0f) == 0x3F80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  CHECK(bf16_from_f32(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6: up to even.
  CHECK(bf16_from_f32(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);
  CHECK(bf16_from_f32(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3F81);
  CHECK(bf16_from_f32(-0.0f) == 0x8000);
  CHECK(bf16_from_f32(INFINITY) == 0x7F80);
  CHECK(bf16_from_f32(3.4e38f) == 0x7F80);  // rounds past the largest bf16 (3.3895e38) to Inf
  CHECK(bf16_from_f32(std::nanf("")) == 0x7FC0);
  CHECK(bf16_from_f32(-std::nanf("")) == 0xFFC0);
  CHECK(bf16_from_f32(std::ldexp(1.0f, -130)) == 0x0008);  // float32 subnormal kept
  CHECK(bf16_to_f32(0x4049) == 3.140625f);
  CHECK(round_to_bf16(3.14159265f) == 3.140625f);
}
