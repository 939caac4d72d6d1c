// The fast MX array (--engine fast on an MX array; mx_array.h make_mx_fast_array): the same ArrayCore as the
// cycle model make_mx_array (sim/src/mx_array.cpp, rtl/mx_array.v), with the same handshakes, output words,
// cell Kulisch words, edge count and toggle counts, edge for edge, computed differently:
//   - no operand registers are moved: the registers of cell (r, c) after edge t hold the beat that entered at
//     edge t - r - c (row skew r, column skew c, one register per cell), so each cell reads its beat from a
//     short history of the beats that entered (a ring of R + C + 2 edges), and the PE of cell (r, c) works at
//     edge t on the beat of edge t - 1 - r - c;
//   - the A (B) register toggles of an edge are, per row (column), a sliding sum over C (R) edges of the row's
//     input toggles (the bits that changed between consecutive beats), because a beat's bits pass every cell
//     of its row one edge after the other;
//   - the PE (model::MxPe's two stages: block sum, then scale shift into the Kulisch accumulator) is stepped
//     on decoded operands: each element code's signed LSB count (model::mx_element_lsbs) is looked up once per
//     beat and a MAC is one integer multiply-add (modulo 2^64, or 2^128 where the block sum is wider than 64
//     bits: E5M2), the Kulisch register is 64-bit limbs. The decodes are checked against
//     model::mx_element_product for all 65,536 code pairs of the format when first built (once per process);
//     a product with a NaN/Inf element is model::mx_element_product's, the classes combine as model::MxPe's, the
//     output rounding is model::exact_sum_rounded's (mx_round_word). No arithmetic of its own: the same integer
//     sums as model::MxPe modulo the same widths.
// The timing therefore stays the cycle model's for any input stream (stalls, back-pressure, bubbles, odd
// flags): nothing is evaluated ahead of the edge at which the cycle model evaluates it.
// tests/sim/test_mx_fast.cpp compares it with make_mx_array edge by edge and on the accelerator.
#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/model/mx.h"
#include "fp8sim/model/mx_pe.h"
#include "mx_array_core.h"

namespace fp8sim::sim {
namespace detail {
namespace {

using model::ValueClass;

// Decoded element codes of one format (all 256 byte values; narrow codes ignore their high bits as model/
// does): lsbs[c] = model::mx_element_lsbs (0 for NaN/Inf), special[c] = NaN or Inf.
struct MxDecode {
  int64_t lsbs[256] = {};
  uint8_t special[256] = {};
};

std::shared_ptr<const MxDecode> build_decode(model::Fp8Kind kind) {
  auto d = std::make_shared<MxDecode>();
  const model::Fp8Format& f = model::fp8_format(kind);
  for (int c = 0; c < 256; ++c) {
    const uint8_t u = static_cast<uint8_t>(c);
    d->special[c] = model::mx_element_is_nan(f, u) || model::mx_element_is_inf(f, u);
    d->lsbs[c] = d->special[c] ? 0 : model::mx_element_lsbs(f, u);
  }
  // Every code pair: the decoded product is model/'s exact product (finite pairs), and a pair is non-finite
  // exactly when one code is NaN/Inf (its class then comes from model::mx_element_product at run time).
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      const model::ExactProduct p = model::mx_element_product(f, uint8_t(a), f, uint8_t(b));
      const bool special = d->special[a] || d->special[b];
      const bool ok = special ? p.cls != ValueClass::Finite
                              : p.cls == ValueClass::Finite && p.lsbs == model::int128{d->lsbs[a]} * d->lsbs[b];
      if (!ok)
        throw std::logic_error("mx fast array: decoded product of " + std::string(f.name) + " codes " +
                               std::to_string(a) + " x " + std::to_string(b) + " differs from model::mx_element_product");
    }
  return d;
}

std::shared_ptr<const MxDecode> decode_of(model::Fp8Kind kind) {
  static std::mutex mu;
  static std::map<int, std::shared_ptr<const MxDecode>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(int(kind));
  if (it != cache.end()) return it->second;
  auto d = build_decode(kind);
  cache.emplace(int(kind), d);
  return d;
}

inline int pop64(uint64_t x) { return __builtin_popcountll(x); }

// S: the block-sum register's arithmetic type (unsigned, modulo 2^64 or 2^128; the block sum is kept modulo
// 2^sbw as model::MxPe's wrap does, which equals wrapping the modular sum once when the block closes).
template <typename S>
class MxFastArray final : public MxArrayCore {
 public:
  explicit MxFastArray(const ArrayParams& p)
      : MxArrayCore(p), R_(p.rows), C_(p.cols), dec_(decode_of(p.fmt_a)),
        f_(model::fp8_format(p.fmt_a)) {
    if (!p.mx || p.dataflow != Dataflow::OutputStationary) throw std::invalid_argument("mx_array: not an MX array");
    if (p.rows < 1 || p.cols < 1) throw std::invalid_argument("mx_array: rows and cols must be >= 1");
    // the model's PE checks its parameters (block >= 1, block sum <= 120 bits): the same errors here
    const model::MxPe probe(pe_params(p));
    sbw_ = probe.block_sum_bits();
    fw_ = probe.value_bits();
    if (fw_ != shape_.fw) throw std::logic_error("mx fast array: Kulisch width differs from mx_word_shape");
    if (sizeof(S) == 8 && sbw_ > 64) throw std::logic_error("mx fast array: block sum wider than its register type");
    nl_ = (fw_ + 2 + 63) / 64;
    if (nl_ > kMaxLimbs) throw std::logic_error("mx fast array: Kulisch register wider than kMaxLimbs");
    for (int l = 0; l < nl_; ++l) {
      const int bits = std::min(64, std::max(0, fw_ - 64 * l));
      mask_[l] = bits == 64 ? ~0ull : (1ull << bits) - 1;
    }
    H_ = 1;
    while (H_ < R_ + C_ + 2) H_ <<= 1;
    const size_t n = size_t(R_) * C_;
    bsum_.assign(n, S(0));
    bcls_.assign(n, 0), open_.assign(n, 0), fresh_.assign(n, 0);
    s2v_.assign(n, 0), s2fresh_.assign(n, 0), s2fin_.assign(n, 0), s2cls_.assign(n, 0), s2x_.assign(n, 0);
    s2sum_.assign(n, model::int128{0});
    val_.assign(n * size_t(nl_), 0ull);
    cls_.assign(n, 0), done_.assign(n, 0);
    hv_.assign(size_t(H_), Flags{});
    ha_.assign(size_t(H_) * R_, 0), hsa_.assign(size_t(H_) * R_, 0), hla_.assign(size_t(H_) * R_, 0);
    hb_.assign(size_t(H_) * C_, 0), hsb_.assign(size_t(H_) * C_, 0), hlb_.assign(size_t(H_) * C_, 0);
    hspa_.assign(size_t(H_) * R_, 0), hspb_.assign(size_t(H_) * C_, 0), hany_.assign(size_t(H_), 0);
    da_.assign(size_t(H_) * R_, 0), db_.assign(size_t(H_) * C_, 0);
    wa_.assign(size_t(R_), 0), wb_.assign(size_t(C_), 0);
    pa_.assign(size_t(R_), 0), psa_.assign(size_t(R_), 0), pb_.assign(size_t(C_), 0), psb_.assign(size_t(C_), 0);
  }

  void cell_words_into(int r, int c, uint32_t* w) const override { words_of(size_t(r) * C_ + c, w); }

  void edge(const ArrayInputs& in) override {
    const bool take = take_beat(in);
    const uint64_t t = edges_;
    record_beat(t, take, in);
    if (p_.toggles) register_toggles(t);
    step_cells(t);
    out_.end_edge(done_[size_t(R_) * C_ - 1] != 0);
  }

 private:
  struct Flags {
    uint8_t v = 0, first = 0, last = 0, fin = 0;
  };

  static model::MxPeParams pe_params(const ArrayParams& p) {
    model::MxPeParams pp;
    pp.fmt_a = pp.fmt_b = p.fmt_a;
    pp.lanes = 1;
    pp.block = p.mx_block;
    pp.kblk_bits = 7;  // rtl/mx_array.v KBLK_BITS (mx_word_shape)
    return pp;
  }

  // The beat driven at edge t (zeros when not taken, as the cycle model drives an idle bus), its decodes and
  // each row's / column's input toggles against the previous edge's beat.
  void record_beat(uint64_t t, bool take, const ArrayInputs& in) {
    const size_t s = size_t(t & uint64_t(H_ - 1));
    Flags& f = hv_[s];
    f = Flags{};
    if (take) f.v = 1, f.first = in.mx_first, f.last = in.mx_blk_last, f.fin = in.mx_fin;
    uint8_t* a = &ha_[s * R_];
    uint8_t* sa = &hsa_[s * R_];
    uint8_t* b = &hb_[s * C_];
    uint8_t* sb = &hsb_[s * C_];
    for (int r = 0; r < R_; ++r) {
      a[r] = take && in.a ? in.a[r] : 0;
      sa[r] = take && in.sa ? in.sa[r] : 0;
      hla_[s * R_ + r] = dec_->lsbs[a[r]];
      hspa_[s * R_ + r] = dec_->special[a[r]];
    }
    uint8_t any = 0;
    for (int c = 0; c < C_; ++c) {
      b[c] = take && in.b ? in.b[c] : 0;
      sb[c] = take && in.sb ? in.sb[c] : 0;
      hlb_[s * C_ + c] = dec_->lsbs[b[c]];
      hspb_[s * C_ + c] = dec_->special[b[c]];
      any |= hspb_[s * C_ + c];
    }
    for (int r = 0; r < R_; ++r) any |= hspa_[s * R_ + r];
    hany_[s] = any;
  }

  // Toggles of the cells' operand registers at edge t (the cycle model counts a and sa of every X register, b
  // and sb of every Y register): register (r, c) goes from the row's beat of edge t-1-r-c to that of t-r-c, so
  // row r contributes d_r(t-r-c) for c = 0..C-1 with d_r(e) the bits changed between the beats of e-1 and e.
  void register_toggles(uint64_t t) {
    const size_t m = size_t(H_ - 1), s = size_t(t) & m;
    uint64_t ta = 0, tb = 0;
    for (int r = 0; r < R_; ++r) {
      const uint8_t a = ha_[s * R_ + r], sa = hsa_[s * R_ + r];
      da_[s * R_ + r] = uint32_t(__builtin_popcount(unsigned(a ^ pa_[r])) + __builtin_popcount(unsigned(sa ^ psa_[r])));
      pa_[r] = a, psa_[r] = sa;
    }
    for (int c = 0; c < C_; ++c) {
      const uint8_t b = hb_[s * C_ + c], sb = hsb_[s * C_ + c];
      db_[s * C_ + c] = uint32_t(__builtin_popcount(unsigned(b ^ pb_[c])) + __builtin_popcount(unsigned(sb ^ psb_[c])));
      pb_[c] = b, psb_[c] = sb;
    }
    // window of row r at edge t: d_r(e) for e in (t - r - C, t - r] (edges <= 0 hold zeros: never written)
    for (int r = 0; r < R_; ++r) {
      wa_[r] += da_[((t - uint64_t(r)) & m) * R_ + r];
      wa_[r] -= da_[((t - uint64_t(r) - uint64_t(C_)) & m) * R_ + r];
      ta += wa_[r];
    }
    for (int c = 0; c < C_; ++c) {
      wb_[c] += db_[((t - uint64_t(c)) & m) * C_ + c];
      wb_[c] -= db_[((t - uint64_t(c) - uint64_t(R_)) & m) * C_ + c];
      tb += wb_[c];
    }
    tog_.a_regs += ta;
    tog_.b_regs += tb;
  }

  // Every cell's PE at edge t, as model::MxPe::step with the cell's registers (the beat of edge t-1-r-c), one
  // anti-diagonal d = r + c (one beat) at a time.
  void step_cells(uint64_t t) {
    // Nothing moves once the last beat taken (edge L) has left the last cell: its stage 1 at edge
    // L + R + C - 1, stage 2 and acc_done at L + R + C, acc_done low again at L + R + C + 1.
    if (last_take_ == 0 || t > last_take_ + uint64_t(R_ + C_ + 1)) return;
    const size_t m = size_t(H_ - 1);
    for (int d = 0; d <= R_ + C_ - 2; ++d) {
      const size_t s = size_t(t - 1 - uint64_t(d)) & m;  // (wraps for early edges: an unwritten slot)
      const Flags f = (t >= 1 + uint64_t(d)) ? hv_[s] : Flags{};
      const int r0 = std::max(0, d - (C_ - 1)), r1 = std::min(R_ - 1, d);
      if (!f.v) {  // no beat: stage 2 only (MxPe: en low)
        for (int r = r0; r <= r1; ++r) {
          const size_t i = size_t(r) * C_ + size_t(d - r);
          if (s2v_[i]) accumulate(i);
          done_[i] = s2v_[i] && s2fin_[i];
          s2v_[i] = 0;
        }
      } else if (!f.first && !f.last && !hany_[s]) {  // inside a block, finite operands: one multiply-add
        const int64_t* la = &hla_[s * R_];
        const int64_t* lb = &hlb_[s * C_];
        for (int r = r0; r <= r1; ++r) {
          const size_t i = size_t(r) * C_ + size_t(d - r);
          if (s2v_[i]) accumulate(i);
          done_[i] = s2v_[i] && s2fin_[i];
          s2v_[i] = 0;
          const bool o = open_[i];
          const S p = S(la[r]) * S(lb[d - r]);  // modulo 2^bits(S): two's complement of the exact product
          bsum_[i] = (o ? bsum_[i] : S(0)) + p;
          bcls_[i] = o ? bcls_[i] : uint8_t(0);
          fresh_[i] = o && fresh_[i];
          open_[i] = 1;
        }
      } else {
        for (int r = r0; r <= r1; ++r) step_cell(size_t(r) * C_ + size_t(d - r), r, d - r, s, f);
      }
    }
  }
  void step_cell(size_t i, int r, int c, size_t s, const Flags f) {
    // stage 2 -> accumulator
    if (s2v_[i]) accumulate(i);
    done_[i] = s2v_[i] && s2fin_[i];
    // stage 1
    s2v_[i] = f.v && f.last;
    if (!f.v) return;
    const bool cont = open_[i] && !f.first;
    S sum = cont ? bsum_[i] : S(0);
    uint8_t cl = cont ? bcls_[i] : 0;
    const size_t ia = s * R_ + size_t(r), ib = s * C_ + size_t(c);
    if (!(hspa_[ia] | hspb_[ib])) {
      sum += S(hla_[ia]) * S(hlb_[ib]);  // modulo 2^bits(S): two's complement of the exact product
    } else {
      const model::ExactProduct pr = model::mx_element_product(f_, ha_[ia], f_, hb_[ib]);
      cl = uint8_t(model::MxPe::combine(ValueClass(cl), pr.cls));
      if (pr.cls == ValueClass::Finite) sum += S(static_cast<uint128>(pr.lsbs));
    }
    const bool fresh = f.first || (open_[i] && fresh_[i]);
    if (f.last) {
      s2sum_[i] = wrap(sum);
      const bool nan_scale = model::e8m0_is_nan(ha_sa(s, r)) || model::e8m0_is_nan(hb_sb(s, c));
      s2cls_[i] = nan_scale ? uint8_t(ValueClass::NaN) : cl;
      s2x_[i] = int(ha_sa(s, r)) + int(hb_sb(s, c));
      s2fresh_[i] = fresh;
      s2fin_[i] = f.fin;
      open_[i] = fresh_[i] = 0;
    } else {
      bsum_[i] = sum, bcls_[i] = cl, open_[i] = 1, fresh_[i] = fresh;
    }
  }
  uint8_t ha_sa(size_t s, int r) const { return hsa_[s * R_ + size_t(r)]; }
  uint8_t hb_sb(size_t s, int c) const { return hsb_[s * C_ + size_t(c)]; }

  // The block sum modulo 2^sbw, sign-extended (model::MxPe::wrap).
  model::int128 wrap(S sum) const {
    const uint128 u = static_cast<uint128>(sum);
    const uint128 mask = (uint128{1} << sbw_) - 1;
    uint128 v = u & mask;
    if (v >> (sbw_ - 1) & 1) v |= ~mask;
    return static_cast<model::int128>(v);
  }

  // model::MxPe's stage 2: acc = (fresh ? 0 : acc) + (sext(sum) << x) modulo 2^fw; class combined; the register
  // toggles (value and class bits that changed) counted as the cycle model counts them.
  void accumulate(size_t i) {
    uint64_t* v = &val_[i * size_t(nl_)];
    uint64_t before[kMaxLimbs];
    std::memcpy(before, v, sizeof(uint64_t) * size_t(nl_));
    const uint8_t cls_before = cls_[i];
    if (s2fresh_[i]) std::memset(v, 0, sizeof(uint64_t) * size_t(nl_));
    const uint8_t bc = s2fresh_[i] ? 0 : cls_[i];
    if (s2cls_[i] == 0) add_shifted(v, s2sum_[i], s2x_[i]);
    cls_[i] = uint8_t(model::MxPe::combine(ValueClass(bc), ValueClass(s2cls_[i])));
    if (p_.toggles) {
      uint64_t tg = uint64_t(pop64(uint64_t(cls_before ^ cls_[i])));
      for (int l = 0; l < nl_; ++l) tg += uint64_t(pop64(before[l] ^ v[l]));
      tog_.acc_regs += tg;
    }
  }
  void add_shifted(uint64_t* v, model::int128 x, int shift) const {
    const uint128 u = static_cast<uint128>(x);
    const uint64_t lo = static_cast<uint64_t>(u), hi = static_cast<uint64_t>(u >> 64);
    const uint64_t sg = x < 0 ? ~0ull : 0ull;
    const int q = shift / 64, o = shift % 64;
    uint64_t add[3];
    if (o == 0) {
      add[0] = lo, add[1] = hi, add[2] = sg;
    } else {
      add[0] = lo << o;
      add[1] = (hi << o) | (lo >> (64 - o));
      add[2] = (sg << o) | (hi >> (64 - o));
    }
    uint64_t carry = 0;
    for (int l = q; l < nl_; ++l) {
      const uint64_t y = l - q < 3 ? add[l - q] : sg;
      const uint64_t s1 = v[l] + y;
      const uint64_t c1 = s1 < v[l];
      const uint64_t s2 = s1 + carry;
      carry = c1 | (s2 < s1);
      v[l] = s2;
    }
    for (int l = q; l < nl_; ++l) v[l] &= mask_[l];  // keep fw bits (the class bits live beside the value)
  }
  // {cls, value} as the cycle model's 32-bit words (model::MxPe::acc_words).
  void words_of(size_t i, uint32_t* w) const {
    const uint64_t* v = &val_[i * size_t(nl_)];
    for (int k = 0; k < shape_.words; ++k) w[k] = uint32_t(v[k / 2] >> (32 * (k % 2)));
    for (int b = 0; b < 2; ++b)
      if (cls_[i] >> b & 1) w[(fw_ + b) / 32] |= 1u << ((fw_ + b) % 32);
  }

  static constexpr int kMaxLimbs = 16;  // 120 + 508 + 7 + 2 bits at most: 10 limbs

  int R_, C_;
  uint64_t mask_[kMaxLimbs] = {};
  std::shared_ptr<const MxDecode> dec_;
  const model::Fp8Format& f_;
  int sbw_ = 0, fw_ = 0, nl_ = 0, H_ = 0;
  // cells (row-major): stage 1, stage 2, accumulator (model::MxPe's registers)
  std::vector<S> bsum_;
  std::vector<uint8_t> bcls_, open_, fresh_;
  std::vector<uint8_t> s2v_, s2fresh_, s2fin_, s2cls_;
  std::vector<int> s2x_;
  std::vector<model::int128> s2sum_;
  std::vector<uint64_t> val_;
  std::vector<uint8_t> cls_, done_;
  // beat history (ring of H_ edges): flags, codes, scales, decodes
  std::vector<Flags> hv_;
  std::vector<uint8_t> ha_, hsa_, hb_, hsb_, hspa_, hspb_, hany_;  // hany_: a NaN/Inf code in the beat
  std::vector<int64_t> hla_, hlb_;
  // register toggles: per-edge input toggles per row / column, their sliding windows, the previous beat
  std::vector<uint32_t> da_, db_;
  std::vector<uint64_t> wa_, wb_;
  std::vector<uint8_t> pa_, psa_, pb_, psb_;
};

}  // namespace
}  // namespace detail

std::unique_ptr<ArrayCore> make_mx_fast_array(const ArrayParams& p) {
  if (!p.mx) throw std::invalid_argument("mx_array: not an MX array");
  const model::Fp8Format& f = model::fp8_format(p.fmt_a);
  if (p.mx_block < 1) throw std::invalid_argument("MxPe: bad parameters");
  if (model::mx_block_sum_bits(f, f, size_t(p.mx_block)) <= 64)
    return std::make_unique<detail::MxFastArray<uint64_t>>(p);
  return std::make_unique<detail::MxFastArray<uint128>>(p);
}

}  // namespace fp8sim::sim
