#include "fp8sim/model/int8.h"

#include <cmath>

namespace fp8sim::model {

int8_t int8_quantize(float x, float scale, Int8Options opt) {
  const float v = x / scale;  // one IEEE float32 division
  if (std::isnan(v)) return 0;
  const float lo = static_cast<float>(opt.qmin());
  if (v <= lo) return static_cast<int8_t>(opt.qmin());
  if (v >= 127.0f) return 127;
  return static_cast<int8_t>(std::nearbyint(v));  // default rounding mode: to nearest, ties to even
}

void int8_quantize_array(const float* in, int8_t* out, size_t n, float scale, Int8Options opt) {
  for (size_t i = 0; i < n; ++i) out[i] = int8_quantize(in[i], scale, opt);
}

}  // namespace fp8sim::model
