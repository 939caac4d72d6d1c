// PE arithmetic for the modelled array, as tables built from model/ (the single numerics source):
//   - products come from model::fp8_product_f32 / model::fp8_exact_product for every pair of codes;
//   - the fixed-point special-class rule (NaN absorbs, +Inf + -Inf = NaN) is read off
//     model::FixedPointAccumulator for every (register class, product class) pair;
//   - the register update is model/accumulate.h's: float32 adds with one RNE addition and canonical NaN
//     (Float32Accumulator), fixed point adds modulo 2^width (FixedPointAccumulator), int32 wraps
//     (Int32Accumulator). tests/sim checks these words against the model classes and golden_gemm.
// Words are the RTL's accumulator words (rtl/pe_kinds.vh): int32 / float32 bits, or {cls[1:0], value[W-1:0]}
// for fixed point, so toggle counts and RTL comparisons need no conversion.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fp8sim/model/gemm.h"

namespace fp8sim::sim {

using model::int128;
using model::uint128;

enum class PeKind : uint8_t { Int8 = 0, Fp8Fixed = 1, Fp8Float32 = 2 };  // = RTL PE_KIND

// Table-driven MAC step on words of type W (uint32_t for int32/float32, uint64_t or uint128 for fixed point).
template <typename W>
struct PeTables {
  PeKind kind;
  int width = 0;          // fixed point value bits (W holds width + 2 bits)
  W vmask = 0;            // fixed point: value mask
  std::vector<W> prod;    // [b * 256 + a]: product word (fixed: value bits only)
  std::vector<uint8_t> pcls;  // fixed: [b * 256 + a] product class
  uint8_t cls_add[4][4];  // fixed: class after adding a product of class p to a register of class c
};

// The numerics a PE kind computes (for golden_gemm), with the RTL's fixed-point width (exact for K = 4096
// when acc_width == 0).
model::GemmNumerics pe_numerics(PeKind kind, model::Fp8Kind fa, model::Fp8Kind fb, int acc_width);
// Bytes of one accumulator word in buffers and DRAM: 4, 8 or 16.
int pe_word_bytes(const model::GemmNumerics& num);

template <typename W>
std::shared_ptr<const PeTables<W>> make_pe_tables(const model::GemmNumerics& num);

// A copy of a table's pointers and parameters held in locals of the array's loop: stores to the uint8_t
// register arrays may alias anything, so reading through the PeTables object would reload every field per PE.
template <typename W>
struct PeView {
  const W* prod;
  const uint8_t* pcls;
  const uint8_t* cls_add;  // [c * 4 + p]
  W vmask;
  int width;
  explicit PeView(const PeTables<W>& t)
      : prod(t.prod.data()), pcls(t.pcls.data()), cls_add(&t.cls_add[0][0]), vmask(t.vmask), width(t.width) {}
};

// One MAC: acc (+) a * b (b = weight/B operand). Inline: this is the inner loop of the array.
template <PeKind K, typename W>
inline W pe_mac(const PeView<W>& t, W acc, unsigned a, unsigned b) {
  const unsigned idx = (b << 8) | a;
  if constexpr (K == PeKind::Fp8Float32) {
    float x, p;
    const uint32_t ab = static_cast<uint32_t>(acc), pb = static_cast<uint32_t>(t.prod[idx]);
    std::memcpy(&x, &ab, 4);
    std::memcpy(&p, &pb, 4);
    x = x + p;
    uint32_t r;
    std::memcpy(&r, &x, 4);
    if (x != x) r = model::kCanonicalNaN32;
    return static_cast<W>(r);
  } else if constexpr (K == PeKind::Int8) {
    return static_cast<W>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(t.prod[idx]));
  } else {
    const unsigned c = static_cast<unsigned>(acc >> t.width) & 3u;
    const W v = ((acc & t.vmask) + t.prod[idx]) & t.vmask;
    return v | (static_cast<W>(t.cls_add[c * 4 + t.pcls[idx]]) << t.width);
  }
}
template <PeKind K, typename W>
inline W pe_mac(const PeTables<W>& t, W acc, unsigned a, unsigned b) {
  return pe_mac<K, W>(PeView<W>(t), acc, a, b);
}

// 1 when the MAC acc (+) a * b wraps: the exact sum of the register's value and the product leaves the
// register's signed range (fixed point: width bits, which hold every single product (make_pe_tables); INT8:
// 32 bits). Two's complement: it wraps iff both addends have the same sign and the result's sign differs.
// Float32 never wraps (0).
template <PeKind K, typename W>
inline unsigned pe_wraps(const PeView<W>& t, W acc, unsigned a, unsigned b) {
  if constexpr (K == PeKind::Fp8Float32) {
    return 0;
  } else if constexpr (K == PeKind::Int8) {
    const uint32_t x = static_cast<uint32_t>(acc), p = static_cast<uint32_t>(t.prod[(b << 8) | a]), s = x + p;
    return (~(x ^ p) & (x ^ s)) >> 31;
  } else {
    const W x = acc & t.vmask, p = t.prod[(b << 8) | a], s = (x + p) & t.vmask;
    return static_cast<unsigned>((~(x ^ p) & (x ^ s)) >> (t.width - 1)) & 1u;
  }
}
// The same for the buffer's addition of two words.
template <typename W>
inline bool pe_add_wraps(const PeTables<W>& t, W acc, W x) {
  if (t.kind == PeKind::Fp8Float32) return false;
  if (t.kind == PeKind::Int8) {
    const uint32_t u = static_cast<uint32_t>(acc), v = static_cast<uint32_t>(x), s = u + v;
    return ((~(u ^ v) & (u ^ s)) >> 31) != 0;
  }
  const W u = acc & t.vmask, v = x & t.vmask, s = (u + v) & t.vmask;
  return ((~(u ^ v) & (u ^ s)) >> (t.width - 1)) & 1u;
}

// Adds two words (the accumulating output buffer: register (+) chunk sum).
template <typename W>
inline W pe_add(const PeTables<W>& t, W acc, W x) {
  if (t.kind == PeKind::Fp8Float32) {
    float a, b;
    const uint32_t ab = static_cast<uint32_t>(acc), xb = static_cast<uint32_t>(x);
    std::memcpy(&a, &ab, 4);
    std::memcpy(&b, &xb, 4);
    a = a + b;
    uint32_t r;
    std::memcpy(&r, &a, 4);
    if (a != a) r = model::kCanonicalNaN32;
    return static_cast<W>(r);
  }
  if (t.kind == PeKind::Int8) return static_cast<W>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(x));
  const unsigned c = static_cast<unsigned>(acc >> t.width) & 3u, d = static_cast<unsigned>(x >> t.width) & 3u;
  const W v = ((acc & t.vmask) + (x & t.vmask)) & t.vmask;
  return v | (static_cast<W>(t.cls_add[c][d]) << t.width);
}

// Word <-> model::AccWord (the unit of golden comparison).
template <typename W>
inline model::AccWord word_to_acc(const PeTables<W>& t, W w) {
  model::AccWord a;
  if (t.kind == PeKind::Fp8Fixed) {
    const int s = 128 - t.width;
    a.raw = static_cast<int128>(static_cast<uint128>(w & t.vmask) << s) >> s;
    a.cls = static_cast<model::ValueClass>(static_cast<unsigned>(w >> t.width) & 3u);
  } else if (t.kind == PeKind::Int8) {
    a.raw = static_cast<int32_t>(static_cast<uint32_t>(w));
  } else {
    a.raw = static_cast<uint32_t>(w);
  }
  return a;
}

}  // namespace fp8sim::sim
