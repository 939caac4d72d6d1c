// gemm_check's block kernel (gemm_check_kernels.inc) for the base instruction set (flags: model/CMakeLists.txt).
#include "gemm_check_kernels.h"

namespace fp8sim::model {
namespace gck_base {
#include "gemm_check_kernels.inc"
}  // namespace gck_base
gck::GemmFn gck::gemm_base() { return gck_base::gemm_block; }
}  // namespace fp8sim::model
