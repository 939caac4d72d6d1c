// Shared by the MX array's cycle model (mx_array.cpp) and its Verilated twin (rtl_array.cpp): the output stage
// around rtl/mx_array.v (row-by-row drain with in_ready, sim/mx_array.h) and the rounding of a cell's Kulisch
// word to the float32 output word.
#pragma once

#include <cstdint>
#include <vector>

#include "fp8sim/sim/mx_array.h"

namespace fp8sim::sim::detail {

// An MX array (either engine): its cells' Kulisch words for mx_cell_words.
class MxArrayCore : public ArrayCore {
 public:
  using ArrayCore::ArrayCore;
  virtual std::vector<uint32_t> cell_words(int r, int c) const = 0;
};

// Geometry of the Kulisch word of model::MxPe / rtl/mx_pe.v for p: value bits fw (two's complement), LSB exponent
// lsb_a + lsb_b - 254, class in bits fw+1:fw.
struct MxWordShape {
  int fw = 0, words = 0, lsb_exp = 0;
};
MxWordShape mx_word_shape(const ArrayParams& p);
// The float32 output word of a cell's {cls, value} word: the exact value rounded once to float32 (nearest
// even) by model::exact_sum_rounded, specials as golden_gemm_mx writes them (canonical NaN, +-Inf).
uint32_t mx_round_word(const MxWordShape& s, const uint32_t* w);

// The output stage and ready logic of sim/mx_array.h around an RTL-timed core: call begin_edge() with the
// edge's inputs before stepping the core (returns whether the offered beat is taken), end_edge(done) after it
// with the core's out_valid (the last cell's acc_done) after the edge.
struct MxOutputStage {
  int rows = 0;
  int rows_left = 0;          // output rows still to leave (row rows_left - 1 is presented)
  bool fin_inflight = false;  // an in_fin beat entered and its product's sums are not out yet
  bool in_ready() const { return rows_left == 0 && !fin_inflight; }
  bool out_valid() const { return rows_left > 0; }
  int out_row() const { return rows_left - 1; }
  // Returns whether the input beat enters (valid && ready).
  bool begin_edge(const ArrayInputs& in) {
    const bool take = in.valid && in_ready();
    if (rows_left > 0 && in.out_ready) --rows_left;
    if (take && in.mx_fin) fin_inflight = true;
    return take;
  }
  void end_edge(bool core_done) {
    if (core_done) {
      rows_left = rows;
      fin_inflight = false;
    }
  }
};

}  // namespace fp8sim::sim::detail
