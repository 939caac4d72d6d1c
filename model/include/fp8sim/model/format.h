// The table of 8-bit floating-point formats: the one source of FP8 parameters for the whole project.
// The quantizer, the SystemC PEs, the RTL parameter header (generated from this table) and the reports
// all read it. New variants are appended as rows; existing rows are never reshuffled (indices are
// persisted in files and RTL parameters).
//
// Sources: OCP 8-bit Floating Point Specification (OFP8) rev 1.0, 2023; Micikevicius et al. 2022,
// "FP8 Formats for Deep Learning"; ml_dtypes (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz,
// float8_e5m2fnuz, float8_e4m3) for the non-OCP rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fp8sim::model {

// How a format spends its top exponent code, its sign bit and code 0x80.
enum class SpecialValues : uint8_t {
  // Exponent all ones: mantissa 0 is +-Inf, anything else NaN. OCP E5M2, IEEE-style E4M3.
  IeeeLike,
  // No Inf; only S.1..1.1..1 is NaN, the rest of the top binade is finite. OCP E4M3 ("fn").
  FiniteNoInf,
  // No Inf, no -0: the single NaN is 0x80 ("fnuz", AMD MI300 / Graphcore).
  FiniteUnsignedZero,
  // Every code is a number: no Inf, no NaN (OCP MX v1.0 FP6 E3M2/E2M3 and FP4 E2M1 elements; ml_dtypes
  // float6_e3m2fn, float6_e2m3fn, float4_e2m1fn). The code has 1 + exp_bits + man_bits bits, sign on top.
  AllFinite,
  // No exponent field: the code is a two's complement integer k of 1 + man_bits bits, value k * 2^lsb_exp()
  // (OCP MX v1.0 MXINT8 element: 8 bits, implicit scale 2^-6, range [-2, 1 63/64]). exp_bits is 0.
  TwosComplementInt,
};

// Row index of the format table. Values are persisted: append only.
enum class Fp8Kind : uint8_t {
  E4M3 = 0,       // OCP E4M3 (float8_e4m3fn): bias 7, max 448, NaN S.1111.111, no Inf
  E5M2 = 1,       // OCP E5M2 (float8_e5m2):   bias 15, max 57344, Inf S.11111.00, NaN S.11111.{01,10,11}
  E4M3_FNUZ = 2,  // bias 8, max 240, NaN 0x80 only, no -0
  E5M2_FNUZ = 3,  // bias 16, max 57344, NaN 0x80 only, no -0
  E4M3_IEEE = 4,  // IEEE-style E4M3 (PULP FPnew FP8ALT, ml_dtypes float8_e4m3): bias 7, max 240, Inf S.1111.000
  // MX element formats (OCP Microscaling Formats (MX) v1.0, 2023, element data types; see model/mx.h). Narrow codes
  // are stored one per byte, right-aligned (FP6: 0b00SEEMMM..., FP4: 0b0000SEEM), as ml_dtypes stores them.
  E3M2 = 5,       // FP6 E3M2: bias 3, max 28, no Inf/NaN
  E2M3 = 6,       // FP6 E2M3: bias 1, max 7.5, no Inf/NaN
  E2M1 = 7,       // FP4 E2M1: bias 1, max 6, no Inf/NaN
  MXINT8 = 8,     // MXINT8 element: two's complement int8 k, value k * 2^-6 (max 127/64, min -2)
};
// The first kFp8KindCount rows are the 8-bit floating-point operand formats every FP8 path (PEs, RTL, CLI,
// requantization codes) iterates over; the MX element rows follow them. kFormatRowCount counts all rows.
inline constexpr int kFp8KindCount = 5;
inline constexpr int kFormatRowCount = 9;

struct Fp8Format {
  Fp8Kind kind;
  std::string_view name;               // command-line / report name: "e4m3"
  std::string_view safetensors_dtype;  // dtype string in safetensors headers ("" where none is defined)
  int exp_bits;
  int man_bits;
  int bias;
  SpecialValues specials;

  // ---- derived from the fields above ----
  constexpr int bits() const { return 1 + exp_bits + man_bits; }           // code width: 8, 6 or 4
  constexpr uint8_t sign_bit() const { return static_cast<uint8_t>(1u << (bits() - 1)); }
  constexpr uint8_t code_mask() const { return static_cast<uint8_t>((1u << bits()) - 1); }
  constexpr bool is_int() const { return specials == SpecialValues::TwosComplementInt; }
  constexpr bool has_nan() const { return specials != SpecialValues::AllFinite && !is_int(); }
  constexpr int exp_all_ones() const { return (1 << exp_bits) - 1; }
  // Exponent of the smallest normal value, and of the smallest subnormal (the format's LSB weight).
  constexpr int min_normal_exp() const { return 1 - bias; }
  constexpr int lsb_exp() const { return min_normal_exp() - man_bits; }
  constexpr bool has_inf() const { return specials == SpecialValues::IeeeLike; }
  constexpr bool has_negative_zero() const { return specials != SpecialValues::FiniteUnsignedZero && !is_int(); }
  // Largest finite positive code.
  constexpr uint8_t max_finite_code() const {
    switch (specials) {
      case SpecialValues::IeeeLike:
        return static_cast<uint8_t>(((exp_all_ones() - 1) << man_bits) | ((1 << man_bits) - 1));
      case SpecialValues::FiniteNoInf:
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | ((1 << man_bits) - 2));
      case SpecialValues::FiniteUnsignedZero:
        return 0x7F;
      case SpecialValues::AllFinite:
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | ((1 << man_bits) - 1));
      case SpecialValues::TwosComplementInt:
        return static_cast<uint8_t>((1 << man_bits) - 1);
    }
    return 0;
  }
  // The NaN code conversions produce for a NaN of positive sign (sign bit set for negative, except fnuz).
  // Formats without NaN (has_nan() false) return 0: conversions map NaN inputs to +0 there.
  constexpr uint8_t nan_code() const {
    switch (specials) {
      case SpecialValues::IeeeLike:  // quiet NaN: top mantissa bit set
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | (1 << (man_bits - 1)));
      case SpecialValues::FiniteNoInf:
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | ((1 << man_bits) - 1));
      case SpecialValues::FiniteUnsignedZero:
        return 0x80;
      case SpecialValues::AllFinite:
      case SpecialValues::TwosComplementInt:
        return 0;
    }
    return 0;
  }
  // Positive infinity; only meaningful when has_inf().
  constexpr uint8_t inf_code() const { return static_cast<uint8_t>(exp_all_ones() << man_bits); }
  // Largest finite magnitude as an integer multiple of 2^lsb_exp().
  constexpr int64_t max_finite_lsbs() const {
    if (is_int()) return max_finite_code();
    const int code = max_finite_code() & (sign_bit() - 1);
    const int e = code >> man_bits, m = code & ((1 << man_bits) - 1);
    return e == 0 ? m : (int64_t{(1 << man_bits) | m} << (e - 1));
  }
  // Largest magnitude of any finite code in LSBs: max_finite_lsbs(), except for the integer row, whose most
  // negative code (-2^man_bits) is one larger. Sizes the exact product.
  constexpr int64_t max_magnitude_lsbs() const { return is_int() ? (int64_t{1} << man_bits) : max_finite_lsbs(); }
  // Exponent of the largest normal binade, floor(log2(max finite)): OCP MX v1.0's emax_elem (E4M3 8, E5M2 15,
  // E3M2 4, E2M3 2, E2M1 2, MXINT8 0).
  constexpr int emax() const {
    int n = -1;
    for (int64_t v = max_finite_lsbs(); v; v >>= 1) ++n;
    return n + lsb_exp();
  }
  double max_finite() const;  // exact
};

// The table, indexed by Fp8Kind (all kFormatRowCount rows).
const Fp8Format& fp8_format(Fp8Kind kind);
// Looks an FP8 operand format up by name ("e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e4m3ieee"); nullopt if
// unknown. Searches only the first kFp8KindCount rows (MX element rows are not FP8 operand formats).
std::optional<Fp8Kind> fp8_kind_from_name(std::string_view name);
// Any row by name, MX element rows included ("e3m2", "e2m3", "e2m1", "mxint8").
std::optional<Fp8Kind> format_kind_from_name(std::string_view name);
// Looks a format up by safetensors dtype ("F8_E4M3", "F8_E5M2"); nullopt if none matches.
std::optional<Fp8Kind> fp8_kind_from_safetensors_dtype(std::string_view dtype);

}  // namespace fp8sim::model
