// Private to model/: the fast FP8 rounding shared by the quantizer (quant/quantize.cpp) and requantization
// (requant.cpp), for the OCP formats E4M3 (kMant 3, kMinExp -6, max 448) and E5M2 (2, -14, 57344) with
// saturation. It gives exactly model::fp8_encode's codes / fp8_decode_f32's values (tests/model/test_quant.cpp
// checks every FP8 rounding boundary against them); NaN inputs are the caller's (the reference call).
#pragma once

#include <cstdint>
#include <cstring>

namespace fp8sim::model::fp8_fast {

// |v| (finite or Inf, not NaN) rounded to the nearest value of an FP8 format with kMant mantissa bits and
// smallest normal exponent kMinExp, ties to even, then saturated to maxv. Returns the magnitude.
template <int kMant, int kMinExp>
inline float round_magnitude(uint32_t a /* bits of |v| */, float maxv) {
  float r;
  if (a >= static_cast<uint32_t>(127 + kMinExp) << 23) {
    // Normal FP8 range: round float32's mantissa to kMant bits (ties to even) on the bit pattern; a carry
    // out of the mantissa bumps the exponent, which is the correct rounding too. Inf stays Inf.
    constexpr int kDrop = 23 - kMant;
    a += ((1u << (kDrop - 1)) - 1u) + ((a >> kDrop) & 1u);
    a &= ~((1u << kDrop) - 1u);
    std::memcpy(&r, &a, 4);
    return r < maxv ? r : maxv;  // round first, then saturate (OCP): 464 -> 448 in E4M3
  }
  // Subnormal FP8 range: multiples of 2^(kMinExp - kMant). Scaling by a power of two is exact; adding and
  // subtracting 2^23 rounds a value in [0, 2^23) to an integer with ties to even (no -ffast-math here).
  std::memcpy(&r, &a, 4);
  constexpr float up = static_cast<float>(1u << (kMant - kMinExp)), down = 1.0f / up;
  const float t = (r * up + 8388608.0f) - 8388608.0f;
  return t * down;
}

// The code of fp8_encode(v, Saturate), v not NaN, b: the bits of v. The magnitude rounded as above (an FP8
// value, saturated), then its code read off the bits: a normal m = 2^E * 1.f gives the biased exponent
// E - kMinExp + 1 and the top kMant bits of f; a subnormal one is an integer multiple of 2^(kMinExp - kMant),
// and that integer is its code (rounding up to the smallest normal gives 1 << kMant, the right code too). The
// sign bit is kept, also for values that round to zero.
template <int kMant, int kMinExp>
inline uint8_t code_of(uint32_t b, float maxv) {
  const float m = round_magnitude<kMant, kMinExp>(b & 0x7FFFFFFFu, maxv);
  uint32_t mb;
  std::memcpy(&mb, &m, 4);
  uint32_t code;
  if (mb >= static_cast<uint32_t>(127 + kMinExp) << 23)
    code = (((mb >> 23) - static_cast<uint32_t>(127 + kMinExp - 1)) << kMant) | ((mb >> (23 - kMant)) & ((1u << kMant) - 1u));
  else
    code = static_cast<uint32_t>(m * static_cast<float>(1u << (kMant - kMinExp)));  // exact integer
  return static_cast<uint8_t>(code | ((b >> 31) << 7));
}

}  // namespace fp8sim::model::fp8_fast
