#include "fp8sim/model/gemm.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "fp8sim/model/fp8.h"

namespace fp8sim::model {
namespace {

int128 sign_extend(uint128 v, int width) {
  const int s = 128 - width;
  return static_cast<int128>(v << s) >> s;
}

// Per-code lookup for one operand format: fixed-point value and special class.
struct OperandTable {
  std::array<int64_t, 256> lsbs{};
  std::array<float, 256> f32{};
  std::array<ValueClass, 256> cls{};
  explicit OperandTable(const Fp8Format& f) {
    for (int c = 0; c < 256; ++c) {
      const auto code = static_cast<uint8_t>(c);
      lsbs[c] = fp8_to_lsbs(f, code);
      f32[c] = fp8_decode_f32(f, code);
      cls[c] = fp8_is_nan(f, code) ? ValueClass::NaN
               : fp8_is_inf(f, code) ? ((c & 0x80) ? ValueClass::NegInf : ValueClass::PosInf)
                                     : ValueClass::Finite;
    }
  }
};

void gemm_int32(int64_t m, int64_t k, int64_t n, const uint8_t* a, const uint8_t* b, std::vector<AccWord>& out) {
  std::vector<uint32_t> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), 0u);
    for (int64_t kk = 0; kk < k; ++kk) {
      const int32_t av = static_cast<int8_t>(a[i * k + kk]);
      const uint8_t* brow = b + kk * n;
      for (int64_t j = 0; j < n; ++j) row[j] += static_cast<uint32_t>(av * static_cast<int8_t>(brow[j]));
    }
    for (int64_t j = 0; j < n; ++j) out[i * n + j].raw = static_cast<int32_t>(row[j]);
  }
}

// Exact accumulation is order-independent (a sum modulo 2^width), so the fastest loop order is used.
// Acc is uint64_t when every product fits in int64 (E4M3), else unsigned __int128 (E5M2).
template <typename Acc>
void gemm_fixed(const OperandTable& ta, const OperandTable& tb, int width, int64_t m, int64_t k, int64_t n,
                const uint8_t* a, const uint8_t* b, std::vector<AccWord>& out) {
  std::vector<Acc> row(static_cast<size_t>(n));
  std::vector<int64_t> blsbs(static_cast<size_t>(k * n));
  bool b_special = false;
  for (int64_t x = 0; x < k * n; ++x) {
    blsbs[x] = tb.lsbs[b[x]];
    b_special = b_special || tb.cls[b[x]] != ValueClass::Finite;
  }
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), Acc{0});
    bool a_special = false;
    for (int64_t kk = 0; kk < k; ++kk) {
      const uint8_t ac = a[i * k + kk];
      a_special = a_special || ta.cls[ac] != ValueClass::Finite;
      const Acc av = static_cast<Acc>(ta.lsbs[ac]);
      const int64_t* brow = blsbs.data() + kk * n;
      for (int64_t j = 0; j < n; ++j) row[j] += av * static_cast<Acc>(brow[j]);  // wraps modulo 2^bits
    }
    for (int64_t j = 0; j < n; ++j) {
      AccWord& w = out[i * n + j];
      w.raw = sign_extend(static_cast<uint128>(row[j]), width);
      if (!(a_special || b_special)) continue;
      // Specials (rare): NaN if any product is NaN or both infinities occur, else the infinity seen.
      bool nan = false, pos = false, neg = false;
      for (int64_t kk = 0; kk < k; ++kk) {
        const uint8_t ac = a[i * k + kk], bc = b[kk * n + j];
        const ValueClass ca = ta.cls[ac], cb = tb.cls[bc];
        if (ca == ValueClass::Finite && cb == ValueClass::Finite) continue;
        if (ca == ValueClass::NaN || cb == ValueClass::NaN) {
          nan = true;
        } else if ((ca == ValueClass::Finite && ta.lsbs[ac] == 0) || (cb == ValueClass::Finite && tb.lsbs[bc] == 0)) {
          nan = true;  // Inf x 0
        } else {
          (((ac ^ bc) & 0x80) ? neg : pos) = true;
        }
      }
      w.cls = (nan || (pos && neg)) ? ValueClass::NaN
              : pos                 ? ValueClass::PosInf
              : neg                 ? ValueClass::NegInf
                                    : ValueClass::Finite;
    }
  }
}

// Float32 accumulation in the stated order. Products of FP8 values are exact in float32, so computing
// them here with one float multiplication (even if contracted into an FMA) gives the same bits.
void gemm_float32(const OperandTable& ta, const OperandTable& tb, int64_t chunk, int64_t m, int64_t k, int64_t n,
                  const uint8_t* a, const uint8_t* b, std::vector<AccWord>& out) {
  std::vector<float> bval(static_cast<size_t>(k * n));
  for (int64_t x = 0; x < k * n; ++x) bval[x] = tb.f32[b[x]];
  std::vector<float> total(static_cast<size_t>(n)), part(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(total.begin(), total.end(), 0.0f);
    for (int64_t k0 = 0; k0 < k; k0 += chunk) {
      const int64_t k1 = std::min(k, k0 + chunk);
      std::fill(part.begin(), part.end(), 0.0f);
      for (int64_t kk = k0; kk < k1; ++kk) {
        const float av = ta.f32[a[i * k + kk]];
        const float* brow = bval.data() + kk * n;
        for (int64_t j = 0; j < n; ++j) part[j] = part[j] + av * brow[j];
      }
      for (int64_t j = 0; j < n; ++j) total[j] = total[j] + part[j];
    }
    for (int64_t j = 0; j < n; ++j) {
      // NaN stays NaN through later additions, so canonicalizing once at the end equals doing it per add.
      const uint32_t bits = std::isnan(total[j]) ? kCanonicalNaN32 : f32_bits(total[j]);
      out[i * n + j].raw = bits;
    }
  }
}

}  // namespace

int GemmNumerics::lsb_exp() const {
  return fp8_format(a_kind).lsb_exp() + fp8_format(b_kind).lsb_exp();
}

int GemmNumerics::fixed_width(int64_t k) const {
  return acc_width > 0 ? acc_width : fixed_point_accumulator_width(fp8_format(a_kind), fp8_format(b_kind), k);
}

void GemmNumerics::validate(int64_t k) const {
  if (int8 && acc != AccumulatorKind::Int32)
    throw std::invalid_argument("INT8 operands need the int32 accumulator");
  if (!int8 && acc == AccumulatorKind::Int32)
    throw std::invalid_argument("the int32 accumulator takes INT8 operands, not FP8");
  if (acc == AccumulatorKind::FixedPoint) {
    const int w = fixed_width(k);
    if (w < 2 || w > FixedPointAccumulator::kMaxWidth)
      throw std::invalid_argument("fixed-point accumulator width " + std::to_string(w) + " outside [2, " +
                                  std::to_string(FixedPointAccumulator::kMaxWidth) + "]");
  }
}

std::string GemmNumerics::describe() const {
  if (int8) return "int8 x int8 -> int32";
  std::string s = std::string(fp8_format(a_kind).name) + " x " + std::string(fp8_format(b_kind).name) + " -> ";
  if (acc == AccumulatorKind::Float32) return s + "fp32";
  return s + (acc_width > 0 ? "fixed" + std::to_string(acc_width) : std::string("fixed(exact for K)"));
}

std::vector<AccWord> golden_gemm(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                 int64_t n, const uint8_t* a, const uint8_t* b) {
  if (m < 0 || k < 1 || n < 0)
    throw std::invalid_argument("golden_gemm: bad shape M=" + std::to_string(m) + " K=" + std::to_string(k) +
                                " N=" + std::to_string(n));
  if (order.k_chunk < 0) throw std::invalid_argument("golden_gemm: k_chunk must be >= 0");
  num.validate(k);
  std::vector<AccWord> out(static_cast<size_t>(m * n));
  if (num.int8) {
    gemm_int32(m, k, n, a, b, out);
    return out;
  }
  const OperandTable ta(fp8_format(num.a_kind)), tb(fp8_format(num.b_kind));
  if (num.acc == AccumulatorKind::Float32) {
    gemm_float32(ta, tb, order.k_chunk > 0 ? order.k_chunk : k, m, k, n, a, b, out);
  } else {
    const int width = num.fixed_width(k);
    const bool fits64 = fp8_product_bits(fp8_format(num.a_kind), fp8_format(num.b_kind)) <= 64 && width <= 64;
    if (fits64)
      gemm_fixed<uint64_t>(ta, tb, width, m, k, n, a, b, out);
    else
      gemm_fixed<uint128>(ta, tb, width, m, k, n, a, b, out);
  }
  return out;
}

double acc_word_value(const GemmNumerics& num, const AccWord& w) {
  switch (num.acc) {
    case AccumulatorKind::Int32: return static_cast<double>(w.raw);
    case AccumulatorKind::Float32: return f32_from_bits(static_cast<uint32_t>(w.raw));
    case AccumulatorKind::FixedPoint: break;
  }
  switch (w.cls) {
    case ValueClass::NaN: return std::numeric_limits<double>::quiet_NaN();
    case ValueClass::PosInf: return HUGE_VAL;
    case ValueClass::NegInf: return -HUGE_VAL;
    case ValueClass::Finite: break;
  }
  return std::ldexp(static_cast<double>(w.raw), num.lsb_exp());
}

float acc_word_to_float(const GemmNumerics& num, const AccWord& w) {
  switch (num.acc) {
    case AccumulatorKind::Int32: return static_cast<float>(static_cast<int32_t>(w.raw));
    case AccumulatorKind::Float32: return f32_from_bits(static_cast<uint32_t>(w.raw));
    case AccumulatorKind::FixedPoint: break;
  }
  switch (w.cls) {
    case ValueClass::NaN: return f32_from_bits(kCanonicalNaN32);
    case ValueClass::PosInf: return HUGE_VALF;
    case ValueClass::NegInf: return -HUGE_VALF;
    case ValueClass::Finite: break;
  }
  // int128 -> float rounds once; the power-of-two scaling is exact because a nonzero word is at least one
  // LSB (>= 2^-34 for every format pair), far inside float32's normal range.
  return std::ldexp(static_cast<float>(w.raw), num.lsb_exp());
}

namespace {
int128 largest_product_lsbs(const GemmNumerics& num) {
  if (num.int8) return 128 * 128;
  return static_cast<int128>(fp8_format(num.a_kind).max_finite_lsbs()) * fp8_format(num.b_kind).max_finite_lsbs();
}
int register_bits(const GemmNumerics& num) {
  if (num.acc == AccumulatorKind::Int32) return 32;
  if (num.acc == AccumulatorKind::FixedPoint && num.acc_width > 0) return num.acc_width;
  return 0;  // no wrap
}
std::string i128_to_string(int128 v) {
  if (v == 0) return "0";
  std::string s;
  const bool neg = v < 0;
  uint128 u = neg ? static_cast<uint128>(-v) : static_cast<uint128>(v);
  while (u) s.insert(s.begin(), char('0' + int(u % 10))), u /= 10;
  return neg ? "-" + s : s;
}
}  // namespace

int64_t max_wrap_free_k(const GemmNumerics& num) {
  const int w = register_bits(num);
  if (w == 0) return std::numeric_limits<int64_t>::max();
  const int128 hi = (int128{1} << (w - 1)) - 1;
  const int128 kmax = hi / largest_product_lsbs(num);
  return kmax > std::numeric_limits<int64_t>::max() ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(kmax);
}

std::string wrap_bound_text(const GemmNumerics& num) {
  const int w = register_bits(num);
  if (w == 0) return num.describe() + " cannot wrap";
  return num.describe() + " holds K <= floor((2^" + std::to_string(w - 1) + " - 1) / " +
         i128_to_string(largest_product_lsbs(num)) + ") = " + std::to_string(max_wrap_free_k(num)) +
         " products without wrapping (largest |product| " + i128_to_string(largest_product_lsbs(num)) +
         " LSBs, signed " + std::to_string(w) + "-bit register)";
}

WrapCount count_accumulator_wraps(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                  int64_t n, const uint8_t* a, const uint8_t* b) {
  WrapCount r;
  if (k <= max_wrap_free_k(num)) return r;
  const int w = register_bits(num);
  const int128 lo = -(int128{1} << (w - 1)), hi = (int128{1} << (w - 1)) - 1;
  // Exact products in LSBs; a special (Inf/NaN) product adds 0 to the value (FixedPointAccumulator::add).
  std::vector<int64_t> la(256, 0), lb(256, 0);
  for (int c = 0; c < 256; ++c) {
    if (num.int8) {
      la[c] = lb[c] = static_cast<int8_t>(c);
      continue;
    }
    const Fp8Format &fa = fp8_format(num.a_kind), &fb = fp8_format(num.b_kind);
    const auto code = static_cast<uint8_t>(c);
    la[c] = fp8_is_nan(fa, code) || fp8_is_inf(fa, code) ? 0 : fp8_to_lsbs(fa, code);
    lb[c] = fp8_is_nan(fb, code) || fp8_is_inf(fb, code) ? 0 : fp8_to_lsbs(fb, code);
  }
  const int64_t chunk = order.k_chunk > 0 ? order.k_chunk : k;
  auto add = [&](int128 reg, int128 x) {
    const int128 e = reg + x;
    if (e < lo || e > hi) ++r.events;
    return sign_extend(static_cast<uint128>(e), w);
  };
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int128 total = 0, exact = 0;
      for (int64_t k0 = 0; k0 < k; k0 += chunk) {
        int128 part = 0;
        for (int64_t kk = k0; kk < std::min(k, k0 + chunk); ++kk) {
          const int128 p = static_cast<int128>(la[a[i * k + kk]]) * lb[b[kk * n + j]];
          exact += p;
          part = add(part, p);
        }
        total = add(total, part);
      }
      if (exact < lo || exact > hi) ++r.outputs;
    }
  return r;
}

std::string acc_word_to_string(const GemmNumerics& num, const AccWord& w) {
  char buf[96];
  const double v = acc_word_value(num, w);
  if (num.acc == AccumulatorKind::Float32) {
    std::snprintf(buf, sizeof buf, "0x%08x (%.9g)", static_cast<uint32_t>(w.raw), v);
  } else {
    const auto hi = static_cast<uint64_t>(static_cast<uint128>(w.raw) >> 64), lo = static_cast<uint64_t>(w.raw);
    std::snprintf(buf, sizeof buf, "0x%016llx%016llx (%.17g)", static_cast<unsigned long long>(hi),
                  static_cast<unsigned long long>(lo), v);
  }
  return buf;
}

}  // namespace fp8sim::model
