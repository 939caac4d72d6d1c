// Symmetric INT8 quantization: q = clamp(round_half_even(x / scale), qmin, 127), x ~= q * scale.
// The division is one IEEE float32 division (as PyTorch's fake-quant and ONNX QuantizeLinear compute it),
// so results are reproducible bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fp8sim::model {

struct Int8Options {
  // By default the range is symmetric, [-127, 127], so that -q is always representable.
  bool allow_minus_128 = false;
  int qmin() const { return allow_minus_128 ? -128 : -127; }
};

// NaN maps to 0 (INT8 has no NaN: the quantizer refuses non-finite tensors before calling this);
// +-Inf and out-of-range values clamp. `scale` must be finite and > 0.
int8_t int8_quantize(float x, float scale, Int8Options opt = {});
// The same rule on float64 inputs, with one float64 division (no detour through float32).
int8_t int8_quantize(double x, double scale, Int8Options opt = {});
// True when x / scale, rounded, lies outside [qmin, 127], i.e. int8_quantize clamps it. False for NaN.
bool int8_saturates(float x, float scale, Int8Options opt = {});
bool int8_saturates(double x, double scale, Int8Options opt = {});
inline float int8_dequantize(int8_t q, float scale) { return static_cast<float>(q) * scale; }
void int8_quantize_array(const float* in, int8_t* out, size_t n, float scale, Int8Options opt = {});

}  // namespace fp8sim::model
