// The double-precision block kernel of gemm_check.cpp, one copy per instruction set (gemm_check_kernel_*.cpp).
#pragma once

#include <cstdint>

namespace fp8sim::model::gck {

// c[i * n + j] = sum over kk of a[i * k + kk] * b[kk * n + j], i < m, j < n (all exact integers in doubles).
using GemmFn = void (*)(const double* a, const double* b, double* c, int64_t m, int64_t k, int64_t n);
GemmFn gemm_base();
GemmFn gemm_avx2();    // compiled with AVX2 flags (x86-64)
GemmFn gemm_avx512();  // compiled with AVX-512 flags (x86-64)

}  // namespace fp8sim::model::gck
