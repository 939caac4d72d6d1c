// The FP32 GEMM of the reference networks: C[m][n] = sum_k A[m][k] * B[n][k] (+ bias[n]).
// Both operands are read along K ("NT" layout), which is how linear layers store weights ([out][in]) and
// how im2col lays out patches. Single-threaded, cache-blocked, register-tiled (4 x 8 with SSE; 4 x 16 with
// AVX2 where the CPU has it, chosen at run time) with GCC vector extensions; no FMA contraction and a fixed
// summation order, so results are deterministic and identical on every x86-64 machine and for both kernels.
// Within one output, products are summed in increasing k in blocks of kKc: the
// partial sum of each block is added to C (so the order is fixed by kKc, not by the tiling of M or N).
#pragma once

#include <cstdint>
#include <vector>

namespace fp8sim::nn {

inline constexpr int64_t kSgemmKc = 256;

// lda, ldb, ldc: row strides in elements. bias may be null. C is overwritten.
void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
              float* c, int64_t ldc, const float* bias = nullptr);

// B packed once for many products (a layer's weight): packing costs about as much as the product itself when
// M is small (a BERT sentence has ~15 tokens), so the executor keeps its weights packed. The layout depends
// on the kernel chosen at run time (nr = 8 SSE, 16 AVX2); sgemm_nt_packed gives the same bits as sgemm_nt.
struct PackedB {
  int64_t n = 0, k = 0, nr = 0;
  std::vector<float> data;
};
PackedB pack_b(int64_t n, int64_t k, const float* b, int64_t ldb);
void sgemm_nt_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                     const float* bias = nullptr);

// True when sgemm_nt runs its AVX2 instance (same bits as the SSE one; FP8SIM_NO_AVX2=1 disables it).
bool sgemm_avx2_active();

// The plain triple loop with the same blocked summation order, for tests.
void sgemm_nt_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                        int64_t ldb, float* c, int64_t ldc, const float* bias = nullptr);

}  // namespace fp8sim::nn
