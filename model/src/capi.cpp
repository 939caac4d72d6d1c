// A C ABI over the conversions, for the Python reference tests (ctypes) that compare against ml_dtypes.
// Not part of the simulator's interface.
#include <cstddef>
#include <cstdint>

#include "fp8sim/model/bf16.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/model/mx.h"

using namespace fp8sim::model;

extern "C" {

int fp8sim_format_count() { return kFp8KindCount; }
const char* fp8sim_format_name(int kind) { return fp8_format(static_cast<Fp8Kind>(kind)).name.data(); }

void fp8sim_encode_f32(int kind, int saturate, const float* in, uint8_t* out, size_t n) {
  fp8_encode_array(fp8_format(static_cast<Fp8Kind>(kind)), saturate ? Overflow::Saturate : Overflow::NonSaturating,
                   in, out, n);
}

void fp8sim_encode_f64(int kind, int saturate, const double* in, uint8_t* out, size_t n) {
  const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(kind));
  const Overflow p = saturate ? Overflow::Saturate : Overflow::NonSaturating;
  for (size_t i = 0; i < n; ++i) out[i] = fp8_encode(f, in[i], p);
}

void fp8sim_decode_f32(int kind, const uint8_t* in, float* out, size_t n) {
  fp8_decode_array(fp8_format(static_cast<Fp8Kind>(kind)), in, out, n);
}

// MX (model/mx.h): every row of the format table, MX element encoding (round to nearest even, saturating),
// E8M0 decoding and the block conversion.
int fp8sim_format_row_count() { return kFormatRowCount; }
void fp8sim_mx_element_encode_f32(int kind, const float* in, uint8_t* out, size_t n) {
  const Fp8Format& f = fp8_format(static_cast<Fp8Kind>(kind));
  for (size_t i = 0; i < n; ++i) out[i] = mx_element_encode(f, static_cast<double>(in[i]));
}
void fp8sim_e8m0_decode_f32(const uint8_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = e8m0_decode_f32(in[i]);
}
void fp8sim_mx_quantize(int mx_kind, int block_size, const float* in, size_t n, uint8_t* codes, uint8_t* scales) {
  MxConfig c;
  c.kind = static_cast<MxKind>(mx_kind);
  c.block_size = block_size;
  mx_quantize(c, in, n, codes, scales);
}

void fp8sim_bf16_from_f32(const float* in, uint16_t* out, size_t n) { bf16_from_f32_array(in, out, n); }

void fp8sim_int8_quantize(const float* in, int8_t* out, size_t n, float scale, int allow_minus_128) {
  Int8Options o;
  o.allow_minus_128 = allow_minus_128 != 0;
  int8_quantize_array(in, out, n, scale, o);
}

}  // extern "C"
