#include "fp8sim/model/format.h"

#include <array>
#include <cmath>

namespace fp8sim::model {
namespace {

// One row per Fp8Kind, in enum order. Sources: OCP OFP8 rev 1.0 (E4M3, E5M2); ml_dtypes
// float8_e4m3fnuz / float8_e5m2fnuz / float8_e4m3 for the other rows (see ../shared/notes/fp8-semantics.md).
constexpr std::array<Fp8Format, kFp8KindCount> kTable = {{
    {Fp8Kind::E4M3, "e4m3", "F8_E4M3", 4, 3, 7, SpecialValues::FiniteNoInf},
    {Fp8Kind::E5M2, "e5m2", "F8_E5M2", 5, 2, 15, SpecialValues::IeeeLike},
    {Fp8Kind::E4M3_FNUZ, "e4m3fnuz", "", 4, 3, 8, SpecialValues::FiniteUnsignedZero},
    {Fp8Kind::E5M2_FNUZ, "e5m2fnuz", "", 5, 2, 16, SpecialValues::FiniteUnsignedZero},
    {Fp8Kind::E4M3_IEEE, "e4m3ieee", "", 4, 3, 7, SpecialValues::IeeeLike},
}};

constexpr bool rows_in_enum_order() {
  for (int i = 0; i < kFp8KindCount; ++i)
    if (static_cast<int>(kTable[i].kind) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "format table rows must follow Fp8Kind order");
// The spec's headline numbers, as a compile-time check of the derived fields.
static_assert(kTable[0].max_finite_code() == 0x7E && kTable[0].nan_code() == 0x7F);
static_assert(kTable[0].max_finite_lsbs() == 448 * 512);
static_assert(kTable[1].max_finite_code() == 0x7B && kTable[1].nan_code() == 0x7E && kTable[1].inf_code() == 0x7C);

}  // namespace

double Fp8Format::max_finite() const { return std::ldexp(static_cast<double>(max_finite_lsbs()), lsb_exp()); }

const Fp8Format& fp8_format(Fp8Kind kind) { return kTable.at(static_cast<size_t>(kind)); }

std::optional<Fp8Kind> fp8_kind_from_name(std::string_view name) {
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
