// systolic_array: the model twin of rtl/systolic_array.v (sa_ws.v, sa_os.v): same parameters (ROWS, COLS,
// DATAFLOW, PE_KIND, FMT_A, FMT_B, ACC_W), same ports, same registers, same cycle timing. It is stepped by ONE
// call per clock edge that updates every cell in a loop over plain arrays (no process or signal per PE).
//
// Cycle protocol (as the RTL): during a cycle, in_ready()/out_valid()/out_words() are functions of the
// registers; the caller decides its inputs and calls edge() once (the rising edge). A beat moves when
// valid && ready at the edge. Timing (R rows, C cols; cycles counted inclusively from the first beat
// accepted to the last output beat accepted, never stalled):
//   WS tile: R weight beats + M compute beats, output of a compute beat R + C - 1 cycles after it:
//            2R + M + C - 1 cycles; T back-to-back tiles T * (2R + M + C - 2) + 1.
//   WS with shadow weights (SHADOW = 1): weight rows on their own channel (wvalid / w_ready) while the
//            previous tile computes; a tile's first compute row carries swap. Tiles start every
//            P = max(M, 2R + C - 2) cycles: T tiles take 2R + C + M - 1 + (T - 1) * P cycles.
//   OS with shadow outputs (SHADOW = 1): the drain runs from output registers while the next tile's beats
//            enter; only its in_last beat waits for the drain: P = max(K, 2R + C - 1), T tiles
//            K + 2R + C - 2 + (T - 1) * P cycles.
//   OS tile: K beats, R + C - 2 cycles until the last reaches the far corner, R output beats (bottom row
//            first): K + 2R + C - 2 cycles; T tiles T * (K + 2R + C - 2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fp8sim/firmware/hardware.h"
#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/sim/pe.h"

namespace fp8sim::sim {

using firmware::Dataflow;

struct ArrayParams {
  int rows = 8, cols = 8;
  Dataflow dataflow = Dataflow::WeightStationary;
  PeKind pe = PeKind::Fp8Float32;
  model::Fp8Kind fmt_a = model::Fp8Kind::E4M3, fmt_b = model::Fp8Kind::E4M3;
  int acc_width = 0;     // fixed point: 0 = exact for K = 4096 (as the RTL's ACC_W = 0)
  bool shadow_weights = false;  // WS: shadow weight registers loaded on their own channel (RTL SHADOW = 1)
  bool shadow_outputs = false;  // OS: double-buffered accumulators, drain beside the next tile (RTL SHADOW = 1)
  bool toggles = true;   // count register toggles (costs some speed)
  // MX array (sim/mx_array.h, rtl/mx_array.v): an output-stationary array of MX dot-product PEs for format
  // mx_kind with mx_block elements per E8M0 scale (exact products and block sums, scales as an exponent add,
  // exact Kulisch accumulation; each output rounded once to float32 where it leaves the array). Set through
  // set_mx_array() (mx_array.h), which also sets dataflow OS, pe Fp8Float32 (the float32 output word) and
  // fmt_a = fmt_b = the element row.
  bool mx = false;
  model::MxKind mx_kind = model::MxKind::MXFP8_E4M3;
  int mx_block = model::kMxDefaultBlockSize;
  // MX: the numerics of the output WORD (float32 bits, acc Float32) so acc_word_to_string/acc_word_to_float
  // and post-processing read it right; the MAC semantics are mx_gemm_numerics(p) (mx_array.h).
  model::GemmNumerics numerics() const { return pe_numerics(pe, fmt_a, fmt_b, acc_width); }
};

// Toggle counts (bits that changed at an edge) of the cell registers: the data-dependent energy input.
struct ArrayToggles {
  uint64_t a_regs = 0;    // operand A registers (activations moving right)
  uint64_t b_regs = 0;    // operand B registers (WS: stationary weights; OS: B moving down)
  uint64_t acc_regs = 0;  // partial-sum (WS) / accumulator (OS) registers
};

// The inputs of one cycle. a: ROWS codes, b: COLS codes, psum: COLS words (nullptr: zeros). Pointers may be
// null when nothing is driven (then zeros, as the accelerator drives an idle bus).
// Shadow weights: valid/swap qualify the compute row (a, psum; swap = the tile's first row), wvalid the
// weight row in b, each channel with its own ready (in_ready / w_ready); wload is unused.
struct ArrayInputs {
  bool valid = false, wload = false, last = false, out_ready = true;
  bool swap = false, wvalid = false;
  const uint8_t* a = nullptr;
  const uint8_t* b = nullptr;
  const uint128* psum = nullptr;
  // MX arrays only (rtl/mx_array.v in_first / in_last / in_fin / in_sa / in_sb): mx_first on a product's
  // k = 0, mx_blk_last on each block's last k (and k = K - 1), mx_fin on k = K - 1; sa: ROWS E8M0 codes,
  // sb: COLS codes, sampled with mx_blk_last.
  bool mx_first = false, mx_blk_last = false, mx_fin = false;
  const uint8_t* sa = nullptr;
  const uint8_t* sb = nullptr;
};

class ArrayCore {
 public:
  virtual ~ArrayCore() = default;
  const ArrayParams& params() const { return p_; }
  // swap, last: the offered beat's flags (shadow weights: a swap row waits for a full shadow; shadow outputs:
  // an in_last beat waits for the previous drain).
  virtual bool in_ready(bool wload, bool out_ready, bool swap = false, bool last = false) const = 0;
  // Shadow weights: the weight channel's ready (always false without shadow weights).
  virtual bool w_ready(bool out_ready) const = 0;
  virtual bool out_valid() const = 0;
  virtual void out_words(uint128* dst) const = 0;   // COLS RTL accumulator words
  virtual void edge(const ArrayInputs& in) = 0;
  // Any valid data inside (WS: compute rows in flight; OS: not in the RUN state with an idle pipeline).
  virtual bool active() const = 0;
  const ArrayToggles& toggles() const { return tog_; }
  // Accumulator wrap events in the cells (pe_wraps): MACs whose exact sum left the register's range.
  uint64_t wraps() const { return wraps_; }
  // Whether add_words(acc, x) wraps (the accumulating output buffer's adder).
  virtual bool add_wraps(uint128 acc, uint128 x) const { (void)acc, (void)x; return false; }
  uint64_t edges() const { return edges_; }
  // Word arithmetic of this PE kind, for the accumulating output buffer and comparisons.
  virtual uint128 add_words(uint128 acc, uint128 x) const = 0;
  virtual model::AccWord to_acc_word(uint128 w) const = 0;
  // The accumulating writer's row: dst[j] = add_words(acc ? dst[j] : 0, src[j]) for j < n; returns how many
  // add_wraps(dst[j], src[j]) (old dst) hold when acc, else 0. (An array may override it with the same results
  // in one non-virtual loop: the fast engine does.)
  virtual uint64_t add_row(uint128* dst, const uint128* src, int n, bool acc) const {
    uint64_t w = 0;
    for (int j = 0; j < n; ++j) {
      if (acc && add_wraps(dst[j], src[j])) ++w;
      dst[j] = add_words(acc ? dst[j] : 0, src[j]);
    }
    return w;
  }
  const model::GemmNumerics& numerics() const { return num_; }

 protected:
  explicit ArrayCore(const ArrayParams& p) : p_(p), num_(p.numerics()) {}
  ArrayParams p_;
  model::GemmNumerics num_;
  ArrayToggles tog_;
  uint64_t edges_ = 0, wraps_ = 0;
};

// The one factory: dataflow, PE kind, formats and word width chosen by the parameters. Throws
// std::invalid_argument for bad parameters.
std::unique_ptr<ArrayCore> make_systolic_array(const ArrayParams& p);

}  // namespace fp8sim::sim
