#include "fp8sim/model/format.h"

#include <array>
#include <cmath>

namespace fp8sim::model {
namespace {

// One row per Fp8Kind, in enum order. Sources: OCP OFP8 rev 1.0 (E4M3, E5M2); ml_dtypes
// float8_e4m3fnuz / float8_e5m2fnuz / float8_e4m3 for the other rows (see ../shared/notes/fp8-semantics.md).
// MX element rows: OCP Microscaling Formats (MX) Specification v1.0 (2023), element data types (FP8 elements are
// the OFP8 rows 0 and 1; FP6 E3M2/E2M3, FP4 E2M1 and INT8 tables), ml_dtypes float6_e3m2fn, float6_e2m3fn,
// float4_e2m1fn. The integer row's exp_bits = 0, man_bits = 7 (the 7 bits beside the sign), bias 0 place
// its LSB at 2^(1 - 0 - 7) = 2^-6, the spec's implicit scale.
constexpr std::array<Fp8Format, kFormatRowCount> kTable = {{
    {Fp8Kind::E4M3, "e4m3", "F8_E4M3", 4, 3, 7, SpecialValues::FiniteNoInf},
    {Fp8Kind::E5M2, "e5m2", "F8_E5M2", 5, 2, 15, SpecialValues::IeeeLike},
    {Fp8Kind::E4M3_FNUZ, "e4m3fnuz", "", 4, 3, 8, SpecialValues::FiniteUnsignedZero},
    {Fp8Kind::E5M2_FNUZ, "e5m2fnuz", "", 5, 2, 16, SpecialValues::FiniteUnsignedZero},
    {Fp8Kind::E4M3_IEEE, "e4m3ieee", "", 4, 3, 7, SpecialValues::IeeeLike},
    {Fp8Kind::E3M2, "e3m2", "", 3, 2, 3, SpecialValues::AllFinite},
    {Fp8Kind::E2M3, "e2m3", "", 2, 3, 1, SpecialValues::AllFinite},
    {Fp8Kind::E2M1, "e2m1", "", 2, 1, 1, SpecialValues::AllFinite},
    {Fp8Kind::MXINT8, "mxint8", "", 0, 7, 0, SpecialValues::TwosComplementInt},
}};

constexpr bool rows_in_enum_order() {
  for (int i = 0; i < kFormatRowCount; ++i)
    if (static_cast<int>(kTable[i].kind) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "format table rows must follow Fp8Kind order");
// The spec's headline numbers, as a compile-time check of the derived fields.
static_assert(kTable[0].max_finite_code() == 0x7E && kTable[0].nan_code() == 0x7F);
static_assert(kTable[0].max_finite_lsbs() == 448 * 512);
static_assert(kTable[1].max_finite_code() == 0x7B && kTable[1].nan_code() == 0x7E && kTable[1].inf_code() == 0x7C);
// OCP MX v1.0 element tables: max normal E3M2 28 = 448 * 2^-4, E2M3 7.5 = 60 * 2^-3, E2M1 6 = 12 * 2^-1, INT8
// 1 63/64 = 127 * 2^-6; emax_elem 8, 15, 4, 2, 2, 0.
static_assert(kTable[5].max_finite_lsbs() == 448 && kTable[5].lsb_exp() == -4 && kTable[5].bits() == 6);
static_assert(kTable[6].max_finite_lsbs() == 60 && kTable[6].lsb_exp() == -3 && kTable[6].bits() == 6);
static_assert(kTable[7].max_finite_lsbs() == 12 && kTable[7].lsb_exp() == -1 && kTable[7].bits() == 4);
static_assert(kTable[8].max_finite_lsbs() == 127 && kTable[8].lsb_exp() == -6 && kTable[8].bits() == 8);
static_assert(kTable[0].emax() == 8 && kTable[1].emax() == 15 && kTable[5].emax() == 4 && kTable[6].emax() == 2 &&
              kTable[7].emax() == 2 && kTable[8].emax() == 0);

}  // namespace

double Fp8Format::max_finite() const { return std::ldexp(static_cast<double>(max_finite_lsbs()), lsb_exp()); }

const Fp8Format& fp8_format(Fp8Kind kind) { return kTable.at(static_cast<size_t>(kind)); }

std::optional<Fp8Kind> fp8_kind_from_name(std::string_view name) {
  for (int i = 0; i < kFp8KindCount; ++i)
    if (kTable[i].name == name) return kTable[i].kind;
  return std::nullopt;
}

std::optional<Fp8Kind> format_kind_from_name(std::string_view name) {
  for (const auto& f : kTable)
    if (f.name == name) return f.kind;
  return std::nullopt;
}

std::optional<Fp8Kind> fp8_kind_from_safetensors_dtype(std::string_view dtype) {
  for (const auto& f : kTable)
    if (!f.safetensors_dtype.empty() && f.safetensors_dtype == dtype) return f.kind;
  return std::nullopt;
}

}  // namespace fp8sim::model
