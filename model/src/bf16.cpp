#include "fp8sim/model/bf16.h"

#include <cstring>

namespace fp8sim::model {

uint16_t bf16_from_f32(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>(((b >> 16) & 0x8000u) | 0x7FC0u);  // canonical qNaN
  // Round to nearest even on the 16 dropped bits; a carry out of the mantissa correctly bumps the
  // exponent, and out of the largest finite binade gives Inf.
  b += 0x7FFFu + ((b >> 16) & 1u);
  return static_cast<uint16_t>(b >> 16);
}

float bf16_to_f32(uint16_t h) {
  const uint32_t b = uint32_t{h} << 16;
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

void bf16_from_f32_array(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = bf16_from_f32(in[i]);
}

}  // namespace fp8sim::model
