// Building blocks of the reference networks. Images are single HWC (channels-last) tensors; convolutions are
// lowered to a GEMM through im2col so that they run through the same Executor (and the same golden GEMM) as
// linear layers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/nn/tensor.h"
#include "fp8sim/model/quant/executor.h"

namespace fp8sim::nn {

// An HWC activation.
struct Image {
  int64_t h = 0, w = 0, c = 0;
  std::vector<float> data;  // [h][w][c]
  Image() = default;
  Image(int64_t h_, int64_t w_, int64_t c_) : h(h_), w(w_), c(c_), data(static_cast<size_t>(h_ * w_ * c_), 0.0f) {}
};

// A 2-D convolution as a GEMM: gemm.weight is [cout][kh][kw][cin] (the im2col column order), gemm.bias [cout]
// (empty when none). Built from a PyTorch [cout][cin][kh][kw] weight.
struct Conv2d {
  quant::LinearParams gemm;  // n = cout, k = kh * kw * cin
  int64_t cin = 0, cout = 0, kh = 0, kw = 0, stride = 1, pad = 0;
  int64_t out_size(int64_t in, int64_t kernel) const { return (in + 2 * pad - kernel) / stride + 1; }
};

// From PyTorch layout; w_oihw has cout*cin*kh*kw values.
Conv2d make_conv(const std::string& name, const std::vector<float>& w_oihw, int64_t cout, int64_t cin, int64_t kh,
                 int64_t kw, int64_t stride, int64_t pad, std::vector<float> bias = {});
// The weight back in PyTorch [cout][cin][kh][kw] order (for export).
std::vector<float> conv_weight_oihw(const Conv2d& c);

// Folds an inference BatchNorm (y = gamma * (x - mean) / sqrt(var + eps) + beta) into the convolution:
// w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta, computed in double.
void fold_batchnorm(Conv2d& c, const std::vector<float>& gamma, const std::vector<float>& beta,
                    const std::vector<float>& mean, const std::vector<float>& var, double eps);

// im2col: row (oy, ox) of the result holds the receptive field in (ky, kx, ci) order, zeros where it falls
// into the padding. Result [oh * ow][kh * kw * cin].
std::vector<float> im2col(const Image& x, int64_t kh, int64_t kw, int64_t stride, int64_t pad, int64_t* oh,
                          int64_t* ow);
// Convolution through im2col and the executor's GEMM.
Image conv2d(quant::Executor& ex, const Conv2d& c, const Image& x);
// Direct convolution (six nested loops, double accumulation): the reference in tests.
Image conv2d_direct(const Conv2d& c, const Image& x);

void relu_inplace(std::vector<float>& x);
Image maxpool2d(const Image& x, int64_t k, int64_t stride, int64_t pad);  // padding never wins (-inf)
std::vector<float> global_avgpool(const Image& x);                         // [c]

}  // namespace fp8sim::nn
