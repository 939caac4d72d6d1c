// Exact FP8 products and the accumulators a MAC unit may use. Each class here is the model twin of an
// RTL unit in rtl/ (same name, same parameters) and must agree with it bit for bit.
//
// Exactness: an FP8 value is k * 2^lsb with |k| <= max_finite_lsbs (E4M3: 229376 < 2^18), so the product
// of two is an integer times 2^(lsb_a + lsb_b) of at most 36 bits (E4M3) or 64 bits (E5M2); with its sign
// it needs 37 or 65 bits. A dot product of length K then needs ceil(log2 K) more bits
// (../shared/notes/fp8-semantics.md). Such a fixed-point accumulator gives a result independent of the
// summation order; float32 accumulation does not, so its callers fix the order.
#pragma once

#include <cstdint>

#include "fp8sim/model/format.h"

namespace fp8sim::model {

using int128 = __int128;
using uint128 = unsigned __int128;

enum class ValueClass : uint8_t { Finite = 0, PosInf = 1, NegInf = 2, NaN = 3 };

// The exact product of two FP8 codes: value = lsbs * 2^lsb_exp when cls == Finite.
struct ExactProduct {
  ValueClass cls = ValueClass::Finite;
  int128 lsbs = 0;
  int lsb_exp = 0;
};
// NaN*x -> NaN; Inf*0 -> NaN; Inf*finite -> Inf with the product's sign.
ExactProduct fp8_exact_product(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b);
// The same product as a float32. It is always exact (at most 8 significant bits, exponent within float32's
// normal range), including the sign of zero; NaN results are the canonical quiet NaN 0x7FC00000.
float fp8_product_f32(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b);

// Bits of a signed product of two codes: 1 + bit length of max_lsbs(a) * max_lsbs(b). E4M3: 37, E5M2: 65.
int fp8_product_bits(const Fp8Format& fa, const Fp8Format& fb);
// Width of the exact accumulator for reduction length k: product bits + ceil(log2 k).
int fixed_point_accumulator_width(const Fp8Format& fa, const Fp8Format& fb, int64_t k);

// Two's complement fixed-point accumulator of `width` bits whose LSB weighs 2^lsb_exp. Like the RTL it
// wraps modulo 2^width (wrapped() reports that it happened; with width from
// fixed_point_accumulator_width() it cannot for up to k additions). Specials are sticky: NaN absorbs
// everything, +Inf + -Inf gives NaN.
class FixedPointAccumulator {
 public:
  static constexpr int kMaxWidth = 126;
  FixedPointAccumulator(int width, int lsb_exp);  // throws std::invalid_argument if width not in [2, 126]
  void reset();
  void add(const ExactProduct& p);                // p.lsb_exp must equal lsb_exp()
  int width() const { return width_; }
  int lsb_exp() const { return lsb_exp_; }
  int128 raw() const { return value_; }           // sign-extended from width bits
  ValueClass cls() const { return cls_; }
  bool wrapped() const { return wrapped_; }
  double to_double() const;                       // round-to-nearest-even; exact when |raw| < 2^53
  float to_float() const;                         // one rounding, to nearest even

 private:
  int width_, lsb_exp_;
  int128 value_ = 0;
  ValueClass cls_ = ValueClass::Finite;
  bool wrapped_ = false;
};

// IEEE float32 accumulation, rounding to nearest even after every addition, subnormals kept. Starts at +0.
// A NaN result is canonicalized to 0x7FC00000 (the RTL produces the same bits).
class Float32Accumulator {
 public:
  void reset() { acc_ = 0.0f; }
  void add(float product);
  float value() const { return acc_; }
  uint32_t bits() const;

 private:
  float acc_ = 0.0f;
};

// INT8 x INT8 products summed into a 32-bit two's complement register (wraps like the RTL; exact for
// k <= 2^31 / 127^2 ~ 133,000).
class Int32Accumulator {
 public:
  void reset() { acc_ = 0; }
  void add(int8_t a, int8_t b) {
    acc_ = static_cast<int32_t>(static_cast<uint32_t>(acc_) + static_cast<uint32_t>(int32_t{a} * int32_t{b}));
  }
  int32_t value() const { return acc_; }

 private:
  int32_t acc_ = 0;
};

// ---- one rounding of an exact value ----
// A binary floating-point format for rounding exact sums: `precision` significand bits (hidden bit included),
// float32's exponent range (normal binades 2^-126 .. 2^127, subnormal quantum 2^-149). precision 24 is float32.
// Used by the block-fp32 and promote-N MAC semantics (model/gemm.h) and by model/mx.h.
struct RoundingTarget {
  int precision = 24;
  int min_quantum_exp = -149;  // quantum of the subnormal range: 2^(-126 - (precision - 1)) for a narrow float,
                               // -149 for float32
  int max_exp = 127;           // exponent of the largest binade; rounding past it gives +-Inf
};
// m * 2^e rounded to nearest, ties to even, to `t` (one rounding; exact value in, never double-rounded).
// Returns a double holding the result exactly (precision <= 53); zero keeps m's sign only as +0 (m == 0 -> +0).
double round_exact(int128 m, int e, const RoundingTarget& t = {});
// The same into float32 (t = float32): the result of adding exact values with one final RNE rounding.
float round_exact_to_f32(int128 m, int e);

uint32_t f32_bits(float x);
float f32_from_bits(uint32_t b);
inline constexpr uint32_t kCanonicalNaN32 = 0x7FC00000u;

}  // namespace fp8sim::model
