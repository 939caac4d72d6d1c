// check_gemm (gemm_check.h): golden_gemm's words by exact double-precision sums where they apply.
#include "fp8sim/model/gemm_check.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fp8sim/model/fp8.h"
#include "gemm_check_kernels.h"

namespace fp8sim::model {

namespace {

gck::GemmFn kernel() {
  static const gck::GemmFn fn = [] {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return gck::gemm_avx512();
    if (__builtin_cpu_supports("avx2")) return gck::gemm_avx2();
#endif
    return gck::gemm_base();
  }();
  return fn;
}

// The operand's integer value (LSB count) and whether it is NaN/Inf.
struct Decode {
  double v[256];
  bool special[256];
  int64_t max_abs = 0;
};
Decode decode(const GemmNumerics& num, bool b_operand) {
  Decode d{};
  for (int c = 0; c < 256; ++c) {
    const uint8_t u = static_cast<uint8_t>(c);
    int64_t x = 0;
    if (num.int8) {
      x = static_cast<int8_t>(u);
    } else {
      const Fp8Format& f = fp8_format(b_operand ? num.b_kind : num.a_kind);
      d.special[c] = fp8_is_nan(f, u) || fp8_is_inf(f, u);
      if (!d.special[c]) x = fp8_to_lsbs(f, u);
    }
    d.v[c] = static_cast<double>(x);
    d.max_abs = std::max<int64_t>(d.max_abs, x < 0 ? -x : x);
  }
  return d;
}

// K x P < 2^53 (in long double-free integer arithmetic: P < 2^63 is checked first).
bool exact_bound(const Decode& da, const Decode& db, int64_t k) {
  const long double p = static_cast<long double>(da.max_abs) * static_cast<long double>(db.max_abs);
  return p * static_cast<long double>(k) < std::ldexp(1.0L, 53);
}

bool any_special(const Decode& d, const uint8_t* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (d.special[x[i]]) return true;
  return false;
}

}  // namespace

bool check_gemm_exact_path(const GemmNumerics& num, int64_t m, int64_t k, int64_t n, const uint8_t* a,
                           const uint8_t* b) {
  if (num.acc == AccumulatorKind::Float32) return false;
  if (m < 0 || k < 1 || n < 0) return false;
  const Decode da = decode(num, false), db = decode(num, true);
  if (!exact_bound(da, db, k)) return false;
  if (!num.int8 && (any_special(da, a, m * k) || any_special(db, b, k * n))) return false;
  return true;
}

std::vector<AccWord> check_gemm(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                int64_t n, const uint8_t* a, const uint8_t* b) {
  if (m < 0 || k < 1 || n < 0 || order.k_chunk < 0 || !check_gemm_exact_path(num, m, k, n, a, b))
    return golden_gemm(num, order, m, k, n, a, b);  // (also its exceptions)
  num.validate(k);
  const Decode da = decode(num, false), db = decode(num, true);
  std::vector<double> ad(static_cast<size_t>(m * k)), bd(static_cast<size_t>(k * n)), cd(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m * k; ++i) ad[size_t(i)] = da.v[a[i]];
  for (int64_t i = 0; i < k * n; ++i) bd[size_t(i)] = db.v[b[i]];
  kernel()(ad.data(), bd.data(), cd.data(), m, k, n);
  const int width = num.int8 ? 32 : num.fixed_width(k);
  std::vector<AccWord> out(static_cast<size_t>(m * n));
  for (size_t i = 0; i < out.size(); ++i) {
    // |sum| < 2^53: exact in int64; the register keeps it modulo 2^width, sign-extended.
    const int64_t s = static_cast<int64_t>(cd[i]);
    if (width >= 64) {
      out[i].raw = s;
    } else {
      const uint64_t mask = (uint64_t{1} << width) - 1;
      const uint64_t v = static_cast<uint64_t>(s) & mask;
      const uint64_t sign = uint64_t{1} << (width - 1);
      out[i].raw = static_cast<int64_t>((v ^ sign) - sign);
    }
  }
  return out;
}

}  // namespace fp8sim::model
