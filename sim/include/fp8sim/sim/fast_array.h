// The fast array engine (--engine fast): the same ArrayCore as make_systolic_array (systolic_array.h), with
// the same registers, cycle protocol, outputs, toggle counts and wrap counts, field by field, computed
// differently:
//   - decoded operands instead of product-table gathers: each operand code is decoded once when it enters the
//     array (fixed point: its signed LSB count, model::fp8_to_lsbs; float32: its value; INT8: its integer) and
//     a MAC is one integer multiply-add (or one exact float32 product and one RNE addition); the decodes are
//     checked against the reference engine's product tables (from model/) for all 65,536 code pairs when the
//     tables are first built;
//   - rows updated by vectorized kernels (sim/src/fast_kernels.*) on double-buffered registers;
//   - operand registers kept as per-row histories: the A operand of cell (r, c) after an edge is the row's
//     input of r + c edges before, so A registers are never moved, their toggles are sliding sums of the
//     input's toggles, and a swap marker (shadow weights) is a diagonal that touches one cell per row;
//   - fixed point: a row falls back to the reference engine's table step (sim/pe.h) only while a NaN/Inf
//     operand or a non-finite partial sum is inside it.
// tests/sim/test_engine_fast.cpp compares it with the reference over random cases; simrun --check-engine P
// re-runs GEMMs of a real workload on the reference.
#pragma once

#include <memory>
#include <string>

#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/systolic_array.h"

namespace fp8sim::sim {

// Throws std::invalid_argument for bad parameters (as make_systolic_array).
std::unique_ptr<ArrayCore> make_fast_array(const ArrayParams& p);
// The row-kernel variant in use ("base", "avx2" or "avx512"; FP8SIM_FAST_KERNELS overrides the choice).
std::string fast_array_kernels();

}  // namespace fp8sim::sim

namespace fp8sim::sim {
// "" when every field of a and b is equal (cycles, each array and DMA class, MACs, traffic of every buffer and
// DRAM, toggles, wraps, RTL counts, first/last cycles, every command record, every layer record); else the
// first differing field with both values, e.g. "toggles.acc_regs: 1234 vs 1240".
std::string stats_difference(const Stats& a, const Stats& b);
}  // namespace fp8sim::sim
