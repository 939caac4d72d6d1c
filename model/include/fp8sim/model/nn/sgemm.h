// The FP32 GEMM of the reference networks: C[m][n] = sum_k A[m][k] * B[n][k] (+ bias[n]).
// Both operands are read along K ("NT" layout), which is how linear layers store weights ([out][in]) and
// how im2col lays out patches. Single-threaded, cache-blocked, register-tiled (4 x 8) with GCC vector
// extensions; no FMA contraction and a fixed summation order, so results are deterministic and identical on
// every x86-64 machine. Within one output, products are summed in increasing k in blocks of kKc: the
// partial sum of each block is added to C (so the order is fixed by kKc, not by the tiling of M or N).
#pragma once

#include <cstdint>

namespace fp8sim::nn {

inline constexpr int64_t kSgemmKc = 256;

// lda, ldb, ldc: row strides in elements. bias may be null. C is overwritten.
void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
              float* c, int64_t ldc, const float* bias = nullptr);

// The plain triple loop with the same blocked summation order, for tests.
void sgemm_nt_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                        int64_t ldb, float* c, int64_t ldc, const float* bias = nullptr);

}  // namespace fp8sim::nn
