#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/layers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fp8sim::nn {

Conv2d make_conv(const std::string& name, const std::vector<float>& w_oihw, int64_t cout, int64_t cin, int64_t kh,
                 int64_t kw, int64_t stride, int64_t pad, std::vector<float> bias) {
  if (static_cast<int64_t>(w_oihw.size()) != cout * cin * kh * kw)
    throw std::invalid_argument("conv '" + name + "': weight has " + std::to_string(w_oihw.size()) +
                                " values, expected " + std::to_string(cout * cin * kh * kw));
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != cout)
    throw std::invalid_argument("conv '" + name + "': bias has the wrong size");
  if (stride < 1 || pad < 0) throw std::invalid_argument("conv '" + name + "': bad stride/padding");
  Conv2d c;
  c.cin = cin, c.cout = cout, c.kh = kh, c.kw = kw, c.stride = stride, c.pad = pad;
  c.gemm.name = name;
  c.gemm.n = cout;
  c.gemm.k = kh * kw * cin;
  c.gemm.weight.resize(w_oihw.size());
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          c.gemm.weight[((o * kh + y) * kw + x) * cin + i] = w_oihw[((o * cin + i) * kh + y) * kw + x];
  c.gemm.bias = std::move(bias);
  return c;
}

std::vector<float> conv_weight_oihw(const Conv2d& c) {
  std::vector<float> w(c.gemm.weight.size());
  for (int64_t o = 0; o < c.cout; ++o)
    for (int64_t i = 0; i < c.cin; ++i)
      for (int64_t y = 0; y < c.kh; ++y)
        for (int64_t x = 0; x < c.kw; ++x)
          w[((o * c.cin + i) * c.kh + y) * c.kw + x] = c.gemm.weight[((o * c.kh + y) * c.kw + x) * c.cin + i];
  return w;
}

void fold_batchnorm(Conv2d& c, const std::vector<float>& gamma, const std::vector<float>& beta,
                    const std::vector<float>& mean, const std::vector<float>& var, double eps) {
  const size_t n = static_cast<size_t>(c.cout);
  if (gamma.size() != n || beta.size() != n || mean.size() != n || var.size() != n)
    throw std::invalid_argument("batchnorm folded into '" + c.gemm.name + "' has parameters of the wrong size");
  std::vector<float> bias(n);
  const int64_t k = c.gemm.k;
  for (size_t o = 0; o < n; ++o) {
    if (!(var[o] + eps > 0.0)) throw std::invalid_argument("batchnorm of '" + c.gemm.name + "': variance + eps <= 0");
    const double g = static_cast<double>(gamma[o]) / std::sqrt(static_cast<double>(var[o]) + eps);
    for (int64_t i = 0; i < k; ++i) {
      float& w = c.gemm.weight[o * k + i];
      w = static_cast<float>(w * g);
    }
    const double b0 = c.gemm.bias.empty() ? 0.0 : c.gemm.bias[o];
    bias[o] = static_cast<float>((b0 - mean[o]) * g + beta[o]);
  }
  c.gemm.bias = std::move(bias);
}

std::vector<float> im2col(const Image& x, int64_t kh, int64_t kw, int64_t stride, int64_t pad, int64_t* oh_out,
                          int64_t* ow_out) {
  const int64_t oh = (x.h + 2 * pad - kh) / stride + 1, ow = (x.w + 2 * pad - kw) / stride + 1;
  if (oh <= 0 || ow <= 0) throw std::invalid_argument("im2col: kernel larger than the padded input");
  const int64_t c = x.c, k = kh * kw * c;
  std::vector<float> col(static_cast<size_t>(oh * ow * k), 0.0f);
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t ox = 0; ox < ow; ++ox) {
      float* row = col.data() + (oy * ow + ox) * k;
      for (int64_t ky = 0; ky < kh; ++ky) {
        const int64_t iy = oy * stride - pad + ky;
        if (iy < 0 || iy >= x.h) continue;
        for (int64_t kx = 0; kx < kw; ++kx) {
          const int64_t ix = ox * stride - pad + kx;
          if (ix < 0 || ix >= x.w) continue;
          std::copy_n(x.data.data() + (iy * x.w + ix) * c, c, row + (ky * kw + kx) * c);
        }
      }
    }
  *oh_out = oh;
  *ow_out = ow;
  return col;
}

Image conv2d(quant::Executor& ex, const Conv2d& c, const Image& x) {
  if (x.c != c.cin)
    throw std::invalid_argument("conv '" + c.gemm.name + "': input has " + std::to_string(x.c) + " channels, expected " +
                                std::to_string(c.cin));
  int64_t oh = 0, ow = 0;
  Image out;
  if (c.kh == 1 && c.kw == 1 && c.stride == 1 && c.pad == 0) {  // a 1x1 convolution is already a GEMM
    oh = x.h, ow = x.w;
    out = Image(oh, ow, c.cout);
    ex.linear(c.gemm, x.data.data(), oh * ow, out.data.data());
    return out;
  }
  // Observe / fake-quantize the input once, not the up to kh*kw copies im2col makes of each value.
  Image xq;
  const bool prepared = ex.prepare_input(c.gemm, x.data.data(), x.data.size(), &xq.data);
  const bool quantized = !xq.data.empty();
  if (quantized) xq.h = x.h, xq.w = x.w, xq.c = x.c;
  const std::vector<float> col = im2col(quantized ? xq : x, c.kh, c.kw, c.stride, c.pad, &oh, &ow);
  out = Image(oh, ow, c.cout);
  ex.set_next_conv(quant::GemmConv{x.h, x.w, x.c, c.kh, c.kw, c.stride, c.pad});
  ex.linear(c.gemm, col.data(), oh * ow, out.data.data(), prepared);
  return out;
}

Image conv2d_direct(const Conv2d& c, const Image& x) {
  const int64_t oh = c.out_size(x.h, c.kh), ow = c.out_size(x.w, c.kw);
  Image out(oh, ow, c.cout);
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t ox = 0; ox < ow; ++ox)
      for (int64_t o = 0; o < c.cout; ++o) {
        double acc = c.gemm.bias.empty() ? 0.0 : c.gemm.bias[o];
        for (int64_t ky = 0; ky < c.kh; ++ky)
          for (int64_t kx = 0; kx < c.kw; ++kx) {
            const int64_t iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pad + kx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            for (int64_t i = 0; i < c.cin; ++i)
              acc += static_cast<double>(x.data[(iy * x.w + ix) * x.c + i]) *
                     c.gemm.weight[((o * c.kh + ky) * c.kw + kx) * c.cin + i];
          }
        out.data[(oy * ow + ox) * c.cout + o] = static_cast<float>(acc);
      }
  return out;
}

void relu_inplace(std::vector<float>& x) {
  for (float& v : x) v = v > 0.0f ? v : 0.0f;
}

Image maxpool2d(const Image& x, int64_t k, int64_t stride, int64_t pad) {
  const int64_t oh = (x.h + 2 * pad - k) / stride + 1, ow = (x.w + 2 * pad - k) / stride + 1;
  Image out(oh, ow, x.c);
  for (int64_t oy = 0; oy < oh; ++oy)
    for (int64_t ox = 0; ox < ow; ++ox)
      for (int64_t ch = 0; ch < x.c; ++ch) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < k; ++ky)
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            m = std::max(m, x.data[(iy * x.w + ix) * x.c + ch]);
          }
        out.data[(oy * ow + ox) * x.c + ch] = m;
      }
  return out;
}

std::vector<float> global_avgpool(const Image& x) {
  std::vector<float> out(static_cast<size_t>(x.c));
  for (int64_t ch = 0; ch < x.c; ++ch) {
    double s = 0.0;
    for (int64_t p = 0; p < x.h * x.w; ++p) s += x.data[p * x.c + ch];
    out[ch] = static_cast<float>(s / static_cast<double>(x.h * x.w));
  }
  return out;
}

}  // namespace fp8sim::nn
