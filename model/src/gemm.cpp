#include "fp8sim/model/gemm.h"

#include <algorithm>
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
               : fp8_is_inf(f, code) ? ((c & f.sign_bit()) ? ValueClass::NegInf : ValueClass::PosInf)
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
          (((ta.cls[ac] == ValueClass::NegInf || (ca == ValueClass::Finite && ta.lsbs[ac] < 0)) !=
            (tb.cls[bc] == ValueClass::NegInf || (cb == ValueClass::Finite && tb.lsbs[bc] < 0)))
               ? neg
               : pos) = true;
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

// Any semantics through accumulate_terms (the reference path; BlockFp32 and PromoteFp32 use it).
void gemm_terms(const GemmNumerics& num, const OperandTable& ta, const OperandTable& tb, int64_t chunk, int64_t m,
                int64_t k, int64_t n, const uint8_t* a, const uint8_t* b, std::vector<AccWord>& out) {
  const int e = fp8_format(num.a_kind).lsb_exp() + fp8_format(num.b_kind).lsb_exp();
  std::vector<ExactTerm> terms(static_cast<size_t>(k));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t kk = 0; kk < k; ++kk) {
        const ExactProduct p =
            fp8_exact_product(fp8_format(num.a_kind), a[i * k + kk], fp8_format(num.b_kind), b[kk * n + j]);
        terms[kk] = ExactTerm{p.cls, p.lsbs, e};
      }
      (void)ta;
      (void)tb;
      const float v = accumulate_terms(num.acc, num, chunk, terms.data(), terms.size());
      out[i * n + j].raw = std::isnan(v) ? kCanonicalNaN32 : f32_bits(v);
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
  if (int8 && acc != AccumulatorKind::Int32) throw std::invalid_argument("INT8 operands need the int32 accumulator");
  if (acc == AccumulatorKind::BlockFp32 && block_k < 1)
    throw std::invalid_argument("block-fp32 block length must be >= 1, got " + std::to_string(block_k));
  if (acc == AccumulatorKind::PromoteFp32 && promote_n < 1)
    throw std::invalid_argument("promote interval must be >= 1, got " + std::to_string(promote_n));
  if (acc == AccumulatorKind::PromoteFp32 && (narrow_precision < 2 || narrow_precision > 24))
    throw std::invalid_argument("narrow accumulator precision must be in [2, 24] bits, got " +
                                std::to_string(narrow_precision));
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
  if (acc != AccumulatorKind::FixedPoint) return s + mac_semantics_name(*this);
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
  if (num.acc == AccumulatorKind::BlockFp32 || num.acc == AccumulatorKind::PromoteFp32) {
    gemm_terms(num, ta, tb, order.k_chunk, m, k, n, a, b, out);
  } else if (num.acc == AccumulatorKind::Float32) {
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
    case AccumulatorKind::Float32:
    case AccumulatorKind::BlockFp32:
    case AccumulatorKind::PromoteFp32: return f32_from_bits(static_cast<uint32_t>(w.raw));
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
    case AccumulatorKind::Float32:
    case AccumulatorKind::BlockFp32:
    case AccumulatorKind::PromoteFp32: return f32_from_bits(static_cast<uint32_t>(w.raw));
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

namespace fp8sim::model {
namespace {

int bitlen(uint128 v) {
  int b = 0;
  while (v) {
    ++b;
    v >>= 1;
  }
  return b;
}

uint128 mag(int128 m) { return m < 0 ? static_cast<uint128>(-(m + 1)) + 1 : static_cast<uint128>(m); }

float special_value(ValueClass c) {
  return c == ValueClass::NaN ? f32_from_bits(kCanonicalNaN32) : c == ValueClass::PosInf ? HUGE_VALF : -HUGE_VALF;
}

// fl32 of one exact term (specials as such).
float term_f32(const ExactTerm& t) { return t.cls == ValueClass::Finite ? round_exact_to_f32(t.m, t.e) : special_value(t.cls); }

RoundingTarget narrow_target(int p) { return RoundingTarget{p, -126 - (p - 1), 127}; }

// Shifts a magnitude right by s bits, keeping a sticky bit in bit 0 for anything shifted out.
uint128 shift_right_sticky(uint128 u, int s) {
  if (s <= 0) return u;
  if (s >= 128) return u != 0 ? 1 : 0;
  const uint128 out = u >> s;
  return out | ((u & ((uint128{1} << s) - 1)) != 0 ? 1 : 0);
}

}  // namespace

double round_sum(int128 m1, int e1, int128 m2, int e2, const RoundingTarget& t) {
  if (m1 == 0) return round_exact(m2, e2, t);
  if (m2 == 0) return round_exact(m1, e1, t);
  const uint128 u1 = mag(m1), u2 = mag(m2);
  const int top1 = bitlen(u1) - 1 + e1, top2 = bitlen(u2) - 1 + e2;
  // Working frame: LSB 2^w with w = max top - 120; the term holding the max top fits exactly (< 2^101 bits of
  // significance below it); the other, where it reaches below 2^w, is at least 2^20 times smaller, so the sum
  // keeps its top binade within one bit and a sticky bit at 2^w decides every rounding at <= 53 bits.
  const int w = std::max(top1, top2) - 120;
  auto frame = [w](uint128 u, int e) { return e >= w ? u << (e - w) : shift_right_sticky(u, w - e); };
  const int128 s1 = static_cast<int128>(frame(u1, e1)), s2 = static_cast<int128>(frame(u2, e2));
  const int128 sum = (m1 < 0 ? -s1 : s1) + (m2 < 0 ? -s2 : s2);
  return round_exact(sum, w, t);
}

double exact_sum_rounded(const ExactTerm* terms, size_t n, const RoundingTarget& t) {
  bool nan = false, pos = false, neg = false, any = false;
  int emin = 0, top = 0;
  for (size_t i = 0; i < n; ++i) {
    const ExactTerm& x = terms[i];
    if (x.cls != ValueClass::Finite) {
      nan = nan || x.cls == ValueClass::NaN;
      pos = pos || x.cls == ValueClass::PosInf;
      neg = neg || x.cls == ValueClass::NegInf;
      continue;
    }
    if (x.m == 0) continue;
    const int tp = bitlen(mag(x.m)) - 1 + x.e;
    emin = any ? std::min(emin, x.e) : x.e;
    top = any ? std::max(top, tp) : tp;
    any = true;
  }
  if (nan || (pos && neg)) return std::numeric_limits<double>::quiet_NaN();
  if (pos) return HUGE_VAL;
  if (neg) return -HUGE_VAL;
  if (!any) return 0.0;
  // A two's complement register of 64-bit limbs, LSB 2^emin, wide enough for every term and n carries.
  int carry_bits = 1;
  while ((size_t{1} << carry_bits) < n + 1) ++carry_bits;
  const int width = top - emin + 2 + carry_bits;
  const size_t limbs = static_cast<size_t>(width / 64 + 2);
  std::vector<uint64_t> r(limbs, 0);
  for (size_t i = 0; i < n; ++i) {
    const ExactTerm& x = terms[i];
    if (x.cls != ValueClass::Finite || x.m == 0) continue;
    // Add x.m << (x.e - emin), sign-extended across all limbs.
    const int sh = x.e - emin;
    const size_t l0 = static_cast<size_t>(sh / 64);
    const int bs = sh % 64;
    const uint128 um = static_cast<uint128>(x.m);
    const uint64_t ext = x.m < 0 ? ~uint64_t{0} : 0;
    // The shifted value spans limbs l0 .. l0 + 2 (+ sign extension above).
    uint64_t parts[3];
    const uint64_t lo = static_cast<uint64_t>(um), hi = static_cast<uint64_t>(um >> 64);
    if (bs == 0) {
      parts[0] = lo;
      parts[1] = hi;
      parts[2] = ext;
    } else {
      parts[0] = lo << bs;
      parts[1] = (hi << bs) | (lo >> (64 - bs));
      parts[2] = (ext << bs) | (hi >> (64 - bs));
    }
    uint64_t carry = 0;
    for (size_t l = l0; l < limbs; ++l) {
      const uint64_t add = l - l0 < 3 ? parts[l - l0] : ext;
      const uint64_t s1 = r[l] + add;
      const uint64_t c1 = s1 < r[l];
      const uint64_t s2 = s1 + carry;
      const uint64_t c2 = s2 < s1;
      r[l] = s2;
      carry = c1 | c2;
    }
  }
  const bool negative = (r.back() >> 63) != 0;
  if (negative) {  // two's complement negate
    uint64_t carry = 1;
    for (auto& v : r) {
      v = ~v + carry;
      carry = (carry && v == 0) ? 1 : 0;
    }
  }
  int msb = -1;
  for (size_t l = limbs; l-- > 0;)
    if (r[l]) {
      msb = static_cast<int>(l) * 64 + 63 - __builtin_clzll(r[l]);
      break;
    }
  if (msb < 0) return 0.0;
  // Top 120 bits as an integer, everything below as a sticky bit (rounding to <= 53 bits stays exact).
  const int lsb = std::max(0, msb - 119);
  uint128 top_bits = 0;
  for (int bit = msb; bit >= lsb; --bit)
    top_bits = (top_bits << 1) | ((r[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 1);
  bool sticky = false;
  for (int bit = 0; bit < lsb && !sticky; ++bit) sticky = (r[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 1;
  if (sticky) top_bits = (top_bits << 1) | 1;
  const int e = emin + lsb - (sticky ? 1 : 0);
  const int128 v = static_cast<int128>(top_bits);
  return round_exact(negative ? -v : v, e, t);
}

float accumulate_terms(AccumulatorKind acc, const GemmNumerics& num, int64_t k_chunk, const ExactTerm* terms, size_t n) {
  if (acc == AccumulatorKind::FixedPoint) return static_cast<float>(exact_sum_rounded(terms, n));
  if (acc == AccumulatorKind::Int32) throw std::invalid_argument("accumulate_terms: int32 takes INT8 products");
  const size_t chunk = k_chunk > 0 ? static_cast<size_t>(k_chunk) : std::max<size_t>(n, 1);
  const RoundingTarget nt = narrow_target(num.narrow_precision);
  float total = 0.0f;
  for (size_t c0 = 0; c0 < n; c0 += chunk) {
    const size_t c1 = std::min(n, c0 + chunk);
    float part = 0.0f;
    switch (acc) {
      case AccumulatorKind::Float32:
        for (size_t i = c0; i < c1; ++i) part = part + term_f32(terms[i]);
        break;
      case AccumulatorKind::BlockFp32: {
        const size_t bk = static_cast<size_t>(num.block_k);
        for (size_t b0 = c0; b0 < c1; b0 += bk)
          part = part + static_cast<float>(exact_sum_rounded(terms + b0, std::min(c1, b0 + bk) - b0));
        break;
      }
      case AccumulatorKind::PromoteFp32: {
        double narrow = 0.0;
        int count = 0;
        for (size_t i = c0; i < c1; ++i) {
          const ExactTerm& x = terms[i];
          if (x.cls != ValueClass::Finite || !std::isfinite(narrow)) {
            narrow = narrow + (x.cls == ValueClass::Finite ? 0.0 : static_cast<double>(special_value(x.cls)));
          } else if (narrow == 0.0) {
            narrow = round_exact(x.m, x.e, nt);
          } else {
            int ex = 0;
            const double f = std::frexp(narrow, &ex);
            const auto nm = static_cast<int64_t>(std::ldexp(f, 53));  // exact: narrow has <= 24 bits
            narrow = round_sum(nm, ex - 53, x.m, x.e, nt);
          }
          if (++count == num.promote_n || i + 1 == c1) {
            part = part + static_cast<float>(narrow);  // exact conversion: <= 24 bits in float32's range
            narrow = 0.0;
            count = 0;
          }
        }
        break;
      }
      default:
        break;
    }
    total = total + part;
  }
  return std::isnan(total) ? f32_from_bits(kCanonicalNaN32) : total;
}

std::string mac_semantics_name(const GemmNumerics& num) {
  switch (num.acc) {
    case AccumulatorKind::FixedPoint: return "exact";
    case AccumulatorKind::Float32: return "fp32";
    case AccumulatorKind::Int32: return "int32";
    case AccumulatorKind::BlockFp32: return "block-fp32(" + std::to_string(num.block_k) + ")";
    case AccumulatorKind::PromoteFp32:
      return "promote-" + std::to_string(num.promote_n) + "(p" + std::to_string(num.narrow_precision) + ")";
  }
  return "?";
}

std::string parse_mac_semantics(std::string_view text, GemmNumerics& num) {
  auto to_int = [](std::string_view s, int& out) {
    if (s.empty() || s.size() > 9) return false;
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    return true;
  };
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == ':') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  const std::string bad = "unknown MAC semantics '" + std::string(text) +
                          "' (expected exact, fp32, block-fp32[:B], promote[:N[:P]])";
  GemmNumerics n = num;
  if (parts[0] == "exact" && parts.size() == 1) {
    n.acc = AccumulatorKind::FixedPoint;
  } else if (parts[0] == "fp32" && parts.size() == 1) {
    n.acc = AccumulatorKind::Float32;
  } else if (parts[0] == "block-fp32" && parts.size() <= 2) {
    n.acc = AccumulatorKind::BlockFp32;
    if (parts.size() == 2 && (!to_int(parts[1], n.block_k) || n.block_k < 1)) return bad + ": B must be >= 1";
  } else if (parts[0] == "promote" && parts.size() <= 3) {
    n.acc = AccumulatorKind::PromoteFp32;
    if (parts.size() >= 2 && (!to_int(parts[1], n.promote_n) || n.promote_n < 1)) return bad + ": N must be >= 1";
    if (parts.size() == 3 && (!to_int(parts[2], n.narrow_precision) || n.narrow_precision < 2 ||
                              n.narrow_precision > 24))
      return bad + ": P must be in [2, 24]";
  } else {
    return bad;
  }
  num = n;
  return "";
}

// ---- MX GEMM ----
void MxGemmNumerics::validate(int64_t k, const AccumulationOrder& order) const {
  if (block_size < 1) throw std::invalid_argument("MX block size must be >= 1, got " + std::to_string(block_size));
  if (k < 1) throw std::invalid_argument("MX GEMM: K must be >= 1");
  if (acc == AccumulatorKind::Int32) throw std::invalid_argument("MX GEMM: the int32 accumulator takes INT8 operands");
  if (order.k_chunk < 0 || (order.k_chunk > 0 && order.k_chunk % block_size != 0))
    throw std::invalid_argument("MX GEMM: K chunk " + std::to_string(order.k_chunk) +
                                " must be a multiple of the block size " + std::to_string(block_size));
  if (acc == AccumulatorKind::PromoteFp32 && (promote_n < 1 || narrow_precision < 2 || narrow_precision > 24))
    throw std::invalid_argument("MX GEMM: promote interval must be >= 1 and precision in [2, 24]");
  (void)mx_format(a_kind);
  (void)mx_format(b_kind);
}

std::string MxGemmNumerics::describe() const {
  GemmNumerics g;
  g.acc = acc;
  g.block_k = block_size;
  g.promote_n = promote_n;
  g.narrow_precision = narrow_precision;
  std::string sem = acc == AccumulatorKind::FixedPoint ? "exact" : mac_semantics_name(g);
  return std::string(mx_format(a_kind).name) + " x " + std::string(mx_format(b_kind).name) + " (block " +
         std::to_string(block_size) + ") -> " + sem;
}

std::vector<AccWord> golden_gemm_mx(const MxGemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                    int64_t n, const uint8_t* a, const uint8_t* a_scales, const uint8_t* b,
                                    const uint8_t* b_scales) {
  if (m < 0 || n < 0) throw std::invalid_argument("golden_gemm_mx: bad shape");
  num.validate(k, order);
  const Fp8Format& fa = mx_format(num.a_kind).elem();
  const Fp8Format& fb = mx_format(num.b_kind).elem();
  const int64_t bs = num.block_size, nb = (k + bs - 1) / bs;
  std::vector<AccWord> out(static_cast<size_t>(m * n));
  std::vector<uint8_t> bcol(static_cast<size_t>(k));
  std::vector<ExactTerm> terms;
  GemmNumerics g;
  g.promote_n = num.promote_n;
  g.narrow_precision = num.narrow_precision;
  const bool per_block = num.acc == AccumulatorKind::BlockFp32 || num.acc == AccumulatorKind::FixedPoint;
  // Speed only (the same terms as mx_block_dot): finite blocks are summed from per-code LSB tables (in int64
  // where the block's exact sum fits, else int128: E5M2 products are 65 bits); a block with a NaN scale or a
  // NaN/Inf element goes through mx_block_dot.
  const bool fast = per_block;
  const bool narrow = mx_block_sum_bits(fa, fb, static_cast<size_t>(bs)) <= 62;
  int64_t la[256] = {}, lb[256] = {};
  bool sp_a[256] = {}, sp_b[256] = {};
  if (fast)
    for (int c = 0; c < 256; ++c) {
      const auto u = static_cast<uint8_t>(c);
      sp_a[c] = fp8_is_nan(fa, u) || fp8_is_inf(fa, u);
      sp_b[c] = fp8_is_nan(fb, u) || fp8_is_inf(fb, u);
      la[c] = sp_a[c] ? 0 : mx_element_lsbs(fa, u);
      lb[c] = sp_b[c] ? 0 : mx_element_lsbs(fb, u);
    }
  const int lsb_ab = fa.lsb_exp() + fb.lsb_exp();
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t kk = 0; kk < k; ++kk) bcol[kk] = b[kk * n + j];
    for (int64_t i = 0; i < m; ++i) {
      terms.clear();
      for (int64_t kb = 0; kb < nb; ++kb) {
        const int64_t k0 = kb * bs, len = std::min(bs, k - k0);
        const uint8_t sa = a_scales[i * nb + kb], sb = b_scales[kb * n + j];
        if (fast && !e8m0_is_nan(sa) && !e8m0_is_nan(sb)) {
          const uint8_t* ar = a + i * k + k0;
          const uint8_t* br = bcol.data() + k0;
          int128 sum = 0;
          bool special = false;
          if (narrow) {
            int64_t s64 = 0;
            for (int64_t x = 0; x < len; ++x) {
              special |= sp_a[ar[x]] | sp_b[br[x]];
              s64 += la[ar[x]] * lb[br[x]];
            }
            sum = s64;
          } else {
            for (int64_t x = 0; x < len; ++x) {
              special |= sp_a[ar[x]] | sp_b[br[x]];
              sum += int128(la[ar[x]]) * lb[br[x]];
            }
          }
          if (!special) {
            terms.push_back(ExactTerm{ValueClass::Finite, sum, lsb_ab + e8m0_exponent(sa) + e8m0_exponent(sb)});
            continue;
          }
        }
        if (per_block) {
          const MxBlockSum s = mx_block_dot(fa, a + i * k + k0, sa, fb, bcol.data() + k0, sb, static_cast<size_t>(len));
          terms.push_back(ExactTerm{s.cls, s.lsbs, s.exp});
          continue;
        }
        for (int64_t x = 0; x < len; ++x) {  // one scaled product per term
          const MxBlockSum s = mx_block_dot(fa, a + i * k + k0 + x, sa, fb, bcol.data() + k0 + x, sb, 1);
          terms.push_back(ExactTerm{s.cls, s.lsbs, s.exp});
        }
      }
      float v;
      if (num.acc == AccumulatorKind::FixedPoint) {
        v = static_cast<float>(exact_sum_rounded(terms.data(), terms.size()));
      } else if (num.acc == AccumulatorKind::BlockFp32) {  // acc <- fl32(acc + fl32(S_b)): fp32 over block terms
        v = accumulate_terms(AccumulatorKind::Float32, g, order.k_chunk / bs, terms.data(), terms.size());
      } else {
        v = accumulate_terms(num.acc, g, order.k_chunk, terms.data(), terms.size());
      }
      out[i * n + j].raw = std::isnan(v) ? kCanonicalNaN32 : f32_bits(v);
    }
  }
  return out;
}

}  // namespace fp8sim::model
