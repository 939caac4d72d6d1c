#include "fp8sim/model/int8.h"

#include <cmath>

namespace fp8sim::model {

namespace {

// T is float or double: the division and the rounding happen in T.
template <typename T>
int8_t quantize(T x, T scale, Int8Options opt) {
  const T v = x / scale;  // one IEEE division
  if (std::isnan(v)) return 0;
  const T lo = static_cast<T>(opt.qmin());
  if (v <= lo) return static_cast<int8_t>(opt.qmin());
  if (v >= T{127}) return 127;
  return static_cast<int8_t>(std::nearbyint(v));  // default rounding mode: to nearest, ties to even
}

template <typename T>
bool saturates(T x, T scale, Int8Options opt) {
  const T r = std::nearbyint(x / scale);
  return r > T{127} || r < static_cast<T>(opt.qmin());  // false for NaN
}

}  // namespace

int8_t int8_quantize(float x, float scale, Int8Options opt) { return quantize(x, scale, opt); }
int8_t int8_quantize(double x, double scale, Int8Options opt) { return quantize(x, scale, opt); }
bool int8_saturates(float x, float scale, Int8Options opt) { return saturates(x, scale, opt); }
bool int8_saturates(double x, double scale, Int8Options opt) { return saturates(x, scale, opt); }

void int8_quantize_array(const float* in, int8_t* out, size_t n, float scale, Int8Options opt) {
  for (size_t i = 0; i < n; ++i) out[i] = int8_quantize(in[i], scale, opt);
}

}  // namespace fp8sim::model
