// The MX array: the cycle model of rtl/mx_array.v (ROWS x COLS output-stationary array of MX dot-product PEs,
// rtl/mx_pe.v), selected by configuration ([array] pe = "mxfp8" | "mxfp8-e5m2" | "mxfp6-e3m2" | "mxfp6-e2m3" |
// "mxfp4" | "mxint8", block_size = 32; or set_mx_array() on a loaded configuration).
//
// Numerics (the configuration's accumulator, reported as mx_accumulator_name(): "exact"): every element
// product exact, every block's products summed exactly, the two E8M0 scales applied as an exact exponent add,
// the scaled block sums accumulated exactly (Kulisch, model::MxPe's register) over the WHOLE K of the GEMM
// (the PEs keep their accumulators across the lowering's K tiles), and each output rounded ONCE to float32
// (nearest even) where it leaves the array: model::golden_gemm_mx with AccumulatorKind::FixedPoint
// (mx_gemm_numerics()). All arithmetic is model/'s (model/mx_pe.h, model/mx.h, model/accumulate.h).
//
// Cycle protocol (ArrayCore, systolic_array.h), RTL timing of rtl/mx_array.v plus the output stage around it:
//   * one beat per cycle while in_ready: ROWS A codes (column k of the A tile), COLS B codes (row k of B),
//     flags mx_first (k = 0 of the product), mx_blk_last (a block's last k, and k = K - 1), mx_fin (k = K - 1),
//     and on mx_blk_last beats the ROWS A scales and COLS B scales of the block;
//   * for a product whose first beat enters in cycle 0 and whose K beats enter back to back, the RTL's out_valid
//     is high in cycle K + ROWS + COLS (mx_array.v's header); the output stage then presents the ROWS output
//     rows, bottom row first, one per cycle while out_ready (rows ROWS-1 .. 0 in cycles K + R + C ..
//     K + 2R + C - 1 without back-pressure), each word the cell's Kulisch sum rounded to float32;
//   * in_ready is low from the cycle after the mx_fin beat entered until the last output row has left, so a
//     product of K beats takes K + 2R + C cycles from its first beat to the cycle after its last row, and
//     T back-to-back products T * (K + 2R + C) cycles.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/sim/config.h"
#include "fp8sim/sim/systolic_array.h"

namespace fp8sim::sim {

// Makes p an MX array of `kind` with `block` elements per scale (OS dataflow, no shadow registers, output word
// float32). Throws std::invalid_argument for block < 1.
void set_mx_array(ArrayParams& p, model::MxKind kind, int block = model::kMxDefaultBlockSize);
// The same on a whole configuration (keeps its buffers; validates). Used by simrun to run an MX format on a
// configuration file written for FP8/INT8 (e.g. default32.toml).
void set_mx_array(AcceleratorConfig& cfg, model::MxKind kind, int block = model::kMxDefaultBlockSize);
// The MAC semantics the MX array implements, for model::golden_gemm_mx: a_kind = b_kind = p.mx_kind,
// block_size = p.mx_block, acc = FixedPoint (exact, rounded once to float32).
model::MxGemmNumerics mx_gemm_numerics(const ArrayParams& p);
// Report name of the accumulation: "exact" (model::mac_semantics_name's name for a Kulisch accumulator).
std::string mx_accumulator_name(const ArrayParams& p);
// The MX array's report name: the format name ("mxfp8", ...).
std::string mx_pe_name(const ArrayParams& p);

// The cycle model (sim/src/mx_array.cpp), one model::MxPe per cell (Engine::Model, and the model twin of the
// Verilated MX array under Engine::Rtl).
std::unique_ptr<ArrayCore> make_mx_array(const ArrayParams& p);
// The fast MX array (sim/src/mx_fast_array.cpp; Engine::Fast): the same handshakes, output words, cell words,
// edge and toggle counts as make_mx_array after every edge, from decoded operands and a beat history instead of
// moving registers (tests/sim/test_mx_fast.cpp compares the two).
std::unique_ptr<ArrayCore> make_mx_fast_array(const ArrayParams& p);
// Verilated rtl/mx_array.v (sim/src/rtl_array.cpp): 8x8 mxfp8 and mxint8 at block 32 (the small8_mx sizes).
bool rtl_mx_array_available(const ArrayParams& p);
std::unique_ptr<ArrayCore> make_rtl_mx_array(const ArrayParams& p);  // throws std::invalid_argument if not built

// For tests: the Kulisch accumulator word of cell (r, c) ({cls, value} as little-endian 32-bit words,
// model::MxPe::acc_words layout = Verilator's out_acc slice), from an MX array made above (cycle model or RTL).
std::vector<uint32_t> mx_cell_words(const ArrayCore& a, int r, int c);

}  // namespace fp8sim::sim
