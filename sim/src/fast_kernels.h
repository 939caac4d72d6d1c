// Row kernels of the fast array engine (fast_array.cpp): one call updates the C cells of one array row for one
// clock edge from decoded operands (no product-table gathers). Plain loops over raw pointers that the compiler
// vectorizes; compiled three times (fast_kernels_{base,avx2,avx512}.cpp, each with its own instruction set, in
// its own namespace and with nothing but these loops in it, so no inline function compiled for a wider
// instruction set can be picked by the linker for the others) and chosen at run time by the CPU's features.
// Every variant computes the same integers and the same IEEE float32 additions (no contraction: the build uses
// -ffp-contract=off), so the choice changes speed only; tests/sim/test_engine_fast runs each variant the CPU has.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fp8sim::sim::fastk {

// Results a row kernel adds to: toggled register bits, accumulator wrap events.
struct RowCounts {
  uint64_t tog = 0, wraps = 0;
};

struct Kernels {
  const char* name;
  // Fixed point (words of width + 2 bits <= 64, class bits zero in pa): pn[c] = (pa[c] + a[c] * w[c]) mod 2^width.
  // a, w: the operands' signed LSB counts (fp8_to_lsbs; 0 for NaN/Inf). po: the row's old words (toggles).
  void (*fixed64)(const uint64_t* pa, const int32_t* a, const int32_t* w, const uint64_t* po, uint64_t* pn, int n,
                  uint64_t vmask, int width, bool tog, RowCounts* cnt);
  // INT8 x INT8 -> int32 (wrapping): pn[c] = pa[c] + a[c] * w[c].
  void (*int32)(const uint32_t* pa, const int32_t* a, const int32_t* w, const uint32_t* po, uint32_t* pn, int n,
                bool tog, RowCounts* cnt);
  // Float32 accumulator: pn[c] = bits(float(pa[c]) + a[c] * w[c]) (two roundings-free steps: the FP8 product is
  // exact in float32; one RNE addition), NaN -> canonical NaN.
  void (*f32)(const uint32_t* pa, const float* a, const float* w, const uint32_t* po, uint32_t* pn, int n, bool tog,
              RowCounts* cnt);
  // Fixed point with OS semantics: where f[c] & 2 (a valid beat), pn[c] = ((f[c] & 1) ? 0 : po[c]) + a[c] * w[c]
  // mod 2^width, else pn[c] = po[c]; counts wraps of the MACs done and, with tog, the bits where pn and po differ.
  void (*fixed64_os)(const uint8_t* f, const int32_t* a, const int32_t* w, const uint64_t* po, uint64_t* pn, int n,
                     uint64_t vmask, int width, bool tog, RowCounts* cnt);
  void (*int32_os)(const uint8_t* f, const int32_t* a, const int32_t* w, const uint32_t* po, uint32_t* pn, int n,
                   bool tog, RowCounts* cnt);
  void (*f32_os)(const uint8_t* f, const float* a, const float* w, const uint32_t* po, uint32_t* pn, int n, bool tog,
                 RowCounts* cnt);
  // Rows [0, rows) of the WS kernels at once: row r reads pa + r * stride, a[r], w[r], po + r * stride and writes
  // pn + r * stride (the same as one call per row).
  void (*fixed64_rows)(int rows, const uint64_t* pa, const int32_t* const* a, const int32_t* const* w,
                       const uint64_t* po, uint64_t* pn, size_t stride, int n, uint64_t vmask, int width, bool tog,
                       RowCounts* cnt);
  void (*int32_rows)(int rows, const uint32_t* pa, const int32_t* const* a, const int32_t* const* w,
                     const uint32_t* po, uint32_t* pn, size_t stride, int n, bool tog, RowCounts* cnt);
  void (*f32_rows)(int rows, const uint32_t* pa, const float* const* a, const float* const* w, const uint32_t* po,
                   uint32_t* pn, size_t stride, int n, bool tog, RowCounts* cnt);
  // Fixed point on 128-bit words (width + 2 > 64: E5M2's exact accumulator), rows [0, rows) as fixed64_rows:
  // pn[c] = (pa[c] + a[c] * w[c]) mod 2^width; a, w: int64 LSB counts (0 for NaN/Inf), class bits zero in pa.
  void (*fixed128_rows)(int rows, const unsigned __int128* pa, const int64_t* const* a, const int64_t* const* w,
                        const unsigned __int128* po, unsigned __int128* pn, size_t stride, int n,
                        unsigned __int128 vmask, int width, bool tog, RowCounts* cnt);
  // Bits that differ between x[0..n) and y[0..n) (bytes) / 32-bit / 64-bit words.
  uint64_t (*xor_bits8)(const uint8_t* x, const uint8_t* y, int n);
  uint64_t (*xor_bits32)(const uint32_t* x, const uint32_t* y, int n);
  uint64_t (*xor_bits64)(const uint64_t* x, const uint64_t* y, int n);
};

const Kernels& kernels_base();
const Kernels* kernels_avx2();    // nullptr when not compiled in
const Kernels* kernels_avx512();  // nullptr when not compiled in
// The widest variant this CPU runs, or the one FP8SIM_FAST_KERNELS (base | avx2 | avx512) names.
const Kernels& kernels();
// Every variant compiled in that this CPU can run (tests compare them).
int kernel_variants(const Kernels** out, int max);

}  // namespace fp8sim::sim::fastk
