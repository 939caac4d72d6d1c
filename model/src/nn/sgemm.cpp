#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/sgemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace fp8sim::nn {
namespace {

typedef float v4 __attribute__((vector_size(16)));

constexpr int64_t kNr = 8;   // columns per register tile (two 4-float vectors)
constexpr int64_t kMr = 4;   // rows per register tile
constexpr int64_t kMc = 64;  // rows per cache block of A

inline v4 load4(const float* p) {
  v4 r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
inline void store4(float* p, v4 v) { std::memcpy(p, &v, sizeof v); }

// rows x 8 tile of C from a K range; bp: packed B panel [k][8]. Same order as the reference:
// per K block a partial sum from 0, then added to the running total.
template <int kRows>
void micro_kernel(int64_t k, const float* a, int64_t lda, const float* bp, float* out /* kRows x 8 */) {
  v4 tot[kRows][2];
  for (int r = 0; r < kRows; ++r) tot[r][0] = tot[r][1] = v4{0, 0, 0, 0};
  for (int64_t k0 = 0; k0 < k; k0 += kSgemmKc) {
    const int64_t k1 = std::min(k, k0 + kSgemmKc);
    v4 acc[kRows][2];
    for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = v4{0, 0, 0, 0};
    for (int64_t kk = k0; kk < k1; ++kk) {
      const v4 b0 = load4(bp + kk * kNr), b1 = load4(bp + kk * kNr + 4);
      for (int r = 0; r < kRows; ++r) {
        const float av = a[r * lda + kk];
        const v4 ab = {av, av, av, av};
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
    store4(out + r * kNr, tot[r][0]);
    store4(out + r * kNr + 4, tot[r][1]);
  }
}

}  // namespace

void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
              float* c, int64_t ldc, const float* bias) {
  if (m <= 0 || n <= 0) return;
  const int64_t panels = (n + kNr - 1) / kNr;
  // Pack B: panel p holds columns [p*8, p*8+8) as [k][8], zero-padded past n.
  std::vector<float> bp(static_cast<size_t>(panels * kNr * std::max<int64_t>(k, 1)), 0.0f);
  for (int64_t p = 0; p < panels; ++p) {
    float* dst = bp.data() + p * kNr * k;
    for (int64_t j = 0; j < kNr && p * kNr + j < n; ++j) {
      const float* src = b + (p * kNr + j) * ldb;
      for (int64_t kk = 0; kk < k; ++kk) dst[kk * kNr + j] = src[kk];
    }
  }
  float tile[kMr * kNr];
  for (int64_t i0 = 0; i0 < m; i0 += kMc) {
    const int64_t i1 = std::min(m, i0 + kMc);
    for (int64_t p = 0; p < panels; ++p) {
      const float* panel = bp.data() + p * kNr * k;
      const int64_t j0 = p * kNr, jn = std::min(kNr, n - j0);
      for (int64_t i = i0; i < i1; i += kMr) {
        const int64_t rows = std::min(kMr, i1 - i);
        const float* ai = a + i * lda;
        switch (rows) {
          case 4: micro_kernel<4>(k, ai, lda, panel, tile); break;
          case 3: micro_kernel<3>(k, ai, lda, panel, tile); break;
          case 2: micro_kernel<2>(k, ai, lda, panel, tile); break;
          default: micro_kernel<1>(k, ai, lda, panel, tile); break;
        }
        for (int64_t r = 0; r < rows; ++r) {
          float* ci = c + (i + r) * ldc + j0;
          for (int64_t j = 0; j < jn; ++j) ci[j] = bias ? tile[r * kNr + j] + bias[j0 + j] : tile[r * kNr + j];
        }
      }
    }
  }
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
