// Conversions between float32/float64 and the 8-bit floating-point formats of format.h.
//
// Rounding is round-to-nearest, ties to even, always applied BEFORE the overflow test (OCP OFP8 §5):
// E4M3 float 464 is a tie and rounds down to 448; 465 rounds up past 448 and overflows.
//
// Input handling (both overflow policies):
//   * NaN  -> the format's NaN, keeping the input's sign where the format has signed NaNs
//             (OCP E4M3: 0x7F/0xFF; OCP E5M2: 0x7E/0xFE; fnuz: 0x80).
//   * +-0  -> +-0 (fnuz has no -0: both give 0x00). Values that round to zero keep their sign likewise.
//   * Subnormal results are produced, never flushed.
// Overflow (a finite input whose rounded magnitude exceeds the largest finite value, or an infinite input):
//   * Overflow::Saturate      -> +-max finite (E4M3 +-448, E5M2 +-57344). Infinities saturate too, as
//                                ONNX QuantizeLinear saturate=1 and CUDA __NV_SATFINITE do.
//   * Overflow::NonSaturating -> +-Inf where the format has Inf (E5M2), NaN otherwise (E4M3): OCP's
//                                non-saturating mode, and exactly what ml_dtypes' astype does.
//
// Float64 inputs are rounded directly to FP8 (one rounding). Note that ml_dtypes converts float64 by way of
// float32 (two roundings), so the two can differ on float64 inputs that are not float32 values.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fp8sim/model/format.h"

namespace fp8sim::model {

enum class Overflow : uint8_t { Saturate, NonSaturating };

uint8_t fp8_encode(const Fp8Format& fmt, float x, Overflow policy);
uint8_t fp8_encode(const Fp8Format& fmt, double x, Overflow policy);

// Exact value of a code. NaN codes give a quiet NaN with the code's sign; Inf codes give +-Inf.
float fp8_decode_f32(const Fp8Format& fmt, uint8_t code);
double fp8_decode(const Fp8Format& fmt, uint8_t code);

bool fp8_is_nan(const Fp8Format& fmt, uint8_t code);
bool fp8_is_inf(const Fp8Format& fmt, uint8_t code);

// Signed integer k with value = k * 2^fmt.lsb_exp() for finite codes (the fixed-point view the exact
// accumulator and the RTL multiplier use). Unspecified for NaN/Inf codes.
int64_t fp8_to_lsbs(const Fp8Format& fmt, uint8_t code);

// Whole-array conversions (hot loops of the quantizer and the C API used by the Python reference tests).
void fp8_encode_array(const Fp8Format& fmt, Overflow policy, const float* in, uint8_t* out, size_t n);
void fp8_decode_array(const Fp8Format& fmt, const uint8_t* in, float* out, size_t n);

}  // namespace fp8sim::model
