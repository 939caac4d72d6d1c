// Accumulator overflow (wrap): the bound model::max_wrap_free_k and the wrap events / wrong outputs that
// model::count_accumulator_wraps counts, on small shapes with a narrow fixed-point width. Every expected number
// is derived by hand in the comments from the FP8 values (E4M3 0x7E = 448 = 229376 x 2^-9, so one product of
// two is 229376^2 = 52,613,349,376 = P LSBs of 2^-18).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"

using namespace fp8sim::model;

namespace {
GemmNumerics e4m3_fixed(int width) {
  GemmNumerics n;
  n.acc = AccumulatorKind::FixedPoint;
  n.acc_width = width;
  return n;
}
constexpr int64_t P = 52613349376;  // 229376^2
}  // namespace

TEST_CASE("accumulator wrap bound: K_max = floor((2^(w-1) - 1) / largest |product|)", "[model][wrap]") {
  // The shipped register: 49 bits (exact for K = 4096). (2^48 - 1) / P = 281474976710655 / 52613349376 = 5349.9.
  CHECK(max_wrap_free_k(e4m3_fixed(49)) == 5349);
  // 38 bits: (2^37 - 1) / P = 137438953471 / 52613349376 = 2.61.
  CHECK(max_wrap_free_k(e4m3_fixed(38)) == 2);
  // INT8: (-128) x (-128) = 16384; (2^31 - 1) / 16384 = 131071.99.
  GemmNumerics i8;
  i8.int8 = true;
  i8.acc = AccumulatorKind::Int32;
  CHECK(max_wrap_free_k(i8) == 131071);
  // Float32 and an exact-for-K width cannot wrap.
  GemmNumerics f;
  f.acc = AccumulatorKind::Float32;
  CHECK(max_wrap_free_k(f) == INT64_MAX);
  CHECK(max_wrap_free_k(e4m3_fixed(0)) == INT64_MAX);
  CHECK(wrap_bound_text(e4m3_fixed(49)) ==
        "e4m3 x e4m3 -> fixed49 holds K <= floor((2^48 - 1) / 52613349376) = 5349 products without wrapping "
        "(largest |product| 52613349376 LSBs, signed 49-bit register)");
  // The bound is tight: K_max products of P fit, one more does not.
  CHECK(5349 * P <= (int64_t{1} << 48) - 1);
  CHECK(5350 * P > (int64_t{1} << 48) - 1);
}

TEST_CASE("golden GEMM wraps: events in the stated order and wrong outputs, 38-bit register", "[model][wrap]") {
  const GemmNumerics num = e4m3_fixed(38);
  const uint8_t c448 = 0x7E;
  REQUIRE(fp8_decode_f32(fp8_format(Fp8Kind::E4M3), c448) == 448.0f);
  // Range of 38 bits: [-2^37, 2^37 - 1] = [-137438953472, 137438953471]; P, 2P fit, 3P = 157840048128 does not.
  const int64_t M = 2, N = 3;
  SECTION("K = 4, one chunk: partial sums P, 2P, 3P (wraps to 3P - 2^38), then + P: one event per output") {
    const int64_t K = 4;
    std::vector<uint8_t> a(size_t(M * K), c448), b(size_t(K * N), c448);
    const WrapCount w = count_accumulator_wraps(num, AccumulationOrder{0}, M, K, N, a.data(), b.data());
    CHECK(w.events == 6);   // 1 per output, 2 x 3 outputs
    CHECK(w.outputs == 6);  // 4P = 210453397504 does not fit: every output is wrong
    // The golden words are the sum modulo 2^38: 4P - 2^38 = -64424509440.
    const auto words = golden_gemm(num, AccumulationOrder{0}, M, K, N, a.data(), b.data());
    for (const AccWord& x : words) CHECK(x.raw == static_cast<int128>(4 * P - (int64_t{1} << 38)));
  }
  SECTION("K = 4 in chunks of 2: chunk sums 2P fit; the register adds 2P + 2P = 4P: one event per output") {
    const int64_t K = 4;
    std::vector<uint8_t> a(size_t(M * K), c448), b(size_t(K * N), c448);
    const WrapCount w = count_accumulator_wraps(num, AccumulationOrder{2}, M, K, N, a.data(), b.data());
    CHECK(w.events == 6);
    CHECK(w.outputs == 6);
  }
  SECTION("K = 8 in chunks of 4: each chunk wraps once (as above), the register adds two wrapped chunk sums "
          "2 x (4P - 2^38) = -128849018880 >= -2^37 (no event): two events per output") {
    const int64_t K = 8;
    std::vector<uint8_t> a(size_t(M * K), c448), b(size_t(K * N), c448);
    const WrapCount w = count_accumulator_wraps(num, AccumulationOrder{4}, M, K, N, a.data(), b.data());
    CHECK(w.events == 12);
    CHECK(w.outputs == 6);
  }
  SECTION("alternating signs never reach 2P: no event, no wrong output") {
    const int64_t K = 8;
    std::vector<uint8_t> a(size_t(M * K), c448), b(size_t(K * N), c448);
    for (int64_t k = 1; k < K; k += 2)
      for (int64_t j = 0; j < N; ++j) b[size_t(k * N + j)] = 0xFE;  // -448
    const WrapCount w = count_accumulator_wraps(num, AccumulationOrder{0}, M, K, N, a.data(), b.data());
    CHECK(w.events == 0);
    CHECK(w.outputs == 0);
  }
  SECTION("transient wraps: products P, P, P, -P") {
    // 3P wraps to 3P - 2^38 = -117037858816 (event 1); minus P gives -169651208192 < -2^37, which wraps back
    // (event 2) to 105226698752 = 2P: two events per output, yet every output is right.
    const int64_t K = 4;
    std::vector<uint8_t> a(size_t(M * K), c448), b(size_t(K * N), c448);
    for (int64_t j = 0; j < N; ++j) b[size_t(3 * N + j)] = 0xFE;
    const WrapCount w = count_accumulator_wraps(num, AccumulationOrder{0}, M, K, N, a.data(), b.data());
    CHECK(w.events == 12);
    CHECK(w.outputs == 0);
  }
}
