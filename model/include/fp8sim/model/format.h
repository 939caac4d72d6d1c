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
};

// Row index of the format table. Values are persisted: append only.
enum class Fp8Kind : uint8_t {
  E4M3 = 0,       // OCP E4M3 (float8_e4m3fn): bias 7, max 448, NaN S.1111.111, no Inf
  E5M2 = 1,       // OCP E5M2 (float8_e5m2):   bias 15, max 57344, Inf S.11111.00, NaN S.11111.{01,10,11}
  E4M3_FNUZ = 2,  // bias 8, max 240, NaN 0x80 only, no -0
  E5M2_FNUZ = 3,  // bias 16, max 57344, NaN 0x80 only, no -0
  E4M3_IEEE = 4,  // IEEE-style E4M3 (PULP FPnew FP8ALT, ml_dtypes float8_e4m3): bias 7, max 240, Inf S.1111.000
};
inline constexpr int kFp8KindCount = 5;

struct Fp8Format {
  Fp8Kind kind;
  std::string_view name;               // command-line / report name: "e4m3"
  std::string_view safetensors_dtype;  // dtype string in safetensors headers ("" where none is defined)
  int exp_bits;
  int man_bits;
  int bias;
  SpecialValues specials;

  // ---- derived from the fields above ----
  constexpr int exp_all_ones() const { return (1 << exp_bits) - 1; }
  // Exponent of the smallest normal value, and of the smallest subnormal (the format's LSB weight).
  constexpr int min_normal_exp() const { return 1 - bias; }
  constexpr int lsb_exp() const { return min_normal_exp() - man_bits; }
  constexpr bool has_inf() const { return specials == SpecialValues::IeeeLike; }
  constexpr bool has_negative_zero() const { return specials != SpecialValues::FiniteUnsignedZero; }
  // Largest finite positive code.
  constexpr uint8_t max_finite_code() const {
    switch (specials) {
      case SpecialValues::IeeeLike:
        return static_cast<uint8_t>(((exp_all_ones() - 1) << man_bits) | ((1 << man_bits) - 1));
      case SpecialValues::FiniteNoInf:
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | ((1 << man_bits) - 2));
      case SpecialValues::FiniteUnsignedZero:
        return 0x7F;
    }
    return 0;
  }
  // The NaN code conversions produce for a NaN of positive sign (sign bit set for negative, except fnuz).
  constexpr uint8_t nan_code() const {
    switch (specials) {
      case SpecialValues::IeeeLike:  // quiet NaN: top mantissa bit set
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | (1 << (man_bits - 1)));
      case SpecialValues::FiniteNoInf:
        return static_cast<uint8_t>((exp_all_ones() << man_bits) | ((1 << man_bits) - 1));
      case SpecialValues::FiniteUnsignedZero:
        return 0x80;
    }
    return 0;
  }
  // Positive infinity; only meaningful when has_inf().
  constexpr uint8_t inf_code() const { return static_cast<uint8_t>(exp_all_ones() << man_bits); }
  // Largest finite magnitude as an integer multiple of 2^lsb_exp().
  constexpr int64_t max_finite_lsbs() const {
    const int code = max_finite_code() & 0x7F;
    const int e = code >> man_bits, m = code & ((1 << man_bits) - 1);
    return e == 0 ? m : (int64_t{(1 << man_bits) | m} << (e - 1));
  }
  double max_finite() const;  // exact
};

// The table, indexed by Fp8Kind.
const Fp8Format& fp8_format(Fp8Kind kind);
// Looks a format up by name ("e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e4m3ieee"); nullopt if unknown.
std::optional<Fp8Kind> fp8_kind_from_name(std::string_view name);
// Looks a format up by safetensors dtype ("F8_E4M3", "F8_E5M2"); nullopt if none matches.
std::optional<Fp8Kind> fp8_kind_from_safetensors_dtype(std::string_view dtype);

}  // namespace fp8sim::model
