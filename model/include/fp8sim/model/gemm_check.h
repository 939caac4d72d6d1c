// A fast, independent golden GEMM for verification (simrun's check of every simulated output): the same words as
// golden_gemm (gemm.h), computed another way where an exact argument allows it, else by golden_gemm itself.
//   Exact path: every operand is an integer count of its format's LSB (fp8_to_lsbs; INT8: its value), so each
//   product is an integer of magnitude <= P = max|a| x max|b| (E4M3: 229376^2 < 2^35.7; INT8: 2^14) and every
//   partial sum of K products an integer of magnitude <= K x P. When K x P < 2^53 every such integer is exact in
//   double precision, so summing the products in doubles (any order, no rounding ever happens) gives the exact
//   sum: E4M3 x E4M3 up to K = 171,196 (so every K <= 131,072), INT8 up to K = 2^39. The register's word is that
//   sum modulo 2^width (fixed point: num.fixed_width(k); INT8: 32), sign-extended: the same as golden_gemm's
//   modular sums in any order and any K chunking.
//   It applies to FixedPoint and Int32 accumulation with no NaN/Inf operand code; Float32 accumulation (whose
//   result depends on the order), NaN/Inf operands and formats with K x P >= 2^53 (E5M2) go to golden_gemm.
// The loops are compiled per instruction set (gemm_check_{base,avx2,avx512}.cpp) and chosen at run time; all
// compute the same exact integers. tests/model/test_gemm_check.cpp compares it with golden_gemm.
#pragma once

#include <cstdint>
#include <vector>

#include "fp8sim/model/gemm.h"

namespace fp8sim::model {

// True when check_gemm takes the exact double path for these operands.
bool check_gemm_exact_path(const GemmNumerics& num, int64_t m, int64_t k, int64_t n, const uint8_t* a,
                           const uint8_t* b);
// golden_gemm's words (same arguments, same exceptions for bad shapes/numerics).
std::vector<AccWord> check_gemm(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                int64_t n, const uint8_t* a, const uint8_t* b);

}  // namespace fp8sim::model
