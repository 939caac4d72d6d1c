// Exact products, accumulators and the golden GEMM.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"

using namespace fp8sim::model;

namespace {

const Fp8Format& E4M3 = fp8_format(Fp8Kind::E4M3);
const Fp8Format& E5M2 = fp8_format(Fp8Kind::E5M2);

// Value of an exact product (exact in double: at most 8 significant bits).
double product_value(const ExactProduct& p) { return std::ldexp(static_cast<double>(p.lsbs), p.lsb_exp); }

std::vector<uint8_t> random_codes(std::mt19937_64& rng, const Fp8Format& f, size_t n, bool finite_only) {
  std::vector<uint8_t> v(n);
  std::uniform_int_distribution<int> d(0, 255);
  for (auto& c : v) {
    do c = static_cast<uint8_t>(d(rng));
    while (finite_only && !std::isfinite(fp8_decode(f, c)));
  }
  return v;
}

}  // namespace

TEST_CASE("exact product: all 65,536 operand pairs equal the double product of the decoded values",
          "[accumulate][product]") {
  size_t checked = 0;
  for (auto [fa, fb] : {std::pair{&E4M3, &E4M3}, {&E5M2, &E5M2}, {&E4M3, &E5M2}}) {
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256; ++b) {
        const double x = fp8_decode(*fa, static_cast<uint8_t>(a)), y = fp8_decode(*fb, static_cast<uint8_t>(b));
        const double want = x * y;  // exact in double
        const ExactProduct p = fp8_exact_product(*fa, static_cast<uint8_t>(a), *fb, static_cast<uint8_t>(b));
        const float pf = fp8_product_f32(*fa, static_cast<uint8_t>(a), *fb, static_cast<uint8_t>(b));
        bool ok;
        if (std::isnan(want)) {
          ok = p.cls == ValueClass::NaN && f32_bits(pf) == kCanonicalNaN32;
        } else if (std::isinf(want)) {
          ok = p.cls == (want > 0 ? ValueClass::PosInf : ValueClass::NegInf) && pf == want;
        } else {
          // Float32 product: same value and same sign of zero.
          ok = p.cls == ValueClass::Finite && product_value(p) == want && static_cast<double>(pf) == want &&
               std::signbit(pf) == std::signbit(want);
        }
        if (!ok) FAIL(fa->name << " 0x" << std::hex << a << " x " << fb->name << " 0x" << b << std::dec << ": want " << want);
        ++checked;
      }
    }
  }
  WARN("exact product: " << checked << " operand pairs checked (E4M3xE4M3, E5M2xE5M2, E4M3xE5M2)");
}

TEST_CASE("accumulator widths follow 37/65 + ceil(log2 K)", "[accumulate][width]") {
  CHECK(fp8_product_bits(E4M3, E4M3) == 37);
  CHECK(fp8_product_bits(E5M2, E5M2) == 65);
  CHECK(fixed_point_accumulator_width(E4M3, E4M3, 1) == 37);
  CHECK(fixed_point_accumulator_width(E4M3, E4M3, 768) == 47);   // ceil(log2 768) = 10
  CHECK(fixed_point_accumulator_width(E4M3, E4M3, 3072) == 49);  // ceil(log2 3072) = 12
  CHECK(fixed_point_accumulator_width(E4M3, E4M3, 4096) == 49);
  CHECK(fixed_point_accumulator_width(E4M3, E4M3, 4097) == 50);
  CHECK(fixed_point_accumulator_width(E5M2, E5M2, 4096) == 77);
  CHECK_THROWS_AS(fixed_point_accumulator_width(E4M3, E4M3, 0), std::invalid_argument);
  CHECK_THROWS_AS(FixedPointAccumulator(127, -18), std::invalid_argument);
}

TEST_CASE("fixed-point accumulator: random length-3072 dot products are exact", "[accumulate][fixed]") {
  std::mt19937_64 rng(7);
  int dots = 0;
  for (const Fp8Format* f : {&E4M3, &E5M2}) {
    const int lsb = 2 * f->lsb_exp();
    const int width = fixed_point_accumulator_width(*f, *f, 3072);
    for (int trial = 0; trial < 40; ++trial) {
      auto a = random_codes(rng, *f, 3072, true), b = random_codes(rng, *f, 3072, true);
      if (trial % 4 == 0) {  // worst case: every product +max*max, then mixed-sign max values
        for (int i = 0; i < 3072; ++i) {
          a[i] = f->max_finite_code();
          b[i] = static_cast<uint8_t>(f->max_finite_code() | ((trial % 8 == 4 && (i & 1)) ? 0x80 : 0));
        }
      }
      FixedPointAccumulator acc(width, lsb);
      // Wide reference: products as integers derived from the decoded doubles, summed in int128.
      int128 want = 0;
      for (int i = 0; i < 3072; ++i) {
        acc.add(fp8_exact_product(*f, a[i], *f, b[i]));
        want += static_cast<int128>(std::ldexp(fp8_decode(*f, a[i]), -f->lsb_exp())) *
                static_cast<int128>(std::ldexp(fp8_decode(*f, b[i]), -f->lsb_exp()));
      }
      CHECK(acc.raw() == want);
      CHECK_FALSE(acc.wrapped());
      CHECK(acc.cls() == ValueClass::Finite);
      ++dots;
    }
  }
  WARN("fixed-point accumulator: " << dots << " dot products of length 3072 exact");
}

TEST_CASE("fixed-point accumulator: wraps like a two's complement register, specials are sticky",
          "[accumulate][fixed]") {
  // 448*448 = 200704 = 0x31000 in units of 2^-18 is 52613349376: 36 bits. A 37-bit register holds one;
  // two overflow it and wrap to 2*52613349376 - 2^37.
  FixedPointAccumulator acc(37, -18);
  const ExactProduct pmax = fp8_exact_product(E4M3, 0x7E, E4M3, 0x7E);
  REQUIRE(pmax.lsbs == int128{52613349376});
  acc.add(pmax);
  CHECK(acc.raw() == 52613349376);
  CHECK_FALSE(acc.wrapped());
  acc.add(pmax);
  CHECK(acc.raw() == int128{2} * 52613349376 - (int128{1} << 37));
  CHECK(acc.wrapped());

  FixedPointAccumulator s(77, -32);
  s.add(fp8_exact_product(E5M2, 0x7C, E5M2, 0x3C));  // +Inf x 1
  CHECK(s.cls() == ValueClass::PosInf);
  s.add(fp8_exact_product(E5M2, 0x3C, E5M2, 0x3C));  // finite: register sums, class stays
  CHECK(s.cls() == ValueClass::PosInf);
  CHECK(s.raw() == (int128{1} << 32));
  s.add(fp8_exact_product(E5M2, 0xFC, E5M2, 0x3C));  // -Inf: +Inf + -Inf = NaN
  CHECK(s.cls() == ValueClass::NaN);
  s.add(fp8_exact_product(E5M2, 0x7C, E5M2, 0x3C));
  CHECK(s.cls() == ValueClass::NaN);
  CHECK(fp8_exact_product(E5M2, 0x7C, E5M2, 0x00).cls == ValueClass::NaN);  // Inf x 0
  CHECK(fp8_exact_product(E4M3, 0x7F, E4M3, 0x00).cls == ValueClass::NaN);
  CHECK(std::isnan(s.to_double()));
}

TEST_CASE("float32 accumulator equals a plain float loop in the same order", "[accumulate][fp32]") {
  std::mt19937_64 rng(11);
  int loops = 0;
  for (const Fp8Format* f : {&E4M3, &E5M2}) {
    for (int trial = 0; trial < 50; ++trial) {
      const int k = 1 + static_cast<int>(rng() % 4096);
      auto a = random_codes(rng, *f, k, true), b = random_codes(rng, *f, k, true);
      Float32Accumulator acc;
      volatile float plain = 0.0f;  // volatile: one float32 rounding per addition, nothing fused
      for (int i = 0; i < k; ++i) {
        const float p = fp8_decode_f32(*f, a[i]) * fp8_decode_f32(*f, b[i]);
        acc.add(fp8_product_f32(*f, a[i], *f, b[i]));
        plain = plain + p;
      }
      CHECK(acc.bits() == f32_bits(plain));
      ++loops;
    }
  }
  // Subnormal sums are kept, not flushed: 2^-16 * 2^-16 = 2^-32 is far above float32's subnormals, so build
  // one from float32 directly.
  Float32Accumulator tiny;
  tiny.add(std::ldexp(1.0f, -140));
  tiny.add(std::ldexp(1.0f, -141));
  CHECK(tiny.value() == std::ldexp(3.0f, -141));
  Float32Accumulator nan;
  nan.add(fp8_product_f32(E4M3, 0x7F, E4M3, 0x38));
  nan.add(1.0f);
  CHECK(nan.bits() == kCanonicalNaN32);
  WARN("float32 accumulator: " << loops << " random dot products (K up to 4096) equal a plain float loop");
}

TEST_CASE("golden GEMM equals per-output accumulator loops, for every numerics and order", "[gemm]") {
  std::mt19937_64 rng(3);
  int gemms = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const int64_t m = 1 + rng() % 9, k = 1 + rng() % 70, n = 1 + rng() % 11;
    const int64_t chunk = (trial % 3 == 0) ? 0 : 1 + rng() % 16;
    for (int variant = 0; variant < 5; ++variant) {
      GemmNumerics num;
      const Fp8Format* f = variant < 2 ? &E4M3 : &E5M2;
      num.a_kind = num.b_kind = f->kind;
      num.acc = (variant % 2 == 0) ? AccumulatorKind::FixedPoint : AccumulatorKind::Float32;
      if (variant == 4) {
        num.int8 = true;
        num.acc = AccumulatorKind::Int32;
      }
      // Include NaN/Inf codes now and then: trial 5 and 11 use all 256 codes.
      const bool finite = trial % 6 != 5;
      auto a = random_codes(rng, *f, m * k, finite), b = random_codes(rng, *f, k * n, finite);
      const auto got = golden_gemm(num, AccumulationOrder{chunk}, m, k, n, a.data(), b.data());
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          AccWord want;
          if (num.int8) {
            Int32Accumulator acc;
            for (int64_t x = 0; x < k; ++x)
              acc.add(static_cast<int8_t>(a[i * k + x]), static_cast<int8_t>(b[x * n + j]));
            want.raw = acc.value();
          } else if (num.acc == AccumulatorKind::FixedPoint) {
            FixedPointAccumulator acc(num.fixed_width(k), num.lsb_exp());
            for (int64_t x = 0; x < k; ++x) acc.add(fp8_exact_product(*f, a[i * k + x], *f, b[x * n + j]));
            want.raw = acc.raw();
            want.cls = acc.cls();
          } else {
            Float32Accumulator total;
            const int64_t c = chunk > 0 ? chunk : k;
            for (int64_t k0 = 0; k0 < k; k0 += c) {
              Float32Accumulator part;
              for (int64_t x = k0; x < std::min(k, k0 + c); ++x)
                part.add(fp8_product_f32(*f, a[i * k + x], *f, b[x * n + j]));
              total.add(part.value());
            }
            want.raw = total.bits();
          }
          if (got[i * n + j] != want)
            FAIL(num.describe() << " M" << m << " K" << k << " N" << n << " chunk " << chunk << " at (" << i << ","
                                << j << "): " << acc_word_to_string(num, got[i * n + j]) << " vs "
                                << acc_word_to_string(num, want));
        }
      }
      ++gemms;
    }
  }
  WARN("golden GEMM: " << gemms << " random GEMMs equal the accumulator classes output by output");
}

TEST_CASE("golden GEMM: float32 results depend on the accumulation order, exact ones do not", "[gemm]") {
  // 1 + 2^-24 + 2^-24 in float32: sequentially each 2^-24 is lost to rounding (tie to even), but summed
  // first in its own chunk the two make 2^-23, which survives.
  // As FP8 products: 1 = 1 x 1, 2^-24 = 2^-12 x 2^-12 (E5M2 normals).
  const uint8_t one = 0x3C, two_m12 = fp8_encode(E5M2, std::ldexp(1.0f, -12), Overflow::Saturate);
  const uint8_t a[3] = {one, two_m12, two_m12}, b[3] = {one, two_m12, two_m12};
  GemmNumerics num;
  num.a_kind = num.b_kind = Fp8Kind::E5M2;
  num.acc = AccumulatorKind::Float32;
  const auto seq = golden_gemm(num, {0}, 1, 3, 1, a, b);
  const auto chunked = golden_gemm(num, {1}, 1, 3, 1, a, b);  // chunks {1}, {2^-24}, {2^-24}: same as sequential
  const auto pair = golden_gemm(num, {2}, 1, 3, 1, a, b);     // chunks {1, 2^-24}, {2^-24}
  CHECK(f32_from_bits(static_cast<uint32_t>(seq[0].raw)) == 1.0f);
  CHECK(chunked[0] == seq[0]);
  CHECK(f32_from_bits(static_cast<uint32_t>(pair[0].raw)) == 1.0f);
  // Reverse the operands so the small ones come first: 2^-24 + 2^-24 = 2^-23, + 1 = 1 + 2^-23.
  const uint8_t ar[3] = {two_m12, two_m12, one};
  const auto small_first = golden_gemm(num, {0}, 1, 3, 1, ar, ar);
  CHECK(f32_from_bits(static_cast<uint32_t>(small_first[0].raw)) == 1.0f + std::ldexp(1.0f, -23));
  num.acc = AccumulatorKind::FixedPoint;
  CHECK(golden_gemm(num, {0}, 1, 3, 1, a, b)[0] == golden_gemm(num, {0}, 1, 3, 1, ar, ar)[0]);
  CHECK(acc_word_value(num, golden_gemm(num, {0}, 1, 3, 1, a, b)[0]) == 1.0 + std::ldexp(1.0, -23));
}

TEST_CASE("acc_word_to_float rounds a wide fixed-point word once", "[gemm]") {
  GemmNumerics num;
  num.a_kind = num.b_kind = Fp8Kind::E5M2;  // 77-bit words, LSB 2^-32
  AccWord w;
  // 2^60 + 2^36 + 1: float32's ULP at 2^60 is 2^37, so the exact value lies just above the midpoint and
  // rounds up to 2^60 + 2^37. Through double (ULP 2^8) it would first become the tie 2^60 + 2^36, then 2^60.
  w.raw = (int128{1} << 60) + (int128{1} << 36) + 1;
  CHECK(acc_word_to_float(num, w) == std::ldexp(std::ldexp(1.0f, 60) + std::ldexp(1.0f, 37), -32));
  CHECK(static_cast<float>(acc_word_value(num, w)) == std::ldexp(1.0f, 60 - 32));  // the double-rounding path
  w.raw = -3;
  CHECK(acc_word_to_float(num, w) == std::ldexp(-3.0f, -32));
  w.cls = ValueClass::NegInf;
  CHECK(acc_word_to_float(num, w) == -INFINITY);
  num.acc = AccumulatorKind::Float32;
  w = AccWord{f32_bits(1.5f), ValueClass::Finite};
  CHECK(acc_word_to_float(num, w) == 1.5f);
  num.int8 = true;
  num.acc = AccumulatorKind::Int32;
  w = AccWord{-16777217, ValueClass::Finite};  // -(2^24 + 1): a tie, to even -> -2^24
  CHECK(acc_word_to_float(num, w) == -16777216.0f);
}

TEST_CASE("golden GEMM rejects inconsistent numerics with a clear message", "[gemm]") {
  GemmNumerics num;
  num.int8 = true;
  num.acc = AccumulatorKind::FixedPoint;
  const uint8_t x = 0;
  CHECK_THROWS_WITH(golden_gemm(num, {}, 1, 1, 1, &x, &x), Catch::Contains("INT8 operands need the int32"));
  num.int8 = false;
  num.acc = AccumulatorKind::Int32;
  CHECK_THROWS_WITH(golden_gemm(num, {}, 1, 1, 1, &x, &x), Catch::Contains("takes INT8 operands"));
  num.acc = AccumulatorKind::FixedPoint;
  num.acc_width = 200;
  CHECK_THROWS_WITH(golden_gemm(num, {}, 1, 1, 1, &x, &x), Catch::Contains("width 200"));
  num.acc_width = 0;
  CHECK_THROWS_WITH(golden_gemm(num, {}, 1, 0, 1, &x, &x), Catch::Contains("bad shape"));
}
