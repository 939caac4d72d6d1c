// The row kernels (fast_kernels.inc) compiled for the base instruction set (flags: sim/CMakeLists.txt).
#include "fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fp8sim::sim {
namespace fastk_base {
#define FP8SIM_FASTK_NAME "base"
#include "fast_kernels.inc"
}  // namespace fastk_base
const fastk::Kernels& fastk::kernels_base() { return fastk_base::kTable; }
}  // namespace fp8sim::sim
