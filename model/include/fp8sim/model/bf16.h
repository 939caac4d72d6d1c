// bfloat16 (1 sign, 8 exponent, 7 mantissa bits): the format of the non-GEMM operations (softmax, GELU,
// LayerNorm, residual adds) as in FP8-BERT (Li et al. 2023).
// float32 -> bf16 rounds to nearest, ties to even; subnormals are kept; overflow gives +-Inf (IEEE);
// NaN becomes the canonical quiet NaN 0x7FC0 with the input's sign (as ml_dtypes.bfloat16 does).
#pragma once

#include <cstddef>
#include <cstdint>

namespace fp8sim::model {

uint16_t bf16_from_f32(float x);
float bf16_to_f32(uint16_t b);
// x rounded to the nearest bf16 value, returned as float32.
inline float round_to_bf16(float x) { return bf16_to_f32(bf16_from_f32(x)); }
void bf16_from_f32_array(const float* in, uint16_t* out, size_t n);

}  // namespace fp8sim::model
