#include "fp8sim/model/accumulate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "fp8sim/model/fp8.h"

namespace fp8sim::model {
namespace {

int bit_length(uint128 v) {
  int n = 0;
  while (v) {
    ++n;
    v >>= 1;
  }
  return n;
}

int ceil_log2(int64_t k) {
  int n = 0;
  while ((int64_t{1} << n) < k) ++n;
  return n;
}

int128 sign_extend(uint128 v, int width) {
  const int s = 128 - width;
  return static_cast<int128>(v << s) >> s;
}

}  // namespace

double round_exact(int128 m, int e, const RoundingTarget& t) {
  if (m == 0) return 0.0;
  const bool neg = m < 0;
  const uint128 u = neg ? static_cast<uint128>(-(m + 1)) + 1 : static_cast<uint128>(m);
  const int msb = bit_length(u) - 1;
  const int top = msb + e;  // value in [2^top, 2^(top+1))
  const int q = std::max(top - (t.precision - 1), t.min_quantum_exp);  // quantum of the result's binade
  const int shift = q - e;
  uint128 r;
  if (shift <= 0) {
    r = u;  // exact (u < 2^precision here)
    if (top > t.max_exp) return neg ? -HUGE_VAL : HUGE_VAL;
    const double v = std::ldexp(static_cast<double>(r), e);
    return neg ? -v : v;
  }
  uint128 rem;
  if (shift >= 128) {
    r = 0;
    rem = u;
  } else {
    r = u >> shift;
    rem = u & ((uint128{1} << shift) - 1);
  }
  // Round to nearest, ties to even: compare the remainder with half a quantum.
  bool up;
  if (shift > 128) {
    up = false;  // u < 2^128 <= half a quantum
  } else {
    const uint128 half = uint128{1} << (shift - 1);
    up = rem > half || (rem == half && (r & 1));
  }
  if (up) ++r;
  if (r != 0 && bit_length(r) - 1 + q > t.max_exp) return neg ? -HUGE_VAL : HUGE_VAL;
  const double v = std::ldexp(static_cast<double>(r), q);
  return neg ? -v : v;
}

float round_exact_to_f32(int128 m, int e) { return static_cast<float>(round_exact(m, e, RoundingTarget{})); }

uint32_t f32_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

float f32_from_bits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

ExactProduct fp8_exact_product(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b) {
  ExactProduct p;
  p.lsb_exp = fa.lsb_exp() + fb.lsb_exp();
  if (fp8_is_nan(fa, a) || fp8_is_nan(fb, b)) {
    p.cls = ValueClass::NaN;
    return p;
  }
  const bool inf_a = fp8_is_inf(fa, a), inf_b = fp8_is_inf(fb, b);
  const int64_t ka = fp8_to_lsbs(fa, a), kb = fp8_to_lsbs(fb, b);
  if (inf_a || inf_b) {
    // Inf times zero has no value; Inf times anything else is Inf with the product's sign.
    if ((!inf_a && ka == 0) || (!inf_b && kb == 0)) {
      p.cls = ValueClass::NaN;
    } else {
      const bool neg = ((a & fa.sign_bit()) != 0) != ((b & fb.sign_bit()) != 0);
      p.cls = neg ? ValueClass::NegInf : ValueClass::PosInf;
    }
    return p;
  }
  p.lsbs = static_cast<int128>(ka) * kb;
  return p;
}

float fp8_product_f32(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b) {
  // Exact: at most (m_a+1)+(m_b+1) <= 8 significant bits, magnitudes within [2^-32, 2^32).
  const float p = fp8_decode_f32(fa, a) * fp8_decode_f32(fb, b);
  return std::isnan(p) ? f32_from_bits(kCanonicalNaN32) : p;
}

int fp8_product_bits(const Fp8Format& fa, const Fp8Format& fb) {
  return 1 + bit_length(static_cast<uint128>(fa.max_magnitude_lsbs()) * static_cast<uint128>(fb.max_magnitude_lsbs()));
}

int fixed_point_accumulator_width(const Fp8Format& fa, const Fp8Format& fb, int64_t k) {
  if (k < 1) throw std::invalid_argument("reduction length must be >= 1, got " + std::to_string(k));
  return fp8_product_bits(fa, fb) + ceil_log2(k);
}

FixedPointAccumulator::FixedPointAccumulator(int width, int lsb_exp) : width_(width), lsb_exp_(lsb_exp) {
  if (width < 2 || width > kMaxWidth)
    throw std::invalid_argument("fixed-point accumulator width must be in [2, " + std::to_string(kMaxWidth) +
                                "], got " + std::to_string(width));
}

void FixedPointAccumulator::reset() {
  value_ = 0;
  cls_ = ValueClass::Finite;
  wrapped_ = false;
}

void FixedPointAccumulator::add(const ExactProduct& p) {
  if (p.lsb_exp != lsb_exp_)
    throw std::invalid_argument("product LSB 2^" + std::to_string(p.lsb_exp) + " does not match accumulator LSB 2^" +
                                std::to_string(lsb_exp_));
  // The special flags are tracked beside the register; the register itself keeps summing finite
  // products (a special product adds zero), exactly as the RTL does.
  if (p.cls != ValueClass::Finite && cls_ != ValueClass::NaN) {
    if (p.cls == ValueClass::NaN || (cls_ != ValueClass::Finite && cls_ != p.cls))
      cls_ = ValueClass::NaN;
    else
      cls_ = p.cls;
    return;
  }
  if (p.cls != ValueClass::Finite) return;
  const int128 exact = value_ + p.lsbs;  // cannot overflow: |value_| < 2^125, |lsbs| < 2^65
  value_ = sign_extend(static_cast<uint128>(exact), width_);
  wrapped_ = wrapped_ || value_ != exact;
}

double FixedPointAccumulator::to_double() const {
  switch (cls_) {
    case ValueClass::NaN: return std::numeric_limits<double>::quiet_NaN();
    case ValueClass::PosInf: return HUGE_VAL;
    case ValueClass::NegInf: return -HUGE_VAL;
    case ValueClass::Finite: break;
  }
  return std::ldexp(static_cast<double>(value_), lsb_exp_);  // int128 -> double rounds to nearest even
}

float FixedPointAccumulator::to_float() const {
  switch (cls_) {
    case ValueClass::NaN: return f32_from_bits(kCanonicalNaN32);
    case ValueClass::PosInf: return HUGE_VALF;
    case ValueClass::NegInf: return -HUGE_VALF;
    case ValueClass::Finite: break;
  }
  // One rounding (int128 -> float, to nearest even); the scaling is exact while the result stays a
  // normal float32, which holds for every FP8 LSB (>= 2^-32).
  return std::ldexp(static_cast<float>(value_), lsb_exp_);
}

void Float32Accumulator::add(float product) {
  acc_ = acc_ + product;
  if (std::isnan(acc_)) acc_ = f32_from_bits(kCanonicalNaN32);
}

uint32_t Float32Accumulator::bits() const { return f32_bits(acc_); }

}  // namespace fp8sim::model
