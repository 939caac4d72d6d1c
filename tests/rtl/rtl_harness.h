// Small helpers for driving Verilated models from Catch2 tests: bit fields of ports of any width
// (Verilator maps up to 64 bits to integers and wider ports to VlWide<N> word arrays), sign extension,
// a seeded random source, and a clock.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <random>
#include <type_traits>

#include "fp8sim/model/accumulate.h"

namespace fp8sim::rtltest {

using model::int128;
using model::uint128;

inline uint128 mask_bits(int w) { return w >= 128 ? ~uint128{0} : ((uint128{1} << w) - 1); }

inline int128 sign_extend(uint128 v, int w) {
  const int s = 128 - w;
  return static_cast<int128>(v << s) >> s;
}

// ---- integer-typed ports (CData/SData/IData/QData) ----
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
uint128 get_field(const T& port, int lsb, int w) {
  return (static_cast<uint128>(port) >> lsb) & mask_bits(w);
}
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void set_field(T& port, int lsb, int w, uint128 v) {
  const uint128 m = mask_bits(w) << lsb;
  port = static_cast<T>((static_cast<uint128>(port) & ~m) | ((v << lsb) & m));
}

// ---- wide ports (VlWide<N>: N 32-bit words, least significant first) ----
template <std::size_t N>
uint128 get_field(const VlWide<N>& port, int lsb, int w) {
  uint128 r = 0;
  for (int i = 0; i < w;) {
    const int b = lsb + i, word = b / 32, off = b % 32;
    const int take = std::min(32 - off, w - i);
    const uint128 bits = (static_cast<uint128>(port[word]) >> off) & mask_bits(take);
    r |= bits << i;
    i += take;
  }
  return r;
}
template <std::size_t N>
void set_field(VlWide<N>& port, int lsb, int w, uint128 v) {
  for (int i = 0; i < w;) {
    const int b = lsb + i, word = b / 32, off = b % 32;
    const int take = std::min(32 - off, w - i);
    const uint32_t m = static_cast<uint32_t>(mask_bits(take)) << off;
    const uint32_t bits = static_cast<uint32_t>((v >> i) & mask_bits(take)) << off;
    port[word] = (port[word] & ~m) | bits;
    i += take;
  }
}

// Seeded, reproducible randomness (std::mt19937_64 is specified bit for bit by the standard; the
// distributions are not, so only raw draws and our own reductions are used).
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t next() { return g_(); }
  // Uniform in [0, n) (n > 0; the tiny modulo bias is irrelevant for test vectors).
  uint64_t below(uint64_t n) { return g_() % n; }
  uint8_t byte() { return static_cast<uint8_t>(g_()); }
  bool chance(unsigned per_mille) { return below(1000) < per_mille; }

 private:
  std::mt19937_64 g_;
};

// One clock cycle of a model with ports clk: settle inputs at clk = 0, then a rising edge.
template <typename M>
void tick(M& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

}  // namespace fp8sim::rtltest
