// Model twin of the RTL MX dot-product PE (rtl/mx_pe.v): the same parameters, registers and clock timing, its
// arithmetic from model/mx.h (mx_element_product, the E8M0 scale). Used by the RTL co-simulation
// (tests/rtl/test_rtl_mx.cpp) and usable as a cycle-level MX PE in C++.
//
// MAC semantics ("exact", OCP MX v1.0 section 6.2 with nothing rounded): every element product exact, the
// block's products summed exactly, the two E8M0 scales applied as an exponent add (a left shift by sa + sb of
// the block sum), the scaled block sums added in an exact fixed-point (Kulisch) accumulator of
//   fw = mx_block_sum_bits(fa, fb, block) + 508 + kblk_bits
// bits in units of 2^(lsb_a + lsb_b - 254), exact for any scales and up to 2^kblk_bits blocks, wrapping
// modulo 2^fw beyond (as the register does). Specials: a class beside the value, as in mx_pe.v.
// The accumulator word is {cls[1:0], value[fw-1:0]} as little-endian 32-bit words (Verilator's layout of a
// wide port), so a test compares it with the RTL's output word for word.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/mx.h"

namespace fp8sim::model {

struct MxPeParams {
  Fp8Kind fmt_a = Fp8Kind::E4M3;   // element rows of the format table (rtl FMT_A / FMT_B)
  Fp8Kind fmt_b = Fp8Kind::E4M3;
  int lanes = 1;                   // element pairs per cycle (rtl LANES)
  int block = kMxDefaultBlockSize; // elements per scale: sizes the block sum (rtl BLOCK)
  int kblk_bits = 7;               // exact for 2^kblk_bits blocks (rtl KBLK_BITS)
};

class MxPe {
 public:
  // One clock edge's inputs (rtl ports of the same names). a, b: lanes codes each.
  struct Inputs {
    bool en = false, clr = false, last = false, fin = false;
    const uint8_t* a = nullptr;
    const uint8_t* b = nullptr;
    uint8_t sa = 127, sb = 127;
  };

  explicit MxPe(const MxPeParams& p)
      : p_(p), fa_(fp8_format(p.fmt_a)), fb_(fp8_format(p.fmt_b)),
        sbw_(mx_block_sum_bits(fa_, fb_, static_cast<size_t>(p.block))), fw_(sbw_ + 508 + p.kblk_bits) {
    if (p.lanes < 1 || p.block < 1 || p.kblk_bits < 0) throw std::invalid_argument("MxPe: bad parameters");
    if (sbw_ > 120) throw std::invalid_argument("MxPe: block sum wider than 120 bits");
    words_ = (fw_ + 2 + 31) / 32;
    reset();
  }

  int block_sum_bits() const { return sbw_; }
  int value_bits() const { return fw_; }        // fw
  int word_bits() const { return fw_ + 2; }     // {cls, value}
  int words() const { return words_; }

  void reset() {
    bsum_ = 0, bcls_ = ValueClass::Finite, open_ = fresh_ = false;
    s2_v_ = s2_fresh_ = s2_fin_ = false, s2_sum_ = 0, s2_cls_ = ValueClass::Finite, s2_x_ = 0;
    val_.assign(static_cast<size_t>(words_), 0u);
    cls_ = ValueClass::Finite;
    done_ = false;
  }

  // One rising clock edge (rst low): both stages update from the values before the edge.
  void step(const Inputs& in) {
    // stage 2 -> accumulator (uses the stage-2 registers as they were before this edge)
    const bool was_v = s2_v_, was_fin = s2_fin_;
    if (was_v) {
      std::vector<uint32_t> base = s2_fresh_ ? std::vector<uint32_t>(val_.size(), 0u) : val_;
      const ValueClass bc = s2_fresh_ ? ValueClass::Finite : cls_;
      if (s2_cls_ == ValueClass::Finite) add_shifted(base, s2_sum_, s2_x_);
      val_ = std::move(base);
      cls_ = combine(bc, s2_cls_);
    }
    done_ = was_v && was_fin;
    // stage 1
    s2_v_ = in.en && in.last;
    if (in.en) {
      const bool cont = open_ && !in.clr;
      int128 sum = cont ? bsum_ : 0;
      ValueClass c = cont ? bcls_ : ValueClass::Finite;
      for (int l = 0; l < p_.lanes; ++l) {
        const ExactProduct pr = mx_element_product(fa_, in.a[l], fb_, in.b[l]);
        c = combine(c, pr.cls);
        if (pr.cls == ValueClass::Finite) sum += pr.lsbs;
      }
      sum = wrap(sum, sbw_);
      const bool fresh = in.clr || (open_ && fresh_);
      if (in.last) {
        s2_sum_ = sum;
        s2_cls_ = (e8m0_is_nan(in.sa) || e8m0_is_nan(in.sb)) ? ValueClass::NaN : c;
        s2_x_ = in.sa + in.sb;
        s2_fresh_ = fresh;
        s2_fin_ = in.fin;
        open_ = fresh_ = false;
      } else {
        bsum_ = sum, bcls_ = c, open_ = true, fresh_ = fresh;
      }
    }
  }

  // {cls, value} as little-endian 32-bit words, unused top bits 0.
  std::vector<uint32_t> acc_words() const {
    std::vector<uint32_t> w = val_;
    const int c = static_cast<int>(cls_);
    for (int i = 0; i < 2; ++i)
      if (c >> i & 1) w[static_cast<size_t>((fw_ + i) / 32)] |= 1u << ((fw_ + i) % 32);
    return w;
  }
  ValueClass acc_class() const { return cls_; }
  bool acc_done() const { return done_; }

  // Class of a sum of two classed values (NaN absorbs, +Inf + -Inf = NaN, else the infinite one).
  static ValueClass combine(ValueClass x, ValueClass y) {
    using V = ValueClass;
    if (x == V::NaN || y == V::NaN) return V::NaN;
    if (x != V::Finite && y != V::Finite && x != y) return V::NaN;
    return x != V::Finite ? x : y;
  }

 private:
  static int128 wrap(int128 v, int bits) {   // two's complement modulo 2^bits, sign-extended
    const uint128 m = (uint128{1} << bits) - 1;
    uint128 u = static_cast<uint128>(v) & m;
    if (u >> (bits - 1) & 1) u |= ~m;
    return static_cast<int128>(u);
  }
  // val += sext(v) << shift modulo 2^fw (val: words_ little-endian words, bits >= fw kept 0)
  void add_shifted(std::vector<uint32_t>& val, int128 v, int shift) const {
    std::vector<uint32_t> t(val.size(), v < 0 ? 0xFFFFFFFFu : 0u);
    uint128 u = static_cast<uint128>(v);
    for (int i = 0; i < 128; ++i) {          // place bit i of v at i + shift (sign bits above come from t)
      const int pos = i + shift;
      if (pos >= words_ * 32) break;
      uint32_t& w = t[static_cast<size_t>(pos / 32)];
      const uint32_t bit = 1u << (pos % 32);
      w = (u >> i & 1) ? (w | bit) : (w & ~bit);
    }
    for (int pos = 0; pos < shift && pos < words_ * 32; ++pos) t[static_cast<size_t>(pos / 32)] &= ~(1u << (pos % 32));
    uint64_t carry = 0;
    for (size_t i = 0; i < val.size(); ++i) {
      const uint64_t s = uint64_t{val[i]} + t[i] + carry;
      val[i] = static_cast<uint32_t>(s);
      carry = s >> 32;
    }
    // keep fw bits
    for (int pos = fw_; pos < words_ * 32; ++pos) val[static_cast<size_t>(pos / 32)] &= ~(1u << (pos % 32));
  }

  MxPeParams p_;
  const Fp8Format& fa_;
  const Fp8Format& fb_;
  int sbw_, fw_, words_ = 0;
  // stage 1
  int128 bsum_ = 0;
  ValueClass bcls_ = ValueClass::Finite;
  bool open_ = false, fresh_ = false;
  // stage 2
  bool s2_v_ = false, s2_fresh_ = false, s2_fin_ = false;
  int128 s2_sum_ = 0;
  ValueClass s2_cls_ = ValueClass::Finite;
  int s2_x_ = 0;
  // accumulator
  std::vector<uint32_t> val_;
  ValueClass cls_ = ValueClass::Finite;
  bool done_ = false;
};

}  // namespace fp8sim::model
