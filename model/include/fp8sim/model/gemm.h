// The golden GEMM: C = A x B computed with exactly the arithmetic an accelerator's PEs perform, in an
// accumulation order the caller states. The SystemC array model and the RTL are checked against it bit
// for bit, one accumulator word per output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"

namespace fp8sim::model {

enum class AccumulatorKind : uint8_t {
  FixedPoint,  // exact two's complement fixed point (FP8 operands)
  Float32,     // IEEE float32, RNE after every addition (FP8 operands)
  Int32,       // INT8 operands
};

// What a PE multiplies and how it accumulates.
struct GemmNumerics {
  bool int8 = false;                 // INT8 x INT8 (then acc must be Int32) or FP8 x FP8
  Fp8Kind a_kind = Fp8Kind::E4M3;    // FP8 formats of A and B (ignored for INT8)
  Fp8Kind b_kind = Fp8Kind::E4M3;
  AccumulatorKind acc = AccumulatorKind::FixedPoint;
  int acc_width = 0;                 // FixedPoint: 0 means fixed_point_accumulator_width(a, b, K)

  // LSB exponent of a FixedPoint result (lsb_a + lsb_b).
  int lsb_exp() const;
  // Width actually used for a reduction of length k.
  int fixed_width(int64_t k) const;
  // Throws std::invalid_argument naming the problem (INT8 with a float accumulator, width out of range, ...).
  void validate(int64_t k) const;
  std::string describe() const;      // "e4m3 x e4m3 -> fixed49", "int8 x int8 -> int32", ...
};

// The order in which each output's K products are added. Products are always taken in increasing k.
// With k_chunk > 0 the K range is cut into chunks of k_chunk (the last may be shorter): each chunk is summed
// from +0, and the chunk sums are added in chunk order into the output register, which starts at +0 (a
// K-tiled array with an accumulating output buffer). k_chunk == 0 is one chunk. Only Float32 results
// depend on it; fixed point and int32 are associative (modular).
struct AccumulationOrder {
  int64_t k_chunk = 0;
};

// One output: the accumulator register's contents, the unit of bit-exact comparison.
//   FixedPoint: raw = the two's complement value sign-extended from its width (LSB 2^lsb_exp), cls = specials
//   Float32:    raw = the float32 bit pattern (specials are in the bits), cls = Finite
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
