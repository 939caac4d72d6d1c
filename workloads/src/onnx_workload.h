// An ONNX model as a workload (workloads::Workload with a name ending in ".onnx"): the model (onnx/), its
// inputs (CIFAR-10 images, STS-B sentences through the WordPiece tokenizer, or seeded random tensors labelled
// SYNTHETIC) and how one item's network outputs are formed, so the runner's calibration and evaluation loops
// treat it like the built-in networks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fp8sim/model/nn/layers.h"
#include "fp8sim/model/nn/resnet.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/onnx/model.h"
#include "fp8sim/workloads/runner.h"

namespace fp8sim::workloads {

struct OnnxNet {
  onnx_import::Model model;
  std::vector<std::vector<onnx_import::Value>> synthetic;  // per item: every input (SYNTHETIC inputs)
  // The first graph output, flattened, for an image (NCHW [1][3][H][W] from the HWC image).
  std::vector<float> image_output(quant::Executor& ex, const nn::Image& img) const;
  // A sentence: the model's int64 inputs filled from the token ids (ids input; "mask" inputs all ones,
  // "token_type" inputs all zeros); the first output [1][S][H] mean-pooled over the tokens (sentence-
  // transformers' mean pooling of one unpadded sentence), or [1][H] as is.
  std::vector<float> sentence_embedding(quant::Executor& ex, const std::vector<int32_t>& ids) const;
  std::vector<float> synthetic_output(quant::Executor& ex, size_t item) const;  // first output, flattened
};

// What the Workload takes over from an ONNX model and its inputs.
struct OnnxSetup {
  std::unique_ptr<OnnxNet> net;
  std::string name, metric, weights_label, inputs_label;
  bool synthetic = false;
  size_t default_calib = 0;
  nn::CifarSet cifar;
  bool cifar_inputs = false;
  std::vector<nn::StsPair> pairs;
  std::vector<std::vector<int32_t>> seq_a, seq_b;
};

// Loads the model and its inputs: data (a CIFAR-10 .bin: metric top1, 256 calibration images as the built-in
// CIFAR workloads; an STS-B .tsv: metric spearman, 128 calibration pairs as minilm-l6) or, without data,
// seeded random inputs of onnx.input_shape (or the model's static shapes): metric output-error, 4
// calibration items + 4 evaluation items, SYNTHETIC. Throws MissingData, std::runtime_error,
// std::invalid_argument (bad --input-shape and similar), onnx_import::OnnxError.
OnnxSetup load_onnx_workload(const std::string& path, const std::string& weights_override,
                             const std::string& data_override, const OnnxInputs& onnx);

}  // namespace fp8sim::workloads
