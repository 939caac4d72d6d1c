// The FP32 building blocks: the blocked GEMM against the plain loop, im2col convolution against direct
// convolution, BatchNorm folding.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "fp8sim/model/nn/layers.h"
#include "fp8sim/model/nn/rng.h"
#include "fp8sim/model/nn/sgemm.h"

using namespace fp8sim;

TEST_CASE("sgemm_nt equals the plain loop bit for bit (same summation order)", "[nn][sgemm]") {
  nn::Rng rng(1);
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 7}, {4, 8, 256}, {13, 17, 300},
                          {65, 9, 513}, {70, 33, 1000}}) {
    std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(n * k)), bias(static_cast<size_t>(n));
    for (float& v : a) v = static_cast<float>(rng.normal());
    for (float& v : b) v = static_cast<float>(rng.normal());
    for (float& v : bias) v = static_cast<float>(rng.normal());
    std::vector<float> c(static_cast<size_t>(m * n)), r(c.size());
    nn::sgemm_nt(m, n, k, a.data(), k, b.data(), k, c.data(), n, bias.data());
    nn::sgemm_nt_reference(m, n, k, a.data(), k, b.data(), k, r.data(), n, bias.data());
    INFO("m=" << m << " n=" << n << " k=" << k);
    CHECK(c == r);
    // And close to a double-precision dot product.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double d = bias[j];
        for (int64_t kk = 0; kk < k; ++kk) d += static_cast<double>(a[i * k + kk]) * b[j * k + kk];
        CHECK(std::fabs(c[i * n + j] - d) <= 1e-5 * (std::sqrt(static_cast<double>(k)) + std::fabs(d)));
      }
  }
}

TEST_CASE("im2col convolution equals direct convolution", "[nn][conv]") {
  nn::Rng rng(2);
  struct Case { int64_t h, w, cin, cout, k, stride, pad; };
  for (const Case& c : {Case{8, 8, 3, 4, 3, 1, 1}, Case{9, 7, 5, 6, 3, 2, 1}, Case{12, 12, 3, 8, 7, 2, 3},
                        Case{6, 6, 16, 32, 1, 2, 0}, Case{5, 5, 4, 3, 5, 1, 0}, Case{4, 4, 2, 2, 1, 1, 0}}) {
    std::vector<float> w(static_cast<size_t>(c.cout * c.cin * c.k * c.k)), b(static_cast<size_t>(c.cout));
    for (float& v : w) v = static_cast<float>(rng.normal());
    for (float& v : b) v = static_cast<float>(rng.normal());
    const nn::Conv2d conv = nn::make_conv("conv", w, c.cout, c.cin, c.k, c.k, c.stride, c.pad, b);
    nn::Image x(c.h, c.w, c.cin);
    for (float& v : x.data) v = static_cast<float>(rng.normal());
    quant::Executor ex;
    const nn::Image y = nn::conv2d(ex, conv, x), r = nn::conv2d_direct(conv, x);
    REQUIRE(y.h == r.h);
    REQUIRE(y.w == r.w);
    REQUIRE(y.c == c.cout);
    CHECK(y.h == (c.h + 2 * c.pad - c.k) / c.stride + 1);
    for (size_t i = 0; i < y.data.size(); ++i) CHECK(std::fabs(y.data[i] - r.data[i]) <= 1e-4 * (1 + std::fabs(r.data[i])));
    CHECK(nn::conv_weight_oihw(conv) == w);  // layout round trip
  }
}

TEST_CASE("a hand-computed 3x3 convolution with padding", "[nn][conv]") {
  // 3x3 input 1..9, one channel; kernel all ones, pad 1: each output sums its 3x3 neighbourhood.
  nn::Image x(3, 3, 1);
  for (int i = 0; i < 9; ++i) x.data[i] = static_cast<float>(i + 1);
  const nn::Conv2d conv = nn::make_conv("c", std::vector<float>(9, 1.0f), 1, 1, 3, 3, 1, 1);
  quant::Executor ex;
  const nn::Image y = nn::conv2d(ex, conv, x);
  CHECK(y.data == std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28});
  // stride 2: the corners.
  const nn::Conv2d s2 = nn::make_conv("c", std::vector<float>(9, 1.0f), 1, 1, 3, 3, 2, 1);
  CHECK(nn::conv2d(ex, s2, x).data == std::vector<float>{12, 16, 24, 28});
}

TEST_CASE("BatchNorm folding equals conv followed by BN", "[nn][conv]") {
  nn::Rng rng(3);
  const int64_t cin = 3, cout = 4;
  std::vector<float> w(static_cast<size_t>(cout * cin * 9));
  for (float& v : w) v = static_cast<float>(rng.normal());
  std::vector<float> g{0.5f, 1.5f, -1.0f, 2.0f}, be{0.1f, -0.2f, 0.3f, 0.0f}, mu{0.2f, -1.0f, 0.0f, 3.0f},
      var{0.25f, 4.0f, 1.0f, 0.01f};
  const nn::Conv2d plain = nn::make_conv("c", w, cout, cin, 3, 3, 1, 1);
  nn::Conv2d folded = plain;
  nn::fold_batchnorm(folded, g, be, mu, var, 1e-5);
  nn::Image x(5, 5, cin);
  for (float& v : x.data) v = static_cast<float>(rng.normal());
  const nn::Image a = nn::conv2d_direct(plain, x), b = nn::conv2d_direct(folded, x);
  for (size_t i = 0; i < a.data.size(); ++i) {
    const size_t o = i % cout;
    const double bn = (a.data[i] - mu[o]) / std::sqrt(var[o] + 1e-5) * g[o] + be[o];
    CHECK(std::fabs(b.data[i] - bn) <= 1e-4 * (1 + std::fabs(bn)));
  }
  CHECK_THROWS(nn::fold_batchnorm(folded, {1.0f}, be, mu, var, 1e-5));
}

TEST_CASE("maxpool and global average pool", "[nn]") {
  nn::Image x(4, 4, 1);
  for (int i = 0; i < 16; ++i) x.data[i] = static_cast<float>(i);
  CHECK(nn::maxpool2d(x, 3, 2, 1).data == std::vector<float>{5, 7, 13, 15});
  CHECK(nn::global_avgpool(x) == std::vector<float>{7.5f});
}
