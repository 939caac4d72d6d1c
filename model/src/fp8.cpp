#include "fp8sim/model/fp8.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace fp8sim::model {
namespace {

// Codes are right-aligned in a byte: the sign is bit bits()-1 (0x80 for the 8-bit rows, 0x20 for FP6, 0x08 for
// FP4). The integer row (two's complement) has its own paths below.
uint8_t signed_zero(const Fp8Format& f, bool neg) { return (neg && f.has_negative_zero()) ? f.sign_bit() : 0x00; }

// Formats without NaN (MX FP6/FP4, the MXINT8 element) map NaN to +0: the OCP MX block conversion marks a
// block holding a NaN through its scale (NaN), which makes every element of the block NaN (model/mx.h).
uint8_t nan_of(const Fp8Format& f, bool neg) {
  if (!f.has_nan()) return 0;
  if (f.specials == SpecialValues::FiniteUnsignedZero) return f.nan_code();
  return static_cast<uint8_t>(f.nan_code() | (neg ? f.sign_bit() : 0));
}

uint8_t int_code(const Fp8Format& f, int64_t k) { return static_cast<uint8_t>(static_cast<uint64_t>(k) & f.code_mask()); }

// Formats without Inf and NaN saturate under both policies (ml_dtypes does the same for float6/float4).
uint8_t overflow_of(const Fp8Format& f, bool neg, Overflow policy) {
  if (f.is_int()) return int_code(f, neg ? -f.max_finite_lsbs() : f.max_finite_lsbs());
  const uint8_t sign = neg ? f.sign_bit() : 0;
  if (policy == Overflow::Saturate || !f.has_nan()) return static_cast<uint8_t>(f.max_finite_code() | sign);
  if (f.has_inf()) return static_cast<uint8_t>(f.inf_code() | sign);
  return nan_of(f, neg);
}

// The integer row: k = round-to-nearest-even(sig * 2^exp / 2^lsb), saturated to +-max_finite_lsbs (symmetric:
// OCP MX v1.0 clamps to the maximum magnitude keeping the sign; -2^man_bits is decodable but never produced).
uint8_t encode_int(const Fp8Format& f, bool neg, uint64_t sig, int exp) {
  const int shift = f.lsb_exp() - exp;  // k = sig / 2^shift, rounded
  const int msb = 63 - __builtin_clzll(sig);
  if (msb - shift > f.man_bits + 1) return overflow_of(f, neg, Overflow::Saturate);
  uint64_t q;
  if (shift <= 0) {
    q = sig << -shift;
  } else if (shift > 64) {
    q = 0;
  } else {
    q = shift == 64 ? 0 : sig >> shift;
    const uint64_t rem = shift == 64 ? sig : sig & ((uint64_t{1} << shift) - 1), half = uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
  }
  if (q > static_cast<uint64_t>(f.max_finite_lsbs())) return overflow_of(f, neg, Overflow::Saturate);
  const int64_t k = static_cast<int64_t>(q);
  return int_code(f, neg ? -k : k);
}

// Rounds the finite nonzero magnitude sig * 2^exp to the format, ties to even, then tests overflow.
// Every input format (float32, float64) reduces to this one routine, so there is one rounding rule.
uint8_t encode_finite(const Fp8Format& f, bool neg, uint64_t sig, int exp, Overflow policy) {
  if (f.is_int()) return encode_int(f, neg, sig, exp);
  const int msb = 63 - __builtin_clzll(sig);
  const int e = msb + exp;  // sig * 2^exp lies in [2^e, 2^(e+1))
  // No 8-bit format reaches 2^20: overflow without risking huge shifts below.
  if (e > 20) return overflow_of(f, neg, policy);
  const int m = f.man_bits;
  // The spacing of representable values around the input: 2^(e-m) for normals, 2^lsb for subnormals.
  int quantum_exp = (e < f.min_normal_exp() ? f.min_normal_exp() : e) - m;
  const int shift = quantum_exp - exp;  // q = sig / 2^shift, rounded
  uint64_t q;
  if (shift <= 0) {
    q = sig << -shift;  // exact: sig has at most m+1 significant bits here
  } else if (shift > 64) {
    q = 0;  // below half the smallest quantum
  } else {
    const uint64_t rem_mask = shift == 64 ? ~uint64_t{0} : (uint64_t{1} << shift) - 1;
    q = shift == 64 ? 0 : sig >> shift;
    const uint64_t rem = sig & rem_mask, half = uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
  }
  if (q == 0) return signed_zero(f, neg);
  if (q >> (m + 1)) {  // rounding carried into a new binade: q == 2^(m+1)
    q >>= 1;
    ++quantum_exp;
  }
  const bool normal = (q >> m) != 0;
  const int biased = normal ? quantum_exp + m + f.bias : 0;
  const int mag = (biased << m) | static_cast<int>(q & ((uint64_t{1} << m) - 1));
  if (mag > f.max_finite_code()) return overflow_of(f, neg, policy);
  return static_cast<uint8_t>(mag | (neg ? f.sign_bit() : 0));
}

struct DecodeTables {
  std::array<std::array<float, 256>, kFormatRowCount> f32{};
  std::array<std::array<int64_t, 256>, kFormatRowCount> lsbs{};
};

// Narrow formats (fewer than 8 bits) ignore the byte's unused high bits.
double decode_slow(const Fp8Format& f, uint8_t byte) {
  const uint8_t code = byte & f.code_mask();
  if (f.is_int()) {  // sign-extend from bits() bits
    const int64_t k = static_cast<int64_t>(code) - ((code & f.sign_bit()) ? (int64_t{1} << f.bits()) : 0);
    return std::ldexp(static_cast<double>(k), f.lsb_exp());
  }
  const bool neg = code & f.sign_bit();
  const int mag = code & (f.sign_bit() - 1);
  const int e = mag >> f.man_bits, m = mag & ((1 << f.man_bits) - 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (f.specials) {
    case SpecialValues::FiniteUnsignedZero:
      if (code == 0x80) return nan;
      break;
    case SpecialValues::FiniteNoInf:
      if (e == f.exp_all_ones() && m == (1 << f.man_bits) - 1) return neg ? -nan : nan;
      break;
    case SpecialValues::IeeeLike:
      if (e == f.exp_all_ones()) {
        if (m != 0) return neg ? -nan : nan;
        return neg ? -HUGE_VAL : HUGE_VAL;
      }
      break;
    case SpecialValues::AllFinite:
    case SpecialValues::TwosComplementInt:
      break;
  }
  const double v = e == 0 ? std::ldexp(m, f.lsb_exp()) : std::ldexp((1 << f.man_bits) | m, e - f.bias - f.man_bits);
  return neg ? -v : v;
}

const DecodeTables& tables() {
  static const DecodeTables t = [] {
    DecodeTables d;
    for (int k = 0; k < kFormatRowCount; ++k) {
      const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(k));
      for (int c = 0; c < 256; ++c) {
        const double v = decode_slow(f, static_cast<uint8_t>(c));
        d.f32[k][c] = static_cast<float>(v);
        d.lsbs[k][c] = std::isfinite(v) ? static_cast<int64_t>(std::ldexp(v, -f.lsb_exp())) : 0;
      }
    }
    return d;
  }();
  return t;
}

}  // namespace

uint8_t fp8_encode(const Fp8Format& f, float x, Overflow policy) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const bool neg = b >> 31;
  const uint32_t ef = (b >> 23) & 0xFF, mf = b & 0x7FFFFF;
  if (ef == 0xFF) return mf ? nan_of(f, neg) : overflow_of(f, neg, policy);
  if (ef == 0 && mf == 0) return signed_zero(f, neg);
  return ef == 0 ? encode_finite(f, neg, mf, -149, policy)
                 : encode_finite(f, neg, mf | (1u << 23), static_cast<int>(ef) - 150, policy);
}

uint8_t fp8_encode(const Fp8Format& f, double x, Overflow policy) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  const bool neg = b >> 63;
  const uint64_t ef = (b >> 52) & 0x7FF, mf = b & ((uint64_t{1} << 52) - 1);
  if (ef == 0x7FF) return mf ? nan_of(f, neg) : overflow_of(f, neg, policy);
  if (ef == 0 && mf == 0) return signed_zero(f, neg);
  return ef == 0 ? encode_finite(f, neg, mf, -1074, policy)
                 : encode_finite(f, neg, mf | (uint64_t{1} << 52), static_cast<int>(ef) - 1075, policy);
}

float fp8_decode_f32(const Fp8Format& f, uint8_t code) { return tables().f32[static_cast<int>(f.kind)][code]; }
double fp8_decode(const Fp8Format& f, uint8_t code) { return decode_slow(f, code); }

bool fp8_is_nan(const Fp8Format& f, uint8_t code) { return std::isnan(fp8_decode_f32(f, code)); }
bool fp8_is_inf(const Fp8Format& f, uint8_t code) { return std::isinf(fp8_decode_f32(f, code)); }

int64_t fp8_to_lsbs(const Fp8Format& f, uint8_t code) { return tables().lsbs[static_cast<int>(f.kind)][code]; }

void fp8_encode_array(const Fp8Format& f, Overflow policy, const float* in, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = fp8_encode(f, in[i], policy);
}

void fp8_decode_array(const Fp8Format& f, const uint8_t* in, float* out, size_t n) {
  const auto& t = tables().f32[static_cast<int>(f.kind)];
  for (size_t i = 0; i < n; ++i) out[i] = t[in[i]];
}

}  // namespace fp8sim::model
