// Shared by the MX array's engines, the cycle model (mx_array.cpp), the fast array (mx_fast_array.cpp) and the
// Verilated twin (rtl_array.cpp): the output stage around rtl/mx_array.v (row-by-row drain with in_ready,
// sim/mx_array.h), the rounding of a cell's Kulisch word to the float32 output word, and the base class.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fp8sim/sim/mx_array.h"

namespace fp8sim::sim::detail {

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

// What every MX array engine (cycle model, fast array, Verilated twin) shares: the output stage and ready logic
// around its core, the rounding of a cell's Kulisch word to the output word, and the array interface that
// follows from them. An engine supplies edge() (call take_beat() first) and its cells' words.
class MxArrayCore : public ArrayCore {
 public:
  explicit MxArrayCore(const ArrayParams& p) : ArrayCore(p), shape_(mx_word_shape(p)) { out_.rows = p.rows; }
  // A cell's {cls, value} Kulisch word (mx_cell_words).
  std::vector<uint32_t> cell_words(int r, int c) const {
    if (r < 0 || r >= p_.rows || c < 0 || c >= p_.cols) throw std::out_of_range("mx_cell_words: no such cell");
    std::vector<uint32_t> w(size_t(shape_.words), 0u);
    cell_words_into(r, c, w.data());
    return w;
  }
  bool in_ready(bool, bool, bool, bool) const final { return out_.in_ready(); }
  bool w_ready(bool) const final { return false; }
  bool out_valid() const final { return out_.out_valid(); }
  void out_words(uint128* dst) const final {
    std::vector<uint32_t> w(size_t(shape_.words));
    for (int c = 0; c < p_.cols; ++c) {
      std::fill(w.begin(), w.end(), 0u);
      cell_words_into(out_.out_row(), c, w.data());
      dst[c] = mx_round_word(shape_, w.data());
    }
  }
  // Valid data inside: a beat still moving through the skew and cells (R + C + 1 edges after it entered), a
  // product's sums on their way out, or rows to drain. (Between K tiles the PEs hold partial sums: not active.)
  bool active() const final {
    return (last_take_ > 0 && edges_ - last_take_ < uint64_t(p_.rows + p_.cols + 1)) || out_.fin_inflight ||
           out_.out_valid();
  }
  uint128 add_words(uint128 acc, uint128 x) const final {
    if (acc != 0) throw std::logic_error("mx_array: MX outputs are not accumulated in the output buffer");
    return x;
  }
  model::AccWord to_acc_word(uint128 w) const final { return model::AccWord{static_cast<model::int128>(w), {}}; }

 protected:
  // The edge's first step: counts the edge and returns whether the offered beat enters (valid && ready).
  bool take_beat(const ArrayInputs& in) {
    ++edges_;
    const bool take = out_.begin_edge(in);
    if (take) last_take_ = edges_;
    return take;
  }
  // Writes cell (r, c)'s word into w (shape_.words words, zeroed by the caller).
  virtual void cell_words_into(int r, int c, uint32_t* w) const = 0;

  MxWordShape shape_;
  MxOutputStage out_;
  uint64_t last_take_ = 0;  // the edge at which the last beat entered (0: none yet)
};

}  // namespace fp8sim::sim::detail
