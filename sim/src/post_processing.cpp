// Post-processing unit, on the store path of a PostProcess command: each accumulator word of the tile is
// dequantized with its column's scale, gets the column's bias and is requantized to the next layer's format
// (arithmetic: sim/postprocess.h, from model/). The column parameters (N float32 scales, N float32 biases)
// come from DRAM; one code per output goes to DRAM.
#include <cstring>

#include "fp8sim/sim/postprocess.h"
#include "units.h"

namespace fp8sim::sim::detail {

void PostProcessingUnit::process_tile(Ctx& x, const ArrayCore& arith, const Command& c) {
  float out_scale;
  std::memcpy(&out_scale, &c.out_scale, 4);
  std::vector<float> scale(c.cols), bias(c.cols);
  x.dram->read(c.scale_addr, reinterpret_cast<uint8_t*>(scale.data()), 4ull * c.cols);
  x.dram->read(c.bias_addr, reinterpret_cast<uint8_t*>(bias.data()), 4ull * c.cols);
  std::vector<uint8_t> row(c.cols);
  for (uint32_t r = 0; r < c.rows; ++r) {
    for (uint32_t q = 0; q < c.cols; ++q) {
      const uint128 w = x.obuf[c.buf_addr / x.wb + size_t(r) * c.buf_cols + q];
      row[q] = postprocess_word(arith.numerics(), arith.to_acc_word(w), scale[q], bias[q], c.out_fmt, out_scale);
    }
    x.dram->write(c.dram_addr + uint64_t(r) * c.dram_stride, row.data(), row.size());
  }
}

}  // namespace fp8sim::sim::detail
