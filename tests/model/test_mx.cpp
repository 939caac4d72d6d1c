// MX numerics (model/mx.h) against an independent implementation written here, from the OCP MX v1.0
// specification's definitions (element value tables by formula, Algorithm 1 of arXiv:2310.10537 by brute-force
// nearest-value search), not from the code under test. Element decode/encode against ml_dtypes is
// mx_vs_ml_dtypes.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "fp8sim/model/format.h"
#include "fp8sim/model/mx.h"

using namespace fp8sim::model;

namespace {

// ---- independent reference ----
struct RefFormat {
  int ebits, mbits, bias;
  bool is_int;
  bool e4m3_nan;   // top code S.1111.111 is NaN (OFP8 E4M3)
  bool ieee_like;  // exponent all ones is Inf/NaN (OFP8 E5M2)
};

// Element value of a code straight from the definitions (OCP MX v1.0 / OFP8): sign-magnitude floats with
// subnormals at exponent field 0, or the INT8 element k * 2^-6. NaN for the special codes.
double ref_decode(const RefFormat& r, unsigned code) {
  if (r.is_int) return static_cast<int8_t>(code) / 64.0;
  const int bits = 1 + r.ebits + r.mbits;
  const bool neg = (code >> (bits - 1)) & 1;
  const unsigned e = (code >> r.mbits) & ((1u << r.ebits) - 1), m = code & ((1u << r.mbits) - 1);
  if (r.ieee_like && e == (1u << r.ebits) - 1) return m ? std::nan("") : (neg ? -INFINITY : INFINITY);
  if (r.e4m3_nan && e == (1u << r.ebits) - 1 && m == (1u << r.mbits) - 1) return std::nan("");
  const double v = e == 0 ? std::ldexp(m, 1 - r.bias - r.mbits) : std::ldexp((1 << r.mbits) + m, int(e) - r.bias - r.mbits);
  return neg ? -v : v;
}

// Nearest element code to v: the smallest |difference| over all finite codes; ties to the code whose last
// bit is 0 (the even significand / even integer); beyond the largest magnitude: that magnitude with v's sign.
// Zero results take v's sign where the format has -0 (floats).
unsigned ref_encode(const RefFormat& r, double v) {
  const int bits = r.is_int ? 8 : 1 + r.ebits + r.mbits;
  const unsigned ncodes = 1u << bits;
  double best_d = INFINITY, fmax = 0;
  unsigned best = 0;
  for (unsigned c = 0; c < ncodes; ++c)
    if (std::isfinite(ref_decode(r, c))) fmax = std::max(fmax, ref_decode(r, c));
  if (std::fabs(v) > fmax) v = std::copysign(fmax, v);  // clamp first (no double absorption for huge v)
  for (unsigned c = 0; c < ncodes; ++c) {
    const double x = ref_decode(r, c);
    if (!std::isfinite(x)) continue;
    if (r.is_int && c == 0x80) continue;  // -2 is never produced (symmetric clamp)
    if (!r.is_int && x == 0 && std::signbit(x) != std::signbit(v)) continue;
    const double d = std::fabs(x - v);
    if (d < best_d || (d == best_d && (c & 1) == 0)) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

const RefFormat& ref_of(MxKind k) {
  static const RefFormat t[] = {
      {4, 3, 7, false, true, false},   // E4M3
      {5, 2, 15, false, false, true},  // E5M2
      {3, 2, 3, false, false, false},  // E3M2
      {2, 3, 1, false, false, false},  // E2M3
      {2, 1, 1, false, false, false},  // E2M1
      {0, 7, 0, true, false, false},   // INT8 element
  };
  return t[static_cast<int>(k)];
}
// emax_elem from the spec's tables of maximum normals: 448, 57344, 28, 7.5, 6, 1 63/64.
int ref_emax(MxKind k) {
  static const int e[] = {8, 15, 4, 2, 2, 0};
  return e[static_cast<int>(k)];
}

// Algorithm 1 (arXiv:2310.10537), with the documented choices: NaN/Inf -> scale NaN; zero block -> 2^-127;
// shared exponent clamped to >= -127. floor(log2 x) from frexp: x = f * 2^e, f in [0.5, 1) -> e - 1.
struct RefBlock {
  uint8_t scale;
  std::vector<unsigned> codes;
};
RefBlock ref_quantize(MxKind k, const std::vector<float>& v) {
  RefBlock b;
  double amax = 0;
  bool special = false;
  for (float x : v) {
    if (!std::isfinite(x)) special = true;
    amax = std::max(amax, std::fabs(double(x)));
  }
  if (special) {
    b.scale = 0xFF;
    return b;
  }
  int shared = -127;
  if (amax > 0) {
    int e = 0;
    std::frexp(amax, &e);
    shared = std::max(-127, (e - 1) - ref_emax(k));
  }
  b.scale = static_cast<uint8_t>(shared + 127);
  for (float x : v) b.codes.push_back(ref_encode(ref_of(k), std::ldexp(double(x), -shared)));
  return b;
}

std::vector<float> random_block(std::mt19937& rng, size_t n, int lo_exp, int hi_exp) {
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> ex(lo_exp, hi_exp), sign(0, 1), zero(0, 15);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = zero(rng) == 0 ? 0.0f : static_cast<float>(std::ldexp(mant(rng), ex(rng)) * (sign(rng) ? -1 : 1));
  }
  return v;
}

void check_block(MxKind k, const std::vector<float>& v) {
  const MxFormat& f = mx_format(k);
  std::vector<uint8_t> codes(v.size());
  const uint8_t s = mx_quantize_block(f, v.data(), v.size(), codes.data());
  const RefBlock r = ref_quantize(k, v);
  INFO(f.name << " block of " << v.size() << ", first " << v[0]);
  REQUIRE(int(s) == int(r.scale));
  REQUIRE(int(mx_block_scale(f, v.data(), v.size())) == int(r.scale));
  if (s == 0xFF) return;
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i << " = " << v[i]);
    REQUIRE(int(codes[i]) == int(r.codes[i]));
  }
}

}  // namespace

TEST_CASE("MX element rows: the spec's parameters", "[mx]") {
  // OCP MX v1.0 element tables: max normal E3M2 28, E2M3 7.5, E2M1 6, INT8 1 63/64; min subnormal
  // 0.0625, 0.125, 0.5, INT8 LSB 2^-6. FP8 rows are OFP8 (448, 57344).
  struct Row {
    MxKind k;
    double max, min_sub;
    int bits;
  };
  for (const Row& r : {Row{MxKind::MXFP8_E4M3, 448, std::ldexp(1, -9), 8}, Row{MxKind::MXFP8_E5M2, 57344, std::ldexp(1, -16), 8},
                       Row{MxKind::MXFP6_E3M2, 28, 0.0625, 6}, Row{MxKind::MXFP6_E2M3, 7.5, 0.125, 6},
                       Row{MxKind::MXFP4, 6, 0.5, 4}, Row{MxKind::MXINT8, 127.0 / 64, 1.0 / 64, 8}}) {
    const MxFormat& f = mx_format(r.k);
    INFO(f.name);
    CHECK(f.elem().max_finite() == r.max);
    CHECK(std::ldexp(1.0, f.elem().lsb_exp()) == r.min_sub);
    CHECK(f.element_bits() == r.bits);
    CHECK(f.emax_elem() == ref_emax(r.k));
    CHECK(mx_kind_from_name(f.name) == r.k);
    // every code decodes to the formula's value
    for (unsigned c = 0; c < (1u << r.bits); ++c) {
      const double ref = ref_decode(ref_of(r.k), c), got = mx_element_decode(f.elem(), static_cast<uint8_t>(c));
      INFO("code " << c);
      if (std::isnan(ref)) {
        CHECK(std::isnan(got));
      } else {
        CHECK(got == ref);
        CHECK(std::signbit(got) == std::signbit(ref));
        if (std::isfinite(ref)) CHECK(std::ldexp(double(mx_element_lsbs(f.elem(), uint8_t(c))), f.elem().lsb_exp()) == ref);
      }
    }
  }
  CHECK(mx_format_names() == "mxfp8|mxfp8-e5m2|mxfp6-e3m2|mxfp6-e2m3|mxfp4|mxint8");
  CHECK_FALSE(mx_kind_from_name("mxfp5").has_value());
  // FP8-operand lookups are unchanged; the MX rows are found only by the all-rows lookup.
  CHECK_FALSE(fp8_kind_from_name("e2m1").has_value());
  CHECK(format_kind_from_name("e2m1") == Fp8Kind::E2M1);
}

TEST_CASE("E8M0: bias 127, no zero, no infinity, 0xFF NaN", "[mx]") {
  CHECK(e8m0_decode(127) == 1.0);
  CHECK(e8m0_decode(0) == std::ldexp(1.0, -127));
  CHECK(e8m0_decode(254) == std::ldexp(1.0, 127));
  CHECK(e8m0_decode_f32(0) == std::ldexp(1.0f, -127));  // a float32 subnormal, exact
  CHECK(std::isnan(e8m0_decode(0xFF)));
  CHECK(e8m0_from_exponent(-127) == 0);
  CHECK(e8m0_from_exponent(127) == 254);
  CHECK_THROWS_AS(e8m0_from_exponent(128), std::out_of_range);
  CHECK_THROWS_AS(e8m0_from_exponent(-128), std::out_of_range);
  for (int c = 0; c < 255; ++c) CHECK(e8m0_decode(uint8_t(c)) > 0);  // no zero
  // Decoding a stored block can leave float32's range: E4M3 448 x 2^127 = 1.75 * 2^135 -> +Inf; 1 x 2^127 stays.
  const MxConfig cfg{MxKind::MXFP8_E4M3, 2};
  const uint8_t codes[2] = {0x7E, 0x38}, scale[1] = {254};
  float out[2];
  mx_dequantize(cfg, codes, scale, 2, out);
  CHECK(std::isinf(out[0]));
  CHECK(out[1] == std::ldexp(1.0f, 127));
}

TEST_CASE("MX element encode: nearest-even and saturation vs brute-force search", "[mx]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int k = 0; k < kMxKindCount; ++k) {
    const MxFormat& f = mx_format(MxKind(k));
    const double mx = f.elem().max_finite();
    std::vector<double> vals;
    // every midpoint between neighbouring codes and its neighbours, plus random values up to 1.5 x max
    std::vector<double> grid;
    for (unsigned c = 0; c < (1u << f.element_bits()); ++c) {
      const double x = ref_decode(ref_of(MxKind(k)), c);
      if (std::isfinite(x)) grid.push_back(x);
    }
    std::sort(grid.begin(), grid.end());
    for (size_t i = 0; i + 1 < grid.size(); ++i) {
      const double mid = (grid[i] + grid[i + 1]) / 2;
      vals.insert(vals.end(), {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY), grid[i]});
    }
    for (int i = 0; i < 2000; ++i) vals.push_back(u(rng) * 1.5 * mx);
    vals.insert(vals.end(), {1e30, -1e30, mx * 1.0625, -mx * 1.0625, 0.0, -0.0});
    for (double v : vals) {
      INFO(f.name << " v = " << v);
      CHECK(int(mx_element_encode(f.elem(), v)) == int(ref_encode(ref_of(MxKind(k)), v)));
    }
  }
}

TEST_CASE("MX block conversion vs Algorithm 1: random blocks", "[mx]") {
  std::mt19937 rng(1234);
  for (int k = 0; k < kMxKindCount; ++k) {
    for (int trial = 0; trial < 300; ++trial) {
      const int lo = std::uniform_int_distribution<int>(-149, 120)(rng);
      const int hi = std::min(126, lo + std::uniform_int_distribution<int>(0, 30)(rng));  // < FLT_MAX
      check_block(MxKind(k), random_block(rng, 32, lo, hi));
    }
  }
}

TEST_CASE("MX block conversion vs Algorithm 1: adversarial blocks", "[mx]") {
  const float tiny = std::numeric_limits<float>::denorm_min(), fmax = std::numeric_limits<float>::max();
  for (int k = 0; k < kMxKindCount; ++k) {
    const MxKind kind = MxKind(k);
    const MxFormat& f = mx_format(kind);
    INFO(f.name);
    // all zero (both signs): scale 2^-127 (code 0), zero elements
    std::vector<float> z(32, 0.0f);
    z[3] = -0.0f;
    check_block(kind, z);
    {
      std::vector<uint8_t> c(32);
      CHECK(mx_quantize_block(f, z.data(), 32, c.data()) == 0);
    }
    // one huge outlier: the rest flushes towards zero
    std::vector<float> o(32, 1.0f);
    o[17] = 3.0e38f;
    check_block(kind, o);
    o[17] = -fmax;
    check_block(kind, o);
    // subnormal-only: floor(log2) - emax < -127 -> clamped to -127
    std::vector<float> s(32);
    for (int i = 0; i < 32; ++i) s[i] = tiny * float(i + 1) * (i % 2 ? -1.0f : 1.0f);
    check_block(kind, s);
    {
      std::vector<uint8_t> c(32);
      CHECK(mx_quantize_block(f, s.data(), 32, c.data()) == 0);
    }
    // values on rounding ties after scaling (max binade of the element, half quanta)
    std::vector<float> t(32);
    for (int i = 0; i < 32; ++i) t[i] = float(std::ldexp(1.0 + i / 64.0, f.emax_elem())) * (i % 3 ? 1.0f : -1.0f);
    check_block(kind, t);
    // NaN and Inf: scale NaN, every element NaN (or 0 where the element has no NaN)
    for (float special : {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY}) {
      std::vector<float> n(32, 2.0f);
      n[5] = special;
      std::vector<uint8_t> c(32);
      CHECK(mx_quantize_block(f, n.data(), 32, c.data()) == kE8M0NaN);
      std::vector<float> back(32);
      MxConfig cfg{kind, 32};
      std::vector<uint8_t> sc(1, kE8M0NaN);
      mx_dequantize(cfg, c.data(), sc.data(), 32, back.data());
      for (float x : back) CHECK(std::isnan(x));
    }
  }
}

TEST_CASE("MX vector conversion: configurable block size, short last block, fake quantization", "[mx]") {
  std::mt19937 rng(99);
  for (int bs : {1, 7, 16, 32, 64}) {
    MxConfig cfg{MxKind::MXFP4, bs};
    std::vector<float> v = random_block(rng, 100, -10, 10);
    std::vector<uint8_t> codes(100), scales((100 + bs - 1) / bs);
    mx_quantize(cfg, v.data(), 100, codes.data(), scales.data());
    std::vector<float> back(100), fake(100);
    mx_dequantize(cfg, codes.data(), scales.data(), 100, back.data());
    mx_fake_quantize(cfg, v.data(), 100, fake.data());
    for (size_t b = 0; b * bs < 100; ++b) {
      const size_t n = std::min<size_t>(bs, 100 - b * bs);
      std::vector<float> blk(v.begin() + b * bs, v.begin() + b * bs + n);
      const RefBlock r = ref_quantize(MxKind::MXFP4, blk);
      INFO("block size " << bs << " block " << b);
      REQUIRE(int(scales[b]) == int(r.scale));
      for (size_t i = 0; i < n; ++i) {
        REQUIRE(int(codes[b * bs + i]) == int(r.codes[i]));
        const double want = std::ldexp(ref_decode(ref_of(MxKind::MXFP4), r.codes[i]), int(r.scale) - 127);
        REQUIRE(double(back[b * bs + i]) == want);
        REQUIRE(double(fake[b * bs + i]) == want);
      }
    }
  }
  CHECK_THROWS_AS((MxConfig{MxKind::MXFP8_E4M3, 0}.validate()), std::invalid_argument);
}

TEST_CASE("MX exact element products and block dot vs exact double sums", "[mx]") {
  // For E4M3, E3M2, E2M3, E2M1 and INT8 elements every product and every sum of 32 products is exact in double
  // (products have <= 8 significant bits spanning <= 36 binades; 32 of them need <= 41 + 5 bits), so the
  // reference is the plain double sum of decoded values times 2^(scale exponents).
  std::mt19937 rng(5);
  for (MxKind k : {MxKind::MXFP8_E4M3, MxKind::MXFP6_E3M2, MxKind::MXFP6_E2M3, MxKind::MXFP4, MxKind::MXINT8}) {
    const Fp8Format& e = mx_format(k).elem();
    const unsigned ncodes = 1u << e.bits();
    // every pair of codes: the exact product
    for (unsigned a = 0; a < ncodes; ++a)
      for (unsigned b = 0; b < ncodes; ++b) {
        const double va = ref_decode(ref_of(k), a), vb = ref_decode(ref_of(k), b);
        const ExactProduct p = mx_element_product(e, uint8_t(a), e, uint8_t(b));
        if (std::isnan(va) || std::isnan(vb)) {
          REQUIRE(p.cls == ValueClass::NaN);
          continue;
        }
        REQUIRE(p.cls == ValueClass::Finite);
        REQUIRE(p.lsb_exp == 2 * e.lsb_exp());
        REQUIRE(std::ldexp(double(p.lsbs), p.lsb_exp) == va * vb);
      }
    std::uniform_int_distribution<int> code(0, int(ncodes) - 1), scale(100, 154);
    for (int trial = 0; trial < 500; ++trial) {
      uint8_t a[32], b[32];
      double ref = 0;
      const uint8_t sa = uint8_t(scale(rng)), sb = uint8_t(scale(rng));
      bool nan = false;
      for (int i = 0; i < 32; ++i) {
        a[i] = uint8_t(code(rng));
        b[i] = uint8_t(code(rng));
        const double p = ref_decode(ref_of(k), a[i]) * ref_decode(ref_of(k), b[i]);
        nan = nan || std::isnan(p);
        ref += p;
      }
      const MxBlockSum s = mx_block_dot(e, a, sa, e, b, sb, 32);
      if (nan) {
        REQUIRE(s.cls == ValueClass::NaN);
        continue;
      }
      REQUIRE(s.cls == ValueClass::Finite);
      REQUIRE(s.exp == 2 * e.lsb_exp() + (sa - 127) + (sb - 127));
      REQUIRE(s.value() == std::ldexp(ref, (sa - 127) + (sb - 127)));
      REQUIRE(s.to_f32() == static_cast<float>(std::ldexp(ref, (sa - 127) + (sb - 127))));
    }
    CHECK(mx_block_sum_bits(e, e, 32) == fp8_product_bits(e, e) + 5);
  }
  // Hand-derived: the INT8 element's most negative code squared: (-2)^2 = 4 = 16384 * 2^-12; signed product
  // width 1 + bitlength(128 * 128) = 16 bits.
  const Fp8Format& i8 = fp8_format(Fp8Kind::MXINT8);
  const ExactProduct p = mx_element_product(i8, 0x80, i8, 0x80);
  CHECK(p.lsbs == 16384);
  CHECK(p.lsb_exp == -12);
  CHECK(fp8_product_bits(i8, i8) == 16);
  // E4M3 x E4M3 block of 32 needs 37 + 5 = 42 bits.
  CHECK(mx_block_sum_bits(fp8_format(Fp8Kind::E4M3), fp8_format(Fp8Kind::E4M3), 32) == 42);
  // Scale NaN makes the block NaN; E5M2 Inf x (-1) with a finite scale is -Inf; Inf + -Inf is NaN.
  const Fp8Format& e5 = fp8_format(Fp8Kind::E5M2);
  uint8_t inf_neg1[2] = {0x7C, 0xBC}, one_one[2] = {0xBC, 0x3C};  // {+Inf, -1} . {-1, +1}
  CHECK(mx_block_dot(e5, inf_neg1, 127, e5, one_one, 0xFF, 2).cls == ValueClass::NaN);
  CHECK(mx_block_dot(e5, inf_neg1, 127, e5, one_one, 127, 2).cls == ValueClass::NegInf);
  uint8_t two_inf[2] = {0x7C, 0xFC}, ones[2] = {0x3C, 0x3C};
  CHECK(mx_block_dot(e5, two_inf, 127, e5, ones, 127, 2).cls == ValueClass::NaN);
  // E2M1 6 x 6 = 36 = 144 * 2^-2 with scales 2^3 and 2^-5: 36 * 2^-2 = 9.
  const Fp8Format& e21 = fp8_format(Fp8Kind::E2M1);
  uint8_t six = 0x7;
  const MxBlockSum s = mx_block_dot(e21, &six, 130, e21, &six, 122, 1);
  CHECK(s.lsbs == 144);
  CHECK(s.exp == -2 + 3 - 5);
  CHECK(s.value() == 9.0);
}

#include "fp8sim/model/gemm.h"
#include "fp8sim/model/bf16.h"
#include "fp8sim/model/quant/executor.h"

TEST_CASE("Executor with MX: fake quantization and the bit-exact MX GEMM per row along K", "[mx]") {
  using namespace fp8sim::quant;
  std::mt19937 rng(21);
  const int64_t m = 3, k = 40, n = 4;  // K = 32 + 8: a short last block
  LinearParams p;
  p.name = "fc";
  p.n = n;
  p.k = k;
  p.weight = random_block(rng, size_t(n * k), -6, 2);
  p.bias = {0.5f, -0.25f, 0.0f, 1.0f};
  const std::vector<float> x = random_block(rng, size_t(m * k), -4, 4);
  Recipe r;
  r.format = Format::E4M3;
  r.act_granularity = Granularity::PerToken;
  r.nongemm_bf16 = false;
  Executor ex(r);
  const MxConfig cfg{MxKind::MXFP4, 32};
  ex.set_mx(cfg);
  // Fake quantization: each row of x and of W through MX (blocks along K), then a float GEMM (+ bias).
  ex.set_mode(ExecMode::FakeQuant);
  std::vector<float> y(size_t(m * n)), xq(x.size()), wq(p.weight.size());
  ex.linear(p, x.data(), m, y.data());
  for (int64_t i = 0; i < m; ++i) mx_fake_quantize(cfg, x.data() + i * k, size_t(k), xq.data() + i * k);
  for (int64_t j = 0; j < n; ++j) mx_fake_quantize(cfg, p.weight.data() + j * k, size_t(k), wq.data() + j * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0;  // FP4 x FP4 products with scales: the float GEMM's sum differs from double by rounding only
      for (int64_t kk = 0; kk < k; ++kk) ref += double(xq[i * k + kk]) * wq[j * k + kk];
      CHECK(double(y[i * n + j]) == Approx(ref + p.bias[j]).epsilon(1e-6).margin(1e-6));
    }
  // Bit-exact: block-fp32 per output = fl32(fl32(S_0) + fl32(S_1)) + bias, S_b the exact scaled block dots.
  ex.set_mode(ExecMode::BitExact);
  ex.linear(p, x.data(), m, y.data());
  const Fp8Format& e = mx_format(MxKind::MXFP4).elem();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      std::vector<uint8_t> ac(k), wc(k), as(2), ws(2);
      mx_quantize(cfg, x.data() + i * k, size_t(k), ac.data(), as.data());
      mx_quantize(cfg, p.weight.data() + j * k, size_t(k), wc.data(), ws.data());
      float acc = 0.0f;
      for (int b = 0; b < 2; ++b) {
        const size_t len = b == 0 ? 32 : 8;
        acc = acc + mx_block_dot(e, ac.data() + 32 * b, as[b], e, wc.data() + 32 * b, ws[b], len).to_f32();
      }
      CHECK(y[i * n + j] == acc + p.bias[j]);
    }
}

TEST_CASE("Executor with MX: BitExact GEMMs hand codes and block scales to the GEMM backend", "[mx]") {
  // The hook simrun's pipeline uses (GemmCall::mx): the backend must receive the element codes and E8M0
  // scales of both operands in golden_gemm_mx's layouts, and whatever float32 words it returns become the
  // layer's outputs through the host post-processing (scale 1, + bias, BF16 when nongemm_bf16).
  using namespace fp8sim::quant;
  std::mt19937 rng(33);
  const int64_t m = 2, k = 72, n = 3;  // K = 32 + 32 + 8: three blocks, the last short
  LinearParams p;
  p.name = "fc";
  p.n = n;
  p.k = k;
  p.weight = random_block(rng, size_t(n * k), -5, 3);
  p.bias = {0.5f, -0.25f, 3.0f};
  const std::vector<float> x = random_block(rng, size_t(m * k), -3, 5);
  Recipe r;
  r.format = Format::E4M3;
  r.nongemm_bf16 = true;  // outputs delivered in BF16
  Executor ex(r);
  const MxConfig cfg{MxKind::MXINT8, 32};
  ex.set_mx(cfg, AccumulatorKind::FixedPoint);
  ex.set_mode(ExecMode::BitExact);  // MX needs no calibration
  // Expected operands, blocked here with model/mx.h directly: A row i = x row i, B column j = W row j.
  const int64_t nb = 3;
  std::vector<uint8_t> ac(size_t(m * k)), as(size_t(m * nb)), wc(size_t(n * k)), ws(size_t(n * nb));
  for (int64_t i = 0; i < m; ++i) mx_quantize(cfg, x.data() + i * k, size_t(k), ac.data() + i * k, as.data() + i * nb);
  for (int64_t j = 0; j < n; ++j)
    mx_quantize(cfg, p.weight.data() + j * k, size_t(k), wc.data() + j * k, ws.data() + j * nb);
  int calls = 0;
  // Words the backend returns: 1.25 * (i + 1) - j (exactly representable), distinct from the true products.
  ex.set_gemm_backend([&](const GemmCall& c) {
    ++calls;
    REQUIRE(c.mx != nullptr);
    CHECK(c.name == "fc");
    CHECK(c.m == m);
    CHECK(c.k == k);
    CHECK(c.n == n);
    CHECK(c.mx->num.a_kind == MxKind::MXINT8);
    CHECK(c.mx->num.block_size == 32);
    CHECK(c.mx->num.acc == AccumulatorKind::FixedPoint);
    CHECK(c.conv == nullptr);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kk = 0; kk < k; ++kk) CHECK(c.a[i * k + kk] == ac[size_t(i * k + kk)]);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j) CHECK(c.b_kn[kk * n + j] == wc[size_t(j * k + kk)]);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t kb = 0; kb < nb; ++kb) CHECK(c.mx->a_scales[i * nb + kb] == as[size_t(i * nb + kb)]);
    for (int64_t kb = 0; kb < nb; ++kb)
      for (int64_t j = 0; j < n; ++j) CHECK(c.mx->b_scales[kb * n + j] == ws[size_t(j * nb + kb)]);
    std::vector<AccWord> w(size_t(m * n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) w[size_t(i * n + j)].raw = f32_bits(1.25f * float(i + 1) - float(j));
    return w;
  });
  std::vector<float> y(size_t(m * n));
  ex.linear(p, x.data(), m, y.data());
  CHECK(calls == 1);
  CHECK(ex.backend_gemm_calls() == 1);
  CHECK(ex.backend_gemm_outputs() == uint64_t(m * n));
  // y = BF16(word + bias): every word + bias here is a multiple of 0.25 below 8, exact in BF16.
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) CHECK(y[size_t(i * n + j)] == 1.25f * float(i + 1) - float(j) + p.bias[size_t(j)]);
  // Without a backend: golden_gemm_mx, exact accumulation rounded once. Reference: the dequantized elements'
  // products summed in double (MXINT8 elements are k/64 * 2^e with |k| <= 127: 72 products of 14-bit
  // significands over a few exponents sum exactly in 53 bits), rounded to float32, + bias, to BF16.
  ex.set_gemm_backend({});
  ex.linear(p, x.data(), m, y.data());
  std::vector<float> xd(size_t(m * k)), wd(size_t(n * k));
  for (int64_t i = 0; i < m; ++i) mx_dequantize(cfg, ac.data() + i * k, as.data() + i * nb, size_t(k), xd.data() + i * k);
  for (int64_t j = 0; j < n; ++j) mx_dequantize(cfg, wc.data() + j * k, ws.data() + j * nb, size_t(k), wd.data() + j * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t kk = 0; kk < k; ++kk) s += double(xd[size_t(i * k + kk)]) * double(wd[size_t(j * k + kk)]);
      CHECK(y[size_t(i * n + j)] == round_to_bf16(float(s) + p.bias[size_t(j)]));
    }
}

TEST_CASE("MX golden GEMM: blocks with NaN scales and NaN/Inf elements among finite ones", "[mx]") {
  // golden_gemm_mx sums finite blocks from per-code tables (a speed path) and sends blocks with a NaN scale or
  // a NaN/Inf element through mx_block_dot; both must give the words of the reference: the block dots of
  // mx_block_dot, their exact sum rounded once (FixedPoint), NaN as the canonical 0x7FC00000.
  std::mt19937 rng(17);
  const int64_t m = 4, k = 100, n = 5, bs = 32, nb = 4;
  for (MxKind kind : {MxKind::MXFP8_E4M3, MxKind::MXFP8_E5M2, MxKind::MXINT8, MxKind::MXFP4}) {
    const MxFormat& f = mx_format(kind);
    std::uniform_int_distribution<int> d(0, (1 << f.element_bits()) - 1), s(115, 140);
    std::vector<uint8_t> a(m * k), b(k * n), as(m * nb), bsc(nb * n);
    for (auto& x : a) x = uint8_t(d(rng));  // any code: E4M3 NaN (0x7F/0xFF), E5M2 Inf/NaN occur
    for (auto& x : b) x = uint8_t(d(rng));
    for (auto& x : as) x = uint8_t(s(rng));
    for (auto& x : bsc) x = uint8_t(s(rng));
    as[1] = kE8M0NaN;            // row 0, block 1: NaN
    bsc[2 * n + 3] = kE8M0NaN;   // column 3, block 2: NaN
    MxGemmNumerics num;
    num.a_kind = num.b_kind = kind;
    num.acc = AccumulatorKind::FixedPoint;
    const auto w = golden_gemm_mx(num, {}, m, k, n, a.data(), as.data(), b.data(), bsc.data());
    size_t nans = 0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        std::vector<ExactTerm> terms;
        for (int64_t kb = 0; kb < nb; ++kb) {
          const int64_t len = std::min(bs, k - kb * bs);
          std::vector<uint8_t> col(len);
          for (int64_t x = 0; x < len; ++x) col[x] = b[(kb * bs + x) * n + j];
          const MxBlockSum sum = mx_block_dot(f.elem(), a.data() + i * k + kb * bs, as[i * nb + kb], f.elem(), col.data(),
                                              bsc[kb * n + j], size_t(len));
          terms.push_back(ExactTerm{sum.cls, sum.lsbs, sum.exp});
        }
        const float v = float(exact_sum_rounded(terms.data(), terms.size()));
        nans += std::isnan(v);
        INFO(f.name << " output " << i << "," << j);
        CHECK(uint32_t(w[i * n + j].raw) == (std::isnan(v) ? kCanonicalNaN32 : f32_bits(v)));
      }
    CHECK(nans >= 2);  // at least the NaN-scale outputs (row 0; column 3)
  }
}
