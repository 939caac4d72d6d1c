// Helpers of the MX sim tests: MX operands made by model/'s conversion (mx_quantize) from random floats whose
// blocks span many binades, in make_gemm_job's layout (A: M x K codes + M x nb scales; B: K x N codes + N x nb
// scales), and golden_gemm_mx's B-scale layout (nb x N).
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/sim/gemm_run.h"

namespace fp8sim::simtest {

struct MxOperands {
  std::vector<uint8_t> a, b;
  sim::MxScales s;
};

// Values ~ N(0, 1) * 2^e with e drawn per block in [-e_spread, e_spread]; zero_block_per_mille blocks all zero.
inline std::vector<float> mx_random_values(int64_t n, int block, std::mt19937_64& rng, int e_spread = 12,
                                           unsigned zero_block_per_mille = 50) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t b0 = 0; b0 < n; b0 += block) {
    const int e = int(rng() % uint64_t(2 * e_spread + 1)) - e_spread;
    const bool zero = rng() % 1000 < zero_block_per_mille;
    for (int64_t i = b0; i < std::min(n, b0 + block); ++i) v[size_t(i)] = zero ? 0.0f : std::ldexp(nd(rng), e);
  }
  return v;
}

inline MxOperands mx_random_operands(model::MxKind kind, int block, int64_t m, int64_t k, int64_t n,
                                     std::mt19937_64& rng) {
  const model::MxConfig cfg{kind, block};
  const int64_t nb = (k + block - 1) / block;
  MxOperands o;
  o.a.resize(size_t(m * k));
  o.s.a.resize(size_t(m * nb));
  for (int64_t i = 0; i < m; ++i) {
    const std::vector<float> row = mx_random_values(k, block, rng);
    model::mx_quantize(cfg, row.data(), size_t(k), o.a.data() + i * k, o.s.a.data() + i * nb);
  }
  o.b.resize(size_t(k * n));
  o.s.b.resize(size_t(n * nb));
  std::vector<uint8_t> col(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    const std::vector<float> v = mx_random_values(k, block, rng);
    model::mx_quantize(cfg, v.data(), size_t(k), col.data(), o.s.b.data() + j * nb);
    for (int64_t kk = 0; kk < k; ++kk) o.b[size_t(kk * n + j)] = col[size_t(kk)];
  }
  return o;
}

// golden_gemm_mx's B scales: nb x N (block kb of column j at [kb * N + j]).
inline std::vector<uint8_t> mx_b_scales_kn(const sim::MxScales& s, int64_t k, int64_t n, int block) {
  const int64_t nb = (k + block - 1) / block;
  std::vector<uint8_t> t(size_t(nb * n));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kb = 0; kb < nb; ++kb) t[size_t(kb * n + j)] = s.b[size_t(j * nb + kb)];
  return t;
}

}  // namespace fp8sim::simtest
