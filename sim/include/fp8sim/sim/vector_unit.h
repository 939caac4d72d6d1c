// The vector unit: SIMD lanes of BF16 that execute the networks' non-GEMM operations (softmax, GELU,
// LayerNorm, residual add, ReLU, pooling, tanh). Their values are model/'s reference arithmetic (the network
// code computes them, BF16 in the quantized modes: one source of truth); this unit says what they cost.
//
// Timing model (per call of an operation on `rows` rows of `cols` elements; V = ceil(cols / lanes) lane
// vectors per row; one lane vector enters the pipeline per cycle and primitive pass; a reduction across the
// lanes takes log2(lanes) add stages; `latency` cycles fill the pipeline once per call):
//   add, relu        rows x V x add                       (relu: a max, costed as an add)
//   gelu             rows x V x (erf + 3 mul + add)       0.5 u (1 + erf(u / sqrt 2))
//   tanh             rows x V x tanh
//   softmax          rows x (V x (mul + max) + R          scale by 1/sqrt(d), row maximum
//                           + V x (add + exp + add) + R    subtract, exp, running sum
//                           + div + V x mul)               one reciprocal per row, normalize
//   layer_norm       rows x (V x add + R                  mean
//                           + V x (add + mul + add) + R    variance
//                           + rsqrt + V x (add + 2 mul + add))  normalize, gain, bias
//   pool             rows x V x add + V x mul             sum of `rows` pixels per channel, one scale
// with R = ceil(log2(lanes)) x add. All costs (lanes, latency, cycles per primitive) come from the
// configuration ([vector] in sim/configs/*.toml).
// Energy: element operations x per-operation energies (cost/): the counts below.
#pragma once

#include <cstdint>

#include "fp8sim/model/quant/executor.h"

namespace fp8sim::sim {

struct VectorUnitConfig {
  int lanes = 32;    // BF16 lanes
  int latency = 4;   // pipeline fill, cycles per operation call
  // Cycles per lane-vector pass of each primitive.
  int add = 1, mul = 1, exp = 4, div = 8, rsqrt = 8, erf = 6, tanh = 6;
  void validate(const char* origin) const;  // throws std::invalid_argument("<origin>: vector.<key>: <reason>")
};

struct VectorCost {
  uint64_t cycles = 0;
  // Element operations (for energy): additions/comparisons, multiplications, transcendental or iterative
  // functions (exp, erf, tanh, reciprocal, reciprocal square root).
  uint64_t adds = 0, muls = 0, funcs = 0;
  uint64_t elements = 0;  // values produced
};

VectorCost vector_op_cost(const VectorUnitConfig& v, quant::VectorOp op, int64_t rows, int64_t cols);

}  // namespace fp8sim::sim
