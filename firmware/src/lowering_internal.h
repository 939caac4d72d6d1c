// Helpers shared by the fixed lowering (lowering.cpp) and the mapped lowering (mapper.cpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "fp8sim/firmware/lowering.h"

namespace fp8sim::firmware::detail {

inline uint32_t u32(int64_t v, const char* what) {
  if (v < 0 || v > 0xFFFFFFFFll) throw std::invalid_argument(std::string("lowering: ") + what + " out of range");
  return static_cast<uint32_t>(v);
}

inline std::string shape_str(const GemmSpec& g) {
  return "M=" + std::to_string(g.m) + " K=" + std::to_string(g.k) + " N=" + std::to_string(g.n);
}

// Throws std::invalid_argument for an empty GEMM or an implicit-im2col GEMM whose shape is not its
// convolution's.
void validate_gemm(const GemmSpec& g);

// The DRAM side of an activation load of A[m0, m0 + mv) x [k0, k0 + kv): dram_addr/dram_stride, or the
// gather fields (implicit im2col). Sets rows = mv, cols = kv.
void set_a_source(Command& a, const GemmSpec& g, int64_t m0, int64_t mv, int64_t k0, int64_t kv);

// Turns the store of output tile (m0, n0) into the post-processing unit's PostProcess (g.post.enabled): converted
// outputs in g.post.out_fmt at out_addr, the column scales and biases from n0, the row scales from m0.
void set_post_process(Command& s, const GemmSpec& g, int64_t m0, int64_t n0);

}  // namespace fp8sim::firmware::detail
