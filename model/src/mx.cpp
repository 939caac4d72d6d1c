#include "fp8sim/model/mx.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fp8sim/model/fp8.h"

namespace fp8sim::model {
namespace {

constexpr std::array<MxFormat, kMxKindCount> kMxTable = {{
    {MxKind::MXFP8_E4M3, "mxfp8", Fp8Kind::E4M3},
    {MxKind::MXFP8_E5M2, "mxfp8-e5m2", Fp8Kind::E5M2},
    {MxKind::MXFP6_E3M2, "mxfp6-e3m2", Fp8Kind::E3M2},
    {MxKind::MXFP6_E2M3, "mxfp6-e2m3", Fp8Kind::E2M3},
    {MxKind::MXFP4, "mxfp4", Fp8Kind::E2M1},
    {MxKind::MXINT8, "mxint8", Fp8Kind::MXINT8},
}};

int ceil_log2(size_t n) {
  int b = 0;
  while ((size_t{1} << b) < n) ++b;
  return b;
}

// floor(log2 |x|) of a finite nonzero float32, exactly from its bits (subnormals included).
int floor_log2(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const int ef = static_cast<int>((b >> 23) & 0xFF);
  const uint32_t mf = b & 0x7FFFFF;
  if (ef != 0) return ef - 127;
  return (31 - __builtin_clz(mf)) - 149;
}

// An exact double to float32, rounded to nearest even, overflowing to +-Inf without an out-of-range conversion
// (a decoded element times 2^127 can exceed float32's range).
float to_f32(double v) {
  const double a = std::fabs(v);
  if (a > static_cast<double>(std::numeric_limits<float>::max())) {
    const double tie = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);  // halfway from FLT_MAX to 2^128
    return static_cast<float>(std::copysign(a < tie ? static_cast<double>(std::numeric_limits<float>::max())
                                                    : static_cast<double>(HUGE_VALF), v));
  }
  return static_cast<float>(v);
}

}  // namespace

// ---- E8M0 ----
uint8_t e8m0_from_exponent(int e) {
  if (e < kE8M0MinExp || e > kE8M0MaxExp)
    throw std::out_of_range("E8M0 scale exponent " + std::to_string(e) + " outside [-127, 127]");
  return static_cast<uint8_t>(e + kE8M0Bias);
}

double e8m0_decode(uint8_t s) {
  return e8m0_is_nan(s) ? std::numeric_limits<double>::quiet_NaN() : std::ldexp(1.0, e8m0_exponent(s));
}

float e8m0_decode_f32(uint8_t s) { return to_f32(e8m0_decode(s)); }

// ---- formats ----
const Fp8Format& MxFormat::elem() const { return fp8_format(element); }

const MxFormat& mx_format(MxKind kind) { return kMxTable.at(static_cast<size_t>(kind)); }

std::optional<MxKind> mx_kind_from_name(std::string_view name) {
  for (const auto& f : kMxTable)
    if (f.name == name) return f.kind;
  return std::nullopt;
}

std::string mx_format_names() {
  std::string s;
  for (const auto& f : kMxTable) {
    if (!s.empty()) s += '|';
    s += f.name;
  }
  return s;
}

void MxConfig::validate() const {
  if (block_size < 1) throw std::invalid_argument("MX block size must be >= 1, got " + std::to_string(block_size));
  (void)format();
}

// ---- elements ----
double mx_element_decode(const Fp8Format& f, uint8_t code) { return fp8_decode(f, code); }
int64_t mx_element_lsbs(const Fp8Format& f, uint8_t code) { return fp8_to_lsbs(f, code); }
bool mx_element_is_nan(const Fp8Format& f, uint8_t code) { return fp8_is_nan(f, code); }
bool mx_element_is_inf(const Fp8Format& f, uint8_t code) { return fp8_is_inf(f, code); }

uint8_t mx_element_encode(const Fp8Format& f, double v) { return fp8_encode(f, v, Overflow::Saturate); }

ExactProduct mx_element_product(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b) {
  return fp8_exact_product(fa, a, fb, b);
}

// ---- blocks ----
uint8_t mx_block_scale(const MxFormat& fmt, const float* v, size_t n) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(v[i]);
    if (!std::isfinite(a)) return kE8M0NaN;  // NaN or Inf in the block
    amax = std::max(amax, a);
  }
  if (amax == 0.0f) return e8m0_from_exponent(kE8M0MinExp);
  const int shared = std::clamp(floor_log2(amax) - fmt.emax_elem(), kE8M0MinExp, kE8M0MaxExp);
  return e8m0_from_exponent(shared);
}

uint8_t mx_quantize_block(const MxFormat& fmt, const float* v, size_t n, uint8_t* codes) {
  const Fp8Format& ef = fmt.elem();
  const uint8_t scale = mx_block_scale(fmt, v, n);
  if (e8m0_is_nan(scale)) {
    for (size_t i = 0; i < n; ++i) codes[i] = ef.has_nan() ? ef.nan_code() : 0;
    return scale;
  }
  const int shared = e8m0_exponent(scale);
  // V_i / X = V_i * 2^-shared is exact in double (|shared| <= 127, float32 values); one rounding to the element.
  for (size_t i = 0; i < n; ++i) codes[i] = mx_element_encode(ef, std::ldexp(static_cast<double>(v[i]), -shared));
  return scale;
}

void mx_quantize(const MxConfig& cfg, const float* v, size_t n, uint8_t* codes, uint8_t* scales) {
  cfg.validate();
  const MxFormat& fmt = cfg.format();
  const size_t bs = static_cast<size_t>(cfg.block_size);
  for (size_t start = 0, blk = 0; start < n; start += bs, ++blk)
    scales[blk] = mx_quantize_block(fmt, v + start, std::min(bs, n - start), codes + start);
}

void mx_dequantize(const MxConfig& cfg, const uint8_t* codes, const uint8_t* scales, size_t n, float* out) {
  cfg.validate();
  const Fp8Format& ef = cfg.format().elem();
  const size_t bs = static_cast<size_t>(cfg.block_size);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t s = scales[i / bs];
    if (e8m0_is_nan(s)) {
      out[i] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    // element * 2^shared is exact in double; converting to float rounds once (only below float32's normals).
    out[i] = to_f32(std::ldexp(mx_element_decode(ef, codes[i]), e8m0_exponent(s)));
  }
}

void mx_fake_quantize(const MxConfig& cfg, const float* v, size_t n, float* out) {
  cfg.validate();
  const size_t bs = static_cast<size_t>(cfg.block_size);
  std::array<uint8_t, 256> small{};
  std::vector<uint8_t> big;
  uint8_t* codes = small.data();
  if (bs > small.size()) {
    big.resize(bs);
    codes = big.data();
  }
  const MxFormat& fmt = cfg.format();
  const Fp8Format& ef = fmt.elem();
  for (size_t start = 0; start < n; start += bs) {
    const size_t len = std::min(bs, n - start);
    const uint8_t s = mx_quantize_block(fmt, v + start, len, codes);
    for (size_t i = 0; i < len; ++i)
      out[start + i] = e8m0_is_nan(s) ? std::numeric_limits<float>::quiet_NaN()
                                      : to_f32(std::ldexp(mx_element_decode(ef, codes[i]), e8m0_exponent(s)));
  }
}

double MxBlockSum::value() const {
  switch (cls) {
    case ValueClass::NaN: return std::numeric_limits<double>::quiet_NaN();
    case ValueClass::PosInf: return HUGE_VAL;
    case ValueClass::NegInf: return -HUGE_VAL;
    case ValueClass::Finite: break;
  }
  return round_exact(lsbs, exp, RoundingTarget{53, -1074, 1023});
}

float MxBlockSum::to_f32() const {
  switch (cls) {
    case ValueClass::NaN: return f32_from_bits(kCanonicalNaN32);
    case ValueClass::PosInf: return HUGE_VALF;
    case ValueClass::NegInf: return -HUGE_VALF;
    case ValueClass::Finite: break;
  }
  return round_exact_to_f32(lsbs, exp);
}

MxBlockSum mx_block_dot(const Fp8Format& fa, const uint8_t* a, uint8_t scale_a, const Fp8Format& fb, const uint8_t* b,
                        uint8_t scale_b, size_t n) {
  MxBlockSum s;
  s.exp = fa.lsb_exp() + fb.lsb_exp();
  if (e8m0_is_nan(scale_a) || e8m0_is_nan(scale_b)) {
    s.cls = ValueClass::NaN;
    return s;
  }
  s.exp += e8m0_exponent(scale_a) + e8m0_exponent(scale_b);
  for (size_t i = 0; i < n; ++i) {
    const ExactProduct p = fp8_exact_product(fa, a[i], fb, b[i]);
    if (p.cls == ValueClass::Finite) {
      s.lsbs += p.lsbs;  // |sum| < 2^(65 + log2 n): no overflow for any n < 2^60
    } else if (s.cls != ValueClass::NaN) {
      s.cls = (p.cls == ValueClass::NaN || (s.cls != ValueClass::Finite && s.cls != p.cls)) ? ValueClass::NaN : p.cls;
    }
  }
  if (s.cls != ValueClass::Finite) s.lsbs = 0;
  return s;
}

int mx_block_sum_bits(const Fp8Format& fa, const Fp8Format& fb, size_t n) {
  return fp8_product_bits(fa, fb) + ceil_log2(std::max<size_t>(n, 1));
}

}  // namespace fp8sim::model
