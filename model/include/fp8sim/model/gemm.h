// The golden GEMM: C = A x B computed with exactly the arithmetic an accelerator's PEs perform, in an
// accumulation order the caller states. The SystemC array model and the RTL are checked against it bit
// for bit, one accumulator word per output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/mx.h"

namespace fp8sim::model {

// The MAC semantics: how a dot product's products are summed. Named in reports by mac_semantics_name():
//   exact       FixedPoint: exact two's complement fixed point (Kulisch); the word is the register.
//   fp32        Float32: acc <- fl32(acc + p) after every product (p is exact in float32 for FP8 operands).
//   block-fp32  BlockFp32: the products of each block of block_k consecutive k are summed exactly, the block
//               sum is rounded once to float32, and added to a float32 accumulator: acc <- fl32(acc +
//               fl32(S_b)). (GPU-like: tensor cores that sum a short block exactly, then round.)
//   promote-N   PromoteFp32: a narrow floating-point accumulator (narrow_precision significand bits, hidden bit
//               included; float32's exponent range: normal binades 2^-126..2^127, subnormal quantum
//               2^(-126 - (narrow_precision - 1)), overflow to Inf) adds every product with one RNE rounding,
//               n <- fl_p(n + p); after every promote_n products (and after the last) it is added to the
//               float32 accumulator, acc <- fl32(acc + n), and restarts at +0. (The scheme of DeepSeek-V3,
//               arXiv:2412.19437 section 3.3.2 reports that H800 FP8 GEMM accumulation keeps about 14 bits and
//               promotes partial sums to FP32 every N_C = 128 products; defaults 14 and 128 follow it, as a definition, not a claim
//               about any GPU's internal format.)
//   int32       Int32: INT8 operands.
// Float results (fp32, block-fp32, promote-N) are float32 words. All FP8 semantics work for every format row.
enum class AccumulatorKind : uint8_t {
  FixedPoint,   // exact two's complement fixed point (FP8 operands)
  Float32,      // IEEE float32, RNE after every addition (FP8 operands)
  Int32,        // INT8 operands
  BlockFp32,    // exact block sums of block_k products, rounded once to float32, float32 accumulation
  PromoteFp32,  // narrow float accumulator promoted to float32 every promote_n products
};
// True where the accumulator word is a float32 bit pattern (Float32, BlockFp32, PromoteFp32).
constexpr bool acc_is_float32_word(AccumulatorKind k) {
  return k == AccumulatorKind::Float32 || k == AccumulatorKind::BlockFp32 || k == AccumulatorKind::PromoteFp32;
}

// What a PE multiplies and how it accumulates.
struct GemmNumerics {
  bool int8 = false;                 // INT8 x INT8 (then acc must be Int32) or FP8 x FP8
  Fp8Kind a_kind = Fp8Kind::E4M3;    // FP8 formats of A and B (ignored for INT8)
  Fp8Kind b_kind = Fp8Kind::E4M3;
  AccumulatorKind acc = AccumulatorKind::FixedPoint;
  int acc_width = 0;                 // FixedPoint: 0 means fixed_point_accumulator_width(a, b, K)
  int block_k = 32;                  // BlockFp32: products per exactly summed block (>= 1)
  int promote_n = 128;               // PromoteFp32: products between promotions (>= 1)
  int narrow_precision = 14;         // PromoteFp32: significand bits of the narrow accumulator, [2, 24]

  // LSB exponent of a FixedPoint result (lsb_a + lsb_b).
  int lsb_exp() const;
  // Width actually used for a reduction of length k.
  int fixed_width(int64_t k) const;
  // Throws std::invalid_argument naming the problem (INT8 with a float accumulator, width out of range, ...).
  void validate(int64_t k) const;
  std::string describe() const;      // "e4m3 x e4m3 -> fixed49", "int8 x int8 -> int32", ...
};

// The semantics' report name: "exact", "fp32", "block-fp32(32)", "promote-128(p14)", "int32".
std::string mac_semantics_name(const GemmNumerics& num);
// Parses a semantics name into num.acc and its parameters: "exact", "fp32", "block-fp32" or "block-fp32:B",
// "promote" or "promote:N" or "promote:N:P". Returns an error line, empty on success.
std::string parse_mac_semantics(std::string_view text, GemmNumerics& num);

// The order in which each output's K products are added. Products are always taken in increasing k.
// With k_chunk > 0 the K range is cut into chunks of k_chunk (the last may be shorter): each chunk is summed
// from +0, and the chunk sums are added in chunk order into the output register, which starts at +0 (a
// K-tiled array with an accumulating output buffer). k_chunk == 0 is one chunk. Only float32-word results
// depend on it; fixed point and int32 are associative (modular). BlockFp32 blocks and PromoteFp32 intervals
// start at each chunk's first k (the last block / interval of a chunk may be shorter); the chunk's
// float32 sum is added to the register with one float32 addition.
struct AccumulationOrder {
  int64_t k_chunk = 0;
};

// One output: the accumulator register's contents, the unit of bit-exact comparison.
//   FixedPoint: raw = the two's complement value sign-extended from its width (LSB 2^lsb_exp), cls = specials
//   Float32, BlockFp32, PromoteFp32:
//               raw = the float32 bit pattern (specials are in the bits; NaN is 0x7FC00000), cls = Finite
//   Int32:      raw = the int32 value, cls = Finite
struct AccWord {
  int128 raw = 0;
  ValueClass cls = ValueClass::Finite;
  friend bool operator==(const AccWord& x, const AccWord& y) { return x.raw == y.raw && x.cls == y.cls; }
  friend bool operator!=(const AccWord& x, const AccWord& y) { return !(x == y); }
};

// A: M x K, row-major; B: K x N, row-major; codes (INT8 as two's complement bytes). Returns M x N row-major.
std::vector<AccWord> golden_gemm(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                 int64_t n, const uint8_t* a, const uint8_t* b);

// ---- MX GEMM (model/mx.h) ----
// A: M x K element codes, row-major, with M x ceil(K / block_size) E8M0 scales (row-major: the blocks of row
// i along K); B: K x N codes, row-major, with ceil(K / block_size) x N scales (row-major: block kb of column
// j at [kb * N + j]). Every block pair's dot product is exact with the two scales applied as an exact
// exponent add (mx_block_dot: value = lsbs * 2^(lsb_a + lsb_b + (sa - 127) + (sb - 127))); the block results
// are then accumulated per `acc`:
//   FixedPoint  exact (Kulisch) sum of all block results; the word is that exact sum rounded ONCE to float32
//               (RNE; the exact register would need ~600 bits across the E8M0 range)
//   Float32     every scaled product p (= a block of one) is rounded to float32 and accumulated:
//               acc <- fl32(acc + fl32(p))
//   BlockFp32   acc <- fl32(acc + fl32(S_b)) per MX block (block_k is ignored: the block is the MX block)
//   PromoteFp32 narrow accumulator over the scaled products as for FP8 (n <- fl_p(n + p), one rounding of the
//               exact sum), promoted to float32 every promote_n products
// Words are float32 bit patterns (cls Finite). K chunks (AccumulationOrder) must be multiples of block_size.
struct MxGemmNumerics {
  MxKind a_kind = MxKind::MXFP8_E4M3;
  MxKind b_kind = MxKind::MXFP8_E4M3;
  int block_size = kMxDefaultBlockSize;
  AccumulatorKind acc = AccumulatorKind::BlockFp32;
  int promote_n = 128;
  int narrow_precision = 14;
  void validate(int64_t k, const AccumulationOrder& order) const;  // throws std::invalid_argument
  std::string describe() const;  // "mxfp8 x mxfp8 (block 32) -> block-fp32"
};
std::vector<AccWord> golden_gemm_mx(const MxGemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                    int64_t n, const uint8_t* a, const uint8_t* a_scales, const uint8_t* b,
                                    const uint8_t* b_scales);

// ---- one dot product per semantics (the reference the GEMMs and the conformance vectors use) ----
// The K products of one output as exact terms, value = m * 2^e (cls for specials), in k order.
struct ExactTerm {
  ValueClass cls = ValueClass::Finite;
  int128 m = 0;
  int e = 0;
};
// Accumulates `terms` per semantics `acc` with the parameters of `num` (block_k, promote_n, narrow_precision)
// over chunks of `k_chunk` terms (0: one chunk). Returns the float32 word for the float semantics, or, for
// FixedPoint, the exact sum rounded once to float32 (the GEMMs report FP8 FixedPoint words as the register).
// Terms of a block for BlockFp32 are summed exactly whatever their exponents.
float accumulate_terms(AccumulatorKind acc, const GemmNumerics& num, int64_t k_chunk, const ExactTerm* terms, size_t n);
// The exact sum of arbitrary terms (any exponents), rounded once to `t` (float32 by default).
double exact_sum_rounded(const ExactTerm* terms, size_t n, const RoundingTarget& t = {});
// One rounding of the exact sum of two exact values (|m1|, |m2| < 2^100): fl_t(m1 * 2^e1 + m2 * 2^e2).
double round_sum(int128 m1, int e1, int128 m2, int e2, const RoundingTarget& t);

// The real value of an output word (round-to-nearest-even to double; NaN/Inf as such). For FixedPoint the
// word's width does not matter, raw is already sign-extended.
double acc_word_value(const GemmNumerics& num, const AccWord& w);
// The word's value as float32 with ONE rounding to nearest even (what a dequantizing post-processor needs;
// going through acc_word_value's double would round wide fixed-point words twice). NaN is the canonical NaN.
float acc_word_to_float(const GemmNumerics& num, const AccWord& w);
std::string acc_word_to_string(const GemmNumerics& num, const AccWord& w);  // for mismatch reports

// ---- accumulator overflow (wrap) ----
// A w-bit two's complement register (fixed point: w = acc_width; INT8: the int32 register, w = 32) holds
// [-2^(w-1), 2^(w-1) - 1]. With P = the largest product magnitude in LSBs (FP8: max_finite_lsbs(a) x
// max_finite_lsbs(b), E4M3: 229376^2 = 52,613,349,376; INT8: (-128) x (-128) = 16,384), every partial sum of
// a length-K reduction (in any order and any K chunking: each is a sum of at most K products, including the
// accumulating buffer's sums of chunk sums) has magnitude <= K x P. So nothing wraps when
//     K x P <= 2^(w-1) - 1,   i.e.   K <= K_max = floor((2^(w-1) - 1) / P),
// and the bound is tight: K_max + 1 products of magnitude P with the same sign reach (K_max + 1) x P, which
// does not fit. E4M3, w = 49: floor((2^48 - 1) / 52613349376) = 5349. Float32 accumulation does not wrap
// (it overflows to infinity) and a FixedPoint width of 0 (exact for the K of each call) cannot.
// Returns K_max, or INT64_MAX when no K wraps.
int64_t max_wrap_free_k(const GemmNumerics& num);
// One line stating the bound for these numerics ("e4m3 x e4m3 -> fixed49 holds K <= floor((2^48 - 1) / ...)").
std::string wrap_bound_text(const GemmNumerics& num);

// Wraps of one GEMM computed in `order` (products in increasing k, chunks summed from 0, chunk sums added into
// a register starting at 0; what the array and its accumulating buffer do):
//   events: additions whose exact result (register + addend) left the signed range, so the register kept it
//           modulo 2^w (a transient wrap that a later one undoes still counts: it is an overflow event);
//   outputs: outputs whose exact value does not fit, i.e. whose word is wrong.
// Exact (int128) recomputation, done only when K > max_wrap_free_k (else both are 0 at once).
struct WrapCount {
  uint64_t events = 0, outputs = 0;
};
WrapCount count_accumulator_wraps(const GemmNumerics& num, const AccumulationOrder& order, int64_t m, int64_t k,
                                  int64_t n, const uint8_t* a, const uint8_t* b);

}  // namespace fp8sim::model
