// Post-training quantization recipe: which number format, at which granularity, calibrated how, and which
// layers are kept in higher precision. Serialized as JSON into the quantized model's safetensors
// `__metadata__` (key "fp8sim.recipe"), so the simulator and a reader of the file know exactly how it was made.
//
// Defaults follow FP8-BERT (Li et al. 2023, "FP8-BERT: Post-Training Quantization for Transformer"):
// E4M3 weights and activations, per-tensor scales, static activation scales from min/max calibration,
// only the GEMMs quantized, softmax/GELU/LayerNorm/residual adds in BF16.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fp8sim::quant {

enum class Format : uint8_t { FP32, E4M3, E5M2, INT8 };
enum class Granularity : uint8_t {
  PerTensor,   // one scale for the whole tensor (weights; static activations)
  PerChannel,  // weights: one scale per output channel (row of a [out][in] weight)
  PerToken,    // activations: one scale per GEMM row, computed at run time (dynamic)
};
enum class CalibMethod : uint8_t { MinMax, Percentile, MSE };

std::string to_string(Format f);
std::string to_string(Granularity g);
std::string to_string(CalibMethod c);
// Parse the names above ("fp32", "e4m3", "e5m2", "int8"; "per-tensor", "per-channel", "per-token";
// "minmax", "percentile", "mse"); nullopt when unknown.
std::optional<Format> format_from_string(const std::string& s);
std::optional<Granularity> granularity_from_string(const std::string& s);
std::optional<CalibMethod> calib_from_string(const std::string& s);

// Largest representable magnitude: 448 (E4M3), 57344 (E5M2), 127 (INT8). 0 for FP32.
double format_max(Format f);

struct Recipe {
  Format format = Format::E4M3;                           // weights and activations of quantized GEMMs
  Granularity weight_granularity = Granularity::PerTensor;  // PerTensor or PerChannel
  Granularity act_granularity = Granularity::PerTensor;     // PerTensor (static) or PerToken (dynamic)
  CalibMethod act_calibration = CalibMethod::MinMax;        // for static activation scales
  CalibMethod weight_calibration = CalibMethod::MinMax;     // weights: MinMax or MSE (percentile allowed)
  double percentile = 99.99;                                // for CalibMethod::Percentile, in (0, 100]
  bool quantize_attention_matmuls = true;                   // Q.K^T and P.V (both operands activations)
  bool nongemm_bf16 = true;                                 // round non-GEMM outputs to BF16 when quantized
  // Per-layer overrides, first match wins. Pattern: layer name with '*' matching any run of characters
  // ("encoder.layer.0.*", "conv1", "*.attention.self.matmul_*"). Format::FP32 keeps the layer unquantized.
  std::vector<std::pair<std::string, Format>> overrides;

  // The format used for the GEMM named `layer` (override or `format`).
  Format format_for(const std::string& layer) const;
  // Throws std::invalid_argument with a clear message on an inconsistent recipe.
  void validate() const;
  nlohmann::json to_json() const;
  static Recipe from_json(const nlohmann::json& j);  // throws std::invalid_argument on bad content
  std::string describe() const;                       // one line: "e4m3 w:per-channel a:per-tensor/minmax"
};

// '*' wildcard match (no other metacharacters).
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace fp8sim::quant
