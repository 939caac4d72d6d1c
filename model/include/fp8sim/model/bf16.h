// bfloat16 (1 sign, 8 exponent, 7 mantissa bits): the format of the non-GEMM operations (softmax, GELU,
// LayerNorm, residual adds) as in FP8-BERT (Li et al. 2023).
// float32 -> bf16 rounds to nearest, ties to even; subnormals are kept; overflow gives +-Inf (IEEE);
// NaN becomes the canonical quiet NaN 0x7FC0 with the input's sign (as ml_dtypes.bfloat16 does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fp8sim::model {

// Inline: the quantized networks round every non-GEMM result through these.
inline uint16_t bf16_from_f32(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>(((b >> 16) & 0x8000u) | 0x7FC0u);  // canonical qNaN
  // Round to nearest even on the 16 dropped bits; a carry out of the mantissa correctly bumps the
  // exponent, and out of the largest finite binade gives Inf.
  b += 0x7FFFu + ((b >> 16) & 1u);
  return static_cast<uint16_t>(b >> 16);
}
inline float bf16_to_f32(uint16_t h) {
  const uint32_t b = uint32_t{h} << 16;
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}
// x rounded to the nearest bf16 value, returned as float32.
inline float round_to_bf16(float x) { return bf16_to_f32(bf16_from_f32(x)); }
void bf16_from_f32_array(const float* in, uint16_t* out, size_t n);

}  // namespace fp8sim::model
