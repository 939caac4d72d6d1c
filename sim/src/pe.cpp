#include "fp8sim/sim/pe.h"

#include <stdexcept>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/fp8.h"

namespace fp8sim::sim {

using namespace fp8sim::model;

GemmNumerics pe_numerics(PeKind kind, Fp8Kind fa, Fp8Kind fb, int acc_width) {
  GemmNumerics n;
  n.int8 = kind == PeKind::Int8;
  n.a_kind = fa;
  n.b_kind = fb;
  n.acc = kind == PeKind::Int8 ? AccumulatorKind::Int32
          : kind == PeKind::Fp8Fixed ? AccumulatorKind::FixedPoint
                                     : AccumulatorKind::Float32;
  // The RTL's register (rtl/pe_kinds.vh): ACC_W, or exact for K = 4096 products.
  if (kind == PeKind::Fp8Fixed)
    n.acc_width = acc_width > 0 ? acc_width : fixed_point_accumulator_width(fp8_format(fa), fp8_format(fb), 4096);
  return n;
}

int pe_word_bytes(const GemmNumerics& num) {
  if (num.acc != AccumulatorKind::FixedPoint) return 4;
  const int bits = num.acc_width + 2;
  return bits <= 32 ? 4 : bits <= 64 ? 8 : 16;
}

namespace {

// A register of class c, built through the model's accumulator (c != Finite: add one product of class c).
FixedPointAccumulator acc_of_class(ValueClass c, int lsb) {
  FixedPointAccumulator acc(8, lsb);
  ExactProduct p;
  p.lsb_exp = lsb;
  p.cls = c;
  if (c != ValueClass::Finite) acc.add(p);
  return acc;
}

}  // namespace

template <typename W>
std::shared_ptr<const PeTables<W>> make_pe_tables(const GemmNumerics& num) {
  // The PEs implement three of model/'s accumulation semantics; the others (block-fp32, promote-N, issue #13)
  // have no PE, and a silent float32 stand-in would give other numbers.
  if (num.int8 ? num.acc != AccumulatorKind::Int32
               : num.acc != AccumulatorKind::FixedPoint && num.acc != AccumulatorKind::Float32)
    throw std::invalid_argument("no PE implements the accumulation semantics " + num.describe() +
                                " (the arrays have int32, fixed-point and float32 accumulators)");
  auto t = std::make_shared<PeTables<W>>();
  t->kind = num.int8 ? PeKind::Int8 : num.acc == AccumulatorKind::FixedPoint ? PeKind::Fp8Fixed : PeKind::Fp8Float32;
  t->prod.assign(65536, 0);
  const Fp8Format& fa = fp8_format(num.a_kind);
  const Fp8Format& fb = fp8_format(num.b_kind);
  if (t->kind == PeKind::Fp8Fixed) {
    t->width = num.acc_width;
    if (t->width + 2 > static_cast<int>(8 * sizeof(W)))
      throw std::invalid_argument("fixed-point width " + std::to_string(t->width) + " does not fit the word");
    // Narrower than one product, a register could not even hold a single MAC's product (and wrap counting,
    // pe_wraps, relies on every product fitting).
    if (t->width < fp8_product_bits(fa, fb))
      throw std::invalid_argument("fixed-point accumulator width " + std::to_string(t->width) +
                                  " is narrower than one product (" + std::to_string(fp8_product_bits(fa, fb)) +
                                  " bits for " + std::string(fa.name) + " x " + std::string(fb.name) + ")");
    t->vmask = (W{1} << t->width) - 1;
    t->pcls.assign(65536, 0);
    for (int c = 0; c < 4; ++c)
      for (int p = 0; p < 4; ++p) {
        FixedPointAccumulator acc = acc_of_class(static_cast<ValueClass>(c), 0);
        ExactProduct prod;
        prod.cls = static_cast<ValueClass>(p);
        acc.add(prod);
        t->cls_add[c][p] = static_cast<uint8_t>(acc.cls());
      }
  }
  for (unsigned b = 0; b < 256; ++b)
    for (unsigned a = 0; a < 256; ++a) {
      const unsigned i = (b << 8) | a;
      switch (t->kind) {
        case PeKind::Int8:
          t->prod[i] = static_cast<W>(static_cast<uint32_t>(int32_t{static_cast<int8_t>(a)} * static_cast<int8_t>(b)));
          break;
        case PeKind::Fp8Float32:
          t->prod[i] = static_cast<W>(f32_bits(fp8_product_f32(fa, static_cast<uint8_t>(a), fb, static_cast<uint8_t>(b))));
          break;
        case PeKind::Fp8Fixed: {
          const ExactProduct p = fp8_exact_product(fa, static_cast<uint8_t>(a), fb, static_cast<uint8_t>(b));
          // Special products add 0 to the value (FixedPointAccumulator::add); the value is taken mod 2^width.
          t->prod[i] = p.cls == ValueClass::Finite ? static_cast<W>(static_cast<uint128>(p.lsbs)) & t->vmask : W{0};
          t->pcls[i] = static_cast<uint8_t>(p.cls);
          break;
        }
      }
    }
  return t;
}

template std::shared_ptr<const PeTables<uint32_t>> make_pe_tables<uint32_t>(const GemmNumerics&);
template std::shared_ptr<const PeTables<uint64_t>> make_pe_tables<uint64_t>(const GemmNumerics&);
template std::shared_ptr<const PeTables<uint128>> make_pe_tables<uint128>(const GemmNumerics&);

}  // namespace fp8sim::sim
