// ResNets (He et al. 2016, "Deep Residual Learning for Image Recognition"):
//   * the CIFAR variant, depth 6n+2 (ResNet-20/32/44/56): 3x3 conv 16 -> three stages of n basic blocks
//     (16, 32, 64 channels; stride 2 at the start of stages 2 and 3) -> global average pool -> linear.
//     Shortcut "option A": x[::2, ::2] with channels zero-padded by planes/4 on each side (the convention of
//     akamaster/pytorch_resnet_cifar10, whose parameter names this reads: conv1, bn1, layer1.0.conv1, ...,
//     linear);
//   * the ImageNet variant with torchvision's parameter names (conv1, bn1, layerX.Y.{conv,bn}Z,
//     layerX.Y.downsample.{0,1}, fc): ResNet-18 (basic blocks 2-2-2-2) and ResNet-50 (bottlenecks 3-4-6-3,
//     stride on the 3x3 conv as torchvision does).
// BatchNorm is folded into the preceding convolution at construction (inference); every convolution and the
// final linear layer run through the Executor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/nn/layers.h"
#include "fp8sim/model/nn/tensor.h"
#include "fp8sim/model/quant/executor.h"

namespace fp8sim::nn {

struct ResNetConfig {
  std::string name;
  bool cifar = true;          // CIFAR variant (option-A shortcuts) or ImageNet (projection shortcuts)
  bool bottleneck = false;    // ImageNet only
  std::vector<int> blocks;    // per stage
  int num_classes = 10;
  int input_size = 32;        // square input, HWC with 3 channels
  double bn_eps = 1e-5;
};
// "resnet20", "resnet32", "resnet44", "resnet56", "resnet18", "resnet50"; throws std::invalid_argument.
ResNetConfig resnet_config(const std::string& name);

class ResNet {
 public:
  ResNet(const ResNetConfig& cfg, const TensorMap& weights);
  const ResNetConfig& config() const { return cfg_; }
  std::vector<float> forward(quant::Executor& ex, const Image& x) const;  // logits [num_classes]
  // Every GEMM layer in execution order (convolutions with BN folded, then the classifier).
  std::vector<const quant::LinearParams*> gemm_layers() const;
  const std::vector<Conv2d>& convs() const { return convs_; }
  const quant::LinearParams& fc() const { return fc_; }

 private:
  struct Block {
    int conv1 = -1, conv2 = -1, conv3 = -1, down = -1;  // indices into convs_
    int64_t stride = 1, in_planes = 0, out_planes = 0;
  };
  Image block_forward(quant::Executor& ex, const Block& b, const Image& x) const;
  ResNetConfig cfg_;
  std::vector<Conv2d> convs_;
  std::vector<Block> blocks_;
  int stem_ = 0;
  quant::LinearParams fc_;
};

// Seeded synthetic weights with the topology's parameter names and shapes: He-normal convolutions
// (fan-out, as torchvision initializes them), BatchNorm statistics and affine parameters drawn around
// (mean 0, var 1, gamma 1, beta 0), the last BN of each residual branch scaled down so activations stay bounded
// through the depth. SYNTHETIC: accuracy numbers from these mean nothing; they serve output-level error
// (SQNR) and cost studies only.
TensorMap synthetic_resnet_weights(const ResNetConfig& cfg, uint64_t seed);

// CIFAR-10 binary layout (Krizhevsky 2009): per record 1 label byte, then 1024 R, 1024 G, 1024 B bytes.
struct CifarSet {
  std::vector<uint8_t> labels;
  std::vector<uint8_t> pixels;  // [n][3][32][32]
  size_t size() const { return labels.size(); }
};
// Throws std::runtime_error naming the file when it is missing, unreadable, or not a whole number of records.
CifarSet load_cifar_bin(const std::string& path);
// Record i as an HWC image: RGB in [0,1] normalized by mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
Image cifar_image(const CifarSet& set, size_t i);

// First index of the maximum; -1 (matches no label) when v is empty or holds a NaN.
int argmax(const std::vector<float>& v);

}  // namespace fp8sim::nn
