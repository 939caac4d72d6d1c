#include "fp8sim/model/bf16.h"

#include <cstring>

namespace fp8sim::model {

void bf16_from_f32_array(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = bf16_from_f32(in[i]);
}

}  // namespace fp8sim::model
