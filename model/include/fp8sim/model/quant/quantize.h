// Scales, quantize/dequantize, and the observers that gather calibration statistics.
//
// Scale = amax / format max (448 for E4M3, 57344 for E5M2, 127 for INT8), so that the calibrated range maps
// onto the format's largest finite value; values beyond it saturate (FP8: OCP saturating mode, as ONNX
// QuantizeLinear with saturate=1; INT8: clamp to [-127, 127]). Quantize: q = Q(x / scale) with one float32
// division (as model/int8.h), Q = round-to-nearest-even into the format; dequantize: q * scale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/quant/recipe.h"

namespace fp8sim::quant {

// Collects messages such as "tensor 'conv1' has amax 0: scale set to 1". Also echoed to stderr unless quiet.
struct Warnings {
  std::vector<std::string> messages;
  bool quiet = false;
  void warn(const std::string& msg);
};

// Scale for an amax. amax == 0 or non-finite (or negative) cannot give a usable scale: returns 1.0 and
// records a warning naming `tensor` (no division by zero). FP32 returns 1.0.
float scale_from_amax(Format f, double amax, const std::string& tensor, Warnings* warnings);

// One value through quantize -> dequantize (fast path; bit-identical to fake_quant_reference).
float fake_quant(Format f, float x, float scale);
// The same through model::fp8_encode / fp8_decode_f32 and model::int8_quantize, one call per value (tests).
float fake_quant_reference(Format f, float x, float scale);
void fake_quant_array(Format f, const float* in, float* out, size_t n, float scale);
// Quantized code (FP8 code byte; INT8 two's complement byte). FP32: not allowed (throws).
uint8_t quantize_code(Format f, float x, float scale);
float dequantize_code(Format f, uint8_t code, float scale);
void quantize_codes(Format f, const float* in, uint8_t* out, size_t n, float scale);

// Largest finite |x| (NaN/Inf skipped) and the number of non-finite values.
double finite_amax(const float* x, size_t n, size_t* nonfinite = nullptr);

// Calibration statistics of one tensor over many batches: the exact amax of the finite values, a count of
// non-finite ones, and a histogram of |x| with kBins equal bins over [0, range). range is a power of two,
// doubled (merging bin pairs) whenever a value reaches it, so any input order of the same batches gives the
// same histogram. Bin width <= amax / (kBins / 2).
class Observer {
 public:
  static constexpr int kBins = 8192;
  void observe(const float* x, size_t n);
  double amax() const { return amax_; }
  uint64_t count() const { return count_; }
  uint64_t nonfinite() const { return nonfinite_; }
  // Smallest v with P(|x| <= v) >= p/100, linearly interpolated inside its bin, capped at amax().
  double percentile_amax(double p) const;
  // The clipping amax minimizing the mean squared quantize->dequantize error over the histogram (each bin
  // represented by its centre), searched on amax * i / kMseSteps for i = 1..kMseSteps.
  double mse_amax(Format f) const;
  double calibrated_amax(CalibMethod m, Format f, double percentile) const;
  static constexpr int kMseSteps = 200;

 private:
  void grow(double needed);
  double amax_ = 0.0, range_ = 0.0;
  uint64_t count_ = 0, nonfinite_ = 0, zeros_pending_ = 0;
  std::vector<uint64_t> hist_;
};

// amax of raw values chosen by a calibration method (used for weights, where all values are at hand).
double calibrated_amax_of(const float* x, size_t n, CalibMethod m, Format f, double percentile);

// A quantized tensor: codes in the shape of the original, scale per tensor (scales.size() == 1) or per
// row (axis 0, scales.size() == shape[0]).
struct QTensor {
  Format format = Format::FP32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  float scale_of_row(int64_t row) const { return scales.size() == 1 ? scales[0] : scales[static_cast<size_t>(row)]; }
};

// Quantizes a [rows][cols] weight with one scale per tensor or per row (Granularity::PerChannel).
QTensor quantize_weight(const std::string& name, const float* w, int64_t rows, int64_t cols, Format f,
                        Granularity g, CalibMethod m, double percentile, Warnings* warnings);
std::vector<float> dequantize(const QTensor& q);

// Signal-to-quantization-noise ratio 10*log10(sum ref^2 / sum (ref - x)^2) in dB (inf when equal), and
// the cosine similarity of two vectors (1 when both are zero).
double sqnr_db(const float* ref, const float* x, size_t n);
double cosine_similarity(const float* a, const float* b, size_t n);

}  // namespace fp8sim::quant
