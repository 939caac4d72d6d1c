#include "fp8sim/sim/vector_unit.h"

#include <stdexcept>
#include <string>

namespace fp8sim::sim {

void VectorUnitConfig::validate(const char* origin) const {
  const std::pair<const char*, int> keys[] = {{"lanes", lanes}, {"add", add},     {"mul", mul},   {"exp", exp},
                                              {"div", div},     {"rsqrt", rsqrt}, {"erf", erf},   {"tanh", tanh}};
  for (const auto& [k, v] : keys)
    if (v < 1) throw std::invalid_argument(std::string(origin) + ": vector." + k + ": must be >= 1");
  if (latency < 0) throw std::invalid_argument(std::string(origin) + ": vector.latency: must be >= 0");
}

VectorCost vector_op_cost(const VectorUnitConfig& v, quant::VectorOp op, int64_t rows, int64_t cols) {
  if (rows < 1 || cols < 1) throw std::invalid_argument("vector_op_cost: empty operation");
  const uint64_t r = uint64_t(rows), n = uint64_t(cols), V = (n + uint64_t(v.lanes) - 1) / uint64_t(v.lanes);
  uint64_t stages = 0;
  while ((uint64_t{1} << stages) < uint64_t(v.lanes)) ++stages;
  const uint64_t R = stages * uint64_t(v.add);
  VectorCost c;
  uint64_t per_row = 0;
  using quant::VectorOp;
  switch (op) {
    case VectorOp::Add:
    case VectorOp::Relu:
      per_row = V * v.add;
      c.adds = r * n;
      c.elements = r * n;
      break;
    case VectorOp::Gelu:
      per_row = V * (v.erf + 3 * v.mul + v.add);
      c.muls = 3 * r * n, c.adds = r * n, c.funcs = r * n;
      c.elements = r * n;
      break;
    case VectorOp::Tanh:
      per_row = V * v.tanh;
      c.funcs = r * n;
      c.elements = r * n;
      break;
    case VectorOp::Softmax:
      per_row = V * (v.mul + v.add) + R + V * (2 * v.add + v.exp) + R + v.div + V * v.mul;
      c.muls = 2 * r * n, c.adds = 3 * r * n, c.funcs = r * n + r;  // exp per element, a reciprocal per row
      c.elements = r * n;
      break;
    case VectorOp::LayerNorm:
      per_row = V * v.add + R + V * (2 * v.add + v.mul) + R + v.rsqrt + V * (2 * v.add + 2 * v.mul);
      c.adds = 5 * r * n, c.muls = 3 * r * n, c.funcs = r;
      c.elements = r * n;
      break;
    case VectorOp::Pool:
      c.cycles = r * V * v.add + V * v.mul + uint64_t(v.latency);
      c.adds = r * n, c.muls = n;
      c.elements = n;
      return c;
  }
  c.cycles = r * per_row + uint64_t(v.latency);
  return c;
}

}  // namespace fp8sim::sim
