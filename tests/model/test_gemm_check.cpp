// check_gemm (model/gemm_check.h, the fast golden used by simrun's verification) against golden_gemm:
//   - every pair of finite codes as one K = 1 product (E4M3 x E4M3, E4M3 x E5M2 in the exact path; INT8 all 65,536),
//     and every pair including NaN/Inf (the fallback path), word for word;
//   - random GEMMs of random shapes with default and narrow (wrapping) fixed-point widths and random k_chunk;
//   - the exactness bound: E4M3's largest magnitude (448 = 229376 LSBs of 2^-9) in every one of K = 131,072
//     products: the sum 131072 x 229376^2 = 2^17 x (7 x 2^15)^2 = 49 x 2^47 = 6,896,136,929,411,072 is below 2^53 = 9,007,199,254,740,992, so
//     the double sum is exact and the word must equal golden_gemm's; INT8 sums beyond 2^31 wrap as int32.
#include <catch2/catch.hpp>

#include <random>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm_check.h"

using namespace fp8sim::model;

namespace {
GemmNumerics fixed(Fp8Kind a, Fp8Kind b, int width = 0) {
  GemmNumerics n;
  n.a_kind = a, n.b_kind = b, n.acc = AccumulatorKind::FixedPoint, n.acc_width = width;
  return n;
}
GemmNumerics int8() {
  GemmNumerics n;
  n.int8 = true, n.acc = AccumulatorKind::Int32;
  return n;
}
bool finite(Fp8Kind k, uint8_t c) { return !fp8_is_nan(fp8_format(k), c) && !fp8_is_inf(fp8_format(k), c); }
void require_equal(const std::vector<AccWord>& x, const std::vector<AccWord>& y) {
  REQUIRE(x.size() == y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("output " << i);
    REQUIRE(static_cast<int64_t>(x[i].raw) == static_cast<int64_t>(y[i].raw));
    REQUIRE(static_cast<int64_t>(x[i].raw >> 64) == static_cast<int64_t>(y[i].raw >> 64));
    REQUIRE(x[i].cls == y[i].cls);
  }
}
}  // namespace

TEST_CASE("check_gemm: every single product equals golden_gemm", "[unit][gemm_check]") {
  for (const GemmNumerics num : {fixed(Fp8Kind::E4M3, Fp8Kind::E4M3), fixed(Fp8Kind::E4M3, Fp8Kind::E5M2), int8()}) {
    // A: 256 x 1 (one code per row), B: 1 x 256 (one code per column): C[i][j] = a_i * b_j.
    std::vector<uint8_t> a, b;
    for (int c = 0; c < 256; ++c) {
      if (num.int8 || finite(num.a_kind, uint8_t(c))) a.push_back(uint8_t(c));
      if (num.int8 || finite(num.b_kind, uint8_t(c))) b.push_back(uint8_t(c));
    }
    const int64_t m = int64_t(a.size()), n = int64_t(b.size());
    INFO(num.describe());
    REQUIRE(check_gemm_exact_path(num, m, 1, n, a.data(), b.data()));
    require_equal(check_gemm(num, {}, m, 1, n, a.data(), b.data()), golden_gemm(num, {}, m, 1, n, a.data(), b.data()));
    // With NaN/Inf codes: the fallback, still equal.
    std::vector<uint8_t> all(256);
    for (int c = 0; c < 256; ++c) all[size_t(c)] = uint8_t(c);
    require_equal(check_gemm(num, {}, 256, 1, 256, all.data(), all.data()),
                  golden_gemm(num, {}, 256, 1, 256, all.data(), all.data()));
  }
}

TEST_CASE("check_gemm: random GEMMs, default and wrapping widths, equal golden_gemm", "[unit][gemm_check]") {
  std::mt19937_64 rng(42);
  int exact = 0;
  for (int t = 0; t < 300; ++t) {
    const int kind = int(rng() % 3);
    GemmNumerics num = kind == 0 ? int8() : fixed(Fp8Kind::E4M3, kind == 1 ? Fp8Kind::E4M3 : Fp8Kind::E5M2);
    if (kind && rng() % 2) num.acc_width = fp8_product_bits(fp8_format(num.a_kind), fp8_format(num.b_kind)) + int(rng() % 6);
    const int64_t m = 1 + int64_t(rng() % 40), k = 1 + int64_t(rng() % 300), n = 1 + int64_t(rng() % 40);
    std::vector<uint8_t> a(size_t(m * k)), b(size_t(k * n));
    const bool specials = rng() % 8 == 0;
    for (auto& x : a) do x = uint8_t(rng()); while (!specials && !num.int8 && !finite(num.a_kind, x));
    for (auto& x : b) do x = uint8_t(rng()); while (!specials && !num.int8 && !finite(num.b_kind, x));
    const AccumulationOrder order{int64_t(rng() % 3) * int64_t(1 + rng() % 64)};
    INFO(num.describe() << " M " << m << " K " << k << " N " << n);
    exact += check_gemm_exact_path(num, m, k, n, a.data(), b.data());
    require_equal(check_gemm(num, order, m, k, n, a.data(), b.data()), golden_gemm(num, order, m, k, n, a.data(), b.data()));
  }
  REQUIRE(exact >= 200);  // most cases took the exact double path (the rest: specials)
}

TEST_CASE("check_gemm: K = 131072 products of the largest E4M3 magnitude are exact and INT8 wraps", "[unit][gemm_check]") {
  const int64_t K = 131072;
  const GemmNumerics num = fixed(Fp8Kind::E4M3, Fp8Kind::E4M3);
  const uint8_t maxc = fp8_encode(fp8_format(Fp8Kind::E4M3), 448.0f, Overflow::Saturate);
  REQUIRE(fp8_to_lsbs(fp8_format(Fp8Kind::E4M3), maxc) == 229376);
  // One output of +448 x 448 products, one of alternating signs ending negative-heavy.
  std::vector<uint8_t> a(size_t(K), maxc), b(size_t(K) * 2);
  for (int64_t kk = 0; kk < K; ++kk) {
    b[size_t(kk * 2)] = maxc;
    b[size_t(kk * 2 + 1)] = kk % 3 ? uint8_t(maxc | 0x80) : maxc;
  }
  REQUIRE(check_gemm_exact_path(num, 1, K, 2, a.data(), b.data()));
  const auto got = check_gemm(num, {}, 1, K, 2, a.data(), b.data());
  require_equal(got, golden_gemm(num, {}, 1, K, 2, a.data(), b.data()));
  CHECK(static_cast<int64_t>(got[0].raw) == int64_t{49} << 47);  // 131072 x 229376^2 (header)
  // INT8: 140,000 x (-128 x -128) = 2,293,760,000 > 2^31 - 1: the int32 register wraps to -2,001,207,296.
  const GemmNumerics i8 = int8();
  std::vector<uint8_t> x(140000, 0x80);
  const auto w = check_gemm(i8, {}, 1, 140000, 1, x.data(), x.data());
  require_equal(w, golden_gemm(i8, {}, 1, 140000, 1, x.data(), x.data()));
  CHECK(static_cast<int64_t>(w[0].raw) == int64_t{2293760000} - (int64_t{1} << 32));
}
