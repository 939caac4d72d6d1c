// Lowering: a GEMM (and convolution via im2col, attention's two batched matmuls) into a tiled command
// stream for one array configuration.
//
// DRAM layout of a GEMM: A (M x K) and B (K x N) row-major operand codes, one byte each, at a_addr/b_addr
// with row strides K and N (or the given strides); C (M x N) accumulator words of word_bytes each, row
// stride N * word_bytes, at c_addr.
//
// Tiling (R x C array):
//   WS: output tiles of mt x C, K tiles of R. For each (m0, n0): for each k0: LoadWeights (B[k0:k0+R,
//       n0:n0+C] -> R x C), LoadActivations (A[m0:m0+mt, k0:k0+R] -> mt x R), Compute (Accumulate for
//       k0 > 0); then Store. Accumulation order: AccumulationOrder{k_chunk = R}.
//   OS: output tiles of R x C, K tiles of kt. For each (m0, n0): for each k0: LoadActivations (A tile
//       transposed -> kt x R, one beat per buffer row), LoadWeights (B tile -> kt x C), Compute; then
//       Store. Accumulation order: AccumulationOrder{k_chunk = kt}.
// Double buffering: every operand tile alternates between two slots (halves) of its buffer, and output
// tiles between two halves of the accumulator buffer, so the DMA fills one half while the array reads the
// other. Edge tiles are zero-padded by the loads (exact: +0 products never change a sum).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/firmware/commands.h"
#include "fp8sim/firmware/hardware.h"

namespace fp8sim::firmware {

// Optional post-processing of a GEMM's outputs (instead of storing accumulator words), with the arithmetic of
// model/requant.h: s = float32(row_scale[m] * scale[n]) (row scales only when row_scales, else s = scale[n]),
// y = value(C[m][n]) * s rounded once to float32, + bias[n] when has_bias, then converted to out_fmt
// (model::OutFormat code; INT8/FP8 with out_scale). Outputs of model::out_format_bytes(out_fmt) bytes at
// out_addr, row stride N outputs.
struct PostProcessSpec {
  bool enabled = false;
  uint64_t scale_addr = 0, bias_addr = 0, out_addr = 0;  // N float32 scales, N float32 biases, M x N outputs
  uint8_t out_fmt = 0;
  float out_scale = 1.0f;
  bool has_bias = false;
  bool row_scales = false;
  uint64_t row_scale_addr = 0;  // M float32 row scales
  bool via_bf16 = false;        // INT8/FP8 out_fmt: quantize the BF16-rounded value (kFlagViaBf16)
  // MX GEMMs only (lower_gemm_mx): requantize the outputs to MX on chip (kFlagMxOut): M x N element codes at
  // out_addr and M x ceil(N / block) E8M0 scales at mx_out_scale_addr. Needs the array's columns to hold whole
  // blocks (cols % block == 0) and no row scales.
  bool mx_out = false;
  uint64_t mx_out_scale_addr = 0;
};

// ---- convolution through im2col ----
struct ConvSpec {
  int64_t batch = 1, in_h = 0, in_w = 0, in_c = 0;  // input NHWC codes
  int64_t out_c = 0, kh = 1, kw = 1, stride = 1, pad = 0;
  int64_t out_h() const { return (in_h + 2 * pad - kh) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * pad - kw) / stride + 1; }
};
// Implicit im2col: A is not a matrix in DRAM but the im2col matrix of the NHWC input codes at a_addr;
// every activation load gathers its tile from the input (LoadActivations with kFlagGather), padding taps
// filled with pad_code. M must be batch * out_h * out_w and K kh * kw * in_c; a_stride is unused.
struct ConvGather {
  bool enabled = false;
  ConvSpec conv;
  uint8_t pad_code = 0;  // the format's +0 code
};

// MX GEMM (an MX array): E8M0 block scales beside the codes, blocks of `block` along K. The lowering
// (lowering_mx.cpp) keeps K tiles multiples of `block` and loads each tile's scales with its codes:
// A scales M x nb at a_scale_addr, B scales N x nb at b_scale_addr (nb = ceil(K / block), row-major, one byte
// each), into the same buffer slot right after the tile's codes (A: kt x R codes then kt/block x R scales;
// B: kt x C codes then kt/block x C scales). The PEs keep their accumulators across a product's K tiles:
// Computes carry kFlagMxMore (more K tiles follow: no outputs) and kFlagMxCont (continues the product).
struct MxGemmSpec {
  bool enabled = false;
  int block = 32;
  uint64_t a_scale_addr = 0, b_scale_addr = 0;
};

struct GemmSpec {
  int64_t m = 0, k = 0, n = 0;
  uint64_t a_addr = 0, b_addr = 0, c_addr = 0;
  int64_t a_stride = 0, b_stride = 0;  // bytes between rows; 0: K and N
  uint16_t layer = 0;
  PostProcessSpec post;
  ConvGather gather;  // implicit im2col (A gathered from an NHWC input)
  MxGemmSpec mx;      // MX scales (lower_gemm dispatches to the MX lowering when enabled)
};

struct LoweredGemm {
  std::vector<Command> commands;  // ends with Barrier (one GEMM) ; End is appended by finish_stream()
  int64_t k_chunk = 0;            // the accumulation order the golden check must use
  int64_t m_tile = 0, k_tile = 0, n_tile = 0;
  int64_t tiles = 0;              // compute commands
};

// Throws std::invalid_argument when the shape is empty or a tile cannot fit the buffers.
LoweredGemm lower_gemm(const ArrayTarget& t, const GemmSpec& g);
// The MX lowering (g.mx.enabled; lower_gemm calls it): OS tiles of R x C, K tiles kt = a multiple of the block
// (as large as the buffers allow, or os_k_tile rounded down to a block multiple, at least one block); per
// (m0, n0) and K tile: LoadActivations A codes (transposed), LoadActivations A scales (transposed),
// LoadWeights B codes, LoadWeights B scales (transposed from N x nb), Compute; then Store/PostProcess.
// k_chunk = 0: the whole K is one exact accumulation.
LoweredGemm lower_gemm_mx(const ArrayTarget& t, const GemmSpec& g);
// Appends End.
void finish_stream(std::vector<Command>& cmds);

// The im2col matrix (M = batch*out_h*out_w rows, K = kh*kw*in_c columns, k = (dy*kw + dx)*in_c + ci),
// padding taps filled with `zero_code` (the format's +0). Weights are K x out_c in the same k order.
std::vector<uint8_t> im2col(const ConvSpec& c, const uint8_t* input_nhwc, uint8_t zero_code = 0);
// The GEMM a convolution becomes once im2col'd (A at a_addr is the im2col matrix). With `implicit`, a_addr
// holds the NHWC input itself and the loads gather the im2col rows (GemmSpec::gather): no K-times-larger
// matrix in DRAM.
GemmSpec conv_as_gemm(const ConvSpec& c, uint64_t a_addr, uint64_t b_addr, uint64_t c_addr, uint16_t layer,
                      bool implicit = false, uint8_t pad_code = 0);
// DRAM bytes one full pass over A reads: M * K, or with implicit im2col the taps that are not padding.
int64_t a_pass_bytes(const GemmSpec& g);

// ---- attention: per head, S = Q K^T (seq x d by d x seq), then O = P V (seq x seq by seq x d) ----
struct AttentionSpec {
  int64_t heads = 1, seq = 0, head_dim = 0;
  // Per head h: Q_h (seq x d), Kt_h (d x seq), P_h (seq x seq), V_h (seq x d) codes at base + h * size;
  // scores S_h and outputs O_h as accumulator words.
  uint64_t q_addr = 0, kt_addr = 0, p_addr = 0, v_addr = 0, s_addr = 0, o_addr = 0;
};
// The 2 * heads GEMMs, layer = 2*h (scores) and 2*h + 1 (context).
std::vector<GemmSpec> attention_gemms(const AttentionSpec& a, int word_bytes);
// Lowers several GEMMs into one stream (each followed by a Barrier), then End.
std::vector<Command> lower_gemms(const ArrayTarget& t, const std::vector<GemmSpec>& gs,
                                 std::vector<LoweredGemm>* per_gemm = nullptr);

}  // namespace fp8sim::firmware
