// Dequantization and requantization of accumulator words: the ONE definition used by the host reference
// path (quant::Executor, BitExact mode) and by the accelerator's post-processing unit (sim/), so the two
// cannot disagree about a word.
//
//   s   = float32(row_scale * col_scale)          one float32 multiplication, round to nearest even
//                                                 (row_scale = the activation scale of the output's row:
//                                                 per tensor or per token; col_scale = the weight scale of
//                                                 its column: per tensor or per channel)
//   v   = value(word) * s, rounded ONCE            the exact product of the accumulator's value and s,
//         to float32 (RNE)                         rounded once (fixed point and int32 words are wider than a
//                                                 double's mantissa, so no double detour); NaN -> canonical
//                                                 NaN, +-Inf stay
//   y   = v + bias                                 float32 addition (RNE), only when the column has a bias
//   out = to the consumer's format                 BF16: round_to_bf16(y); F32: y; INT8: int8_quantize(y,
//                                                 out_scale); FP8: fp8_encode(y / out_scale, saturate);
//                                                 via BF16 (requantize_via_bf16): INT8/FP8 of round_to_bf16(y)
#pragma once

#include <cstdint>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"

namespace fp8sim::model {

// What a post-processed output becomes. Values are persisted in command streams (firmware's out_fmt field):
// 0 INT8, 1 + Fp8Kind the FP8 formats, then BF16 and F32.
enum class OutFormat : uint8_t { Int8 = 0, Bf16 = 1 + kFp8KindCount, F32 = 2 + kFp8KindCount };
inline constexpr uint8_t out_format_code_fp8(Fp8Kind k) { return static_cast<uint8_t>(1 + static_cast<int>(k)); }
inline constexpr int kOutFormatCodeCount = 3 + kFp8KindCount;  // codes 0 .. kOutFormatCodeCount - 1
int out_format_bytes(uint8_t code);        // bytes per output: 1 (INT8, FP8), 2 (BF16), 4 (F32)
const char* out_format_name(uint8_t code);  // "int8", "e4m3", ..., "bf16", "f32"

// s = float32(row_scale * col_scale).
inline float combined_scale(float row_scale, float col_scale) { return row_scale * col_scale; }
// v = value(word) * s rounded once to float32.
float dequantize_word(const GemmNumerics& num, const AccWord& w, float s);
// y = v + bias (has_bias) or v.
float dequantize_word_bias(const GemmNumerics& num, const AccWord& w, float s, float bias, bool has_bias);
// y requantized to `out_code` (OutFormat / out_format_code_fp8), little-endian bytes into dst
// (out_format_bytes(out_code) of them). out_scale: INT8/FP8 only.
void requantize_value(float y, uint8_t out_code, float out_scale, uint8_t* dst);
// An output the network holds in BF16 and the next GEMM reads as its 8-bit code (INT8 / FP8 out_code, that
// GEMM's static scale): requantize_value(round_to_bf16(y), out_code, out_scale, dst): the BF16 value's code,
// exactly what the consuming GEMM's own quantization of the BF16 tensor gives (one byte).
void requantize_via_bf16(float y, uint8_t out_code, float out_scale, uint8_t* dst);
// The float a BF16 or F32 output holds (throws std::invalid_argument for the code formats INT8/FP8).
float stored_float(uint8_t out_code, const uint8_t* src);

}  // namespace fp8sim::model
