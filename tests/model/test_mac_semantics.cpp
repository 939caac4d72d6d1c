// The declared MAC semantics (model/gemm.h) and the conformance vectors (model/conformance.h): worked examples
// derived by hand below, identities between the semantics, and the MX golden GEMM against the block dot.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/model/conformance.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"

using namespace fp8sim::model;

namespace {

GemmNumerics sem(const std::string& s) {
  GemmNumerics n;
  REQUIRE(parse_mac_semantics(s, n).empty());
  return n;
}

float dot(const GemmNumerics& n, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int64_t chunk = 0) {
  const AccWord w = golden_gemm(n, AccumulationOrder{chunk}, 1, int64_t(a.size()), 1, a.data(), b.data()).at(0);
  return acc_word_to_float(n, w);
}

// The worked example (README): E4M3 a = {256, 2^-4, -256, 0.75}, b = {256, 2^-4, 256, 2^-7}; codes: 256 =
// 2^8 -> exponent field 8 + 7 = 15, 0x78; 2^-4 -> field 3, 0x18; 0.75 = 1.5 * 2^-1 -> field 6, mantissa 100,
// 0x34; 2^-7 = 4 * 2^-9 (subnormal) -> 0x04. Products p = {2^16, 2^-8, -2^16, 3 * 2^-9}.
const std::vector<uint8_t> kA = {0x78, 0x18, 0xF8, 0x34}, kB = {0x78, 0x18, 0x78, 0x04};

}  // namespace

TEST_CASE("MAC semantics: the README's worked example, derived by hand", "[semantics]") {
  // exact: 2^16 + 2^-8 - 2^16 + 3 * 2^-9 = 5 * 2^-9 = 0.009765625; register LSB 2^-18 -> raw 5 * 2^9 = 2560.
  {
    const GemmNumerics n = sem("exact");
    const AccWord w = golden_gemm(n, {}, 1, 4, 1, kA.data(), kB.data()).at(0);
    CHECK(w.raw == 2560);
    CHECK(acc_word_value(n, w) == 0.009765625);
  }
  // fp32: 2^16 + 2^-8 is half an ulp (ulp(2^16) = 2^-7): a tie, to even -> 2^16; - 2^16 -> 0; + 3 * 2^-9 =
  // 0.005859375.
  CHECK(dot(sem("fp32"), kA, kB) == 0.005859375f);
  // block-fp32(2): block 0 = 2^16 + 2^-8 exactly, rounded once: tie -> 2^16. Block 1 = -2^16 + 3 * 2^-9 =
  // -(65536 - 0.005859375): binade 2^15, ulp 2^-8, i.e. -(16777216 - 1.5) ulps, a tie -> 16777214 (even) ->
  // -65535.9921875. acc = 65536 - 65535.9921875 = 2^-7 = 0.0078125.
  CHECK(dot(sem("block-fp32:2"), kA, kB) == 0.0078125f);
  // promote-2(p14): narrow ulp at 2^16 is 2^(16-13) = 8: 2^16 + 2^-8 -> 2^16; promoted: acc = 65536. Then
  // -2^16 + 3 * 2^-9: binade 2^15, narrow ulp 4 -> -65536; promoted: acc = 0.
  CHECK(dot(sem("promote:2:14"), kA, kB) == 0.0f);
  // block-fp32(4): one block, exact sum rounded once: 5 * 2^-9 (exact in float32).
  CHECK(dot(sem("block-fp32:4"), kA, kB) == 0.009765625f);
  // promote-4(p24): a float32-precision narrow accumulator over all four products = fp32's sequence.
  CHECK(dot(sem("promote:4:24"), kA, kB) == 0.005859375f);
}

TEST_CASE("MAC semantics: names, parsing, validation", "[semantics]") {
  CHECK(mac_semantics_name(sem("exact")) == "exact");
  CHECK(mac_semantics_name(sem("fp32")) == "fp32");
  CHECK(mac_semantics_name(sem("block-fp32")) == "block-fp32(32)");
  CHECK(mac_semantics_name(sem("promote")) == "promote-128(p14)");
  CHECK(mac_semantics_name(sem("promote:64:10")) == "promote-64(p10)");
  CHECK(sem("block-fp32:8").describe() == "e4m3 x e4m3 -> block-fp32(8)");
  GemmNumerics n;
  for (const char* bad : {"exactly", "block-fp32:0", "block-fp32:x", "promote:0", "promote:8:25", "promote:8:1",
                          "fp32:3", "", "block-fp32:2:3"}) {
    INFO(bad);
    const std::string err = parse_mac_semantics(bad, n);
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
  }
  GemmNumerics i8;
  i8.int8 = true;
  i8.acc = AccumulatorKind::BlockFp32;
  CHECK_THROWS_AS(i8.validate(4), std::invalid_argument);
}

TEST_CASE("MAC semantics: identities between them on random GEMMs", "[semantics]") {
  std::mt19937 rng(11);
  for (Fp8Kind f : {Fp8Kind::E4M3, Fp8Kind::E5M2, Fp8Kind::E2M1}) {
    const Fp8Format& fmt = fp8_format(f);
    std::uniform_int_distribution<int> d(0, (1 << fmt.bits()) - 1);
    const int64_t m = 3, k = 77, n = 5;
    std::vector<uint8_t> a(m * k), b(k * n);
    auto draw = [&] {
      uint8_t c;
      do c = uint8_t(d(rng));
      while (fp8_is_nan(fmt, c) || fp8_is_inf(fmt, c));
      return c;
    };
    for (auto& x : a) x = draw();
    for (auto& x : b) x = draw();
    auto run = [&](std::string s, int64_t chunk) {
      GemmNumerics g = sem(s);
      g.a_kind = g.b_kind = f;
      return golden_gemm(g, AccumulationOrder{chunk}, m, k, n, a.data(), b.data());
    };
    INFO(fmt.name);
    for (int64_t chunk : {int64_t{0}, int64_t{16}}) {
      // block-fp32(1) and promote-1(p24) are fp32: every product is exact in float32 and rounds to itself.
      CHECK(run("block-fp32:1", chunk) == run("fp32", chunk));
      CHECK(run("promote:1:24", chunk) == run("fp32", chunk));
    }
    // block-fp32(K) is the exact sum rounded once to float32.
    const auto ex = run("exact", 0), blk = run("block-fp32:77", 0);
    GemmNumerics exn = sem("exact");
    exn.a_kind = exn.b_kind = f;
    for (size_t i = 0; i < ex.size(); ++i) CHECK(acc_word_to_float(exn, ex[i]) == f32_from_bits(uint32_t(blk[i].raw)));
  }
}

TEST_CASE("MX golden GEMM: blocks along K, scales as exponent adds", "[semantics][mx]") {
  std::mt19937 rng(3);
  const int64_t m = 2, k = 70, n = 3, bs = 32, nb = 3;  // last block of 6
  for (int mk = 0; mk < kMxKindCount; ++mk) {
    const MxFormat& f = mx_format(MxKind(mk));
    std::uniform_int_distribution<int> d(0, (1 << f.element_bits()) - 1), s(110, 144);
    std::vector<uint8_t> a(m * k), b(k * n), as(m * nb), bsc(nb * n);
    auto draw = [&] {
      uint8_t c;
      do c = uint8_t(d(rng));
      while (mx_element_is_nan(f.elem(), c) || mx_element_is_inf(f.elem(), c));
      return c;
    };
    for (auto& x : a) x = draw();
    for (auto& x : b) x = draw();
    for (auto& x : as) x = uint8_t(s(rng));
    for (auto& x : bsc) x = uint8_t(s(rng));
    MxGemmNumerics num;
    num.a_kind = num.b_kind = MxKind(mk);
    num.acc = AccumulatorKind::BlockFp32;
    const auto w = golden_gemm_mx(num, {}, m, k, n, a.data(), as.data(), b.data(), bsc.data());
    num.acc = AccumulatorKind::FixedPoint;
    const auto wx = golden_gemm_mx(num, {}, m, k, n, a.data(), as.data(), b.data(), bsc.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        // Reference: the block dots in k order (mx_block_dot is checked against exact double sums in
        // test_mx.cpp), acc = fl32(acc + fl32(S_b)); and their exact sum rounded once for mx-exact.
        float acc = 0.0f;
        std::vector<ExactTerm> terms;
        for (int64_t kb = 0; kb < nb; ++kb) {
          const int64_t len = std::min(bs, k - kb * bs);
          std::vector<uint8_t> col(len);
          for (int64_t x = 0; x < len; ++x) col[x] = b[(kb * bs + x) * n + j];
          const MxBlockSum sum = mx_block_dot(f.elem(), a.data() + i * k + kb * bs, as[i * nb + kb], f.elem(), col.data(),
                                              bsc[kb * n + j], size_t(len));
          acc = acc + sum.to_f32();
          terms.push_back(ExactTerm{sum.cls, sum.lsbs, sum.exp});
        }
        INFO(f.name << " output " << i << "," << j);
        CHECK(f32_from_bits(uint32_t(w[i * n + j].raw)) == acc);
        CHECK(f32_from_bits(uint32_t(wx[i * n + j].raw)) == float(exact_sum_rounded(terms.data(), terms.size())));
      }
  }
  MxGemmNumerics bad;
  CHECK_THROWS_AS(bad.validate(64, AccumulationOrder{48}), std::invalid_argument);  // chunk splits a block
}

TEST_CASE("exact_sum_rounded and round_sum: hand-derived cases", "[semantics]") {
  // 3 * 2^250 + 5 * 2^-290 - 3 * 2^250 = 5 * 2^-290 exactly (540 binades apart: a wide register).
  const ExactTerm w[3] = {{ValueClass::Finite, 3, 250}, {ValueClass::Finite, 5, -290}, {ValueClass::Finite, -3, 250}};
  CHECK(exact_sum_rounded(w, 3, RoundingTarget{53, -1074, 1023}) == std::ldexp(5.0, -290));
  // 1 + 2^-24 is a float32 tie -> 1; 1 + 2^-24 + 2^-60 is above the tie -> 1 + 2^-23.
  CHECK(round_sum(1, 0, 1, -24, RoundingTarget{}) == 1.0);
  const ExactTerm t[3] = {{ValueClass::Finite, 1, 0}, {ValueClass::Finite, 1, -24}, {ValueClass::Finite, 1, -60}};
  CHECK(exact_sum_rounded(t, 3) == 1.0 + std::ldexp(1.0, -23));
  // 2^127 * (2 - 2^-24) rounds to 2^128: overflow to +Inf; the largest float32 stays.
  CHECK(std::isinf(round_exact((int128{1} << 25) - 1, 103, RoundingTarget{})));
  CHECK(round_exact((int128{1} << 24) - 1, 104, RoundingTarget{}) == double(std::numeric_limits<float>::max()));
  // 3 * 2^-151 -> float32 subnormal quantum 2^-149: 0.75 quanta -> 1 quantum.
  CHECK(round_exact(3, -151, RoundingTarget{}) == std::ldexp(1.0, -149));
  // Specials: +Inf + -Inf = NaN.
  const ExactTerm s[2] = {{ValueClass::PosInf, 0, 0}, {ValueClass::NegInf, 0, 0}};
  CHECK(std::isnan(exact_sum_rounded(s, 2)));
}

TEST_CASE("conformance vectors: regenerated, the worked examples as derived by hand", "[semantics]") {
  const auto j = conformance_vectors(1, 1);
  REQUIRE(j["fp8sim_conformance"] == 1);
  auto find = [&](const std::string& id) {
    for (const auto& v : j["vectors"])
      if (v["id"] == id) return v;
    FAIL("no vector " << id);
    return nlohmann::json();
  };
  auto word = [](const nlohmann::json& v, const std::string& s) {
    for (const auto& r : v["results"])
      if (r["semantics"] == s) return r["word"].get<std::string>();
    return std::string("missing");
  };
  // fp8-worked, hand-derived above: exact 2560 = 0xa00 in a 39-bit register (E4M3 products 37 bits + ceil(log2
  // 4)); fp32 0.005859375 = 1.5 * 2^-8 -> 0x3bc00000; block-fp32(2) 2^-7 -> 0x3c000000; promote-2(p14) +0.
  const auto fw = find("fp8-worked");
  CHECK(word(fw, "exact") == "0x0000000a00");
  CHECK(fw["results"][0]["word_bits"] == 39);
  CHECK(word(fw, "fp32") == "0x3bc00000");
  CHECK(word(fw, "block-fp32(2)") == "0x3c000000");
  CHECK(word(fw, "promote-2(p14)") == "0x00000000");
  // mx-worked-cancel: scales 2^3 * 2^-3 and 2^-2 * 2^2 multiply to 1: the FP8 results; mx-exact is the exact
  // 5 * 2^-9 = 1.25 * 2^-7 rounded once -> 0x3c200000.
  const auto mc = find("mx-worked-cancel");
  CHECK(word(mc, "mx-exact") == "0x3c200000");
  CHECK(word(mc, "mx-fp32") == "0x3bc00000");
  CHECK(word(mc, "mx-block-fp32") == "0x3c000000");
  CHECK(word(mc, "mx-promote-2(p14)") == "0x00000000");
  // mx-worked-scaled: block 0 x 2 -> products 2^17, 2^-7 | -2^16, 3 * 2^-9.
  //   exact: 2^16 + 7 * 2^-9; float32 ulp at 2^16 is 2^-7 = 4 * 2^-9: 1.75 ulps -> 2 ulps: 65536.015625 =
  //     0x47800002.
  //   block-fp32: 2^17 + 2^-7 is a tie (ulp 2^-6) -> 2^17; block 1 -> -65535.9921875 (above); 131072 -
  //     65535.9921875 = 65536 + 2^-7 -> 0x47800001.
  //   fp32: 2^17; + 2^-7 tie -> 2^17; - 2^16 = 2^16; + 3 * 2^-9 = 0.75 ulp -> up: 65536 + 2^-7 -> 0x47800001.
  //   promote-2(p14): 2^17 + 2^-7 -> 2^17; -2^16 + 3 * 2^-9 -> -2^16; 2^17 - 2^16 = 65536 -> 0x47800000.
  const auto ms = find("mx-worked-scaled");
  CHECK(word(ms, "mx-exact") == "0x47800002");
  CHECK(word(ms, "mx-block-fp32") == "0x47800001");
  CHECK(word(ms, "mx-fp32") == "0x47800001");
  CHECK(word(ms, "mx-promote-2(p14)") == "0x47800000");
  // Specials: E5M2 +Inf + -Inf -> NaN; a NaN scale -> NaN; MXINT8 1 * 1 * 2^254 overflows float32 -> +Inf.
  CHECK(word(find("fp8-e5m2-inf-minus-inf"), "fp32") == "0x7fc00000");
  CHECK(word(find("mx-nan-scale"), "mx-block-fp32") == "0x7fc00000");
  CHECK(word(find("mx-extreme-scales"), "mx-block-fp32") == "0x7f800000");
  // Same seed, same vectors.
  CHECK(conformance_vectors(1, 1) == j);
}
