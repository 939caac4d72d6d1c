// The row kernels (fast_kernels.inc) compiled for the avx512 instruction set (flags: sim/CMakeLists.txt).
#include "fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fp8sim::sim {
namespace fastk_avx512 {
#define FP8SIM_FASTK_NAME "avx512"
#include "fast_kernels.inc"
}  // namespace fastk_avx512
const fastk::Kernels* fastk::kernels_avx512() { return &fastk_avx512::kTable; }
}  // namespace fp8sim::sim
