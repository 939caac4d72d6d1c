#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace fp8sim::nn {
namespace {

// The kernel is written once over a vector type V of W floats and instantiated three times: with SSE vectors
// (W = 4, x86-64 baseline), where the CPU has it with AVX2 vectors (W = 8) inside a function compiled for
// AVX2, and where it has AVX-512F with 16-float vectors (PackedB::nr = 32; FP8SIM_NO_AVX512=1 disables it).
// Every output element sees the same operations in the same order in all three (multiply, then add, never
// fused: fp-contract is off for this file), so they give identical bits; the AVX2 one is about twice as
// fast as SSE.
typedef float v4 __attribute__((vector_size(16)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

#define FP8SIM_INLINE inline __attribute__((always_inline))

constexpr int64_t kMc = 64;  // rows per cache block of A

// rows x (2W) tile of C from a K range; bp: packed B panel [k][2W]. Same order as the reference:
// per K block a partial sum from 0, then added to the running total.
template <typename V, int W, int kRows>
FP8SIM_INLINE void micro_kernel(int64_t k, const float* a, int64_t lda, const float* bp, float* out) {
  constexpr int kNr = 2 * W;
  V tot[kRows][2];
  for (int r = 0; r < kRows; ++r) tot[r][0] = tot[r][1] = V{};
  for (int64_t k0 = 0; k0 < k; k0 += kSgemmKc) {
    const int64_t k1 = std::min(k, k0 + kSgemmKc);
    V acc[kRows][2];
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = V{};
    for (int64_t kk = k0; kk < k1; ++kk) {
      V b0, b1;
      std::memcpy(&b0, bp + kk * kNr, sizeof b0);
      std::memcpy(&b1, bp + kk * kNr + W, sizeof b1);
      for (int r = 0; r < kRows; ++r) {
        const float av = a[r * lda + kk];
        const V ab = av - V{};  // av in every lane
        acc[r][0] += ab * b0;
        acc[r][1] += ab * b1;
      }
    }
    for (int r = 0; r < kRows; ++r) {
      tot[r][0] += acc[r][0];
      tot[r][1] += acc[r][1];
    }
  }
  for (int r = 0; r < kRows; ++r) {
    std::memcpy(out + r * kNr, &tot[r][0], sizeof tot[r][0]);
    std::memcpy(out + r * kNr + W, &tot[r][1], sizeof tot[r][1]);
  }
}

// kMr: rows per register tile (at most 4; 6 rows with AVX2 measured no faster).
// Packs B: panel p holds columns [p*kNr, p*kNr+kNr) as [k][kNr], zero-padded past n.
void pack_panels(int64_t n, int64_t k, const float* b, int64_t ldb, int64_t nr, std::vector<float>* out) {
  const int64_t panels = (n + nr - 1) / nr;
  out->assign(static_cast<size_t>(panels * nr * std::max<int64_t>(k, 1)), 0.0f);
  for (int64_t p = 0; p < panels; ++p) {
    float* dst = out->data() + p * nr * k;
    // By blocks of 64 k: the block's rows of the panel (64 x nr floats) stay in L1 while the columns fill it.
    const int64_t jn = std::min(nr, n - p * nr);
    for (int64_t k0 = 0; k0 < k; k0 += 64) {
      const int64_t k1 = std::min(k, k0 + 64);
      for (int64_t j = 0; j < jn; ++j) {
        const float* src = b + (p * nr + j) * ldb;
        for (int64_t kk = k0; kk < k1; ++kk) dst[kk * nr + j] = src[kk];
      }
    }
  }
}

// kMr: rows per register tile (at most 4; 6 rows with AVX2 measured no faster). bp: B packed by pack_panels
// with kNr = 2W.
template <typename V, int W, int64_t kMr>
FP8SIM_INLINE void sgemm_driver(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* bp,
                                float* c, int64_t ldc, const float* bias) {
  constexpr int64_t kNr = 2 * W;  // columns per register tile (two vectors)
  if (m <= 0 || n <= 0) return;
  const int64_t panels = (n + kNr - 1) / kNr;
  float tile[kMr * kNr];
  for (int64_t i0 = 0; i0 < m; i0 += kMc) {
    const int64_t i1 = std::min(m, i0 + kMc);
    for (int64_t p = 0; p < panels; ++p) {
      const float* panel = bp + p * kNr * k;
      const int64_t j0 = p * kNr, jn = std::min(kNr, n - j0);
      for (int64_t i = i0; i < i1; i += kMr) {
        const int64_t rows = std::min(kMr, i1 - i);
        const float* ai = a + i * lda;
        switch (rows) {
          case 4: micro_kernel<V, W, 4>(k, ai, lda, panel, tile); break;
          case 3: micro_kernel<V, W, 3>(k, ai, lda, panel, tile); break;
          case 2: micro_kernel<V, W, 2>(k, ai, lda, panel, tile); break;
          default: micro_kernel<V, W, 1>(k, ai, lda, panel, tile); break;
        }
        for (int64_t r = 0; r < rows; ++r) {
          float* ci = c + (i + r) * ldc + j0;
          for (int64_t j = 0; j < jn; ++j) ci[j] = bias ? tile[r * kNr + j] + bias[j0 + j] : tile[r * kNr + j];
        }
      }
    }
  }
}

void sgemm_sse(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* bp, float* c,
               int64_t ldc, const float* bias) {
  sgemm_driver<v4, 4, 4>(m, n, k, a, lda, bp, c, ldc, bias);
}

__attribute__((target("avx2"))) void sgemm_avx2(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                                                const float* bp, float* c, int64_t ldc, const float* bias) {
  sgemm_driver<v8, 8, 4>(m, n, k, a, lda, bp, c, ldc, bias);
}

__attribute__((target("avx512f"))) void sgemm_avx512(int64_t m, int64_t n, int64_t k, const float* a,
                                                    int64_t lda, const float* bp, float* c, int64_t ldc,
                                                    const float* bias) {
  sgemm_driver<v16, 16, 4>(m, n, k, a, lda, bp, c, ldc, bias);
}

bool use_avx2() {
  // FP8SIM_NO_AVX2=1 forces the baseline kernel (tests compare both).
  static const bool v = __builtin_cpu_supports("avx2") && !std::getenv("FP8SIM_NO_AVX2");
  return v;
}

bool use_avx512() {
  // The AVX-512 instance (W = 16), same bits again; FP8SIM_NO_AVX512=1 (or FP8SIM_NO_AVX2=1) disables it.
  static const bool v = use_avx2() && __builtin_cpu_supports("avx512f") && !std::getenv("FP8SIM_NO_AVX512");
  return v;
}

}  // namespace

bool sgemm_avx2_active() { return use_avx2(); }

PackedB pack_b(int64_t n, int64_t k, const float* b, int64_t ldb) {
  PackedB pb;
  pb.n = n, pb.k = k, pb.nr = use_avx512() ? 32 : use_avx2() ? 16 : 8;
  if (n > 0) pack_panels(n, k, b, ldb, pb.nr, &pb.data);
  return pb;
}

void sgemm_nt_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc,
                     const float* bias) {
  if (m <= 0 || b.n <= 0) return;
  if (b.nr == 32)
    sgemm_avx512(m, b.n, b.k, a, lda, b.data.data(), c, ldc, bias);
  else if (b.nr == 16)
    sgemm_avx2(m, b.n, b.k, a, lda, b.data.data(), c, ldc, bias);
  else
    sgemm_sse(m, b.n, b.k, a, lda, b.data.data(), c, ldc, bias);
}

void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
              float* c, int64_t ldc, const float* bias) {
  if (m <= 0 || n <= 0) return;
  sgemm_nt_packed(m, a, lda, pack_b(n, k, b, ldb), c, ldc, bias);
}

void sgemm_nt_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                        int64_t ldb, float* c, int64_t ldc, const float* bias) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float tot = 0.0f;
      for (int64_t k0 = 0; k0 < k; k0 += kSgemmKc) {
        float acc = 0.0f;
        for (int64_t kk = k0; kk < std::min(k, k0 + kSgemmKc); ++kk) acc += a[i * lda + kk] * b[j * ldb + kk];
        tot += acc;
      }
      c[i * ldc + j] = bias ? tot + bias[j] : tot;
    }
}

}  // namespace fp8sim::nn
