// FP8 format table and conversions. Expected values are derived here from the spec's definitions
// (OCP OFP8 rev 1.0), not from the code under test. The exhaustive float32 sweep against ml_dtypes is
// fp8_vs_ml_dtypes.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "fp8sim/model/fp8.h"

using namespace fp8sim::model;

namespace {

const Fp8Format& E4M3 = fp8_format(Fp8Kind::E4M3);
const Fp8Format& E5M2 = fp8_format(Fp8Kind::E5M2);

// Spec value of an OCP code, written out from the encoding definition with literal parameters.
double ocp_e4m3_value(int code) {  // S.EEEE.MMM, bias 7, S.1111.111 = NaN, no Inf
  const int s = code >> 7, e = (code >> 3) & 15, m = code & 7;
  if (e == 15 && m == 7) return std::nan("");
  const double mag = e == 0 ? m / 8.0 * std::pow(2.0, -6) : (1 + m / 8.0) * std::pow(2.0, e - 7);
  return s ? -mag : mag;
}
double ocp_e5m2_value(int code) {  // S.EEEEE.MM, bias 15, exponent 31: Inf (M=0) or NaN
  const int s = code >> 7, e = (code >> 2) & 31, m = code & 3;
  if (e == 31) return m ? std::nan("") : (s ? -INFINITY : INFINITY);
  const double mag = e == 0 ? m / 4.0 * std::pow(2.0, -14) : (1 + m / 4.0) * std::pow(2.0, e - 15);
  return s ? -mag : mag;
}

bool same_value(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return x == y && std::signbit(x) == std::signbit(y);
}

// Independent reference for float64 -> FP8: the nearest of the finite values (by exact comparison with the
// midpoints, which are exact in double), ties to the even code, then the overflow rule.
uint8_t reference_encode(const Fp8Format& f, double x, Overflow pol) {
  const bool neg = std::signbit(x);
  const uint8_t sign = neg ? 0x80 : 0;
  if (std::isnan(x)) return f.specials == SpecialValues::FiniteUnsignedZero ? 0x80 : (f.nan_code() | sign);
  const double a = std::fabs(x);
  auto overflow = [&] {
    if (pol == Overflow::Saturate) return static_cast<uint8_t>(f.max_finite_code() | sign);
    return static_cast<uint8_t>(f.has_inf() ? (f.inf_code() | sign) : (f.nan_code() | sign));
  };
  if (std::isinf(a)) return overflow();
  // Finite positive codes in increasing order 0x00 .. max_finite_code, plus the "next" value beyond max
  // (max + one ULP of the top binade) that decides where rounding overflows.
  const int top = f.max_finite_code();
  static thread_local std::vector<double> values[kFp8KindCount];
  std::vector<double>& val = values[static_cast<int>(f.kind)];
  if (val.empty()) {
    for (int c = 0; c <= top; ++c) val.push_back(std::ldexp(static_cast<double>(c & ((1 << f.man_bits) - 1)) +
                                                              ((c >> f.man_bits) ? (1 << f.man_bits) : 0),
                                                          std::max(c >> f.man_bits, 1) - f.bias - f.man_bits));
    const double ulp = std::ldexp(1.0, static_cast<int>(std::floor(std::log2(val[top]))) - f.man_bits);
    val.push_back(val[top] + ulp);  // the first value past the largest finite one
  }
  for (int c = 0; c <= top; ++c) {
    const double v = val[c], next = val[c + 1];
    const double mid = (v + next) / 2;  // exact: few significant bits
    if (a < mid || (a == mid && (c & 1) == 0)) {
      if (c == 0) return f.has_negative_zero() ? sign : 0;
      return static_cast<uint8_t>(c | sign);
    }
    if (a <= next && c == top) return overflow();  // rounds up past the largest finite value
  }
  return overflow();
}

}  // namespace

TEST_CASE("format table: OCP E4M3 and E5M2 parameters match the spec", "[fp8][format]") {
  CHECK(E4M3.exp_bits == 4);
  CHECK(E4M3.man_bits == 3);
  CHECK(E4M3.bias == 7);
  CHECK(E4M3.max_finite() == 448.0);
  CHECK(E4M3.max_finite_code() == 0x7E);  // S.1111.110
  CHECK(E4M3.nan_code() == 0x7F);         // S.1111.111
  CHECK_FALSE(E4M3.has_inf());
  CHECK(E4M3.min_normal_exp() == -6);
  CHECK(E4M3.lsb_exp() == -9);
  CHECK(E5M2.bias == 15);
  CHECK(E5M2.max_finite() == 57344.0);
  CHECK(E5M2.max_finite_code() == 0x7B);  // S.11110.11
  CHECK(E5M2.inf_code() == 0x7C);         // S.11111.00
  CHECK(E5M2.has_inf());
  CHECK(E5M2.min_normal_exp() == -14);
  CHECK(E5M2.lsb_exp() == -16);
  // Non-OCP rows (../shared/notes/fp8-semantics.md).
  CHECK(fp8_format(Fp8Kind::E4M3_FNUZ).max_finite() == 240.0);
  CHECK(fp8_format(Fp8Kind::E4M3_FNUZ).lsb_exp() == -10);
  CHECK(fp8_format(Fp8Kind::E5M2_FNUZ).max_finite() == 57344.0);
  CHECK(fp8_format(Fp8Kind::E5M2_FNUZ).lsb_exp() == -17);
  CHECK(fp8_format(Fp8Kind::E4M3_IEEE).max_finite() == 240.0);
  CHECK(fp8_kind_from_name("e5m2") == Fp8Kind::E5M2);
  CHECK_FALSE(fp8_kind_from_name("e3m4").has_value());
  CHECK(fp8_kind_from_safetensors_dtype("F8_E4M3") == Fp8Kind::E4M3);
}

TEST_CASE("decode: all 256 codes of E4M3 and E5M2 equal the spec's values", "[fp8][decode]") {
  int checked = 0;
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    CHECK(same_value(fp8_decode(E4M3, code), ocp_e4m3_value(c)));
    CHECK(same_value(fp8_decode_f32(E4M3, code), ocp_e4m3_value(c)));
    CHECK(same_value(fp8_decode(E5M2, code), ocp_e5m2_value(c)));
    CHECK(same_value(fp8_decode_f32(E5M2, code), ocp_e5m2_value(c)));
    checked += 4;
  }
  // Landmarks of the spec tables.
  CHECK(fp8_decode(E4M3, 0x01) == std::ldexp(1.0, -9));   // smallest subnormal
  CHECK(fp8_decode(E4M3, 0x08) == std::ldexp(1.0, -6));   // smallest normal
  CHECK(fp8_decode(E4M3, 0x7E) == 448.0);
  CHECK(fp8_decode(E5M2, 0x01) == std::ldexp(1.0, -16));
  CHECK(fp8_decode(E5M2, 0x04) == std::ldexp(1.0, -14));
  CHECK(fp8_decode(E5M2, 0x7B) == 57344.0);
  CHECK(std::isinf(fp8_decode(E5M2, 0xFC)));
  CHECK(fp8_decode(E5M2, 0xFC) < 0);
  CHECK(std::signbit(fp8_decode(E4M3, 0x80)));  // -0
  WARN("decode: " << checked << " code/format/width combinations checked");
}

TEST_CASE("encode: directed vectors from the notes", "[fp8][encode]") {
  const auto NS = Overflow::NonSaturating, SAT = Overflow::Saturate;
  // E4M3: 464 is the midpoint of 448 and 480 (480 is not finite): tie to even mantissa 110 -> 448.
  CHECK(fp8_encode(E4M3, 464.0f, NS) == 0x7E);
  CHECK(fp8_encode(E4M3, 464.0f, SAT) == 0x7E);
  CHECK(fp8_encode(E4M3, 465.0f, NS) == 0x7F);   // rounds up past 448: NaN
  CHECK(fp8_encode(E4M3, -465.0f, NS) == 0xFF);
  CHECK(fp8_encode(E4M3, 465.0f, SAT) == 0x7E);  // saturates to 448
  CHECK(fp8_encode(E4M3, -1e30f, SAT) == 0xFE);
  CHECK(fp8_encode(E4M3, INFINITY, NS) == 0x7F);
  CHECK(fp8_encode(E4M3, -INFINITY, SAT) == 0xFE);
  // E5M2: 61440 = (57344 + 65536) / 2 is a tie between mantissa 11 (odd) and the overflow value: rounds up.
  CHECK(fp8_encode(E5M2, 61440.0f, NS) == 0x7C);  // +Inf
  CHECK(fp8_encode(E5M2, 61440.0f, SAT) == 0x7B);
  CHECK(fp8_encode(E5M2, 61439.0f, NS) == 0x7B);
  CHECK(fp8_encode(E5M2, -INFINITY, NS) == 0xFC);
  CHECK(fp8_encode(E5M2, 57344.0f, NS) == 0x7B);
  // Smallest subnormals and ties at the bottom.
  CHECK(fp8_encode(E4M3, std::ldexp(1.0f, -9), NS) == 0x01);
  CHECK(fp8_encode(E4M3, std::ldexp(1.0f, -10), NS) == 0x00);         // tie between 0 and 2^-9: even (0)
  CHECK(fp8_encode(E4M3, std::ldexp(1.0f, -10) * 1.0001f, NS) == 0x01);
  CHECK(fp8_encode(E4M3, std::ldexp(3.0f, -10), NS) == 0x02);         // tie between 1 and 2 LSB: even (2)
  CHECK(fp8_encode(E4M3, -std::ldexp(1.0f, -11), NS) == 0x80);        // underflow keeps the sign: -0
  CHECK(fp8_encode(E5M2, std::ldexp(1.0f, -16), NS) == 0x01);
  CHECK(fp8_encode(E5M2, std::ldexp(1.0f, -17), NS) == 0x00);
  // Largest subnormal rounding up into the smallest normal.
  CHECK(fp8_encode(E4M3, std::ldexp(15.0f, -10), NS) == 0x08);  // 7.5 LSB: tie, 8 is even -> 2^-6
  // Signed zero and NaN.
  CHECK(fp8_encode(E4M3, -0.0f, NS) == 0x80);
  CHECK(fp8_encode(E5M2, 0.0f, SAT) == 0x00);
  CHECK(fp8_encode(E4M3, std::nanf(""), SAT) == 0x7F);
  CHECK(fp8_encode(E4M3, -std::nanf(""), NS) == 0xFF);
  CHECK(fp8_encode(E5M2, std::nanf(""), NS) == 0x7E);
  // fnuz: no -0, a single NaN.
  const Fp8Format& fnuz = fp8_format(Fp8Kind::E4M3_FNUZ);
  CHECK(fp8_encode(fnuz, -0.0f, NS) == 0x00);
  CHECK(fp8_encode(fnuz, -std::nanf(""), NS) == 0x80);
  CHECK(fp8_encode(fnuz, 1000.0f, NS) == 0x80);
  CHECK(fp8_encode(fnuz, -1000.0f, SAT) == 0xFF);
}

TEST_CASE("encode: every finite code round-trips through float32 and float64", "[fp8][encode]") {
  for (int k = 0; k < kFp8KindCount; ++k) {
    const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(k));
    for (int c = 0; c < 256; ++c) {
      const auto code = static_cast<uint8_t>(c);
      const double v = fp8_decode(f, code);
      if (!std::isfinite(v)) continue;
      INFO(f.name << " code 0x" << std::hex << c);
      for (auto pol : {Overflow::Saturate, Overflow::NonSaturating}) {
        CHECK(fp8_encode(f, static_cast<float>(v), pol) == code);
        CHECK(fp8_encode(f, v, pol) == code);
      }
    }
  }
}

TEST_CASE("encode float64: random and near-midpoint inputs equal an independent nearest-value search",
          "[fp8][encode]") {
  std::mt19937_64 rng(20261122);
  std::vector<double> inputs;
  for (int k = 0; k < kFp8KindCount; ++k) {
    const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(k));
    // Around every midpoint between neighbouring codes: the midpoint and its float64 neighbours, which a
    // path through float32 would round to the midpoint (double rounding).
    for (int c = 0; c < f.max_finite_code(); ++c) {
      const double mid = (fp8_decode(f, static_cast<uint8_t>(c)) + fp8_decode(f, static_cast<uint8_t>(c + 1))) / 2;
      for (double x : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300)}) {
        inputs.push_back(x);
        inputs.push_back(-x);
      }
    }
  }
  std::uniform_int_distribution<int> ex(-40, 20);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  for (int i = 0; i < 200000; ++i) inputs.push_back(std::ldexp(mant(rng), ex(rng)) * (i & 1 ? -1 : 1));
  size_t checked = 0;
  for (int k = 0; k < kFp8KindCount; ++k) {
    const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(k));
    for (auto pol : {Overflow::Saturate, Overflow::NonSaturating}) {
      for (double x : inputs) {
        const uint8_t got = fp8_encode(f, x, pol), want = reference_encode(f, x, pol);
        if (got != want) FAIL(f.name << ": " << x << " -> 0x" << std::hex << int(got) << ", reference 0x" << int(want));
        ++checked;
      }
    }
  }
  // The direct rounding differs from the float32 path exactly where double rounding bites.
  CHECK(fp8_encode(E4M3, std::ldexp(1.0, -10) + std::ldexp(1.0, -40), Overflow::NonSaturating) == 0x01);
  CHECK(fp8_encode(E4M3, static_cast<float>(std::ldexp(1.0, -10) + std::ldexp(1.0, -40)), Overflow::NonSaturating) ==
        0x00);
  WARN("encode float64: " << checked << " (format, policy, input) cases equal the reference");
}
