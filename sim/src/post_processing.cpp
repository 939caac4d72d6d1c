// Post-processing unit, on the store path of a PostProcess command: each accumulator word of the tile is
// dequantized with its scale (the column's, times the row's with kFlagRowScales), gets the column's bias
// (kFlagBias) and is converted to the consumer's format: an INT8/FP8 code (kFlagViaBf16: the code of the
// BF16-rounded value, as the consuming GEMM quantizes the network's BF16 tensor), BF16 or F32. The arithmetic is
// model/requant.h, the same functions the host reference path (quant::Executor) calls. The scales and
// biases come from DRAM; the outputs go to DRAM.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "fp8sim/model/mx.h"

#include "fp8sim/model/requant.h"
#include "units.h"

namespace fp8sim::sim::detail {

uint64_t PostProcessingUnit::parameter_bytes(const Command& c) {
  return 4ull * c.cols * (1 + ((c.flags & firmware::kFlagBias) ? 1 : 0)) +
         ((c.flags & firmware::kFlagRowScales) ? 4ull * c.rows : 0);
}

uint64_t PostProcessingUnit::output_bytes(const Ctx& x, const Command& c) {
  uint64_t n = uint64_t(c.rows) * c.cols * model::out_format_bytes(c.out_fmt);
  if (c.flags & firmware::kFlagMxOut) {
    const uint64_t b = uint64_t(x.cfg.array.mx_block);
    n += uint64_t(c.rows) * ((c.cols + b - 1) / b);
  }
  return n;
}

void PostProcessingUnit::process_tile(Ctx& x, const ArrayCore& arith, const Command& c) {
  float out_scale;
  std::memcpy(&out_scale, &c.out_scale, 4);
  const bool has_bias = c.flags & firmware::kFlagBias, row_scales = c.flags & firmware::kFlagRowScales;
  std::vector<float> scale(c.cols), bias(c.cols, 0.0f), rscale(row_scales ? c.rows : 0);
  x.dram->read(c.scale_addr, reinterpret_cast<uint8_t*>(scale.data()), 4ull * c.cols);
  if (has_bias) x.dram->read(c.bias_addr, reinterpret_cast<uint8_t*>(bias.data()), 4ull * c.cols);
  if (row_scales) x.dram->read(c.row_scale_addr, reinterpret_cast<uint8_t*>(rscale.data()), 4ull * c.rows);
  const int ob = model::out_format_bytes(c.out_fmt);
  std::vector<uint8_t> row(size_t(c.cols) * ob);
  const model::GemmNumerics& num = arith.numerics();
  if (c.flags & firmware::kFlagMxOut) {  // requantization to MX on chip: model::mx_quantize_block per block
    if (!x.cfg.array.mx) throw std::runtime_error("PostProcess: MX outputs on an array that is not an MX array");
    const model::MxFormat& fmt = model::mx_format(x.cfg.array.mx_kind);
    const uint32_t B = uint32_t(x.cfg.array.mx_block), nbo = (c.dram_stride + B - 1) / B;
    std::vector<float> y(c.cols);
    std::vector<uint8_t> scales((c.cols + B - 1) / B);
    for (uint32_t r = 0; r < c.rows; ++r) {
      for (uint32_t q = 0; q < c.cols; ++q) {
        const uint128 w = x.obuf[c.buf_addr / x.wb + size_t(r) * c.buf_cols + q];
        y[q] = model::dequantize_word_bias(num, arith.to_acc_word(w), scale[q], bias[q], has_bias);
      }
      for (uint32_t q0 = 0, b = 0; q0 < c.cols; q0 += B, ++b)
        scales[b] = model::mx_quantize_block(fmt, y.data() + q0, std::min(B, c.cols - q0), row.data() + q0);
      x.dram->write(c.dram_addr + uint64_t(r) * c.dram_stride, row.data(), c.cols);
      x.dram->write(c.row_scale_addr + uint64_t(r) * nbo, scales.data(), scales.size());
    }
    return;
  }
  for (uint32_t r = 0; r < c.rows; ++r) {
    for (uint32_t q = 0; q < c.cols; ++q) {
      const uint128 w = x.obuf[c.buf_addr / x.wb + size_t(r) * c.buf_cols + q];
      const float s = row_scales ? model::combined_scale(rscale[r], scale[q]) : scale[q];
      const float y = model::dequantize_word_bias(num, arith.to_acc_word(w), s, bias[q], has_bias);
      if (c.flags & firmware::kFlagViaBf16)
        model::requantize_via_bf16(y, c.out_fmt, out_scale, row.data() + size_t(q) * ob);
      else
        model::requantize_value(y, c.out_fmt, out_scale, row.data() + size_t(q) * ob);
    }
    x.dram->write(c.dram_addr + uint64_t(r) * c.dram_stride, row.data(), row.size());
  }
}

}  // namespace fp8sim::sim::detail
