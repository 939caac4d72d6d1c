// gemm_check's block kernel (gemm_check_kernels.inc) for the avx512 instruction set (flags: model/CMakeLists.txt).
#include <immintrin.h>

#include "gemm_check_kernels.h"

namespace fp8sim::model {
namespace gck_avx512 {
#include "gemm_check_kernels.inc"
}  // namespace gck_avx512
gck::GemmFn gck::gemm_avx512() { return gck_avx512::gemm_block; }
}  // namespace fp8sim::model
