// OCP Microscaling (MX) numerics: the E8M0 shared scale, the MX formats (element row of the format table +
// block size), conversion of float blocks to MX, decoding, exact element products and the exact block dot
// product. The RTL MX PE (rtl/mx_*.v) and its co-simulation compare against the functions here.
//
// Source: OCP Microscaling Formats (MX) Specification v1.0 (Open Compute Project, Sept. 2023; "OCP MX v1.0"
// below, https://www.opencompute.org/documents/ocp-microscaling-formats-mx-v1-0-spec-final-pdf), and Rouhani
// et al. 2023, "Microscaling Data Formats for Deep Learning", arXiv:2310.10537, which restates the conversion
// as its Algorithm 1 (the lines quoted below are from there). Facts used:
//   * An MX block is one shared scale X and k elements P_i; value_i = X * P_i . k = 32 for every
//     concrete format (the spec's table of concrete formats); we keep k configurable (MxConfig::block_size).
//   * X is E8M0: 8-bit unsigned exponent, bias 127, value 2^(code - 127) for codes 0..254
//     (2^-127 .. 2^127), code 0xFF is NaN, no zero, no infinity.
//   * Elements: FP8 E4M3/E5M2 exactly as OFP8; FP6 E3M2 (bias 3, max 28) and E2M3 (bias 1, max
//     7.5), FP4 E2M1 (bias 1, max 6) without Inf or NaN; INT8: two's complement with an implicit scale 2^-6
//     (max 1 63/64, min -2).
//   * Special values: if X is NaN every element of the block is NaN whatever P_i holds;
//     otherwise elements may encode NaN/Inf themselves where their format has them.
//   * Conversion (arXiv:2310.10537 Algorithm 1, "in accordance with the OCP MX specification"):
//       shared_exp = floor(log2(max_i |V_i|)) - emax_elem;  X = 2^shared_exp;
//       P_i = quantize_to_element_format(V_i / X), round to nearest even, "clamping normal numbers" (a
//       magnitude past the element's maximum becomes the maximum, keeping the sign; Infs and NaNs are not
//       clamped). emax_elem = exponent of the element format's largest normal (Fp8Format::emax()).
//   Choices where the specification leaves room, all stated here and tested:
//     - shared_exp below -127 (tiny blocks) is clamped to -127 (the smallest E8M0 value). For float32 input
//       shared_exp never exceeds 127 (float32's largest binade is 2^127 and emax_elem >= 0).
//     - an all-zero block (every |V_i| == 0) gets X = 2^-127 (code 0x00; log2(0) = -inf clamped) and +-0
//       elements (the sign kept where the element format has -0).
//     - a block holding a NaN or an Inf gets X = NaN (0xFF): max |V_i| is then NaN/Inf, whose shared exponent
//       is not representable; the reference implementation microsoft/microxcaling (mx/mx_ops.py) does the
//       same (exponents past the scale's range become NaN). Its elements are then the element format's NaN
//       code (E4M3/E5M2) or 0 (formats without NaN); every value of the block decodes as NaN.
//     - float32 subnormal inputs are converted exactly (not flushed).
//     - the INT8 element saturates symmetrically to +-127 (the maximum magnitude, keeping the sign); code
//       0x80 (-2) decodes but conversion never produces it.
//
// Fixed-point conventions (what the RTL must reproduce):
//   * element code c of format f: value = mx_element_lsbs(f, c) * 2^f.lsb_exp()
//       lsb_exp: E4M3 -9, E5M2 -16, E3M2 -4, E2M3 -3, E2M1 -1, MXINT8 -6.
//   * exact element product (mx_element_product): value = lsbs * 2^(fa.lsb_exp() + fb.lsb_exp()), |lsbs| <
//     2^(fp8_product_bits(fa, fb) - 1) (E4M3xE4M3 37 bits signed, E5M2xE5M2 65, E2M1xE2M1 9, INT8xINT8 16).
//   * exact block dot (mx_block_dot): sum of the n products in lsbs, exponent
//       exp = fa.lsb_exp() + fb.lsb_exp() + (scale_a - 127) + (scale_b - 127)
//     i.e. the two scales are applied as an exact exponent add to the exact block sum; value = lsbs * 2^exp.
//     Width: fp8_product_bits(fa, fb) + ceil(log2 n) bits signed (E4M3, n = 32: 42).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"

namespace fp8sim::model {

// ---- E8M0 shared scale (OCP MX v1.0 scale data type) ----
inline constexpr int kE8M0Bias = 127;
inline constexpr uint8_t kE8M0NaN = 0xFF;
inline constexpr int kE8M0MinExp = -127, kE8M0MaxExp = 127;
constexpr bool e8m0_is_nan(uint8_t s) { return s == kE8M0NaN; }
// Unbiased exponent of a non-NaN code: code - 127, in [-127, 127].
constexpr int e8m0_exponent(uint8_t s) { return static_cast<int>(s) - kE8M0Bias; }
// The code of 2^e; throws std::out_of_range unless -127 <= e <= 127.
uint8_t e8m0_from_exponent(int e);
// 2^(code - 127) exactly (code 0 is 2^-127, a float32 subnormal, still exact); NaN for 0xFF.
double e8m0_decode(uint8_t s);
float e8m0_decode_f32(uint8_t s);

// ---- MX formats ----
// Index of the MX format table. Append only.
enum class MxKind : uint8_t {
  MXFP8_E4M3 = 0,  // "mxfp8"       element E4M3
  MXFP8_E5M2 = 1,  // "mxfp8-e5m2"  element E5M2
  MXFP6_E3M2 = 2,  // "mxfp6-e3m2"  element E3M2
  MXFP6_E2M3 = 3,  // "mxfp6-e2m3"  element E2M3
  MXFP4 = 4,       // "mxfp4"       element E2M1
  MXINT8 = 5,      // "mxint8"      element MXINT8
};
inline constexpr int kMxKindCount = 6;
inline constexpr int kMxDefaultBlockSize = 32;  // OCP MX v1.0: k = 32 for every concrete format

struct MxFormat {
  MxKind kind;
  std::string_view name;  // command-line / report name
  Fp8Kind element;        // the element's row in the format table (model/format.h)
  const Fp8Format& elem() const;
  int emax_elem() const { return elem().emax(); }  // OCP MX v1.0 emax_elem
  int element_bits() const { return elem().bits(); }
};
const MxFormat& mx_format(MxKind kind);
// "mxfp8", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "mxint8"; nullopt if unknown.
std::optional<MxKind> mx_kind_from_name(std::string_view name);
std::string mx_format_names();  // "mxfp8|mxfp8-e5m2|..." for help texts and error lines

// A format plus its block size (elements per shared scale). Block size is configurable (>= 1); 32 default.
struct MxConfig {
  MxKind kind = MxKind::MXFP8_E4M3;
  int block_size = kMxDefaultBlockSize;
  const MxFormat& format() const { return mx_format(kind); }
  void validate() const;  // throws std::invalid_argument for block_size < 1
};

// ---- elements (any row of the format table; codes right-aligned in a byte) ----
// Exact value (NaN / +-Inf where the format has them). Same as fp8_decode, named for MX callers.
double mx_element_decode(const Fp8Format& f, uint8_t code);
// Signed integer k with value = k * 2^f.lsb_exp() for finite codes (0 for NaN/Inf codes).
int64_t mx_element_lsbs(const Fp8Format& f, uint8_t code);
bool mx_element_is_nan(const Fp8Format& f, uint8_t code);
bool mx_element_is_inf(const Fp8Format& f, uint8_t code);
// V rounded to the element format, nearest even, magnitudes past the maximum clamped to it keeping the sign
// (MX's "clamping normal numbers"); NaN -> the format's NaN (0 where it has none); +-Inf -> +-max.
uint8_t mx_element_encode(const Fp8Format& f, double v);
// The exact product of two element codes: value = lsbs * 2^(fa.lsb_exp() + fb.lsb_exp()) when Finite.
// NaN x anything -> NaN; Inf x 0 -> NaN; Inf x finite -> signed Inf. (Same as fp8_exact_product.)
ExactProduct mx_element_product(const Fp8Format& fa, uint8_t a, const Fp8Format& fb, uint8_t b);

// ---- blocks ----
// Converts n values (one block; n >= 1) to MX per Algorithm 1 with the choices stated above:
// writes n element codes, returns the E8M0 scale code.
uint8_t mx_quantize_block(const MxFormat& fmt, const float* v, size_t n, uint8_t* codes);
// The shared exponent alone (what mx_quantize_block's scale encodes): for a block without NaN/Inf,
// clamp(floor(log2 max|v|) - emax_elem, -127, 127), -127 for an all-zero block; 0xFF for NaN/Inf blocks.
uint8_t mx_block_scale(const MxFormat& fmt, const float* v, size_t n);
// A whole vector: blocks of cfg.block_size consecutive values (the last one shorter when n is not a multiple).
// codes: n bytes; scales: ceil(n / block_size) bytes.
void mx_quantize(const MxConfig& cfg, const float* v, size_t n, uint8_t* codes, uint8_t* scales);
// Decoded values X * P_i as float32 (NaN for a NaN scale). X * P_i is exact in double; the float32 result is
// rounded once (nearest even) where it falls below float32's normal range (possible only with tiny scales).
void mx_dequantize(const MxConfig& cfg, const uint8_t* codes, const uint8_t* scales, size_t n, float* out);
// Quantize then dequantize (fake quantization), in place allowed.
void mx_fake_quantize(const MxConfig& cfg, const float* v, size_t n, float* out);

// The exact dot product of one block pair: value = lsbs * 2^exp when cls == Finite, with
//   exp = fa.lsb_exp() + fb.lsb_exp() + e8m0_exponent(scale_a) + e8m0_exponent(scale_b).
// cls: NaN if either scale is NaN or any product is NaN or +Inf and -Inf products meet; else +-Inf if any
// product is infinite; else Finite. Products are summed exactly (order-independent).
struct MxBlockSum {
  ValueClass cls = ValueClass::Finite;
  int128 lsbs = 0;
  int exp = 0;
  double value() const;   // lsbs * 2^exp rounded to nearest even double (NaN/Inf by class)
  float to_f32() const;   // one rounding to float32 (nearest even; overflow to +-Inf, subnormals kept); NaN is
                          // the canonical 0x7FC00000
};
MxBlockSum mx_block_dot(const Fp8Format& fa, const uint8_t* a, uint8_t scale_a, const Fp8Format& fb, const uint8_t* b,
                        uint8_t scale_b, size_t n);
// Signed width of MxBlockSum::lsbs for blocks of n: fp8_product_bits(fa, fb) + ceil(log2 n).
int mx_block_sum_bits(const Fp8Format& fa, const Fp8Format& fb, size_t n);

}  // namespace fp8sim::model
