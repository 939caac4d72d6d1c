#pragma GCC optimize("fp-contract=off")  // the same bits with or without FMA hardware
#include "fp8sim/model/nn/resnet.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "fp8sim/model/nn/rng.h"

namespace fp8sim::nn {

ResNetConfig resnet_config(const std::string& name) {
  ResNetConfig c;
  c.name = name;
  for (int depth : {20, 32, 44, 56, 110})
    if (name == "resnet" + std::to_string(depth)) {
      const int n = (depth - 2) / 6;
      c.blocks = {n, n, n};
      return c;
    }
  c.cifar = false;
  c.num_classes = 1000;
  c.input_size = 224;
  if (name == "resnet18") {
    c.blocks = {2, 2, 2, 2};
    return c;
  }
  if (name == "resnet50") {
    c.bottleneck = true;
    c.blocks = {3, 4, 6, 3};
    return c;
  }
  throw std::invalid_argument("unknown ResNet '" + name + "' (resnet20/32/44/56/110, resnet18, resnet50)");
}

namespace {
std::vector<float> vec(const TensorMap& w, const std::string& name, int64_t n) { return w.get(name, {n}).data; }

Conv2d load_conv_bn(const TensorMap& w, const std::string& conv, const std::string& bn, int64_t cout, int64_t cin,
                    int64_t k, int64_t stride, int64_t pad, double eps) {
  const Tensor& t = w.get(conv + ".weight", {cout, cin, k, k});
  Conv2d c = make_conv(conv, t.data, cout, cin, k, k, stride, pad);
  fold_batchnorm(c, vec(w, bn + ".weight", cout), vec(w, bn + ".bias", cout), vec(w, bn + ".running_mean", cout),
                 vec(w, bn + ".running_var", cout), eps);
  return c;
}
}  // namespace

ResNet::ResNet(const ResNetConfig& cfg, const TensorMap& w) : cfg_(cfg) {
  const double eps = cfg.bn_eps;
  int64_t in = cfg.cifar ? 16 : 64;
  if (cfg.cifar)
    convs_.push_back(load_conv_bn(w, "conv1", "bn1", 16, 3, 3, 1, 1, eps));
  else
    convs_.push_back(load_conv_bn(w, "conv1", "bn1", 64, 3, 7, 2, 3, eps));
  stem_ = 0;
  const int64_t base = cfg.cifar ? 16 : 64;
  for (size_t s = 0; s < cfg.blocks.size(); ++s) {
    const int64_t planes = base << s;
    for (int i = 0; i < cfg.blocks[s]; ++i) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      Block b;
      b.stride = (i == 0 && s > 0) ? 2 : 1;
      b.in_planes = in;
      if (!cfg.bottleneck) {
        b.out_planes = planes;
        b.conv1 = static_cast<int>(convs_.size());
        convs_.push_back(load_conv_bn(w, p + ".conv1", p + ".bn1", planes, in, 3, b.stride, 1, eps));
        b.conv2 = static_cast<int>(convs_.size());
        convs_.push_back(load_conv_bn(w, p + ".conv2", p + ".bn2", planes, planes, 3, 1, 1, eps));
      } else {
        b.out_planes = planes * 4;
        b.conv1 = static_cast<int>(convs_.size());
        convs_.push_back(load_conv_bn(w, p + ".conv1", p + ".bn1", planes, in, 1, 1, 0, eps));
        b.conv2 = static_cast<int>(convs_.size());
        convs_.push_back(load_conv_bn(w, p + ".conv2", p + ".bn2", planes, planes, 3, b.stride, 1, eps));
        b.conv3 = static_cast<int>(convs_.size());
        convs_.push_back(load_conv_bn(w, p + ".conv3", p + ".bn3", planes * 4, planes, 1, 1, 0, eps));
      }
      if (!cfg.cifar && (b.stride != 1 || in != b.out_planes)) {
        b.down = static_cast<int>(convs_.size());
        convs_.push_back(
            load_conv_bn(w, p + ".downsample.0", p + ".downsample.1", b.out_planes, in, 1, b.stride, 0, eps));
      }
      blocks_.push_back(b);
      in = b.out_planes;
    }
  }
  const std::string fc = cfg.cifar ? "linear" : "fc";
  fc_.name = fc;
  fc_.n = cfg.num_classes;
  fc_.k = in;
  fc_.weight = w.get(fc + ".weight", {cfg.num_classes, in}).data;
  fc_.bias = vec(w, fc + ".bias", cfg.num_classes);
}

std::vector<const quant::LinearParams*> ResNet::gemm_layers() const {
  std::vector<const quant::LinearParams*> v;
  for (const Conv2d& c : convs_) v.push_back(&c.gemm);
  v.push_back(&fc_);
  return v;
}

// The non-GEMM operations go through Executor::vector_op (BF16 rounding in the quantized modes, and the
// vector unit's accounting in a simulated run): ReLU, residual add, global average pooling.
namespace {
void relu_op(const quant::Executor& ex, Image& img) {
  relu_inplace(img.data);
  ex.vector_op(quant::VectorOp::Relu, img.h * img.w, img.c, img.data.data());
}
}  // namespace

Image ResNet::block_forward(quant::Executor& ex, const Block& b, const Image& x) const {
  Image out = conv2d(ex, convs_[b.conv1], x);
  relu_op(ex, out);
  out = conv2d(ex, convs_[b.conv2], out);
  if (b.conv3 >= 0) {
    relu_op(ex, out);
    out = conv2d(ex, convs_[b.conv3], out);
  }
  // The residual add is a non-GEMM op: BF16 in the quantized modes (vector_op).
  if (b.down >= 0) {
    const Image sc = conv2d(ex, convs_[b.down], x);
    for (size_t i = 0; i < out.data.size(); ++i) out.data[i] += sc.data[i];
  } else if (b.stride != 1 || b.in_planes != b.out_planes) {
    // Option A: spatial subsampling by the stride, channels zero-padded (out - in) / 2 on each side.
    const int64_t padc = (b.out_planes - b.in_planes) / 2;
    for (int64_t y = 0; y < out.h; ++y)
      for (int64_t xx = 0; xx < out.w; ++xx) {
        const float* src = x.data.data() + ((y * b.stride) * x.w + xx * b.stride) * x.c;
        float* dst = out.data.data() + (y * out.w + xx) * out.c + padc;
        for (int64_t ch = 0; ch < x.c; ++ch) dst[ch] += src[ch];
      }
  } else {
    for (size_t i = 0; i < out.data.size(); ++i) out.data[i] += x.data[i];
  }
  ex.vector_op(quant::VectorOp::Add, out.h * out.w, out.c, out.data.data());
  relu_op(ex, out);
  return out;
}

std::vector<float> ResNet::forward(quant::Executor& ex, const Image& x) const {
  if (x.c != 3 || x.h != cfg_.input_size || x.w != cfg_.input_size)
    throw std::invalid_argument(cfg_.name + ": expected a " + std::to_string(cfg_.input_size) + "x" +
                                std::to_string(cfg_.input_size) + "x3 input");
  Image out = conv2d(ex, convs_[stem_], x);
  relu_op(ex, out);
  if (!cfg_.cifar) out = maxpool2d(out, 3, 2, 1);
  for (const Block& b : blocks_) out = block_forward(ex, b, out);
  std::vector<float> pooled = global_avgpool(out);
  ex.vector_op(quant::VectorOp::Pool, out.h * out.w, out.c, pooled.data());
  std::vector<float> logits(static_cast<size_t>(fc_.n));
  ex.linear(fc_, pooled.data(), 1, logits.data());
  return logits;
}

// ------------------------------------------------------------------ synthetic weights
TensorMap synthetic_resnet_weights(const ResNetConfig& cfg, uint64_t seed) {
  TensorMap w;
  auto conv = [&](const std::string& name, int64_t cout, int64_t cin, int64_t k) {
    Rng r(Rng::mix(seed, name.c_str()));
    const double std = std::sqrt(2.0 / static_cast<double>(cout * k * k));  // kaiming_normal_, fan_out, relu
    std::vector<float> v(static_cast<size_t>(cout * cin * k * k));
    for (float& x : v) x = static_cast<float>(std * r.normal());
    w.set(name + ".weight", Tensor({cout, cin, k, k}, std::move(v)));
  };
  auto bn = [&](const std::string& name, int64_t c, double gamma_scale) {
    Rng r(Rng::mix(seed, name.c_str()));
    std::vector<float> g(c), b(c), m(c), v(c);
    for (int64_t i = 0; i < c; ++i) {
      g[i] = static_cast<float>(gamma_scale * r.uniform(0.5, 1.0));
      b[i] = static_cast<float>(0.1 * r.normal());
      m[i] = static_cast<float>(0.1 * r.normal());
      v[i] = static_cast<float>(r.uniform(0.5, 1.5));
    }
    w.set(name + ".weight", Tensor({c}, g));
    w.set(name + ".bias", Tensor({c}, b));
    w.set(name + ".running_mean", Tensor({c}, m));
    w.set(name + ".running_var", Tensor({c}, v));
  };
  int64_t in = cfg.cifar ? 16 : 64;
  conv("conv1", in, 3, cfg.cifar ? 3 : 7);
  bn("bn1", in, 1.0);
  const int64_t base = in;
  for (size_t s = 0; s < cfg.blocks.size(); ++s) {
    const int64_t planes = base << s;
    for (int i = 0; i < cfg.blocks[s]; ++i) {
      const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      const int64_t stride = (i == 0 && s > 0) ? 2 : 1;
      int64_t out = planes;
      if (!cfg.bottleneck) {
        conv(p + ".conv1", planes, in, 3), bn(p + ".bn1", planes, 1.0);
        conv(p + ".conv2", planes, planes, 3), bn(p + ".bn2", planes, 0.2);
      } else {
        out = planes * 4;
        conv(p + ".conv1", planes, in, 1), bn(p + ".bn1", planes, 1.0);
        conv(p + ".conv2", planes, planes, 3), bn(p + ".bn2", planes, 1.0);
        conv(p + ".conv3", out, planes, 1), bn(p + ".bn3", out, 0.2);
      }
      if (!cfg.cifar && (stride != 1 || in != out)) {
        conv(p + ".downsample.0", out, in, 1);
        bn(p + ".downsample.1", out, 1.0);
      }
      in = out;
    }
  }
  const std::string fc = cfg.cifar ? "linear" : "fc";
  Rng r(Rng::mix(seed, fc.c_str()));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  std::vector<float> fw(static_cast<size_t>(cfg.num_classes * in)), fb(static_cast<size_t>(cfg.num_classes));
  for (float& x : fw) x = static_cast<float>(r.uniform(-bound, bound));
  for (float& x : fb) x = static_cast<float>(r.uniform(-bound, bound));
  w.set(fc + ".weight", Tensor({cfg.num_classes, in}, fw));
  w.set(fc + ".bias", Tensor({cfg.num_classes}, fb));
  return w;
}

// ------------------------------------------------------------------ CIFAR
CifarSet load_cifar_bin(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open the CIFAR-10 binary file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  constexpr size_t kRec = 1 + 3 * 1024;
  if (bytes.empty() || bytes.size() % kRec != 0)
    throw std::runtime_error(path + ": size " + std::to_string(bytes.size()) +
                             " is not a whole number of 3073-byte CIFAR-10 records");
  CifarSet s;
  const size_t n = bytes.size() / kRec;
  s.labels.resize(n);
  s.pixels.resize(n * 3072);
  for (size_t i = 0; i < n; ++i) {
    s.labels[i] = bytes[i * kRec];
    if (s.labels[i] > 9) throw std::runtime_error(path + ": record " + std::to_string(i) + " has label > 9");
    std::copy_n(bytes.data() + i * kRec + 1, 3072, s.pixels.data() + i * 3072);
  }
  return s;
}

Image cifar_image(const CifarSet& set, size_t i) {
  static const float kMean[3] = {0.485f, 0.456f, 0.406f}, kStd[3] = {0.229f, 0.224f, 0.225f};
  Image img(32, 32, 3);
  const uint8_t* p = set.pixels.data() + i * 3072;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        img.data[(y * 32 + x) * 3 + c] = (static_cast<float>(p[c * 1024 + y * 32 + x]) / 255.0f - kMean[c]) / kStd[c];
  return img;
}

int argmax(const std::vector<float>& v) {
  if (v.empty()) return -1;
  int best = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) return -1;  // no class: a NaN logit never counts as a correct prediction
    if (v[i] > v[best]) best = static_cast<int>(i);
  }
  return best;
}

}  // namespace fp8sim::nn
