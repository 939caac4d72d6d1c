// The vector unit's cost model (sim/vector_unit.h) on the default configuration: 32 lanes, latency 4,
// add = mul = 1, exp 4, div 8, rsqrt 8, erf 6, tanh 6 cycles per lane-vector pass; R = log2(32) = 5 add stages
// per cross-lane reduction. Every figure is derived by hand below from the formulas in the header.
#include <catch2/catch.hpp>

#include "fp8sim/sim/vector_unit.h"

using namespace fp8sim;
using sim::vector_op_cost;
using sim::VectorUnitConfig;
using quant::VectorOp;

TEST_CASE("vector unit: cycles and element operations per operation, hand-derived", "[sim][vector]") {
  const VectorUnitConfig v;
  // softmax, 128 rows of 128: V = 4; per row 4 x (mul + max) + 5 + 4 x (2 add + exp) + 5 + div + 4 x mul
  //   = 8 + 5 + 24 + 5 + 8 + 4 = 54; 128 x 54 + 4 = 6,916 cycles.
  sim::VectorCost c = vector_op_cost(v, VectorOp::Softmax, 128, 128);
  CHECK(c.cycles == 6916);
  CHECK(c.adds == 3u * 16384);
  CHECK(c.muls == 2u * 16384);
  CHECK(c.funcs == 16384u + 128);  // exp per element, one reciprocal per row
  CHECK(c.elements == 16384u);
  // layer_norm, 128 rows of 768: V = 24; per row 24 + 5 + 24 x 3 + 5 + 8 + 24 x 4 = 210; 128 x 210 + 4.
  c = vector_op_cost(v, VectorOp::LayerNorm, 128, 768);
  CHECK(c.cycles == 26884);
  CHECK(c.funcs == 128u);
  // gelu, 128 x 3072: V = 96; 96 x (erf 6 + 3 mul + add) = 960 per row; 128 x 960 + 4.
  CHECK(vector_op_cost(v, VectorOp::Gelu, 128, 3072).cycles == 122884);
  // pool, 64 pixels x 64 channels: V = 2; 64 x 2 adds + 2 muls + 4 = 134; one value per channel.
  c = vector_op_cost(v, VectorOp::Pool, 64, 64);
  CHECK(c.cycles == 134);
  CHECK(c.elements == 64u);
  // add, one row of 33: V = 2 (the last vector one lane full); 2 + 4.
  CHECK(vector_op_cost(v, VectorOp::Add, 1, 33).cycles == 6);
  // More lanes, fewer cycles: 64 lanes halve V for softmax rows of 128 (V = 2, R = 6):
  //   2 x 2 + 6 + 2 x 6 + 6 + 8 + 2 = 38 per row.
  VectorUnitConfig wide;
  wide.lanes = 64;
  CHECK(vector_op_cost(wide, VectorOp::Softmax, 128, 128).cycles == 128u * 38 + 4);
  CHECK_THROWS_AS(vector_op_cost(v, VectorOp::Add, 0, 8), std::invalid_argument);
  VectorUnitConfig bad;
  bad.lanes = 0;
  CHECK_THROWS_WITH(bad.validate("x.toml"), "x.toml: vector.lanes: must be >= 1");
}
