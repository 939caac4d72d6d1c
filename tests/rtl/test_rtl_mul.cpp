// The FP8 multiplier (rtl/fp8_mul.v) against model::fp8_exact_product on every operand pair, and the
// float32 adder (rtl/f32_add.v) against the host's IEEE float32 addition.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "Vf32_add.h"
#include "Vmul_e4m3.h"
#include "Vmul_e4m3_e5m2.h"
#include "Vmul_e4m3fnuz.h"
#include "Vmul_e4m3ieee.h"
#include "Vmul_e5m2.h"
#include "Vmul_e5m2fnuz.h"
#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"
#include "rtl_harness.h"

using namespace fp8sim::model;
using namespace fp8sim::rtltest;

namespace {

// All 65,536 pairs; checks every output bit of the multiplier: class, the two's complement product
// (its full width: the model's product bits, sign-extended), and the unnormalized form sign/sig/shift.
template <typename M>
void exhaustive_mul(Fp8Kind ka, Fp8Kind kb) {
  const Fp8Format& fa = fp8_format(ka);
  const Fp8Format& fb = fp8_format(kb);
  const int pb = fp8_product_bits(fa, fb);
  const int sigw = fa.man_bits + fb.man_bits + 2;
  const int shw = std::max(fa.exp_bits, fb.exp_bits) + 1;
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<M>(ctx.get());
  long checked = 0, mismatches = 0;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      m->a = static_cast<uint8_t>(a);
      m->b = static_cast<uint8_t>(b);
      m->eval();
      const ExactProduct p = fp8_exact_product(fa, static_cast<uint8_t>(a), fb, static_cast<uint8_t>(b));
      const int rtl_cls = static_cast<int>(get_field(m->cls, 0, 2));
      const int128 rtl_prod = sign_extend(get_field(m->prod, 0, pb), pb);
      bool ok = rtl_cls == static_cast<int>(p.cls) && rtl_prod == p.lsbs;
      if (p.cls == ValueClass::Finite) {
        // sig << shift is the magnitude, the sign bit is the product's (including -0: checked against
        // the float32 product, which keeps the sign of zero).
        const uint128 sig = get_field(m->sig, 0, sigw);
        const int shift = static_cast<int>(get_field(m->shift, 0, shw));
        const int128 mag = static_cast<int128>(sig << shift);
        const bool neg = std::signbit(fp8_product_f32(fa, static_cast<uint8_t>(a), fb, static_cast<uint8_t>(b)));
        ok = ok && mag == (p.lsbs < 0 ? -p.lsbs : p.lsbs) && (m->sign != 0) == neg;
      } else if (p.cls != ValueClass::NaN) {
        ok = ok && (m->sign != 0) == (p.cls == ValueClass::NegInf);
      }
      if (!ok && ++mismatches <= 5)
        UNSCOPED_INFO("a=0x" << std::hex << a << " b=0x" << b << std::dec << " rtl cls " << rtl_cls << " prod "
                             << static_cast<long double>(rtl_prod) << " model cls " << static_cast<int>(p.cls)
                             << " lsbs " << static_cast<long double>(p.lsbs));
      ++checked;
    }
  }
  m->final();
  CHECK(mismatches == 0);
  CHECK(checked == 65536);
  WARN("fp8_mul " << fa.name << " x " << fb.name << ": " << checked << " operand pairs checked bit for bit, "
                  << mismatches << " mismatches");
}

uint32_t host_add(uint32_t a, uint32_t b) {
  // The host's SSE float32 addition is IEEE round-to-nearest-even with subnormals (no FTZ/DAZ set here).
  const float s = f32_from_bits(a) + f32_from_bits(b);
  return std::isnan(s) ? kCanonicalNaN32 : f32_bits(s);
}

}  // namespace

TEST_CASE("fp8_mul e4m3 x e4m3 exhaustive", "[rtl]") { exhaustive_mul<Vmul_e4m3>(Fp8Kind::E4M3, Fp8Kind::E4M3); }
TEST_CASE("fp8_mul e5m2 x e5m2 exhaustive", "[rtl]") { exhaustive_mul<Vmul_e5m2>(Fp8Kind::E5M2, Fp8Kind::E5M2); }
TEST_CASE("fp8_mul e4m3 x e5m2 exhaustive", "[rtl]") {
  exhaustive_mul<Vmul_e4m3_e5m2>(Fp8Kind::E4M3, Fp8Kind::E5M2);
}
TEST_CASE("fp8_mul fnuz and ieee-style variants exhaustive", "[rtl]") {
  exhaustive_mul<Vmul_e4m3fnuz>(Fp8Kind::E4M3_FNUZ, Fp8Kind::E4M3_FNUZ);
  exhaustive_mul<Vmul_e5m2fnuz>(Fp8Kind::E5M2_FNUZ, Fp8Kind::E5M2_FNUZ);
  exhaustive_mul<Vmul_e4m3ieee>(Fp8Kind::E4M3_IEEE, Fp8Kind::E4M3_IEEE);
}

TEST_CASE("f32_add matches IEEE float32 addition", "[rtl]") {
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<Vf32_add>(ctx.get());
  Rng rng(0xF32ADD);
  long checked = 0, mismatches = 0;
  auto check = [&](uint32_t a, uint32_t b) {
    m->a = a;
    m->b = b;
    m->eval();
    const uint32_t want = host_add(a, b);
    if (m->s != want && ++mismatches <= 5)
      UNSCOPED_INFO(std::hex << "a=0x" << a << " b=0x" << b << " rtl 0x" << m->s << " want 0x" << want);
    ++checked;
  };
  // Directed: every pair from a set of edge values (zeros, subnormal extremes, normal boundaries, max,
  // Inf, NaNs, ones around 1.0), both signs.
  const uint32_t edges[] = {0x00000000, 0x00000001, 0x00000002, 0x007FFFFF, 0x00800000, 0x00800001, 0x00FFFFFF,
                            0x01000000, 0x3F800000, 0x3F800001, 0x3F7FFFFF, 0x33800000, 0x33800001, 0x34000000,
                            0x4B000000, 0x4B7FFFFF, 0x7F7FFFFF, 0x7F7FFFFE, 0x7F000000, 0x7F800000, 0x7FC00000,
                            0x7F800001, 0x7FFFFFFF, 0x00400000, 0x3FFFFFFF, 0x40000000};
  for (uint32_t x : edges)
    for (uint32_t y : edges)
      for (uint32_t s = 0; s < 4; ++s) check(x | ((s & 1) << 31), y | ((s >> 1) << 31));
  // Random: raw bit patterns; operands with close exponents (cancellation, ties); subnormal operands.
  for (int i = 0; i < 4'000'000; ++i) check(static_cast<uint32_t>(rng.next()), static_cast<uint32_t>(rng.next()));
  for (int i = 0; i < 4'000'000; ++i) {
    const uint32_t a = static_cast<uint32_t>(rng.next());
    const uint32_t e = (a >> 23) & 0xFF;
    const uint32_t de = static_cast<uint32_t>(rng.below(30));
    const uint32_t eb = e > de ? e - de : 0;
    uint32_t b = (static_cast<uint32_t>(rng.next()) & 0x807FFFFF) | (eb << 23);
    if (rng.chance(300)) b = (a ^ 0x80000000u) + static_cast<uint32_t>(rng.below(5)) - 2;  // near-cancellation
    check(a, b);
  }
  for (int i = 0; i < 2'000'000; ++i) {
    const uint32_t a = static_cast<uint32_t>(rng.next()) & 0x80FFFFFF;   // exponent field 0 or 1
    const uint32_t b = static_cast<uint32_t>(rng.next()) & (rng.chance(500) ? 0x80FFFFFF : 0x87FFFFFF);
    check(a, b);
  }
  m->final();
  CHECK(mismatches == 0);
  WARN("f32_add: " << checked << " operand pairs checked bit for bit against the host, " << mismatches
                   << " mismatches");
}
