// The post-processing unit's arithmetic, from model/: dequantize an accumulator word with its column's
// scale, add the bias, requantize to the next layer's format.
//   v = float(value of the word)   (model::acc_word_to_float: one rounding to nearest even; NaN/Inf as such)
//   y = v * scale + bias           (float32, two roundings, no fused multiply-add)
//   code = INT8:  model::int8_quantize(y, out_scale)                 (out_fmt 0)
//          FP8:   model::fp8_encode(format, y / out_scale, Saturate) (out_fmt 1 + Fp8Kind)
#pragma once

#include <cstdint>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/model/int8.h"

namespace fp8sim::sim {

inline uint8_t postprocess_word(const model::GemmNumerics& num, const model::AccWord& w, float scale, float bias,
                                uint8_t out_fmt, float out_scale) {
  const float v = model::acc_word_to_float(num, w);
  const float y = v * scale + bias;
  if (out_fmt == 0) return static_cast<uint8_t>(model::int8_quantize(y, out_scale));
  const auto& f = model::fp8_format(static_cast<model::Fp8Kind>(out_fmt - 1));
  return model::fp8_encode(f, y / out_scale, model::Overflow::Saturate);
}

}  // namespace fp8sim::sim
