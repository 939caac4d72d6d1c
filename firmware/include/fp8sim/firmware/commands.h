// The accelerator's command set: the one definition shared by firmware/ (which writes command streams) and
// sim/ (whose controller fetches and executes them). A command stream is plain data: a vector of fixed-size
// records that can be dumped as text (one command per line), diffed, parsed back and replayed.
// Field meanings per opcode are in firmware/README.md; buffer addresses are byte offsets inside the named
// on-chip buffer, DRAM addresses byte offsets in the accelerator's flat DRAM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fp8sim::firmware {

// Values are persisted in dumped streams: append only.
enum class Opcode : uint8_t {
  Nop = 0,
  LoadWeights = 1,      // DRAM -> weight buffer, one 2-D tile (zero-padded to buf_rows x buf_cols)
  LoadActivations = 2,  // DRAM -> input buffer, one 2-D tile (optionally transposed, zero-padded)
  Compute = 3,          // stream a tile through the array into the accumulator buffer (flag Accumulate)
  PostProcess = 4,      // accumulator buffer -> DRAM through the post-processing unit: dequantize with
                        // per-column (and per-row) scales, add bias, requantize to the consumer's format
                        // (INT8/FP8 code, BF16 or F32: model/requant.h)
  Store = 5,            // accumulator buffer -> DRAM, one 2-D tile of accumulator words
  Barrier = 6,          // waits until every unit is idle and every earlier command has completed
  End = 7,              // end of the stream
};
inline constexpr int kOpcodeCount = 8;

// Flags (bit set).
enum : uint8_t {
  kFlagTranspose = 1u << 0,   // loads: the buffer tile is the transpose of the DRAM tile
  kFlagAccumulate = 1u << 1,  // Compute: add the tile's results into the output words (else start from +0)
  kFlagBias = 1u << 2,        // PostProcess: add the column biases at bias_addr
  kFlagRowScales = 1u << 3,   // PostProcess: scale = float32(row_scale[r] * scale[c]) (row scales at row_scale_addr)
  kFlagGather = 1u << 4,      // LoadActivations: implicit im2col, the tile is gathered from an NHWC input
  kFlagOnChip = 1u << 5,      // LoadActivations / PostProcess: the far side (activations; outputs) is the
                              // on-chip activation SRAM, not DRAM (PostProcess parameters still come from DRAM)
  kFlagMxMore = 1u << 6,      // Compute on an MX array: more K tiles of this product follow (no in_fin, no
                              // output rows: the PEs keep their accumulators)
  kFlagMxCont = 1u << 7,      // Compute on an MX array: continues a product (no in_first on its first beat)
  kFlagMxOut = 1u << 6,       // PostProcess on an MX array: requantize to MX on chip (the array's format and
                              // block): each output row's blocks of `block` columns get one E8M0 scale computed
                              // as model::mx_quantize_block does; 1-byte element codes at dram_addr (stride
                              // dram_stride) and the scales at row_scale_addr (row stride ceil(dram_stride /
                              // block) bytes). (Same bit as kFlagMxMore, which only Compute uses.)
  kFlagViaBf16 = 1u << 7,     // PostProcess with an INT8/FP8 out_fmt: the value is rounded to BF16 before it is
                              // quantized with out_scale (model::requantize_via_bf16: the code the consuming
                              // GEMM gives the BF16 tensor). (Same bit as kFlagMxCont, which only Compute uses.)
};

// Which on-chip buffer a field refers to.
enum class Buffer : uint8_t { Input = 0, Weight = 1, Output = 2 };

// One command. Every field is an integer; unused fields are 0 (the text form omits nothing, so dumps diff
// cleanly). Slots name double-buffer halves for the hardware scoreboard: a load into a slot waits for the
// slot's earlier readers, a compute waits for the loads of the slots it reads, a store for the compute
// that wrote its slot.
struct Command {
  Opcode op = Opcode::Nop;
  uint8_t flags = 0;
  uint16_t layer = 0;  // layer index, for statistics
  uint32_t tile = 0;   // tile index within the layer, for statistics and mismatch reports

  // Loads and Store: the DRAM side (row-major, dram_stride bytes between rows) and the buffer side.
  uint64_t dram_addr = 0;
  uint32_t dram_stride = 0;
  uint32_t rows = 0, cols = 0;          // valid extent in DRAM, in elements (Store: accumulator words)
  uint32_t buf_rows = 0, buf_cols = 0;  // extent written in the buffer (>= rows x cols, or cols x rows if
                                        // transposed); loads zero-fill the rest
  uint32_t buf_addr = 0;                // loads/Store: byte address in the buffer
  uint8_t slot = 0;                     // loads/Store: scoreboard slot of buf_addr

  // Compute: operand and result regions.
  uint8_t a_slot = 0, w_slot = 0, o_slot = 0;
  uint32_t a_addr = 0, w_addr = 0, o_addr = 0;  // byte addresses (input, weight, output buffer)
  uint32_t m = 0;  // WS: activation rows streamed (= output rows); OS: valid output rows (<= array rows)
  uint32_t k = 0;  // valid reduction length of this tile (WS: <= array rows; OS: beats streamed)
  uint32_t n = 0;  // valid output columns (<= array cols)

  // PostProcess (besides the Store fields, with dram_addr/dram_stride addressing the outputs, of
  // model::out_format_bytes(out_fmt) bytes each):
  uint64_t scale_addr = 0, bias_addr = 0;  // DRAM: cols float32 scales, cols float32 biases (this tile's columns)
  uint8_t out_fmt = 0;                     // model::OutFormat code: 0 INT8; 1 + model::Fp8Kind; BF16; F32
  uint32_t out_scale = 0;                  // float32 bits of the output scale (code = quantize(y / out_scale))
  uint64_t row_scale_addr = 0;             // kFlagRowScales: rows float32 scales (this tile's rows)

  // LoadActivations with kFlagGather (implicit im2col): the DRAM tile is rows x cols elements of the im2col
  // matrix of the NHWC input at dram_addr (dram_stride unused): element (r, q) is im2col[gather_m0 + r]
  // [gather_k0 + q], i.e. output pixel p = gather_m0 + r (p = (b * out_h + y) * out_w + x) and tap
  // k = gather_k0 + q (k = (dy * conv_kw + dx) * conv_in_c + ci); it reads input byte
  // ((b * conv_in_h + iy) * conv_in_w + ix) * conv_in_c + ci with iy = y * conv_stride + dy - conv_pad (ix alike),
  // or is pad_code (the format's +0) where the tap falls into the padding. out_h/out_w follow from the geometry.
  uint32_t conv_in_h = 0, conv_in_w = 0, conv_in_c = 0;
  uint32_t conv_kh = 0, conv_kw = 0, conv_stride = 0, conv_pad = 0;
  uint32_t gather_m0 = 0, gather_k0 = 0;
  uint8_t pad_code = 0;

  friend bool operator==(const Command& x, const Command& y);
  friend bool operator!=(const Command& x, const Command& y) { return !(x == y); }
};

const char* opcode_name(Opcode op);

// Implicit im2col (kFlagGather): checks the geometry fields (one line naming the problem, empty when fine:
// each geometry field <= 65535, the kernel within the padded input, the k range within kh * kw * in_c, the
// offsets within 62 bits), and gives the byte offset from dram_addr that element (r, q) of the gathered tile
// reads, or -1 where the tap falls into the padding (the element is pad_code); call gather_offset only on a
// command whose geometry checked fine. The one definition used by the lowering (to count
// DRAM bytes) and by sim/'s DMA.
std::string gather_geometry_error(const Command& c);
int64_t gather_offset(const Command& c, uint32_t r, uint32_t q);

// Text form: one command per line, "opcode key=value ...", every field written. parse_commands() accepts
// exactly that (blank lines and '#' comments allowed) and throws std::runtime_error naming the line.
std::string command_to_text(const Command& c);
std::string commands_to_text(const std::vector<Command>& cmds);
std::vector<Command> parse_commands(const std::string& text, const std::string& origin = "<commands>");

}  // namespace fp8sim::firmware
