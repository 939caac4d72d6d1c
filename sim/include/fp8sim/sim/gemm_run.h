// Running one GEMM on the accelerator: operands placed in DRAM, the GEMM lowered for the configuration,
// the result read back and compared word for word with model::golden_gemm in the order the lowering
// declares. Shared by the tests, the bench program and fp8sim_sim_run.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/firmware/lowering.h"
#include "fp8sim/firmware/mapper.h"
#include "fp8sim/sim/accelerator.h"

namespace fp8sim::sim {

// Random operand codes, reproducible (raw mt19937_64 draws). FP8: NaN/Inf codes only at special_per_mille.
std::vector<uint8_t> random_codes(const model::GemmNumerics& num, bool b_operand, int64_t count, std::mt19937_64& rng,
                                  unsigned special_per_mille = 0);

// On-chip post-processing of a GEMM's outputs (firmware::PostProcessSpec): the parameters the job places in
// DRAM and the output format.
struct GemmPostJob {
  std::vector<float> col_scales;  // n values
  std::vector<float> row_scales;  // m values, or empty (then the column scales are the whole scale)
  std::vector<float> bias;        // n values, or empty
  uint8_t out_fmt = 0;            // model::OutFormat code
  float out_scale = 1.0f;         // INT8/FP8 outputs
  bool via_bf16 = false;          // INT8/FP8 outputs: the code of the BF16-rounded value (model::requantize_via_bf16)
  // MX arrays only: requantize to MX on chip (the array's format and block) instead of out_fmt: outputs() are
  // M x N element codes, outputs_mx_scales() M x ceil(N / block) E8M0 scales (each output row's blocks along N,
  // scale computed as model::mx_quantize_block does). Needs array cols % block == 0 and no row scales.
  bool mx_out = false;
};

// Where a GEMM's activations come from and its post-processed outputs go (the network schedule's choice):
// the on-chip activation SRAM ([activation_sram]) instead of DRAM. Functionally the same bytes; the DMA moves
// them at the SRAM's latency and rate and counts them as act_sram_read/written instead of DRAM traffic.
struct GemmPlacement {
  bool a_on_chip = false;    // every LoadActivations of A reads the activation SRAM
  bool b_on_chip = false;    // every LoadWeights reads it (attention matmuls: B is an activation)
  bool out_on_chip = false;  // every PostProcess writes its outputs there (needs post-processing)
};

// Implicit im2col for make_gemm_job: A (given to make_gemm_job as the explicit im2col matrix, kept on the host
// for golden()) is gathered by the activation loads from these NHWC input codes in DRAM (or the activation
// SRAM), padding taps filled with pad_code: no K-times-larger matrix is moved.
struct ConvInput {
  firmware::ConvSpec conv;
  std::vector<uint8_t> nhwc;
  uint8_t pad_code = 0;
};

// MX operands (an MX array, sim/mx_array.h): the E8M0 block scales beside the element codes (which go in
// make_gemm_job's a/b as always, one byte per element, narrow codes right-aligned). Blocks run along K with the
// array's block size B (cfg.array.mx_block); the last block of a row/column may be shorter (K % B).
struct MxScales {
  std::vector<uint8_t> a;  // M x ceil(K/B), row-major: a[i * nb + kb] scales A[i][kb*B .. kb*B + B)
  std::vector<uint8_t> b;  // N x ceil(K/B), row-major: b[j * nb + kb] scales B[kb*B .. kb*B + B)[j] (B is K x N)
};

// Random MX operands, synthetic: values N(0, 1) x 2^e with e uniform in [-12, 12] per
// block, converted to MX by model::mx_quantize (A per row along K, B per column along K) for p's format and
// block size. Fills a (M x K codes) and b (K x N codes); returns the scales in MxScales' layout.
MxScales random_mx_operands(const ArrayParams& p, int64_t m, int64_t k, int64_t n, std::mt19937_64& rng,
                            std::vector<uint8_t>& a, std::vector<uint8_t>& b);

struct GemmJob {
  int64_t m = 0, k = 0, n = 0;
  std::vector<uint8_t> a, b;
  bool mx = false;         // MX GEMM (an MX array): mx_scales holds the scales, golden() is golden_gemm_mx
  MxScales mx_scales;
  uint64_t a_scale_addr = 0, b_scale_addr = 0;  // MX: the scales in DRAM (A: M x nb, B: N x nb, row-major)
  uint64_t a_addr = 0, b_addr = 0, c_addr = 0;
  bool post = false;       // outputs leave through the post-processing unit (out_addr) instead of as words
  uint64_t out_addr = 0;
  uint8_t out_fmt = 0;
  firmware::LoweredGemm lowered;
  std::unique_ptr<Accelerator> acc;

  // The result in DRAM after the run, and the golden GEMM in the lowering's accumulation order (MX:
  // model::golden_gemm_mx with the array's semantics, sim::mx_gemm_numerics: exact, one float32 rounding).
  std::vector<model::AccWord> output() const;
  std::vector<model::AccWord> golden() const;
  // Number of differing words; the first few described in *report.
  size_t compare(std::string* report = nullptr) const;
  // post: the M x N post-processed outputs as bytes (model::out_format_bytes(out_fmt) each).
  std::vector<uint8_t> outputs() const;
  // post with mx_out: the M x ceil(N / block) E8M0 scales of the MX outputs.
  std::vector<uint8_t> outputs_mx_scales() const;
  bool mx_out = false;
  uint64_t mx_out_scale_addr = 0;
};

// Places A and B (and, with post, the scales, biases and room for the outputs) in a fresh accelerator's DRAM
// and loads the lowered stream. Throws std::invalid_argument when the GEMM does not fit the configuration.
// mapping: lower with this mapping (firmware/mapper.h; e.g. choose_mapping(cfg.target(), spec, objective), with
// spec's post fields as here); null: today's fixed order, lower_gemm(t, g).
// mx: required exactly when cfg's array is an MX array (cfg.array.mx): the block scales of A and B, placed in
// DRAM beside the codes and moved by the DMA with their blocks (1 byte per block per operand row/column);
// the lowering keeps K tiles on block boundaries (firmware::lower_gemm with GemmSpec::mx). With post, the
// float32 output words are dequantized/converted by the post-processing unit as for any float32 word
// (model/requant.h). mapping must be null for MX (the MX lowering has one fixed order). Throws
// std::invalid_argument (one line) for missing/extra scales or sizes that do not match.
GemmJob make_gemm_job(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, std::vector<uint8_t> a,
                      std::vector<uint8_t> b, Engine engine = Engine::Model, const GemmPostJob* post = nullptr,
                      const firmware::Mapping* mapping = nullptr, const GemmPlacement& placement = {},
                      const ConvInput* conv = nullptr, const MxScales* mx = nullptr);

// A convolution as one GEMM with implicit im2col: the NHWC input codes in DRAM, gathered by the activation
// loads (no im2col matrix in DRAM). j.a is the explicit im2col matrix, kept on the host for golden(); b is the
// K x out_c weight matrix (k = (dy * kw + dx) * in_c + ci). mapping: one chosen for
// firmware::conv_as_gemm(c, ..., /*implicit=*/true) (addresses do not affect the choice); null: fixed order.
// Throws std::invalid_argument when the input or weight sizes do not match the convolution.
GemmJob make_conv_job(const AcceleratorConfig& cfg, const firmware::ConvSpec& c, const std::vector<uint8_t>& input_nhwc,
                      std::vector<uint8_t> b, Engine engine = Engine::Model,
                      const firmware::Mapping* mapping = nullptr, uint8_t pad_code = 0);

}  // namespace fp8sim::sim
