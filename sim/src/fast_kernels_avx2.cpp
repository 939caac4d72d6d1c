// The row kernels (fast_kernels.inc) compiled for the avx2 instruction set (flags: sim/CMakeLists.txt).
#include "fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fp8sim::sim {
namespace fastk_avx2 {
#define FP8SIM_FASTK_NAME "avx2"
#include "fast_kernels.inc"
}  // namespace fastk_avx2
const fastk::Kernels* fastk::kernels_avx2() { return &fastk_avx2::kTable; }
}  // namespace fp8sim::sim
