#include "fp8sim/model/requant.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/int8.h"
#include "fp8_fast.h"

namespace fp8sim::model {

namespace {

float canonical_nan() {
  const uint32_t bits = 0x7FC00000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

int bit_length(uint128 x) {
  const auto hi = static_cast<uint64_t>(x >> 64);
  if (hi) return 128 - __builtin_clzll(hi);
  const auto lo = static_cast<uint64_t>(x);
  return lo ? 64 - __builtin_clzll(lo) : 0;
}

// f * 2^e for a float f whose scaled value is a normal float32 or overflows: exact, or +-infinity
// exactly as std::ldexp gives. The power of two is built directly when it is itself a normal float.
inline float scale_pow2(float f, int e) {
  if (e >= -126 && e <= 127) {
    const uint32_t bits = static_cast<uint32_t>(e + 127) << 23;
    float p;
    std::memcpy(&p, &bits, 4);
    return f * p;  // exact when the result is normal; RNE overflow gives infinity like ldexp
  }
  return std::ldexp(f, e);
}

// RNE(p * 2^e) as float32, exactly once. p: a signed integer of at most 126 bits.
float round_scaled(int128 p, int e) {
  if (p == 0) return 0.0f;
  const bool neg = p < 0;
  uint128 mag = neg ? uint128(-p) : uint128(p);
  const int len = bit_length(mag);
  // The result's exponent (of its leading bit) is len - 1 + e. Normal float32: >= -126.
  if (len - 1 + e >= -126) {
    // Converting the integer rounds once to 24 significant bits (GCC's int128 -> float and
    // uint64 -> float are correctly rounded); the power-of-two scaling is then exact, or overflows to
    // infinity as RNE would.
    const float m = len <= 64 ? static_cast<float>(static_cast<uint64_t>(mag)) : static_cast<float>(mag);
    const float f = scale_pow2(m, e);
    return neg ? -f : f;
  }
  // Subnormal result: the last bit has weight 2^-149; round the integer at that position, ties to even.
  const int shift = -149 - e;  // > 0 here
  uint128 q;
  if (shift >= 128) {
    q = 0;  // far below half of the smallest subnormal
  } else {
    q = mag >> shift;
    const uint128 rem = mag - (q << shift);
    const uint128 half = uint128{1} << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
  }
  const float f = std::ldexp(static_cast<float>(q), -149);  // q <= 2^23: exact
  return neg ? -f : f;
}

}  // namespace

int out_format_bytes(uint8_t code) {
  if (code == static_cast<uint8_t>(OutFormat::Bf16)) return 2;
  if (code == static_cast<uint8_t>(OutFormat::F32)) return 4;
  if (code < 1 + kFp8KindCount) return 1;
  throw std::invalid_argument("unknown output format code " + std::to_string(code));
}

const char* out_format_name(uint8_t code) {
  if (code == 0) return "int8";
  if (code == static_cast<uint8_t>(OutFormat::Bf16)) return "bf16";
  if (code == static_cast<uint8_t>(OutFormat::F32)) return "f32";
  if (code < 1 + kFp8KindCount) return fp8_format(static_cast<Fp8Kind>(code - 1)).name.data();
  throw std::invalid_argument("unknown output format code " + std::to_string(code));
}

float dequantize_word(const GemmNumerics& num, const AccWord& w, float s) {
  if (!std::isfinite(s)) throw std::invalid_argument("dequantize_word: non-finite scale");
  // s = ms * 2^e with ms an integer of at most 24 significant bits (exact).
  int e = 0;
  int64_t ms = 0;
  uint32_t sbits;
  std::memcpy(&sbits, &s, 4);
  const int biased = static_cast<int>((sbits >> 23) & 0xFF);
  if (biased != 0) {  // normal (finite checked above): 1.f * 2^(E-127) = (2^23 | f) * 2^(E-150)
    ms = static_cast<int64_t>((sbits & 0x7FFFFFu) | 0x800000u);
    if (sbits >> 31) ms = -ms;
    e = biased - 150;
  } else {
    const float m = std::frexp(s, &e);                  // s = m * 2^e, 0.5 <= |m| < 1
    ms = static_cast<int64_t>(std::ldexp(m, 24));       // exact: 24 significant bits
    e -= 24;
  }
  switch (num.acc) {
    case AccumulatorKind::Float32:
    case AccumulatorKind::BlockFp32:
    case AccumulatorKind::PromoteFp32: {
      uint32_t bits = static_cast<uint32_t>(w.raw);
      float v;
      std::memcpy(&v, &bits, 4);
      if (std::isnan(v)) return canonical_nan();
      if (std::isinf(v) && s == 0) return canonical_nan();
      return v * s;  // both float32: one IEEE multiplication rounds the exact product once
    }
    case AccumulatorKind::Int32:
      return round_scaled(int128(static_cast<int32_t>(w.raw)) * ms, e);
    case AccumulatorKind::FixedPoint:
      break;
  }
  switch (w.cls) {
    case ValueClass::NaN: return acc_word_to_float(num, w);
    case ValueClass::PosInf:
    case ValueClass::NegInf: {
      const float inf = acc_word_to_float(num, w);
      if (s == 0) return canonical_nan();
      return s > 0 ? inf : -inf;
    }
    case ValueClass::Finite: break;
  }
  return round_scaled(w.raw * ms, e + num.lsb_exp());
}

float dequantize_word_bias(const GemmNumerics& num, const AccWord& w, float s, float bias, bool has_bias) {
  const float v = dequantize_word(num, w, s);
  if (!has_bias) return v;
  return v + bias;  // one IEEE float32 addition (the build forbids contraction and fast-math)
}

void requantize_value(float y, uint8_t out_code, float out_scale, uint8_t* dst) {
  if (out_code == static_cast<uint8_t>(OutFormat::Bf16)) {
    const uint16_t h = bf16_from_f32(y);
    dst[0] = static_cast<uint8_t>(h);
    dst[1] = static_cast<uint8_t>(h >> 8);
  } else if (out_code == static_cast<uint8_t>(OutFormat::F32)) {
    std::memcpy(dst, &y, 4);  // little-endian host
  } else if (out_code == 0) {
    dst[0] = static_cast<uint8_t>(int8_quantize(y, out_scale));
  } else if (out_code == 1 + static_cast<uint8_t>(Fp8Kind::E4M3) || out_code == 1 + static_cast<uint8_t>(Fp8Kind::E5M2)) {
    // The OCP formats: fp8_encode's codes without the call (fp8_fast.h; NaN takes the reference call).
    const float v = y / out_scale;
    uint32_t b;
    std::memcpy(&b, &v, 4);
    if ((b & 0x7FFFFFFFu) > 0x7F800000u)
      dst[0] = fp8_encode(fp8_format(static_cast<Fp8Kind>(out_code - 1)), v, Overflow::Saturate);
    else if (out_code == 1 + static_cast<uint8_t>(Fp8Kind::E4M3))
      dst[0] = fp8_fast::code_of<3, -6>(b, 448.0f);
    else
      dst[0] = fp8_fast::code_of<2, -14>(b, 57344.0f);
  } else if (out_code < 1 + kFp8KindCount) {
    dst[0] = fp8_encode(fp8_format(static_cast<Fp8Kind>(out_code - 1)), y / out_scale, Overflow::Saturate);
  } else {
    throw std::invalid_argument("unknown output format code " + std::to_string(out_code));
  }
}

void requantize_via_bf16(float y, uint8_t out_code, float out_scale, uint8_t* dst) {
  if (out_code >= 1 + kFp8KindCount)
    throw std::invalid_argument("requantize_via_bf16: output format " + std::string(out_format_name(out_code)) +
                                " is not an 8-bit code");
  requantize_value(round_to_bf16(y), out_code, out_scale, dst);
}

float stored_float(uint8_t out_code, const uint8_t* src) {
  if (out_code == static_cast<uint8_t>(OutFormat::Bf16)) return bf16_to_f32(uint16_t(src[0] | (src[1] << 8)));
  if (out_code == static_cast<uint8_t>(OutFormat::F32)) {
    float f;
    std::memcpy(&f, src, 4);
    return f;
  }
  throw std::invalid_argument("stored_float: output format " + std::string(out_format_name(out_code)) +
                              " holds codes, not floats");
}

}  // namespace fp8sim::model
