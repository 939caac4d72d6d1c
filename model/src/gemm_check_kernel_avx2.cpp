// gemm_check's block kernel (gemm_check_kernels.inc) for the avx2 instruction set (flags: model/CMakeLists.txt).
#include "gemm_check_kernels.h"

namespace fp8sim::model {
namespace gck_avx2 {
#include "gemm_check_kernels.inc"
}  // namespace gck_avx2
gck::GemmFn gck::gemm_avx2() { return gck_avx2::gemm_block; }
}  // namespace fp8sim::model
