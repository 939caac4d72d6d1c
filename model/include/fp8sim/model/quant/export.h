// Export of a quantized model as safetensors, the file the simulator imports.
//
// For every quantized GEMM layer <L> (weights [N][K] as the GEMM consumes them; for a convolution K runs over
// (kh, kw, cin), i.e. the weight is OHWI, see the layer table):
//   <L>.weight        F8_E4M3 / F8_E5M2 / I8   [N, K]   the codes
//   <L>.weight_scale  F32                      [1] or [N] (per-tensor / per-channel)
//   <L>.input_scale   F32                      [1]      static activation scale (absent when per-token)
//   <L>.bias          F32                      [N]      (BatchNorm folded in for convolutions)
// For every quantized attention matmul <M>: <M>.a_scale, <M>.b_scale (F32 [1]).
// Layers kept in FP32 and all non-GEMM parameters (embeddings, LayerNorm) are F32 under their own names.
// __metadata__: "fp8sim.recipe" (the recipe as JSON: format, granularities, calibration, overrides),
// "fp8sim.layers" (JSON array: name, kind linear|conv2d|matmul, format, n, k, and for convolutions
// cin/kh/kw/stride/pad with weight layout "OHWI"), "fp8sim.model", "fp8sim.synthetic" ("true" when the
// weights are synthetic), "format": "pt".
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fp8sim/model/nn/tensor.h"
#include "fp8sim/model/quant/executor.h"

namespace fp8sim::quant {

struct ExportLayer {
  const LinearParams* params = nullptr;
  nlohmann::json extra;  // e.g. {"kind": "conv2d", "cin": 16, "kh": 3, ...}; default kind "linear"
};

// Quantizes any layer not yet quantized (weights need no calibration) and writes the file. Activation
// scales come from the executor's calibration (per-tensor recipes need finish_calibration() first).
void export_quantized(const std::string& path, Executor& ex, const std::vector<ExportLayer>& layers,
                      const nn::TensorMap& other_params, const std::map<std::string, std::string>& metadata);

}  // namespace fp8sim::quant
