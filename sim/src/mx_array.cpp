// mx_array: the cycle model of rtl/mx_array.v (same parameters ROWS, COLS, FMT_A = FMT_B, BLOCK, KBLK_BITS,
// same registers: the row/column input skew, each cell's operand registers xq (a side: {valid, first, last,
// fin, sa, a}) and yq (b side: {sb, b}), and its PE, model::MxPe), stepped once per clock edge; plus the
// output stage of sim/mx_array.h (mx_array_core.h). No arithmetic here: products, block sums, scales and the
// Kulisch accumulator are model::MxPe's (model/mx_pe.h, model/mx.h); the output rounding is
// model::exact_sum_rounded's.
#include <stdexcept>
#include <string>
#include <vector>

#include "fp8sim/model/gemm.h"
#include "fp8sim/model/mx_pe.h"
#include "mx_array_core.h"

namespace fp8sim::sim {

void set_mx_array(ArrayParams& p, model::MxKind kind, int block) {
  if (block < 1) throw std::invalid_argument("MX block size must be >= 1");
  p.mx = true;
  p.mx_kind = kind;
  p.mx_block = block;
  p.dataflow = Dataflow::OutputStationary;
  p.pe = PeKind::Fp8Float32;  // the output word: float32 bits
  p.fmt_a = p.fmt_b = model::mx_format(kind).element;
  p.acc_width = 0;
  p.shadow_weights = p.shadow_outputs = false;
}

void set_mx_array(AcceleratorConfig& cfg, model::MxKind kind, int block) {
  set_mx_array(cfg.array, kind, block);
  // One access carries a block-last beat's codes and scales (validate()): widen by banks if needed.
  const int64_t need[2] = {2 * int64_t{cfg.array.rows}, 2 * int64_t{cfg.array.cols}};
  SramConfig* bufs[2] = {&cfg.input_buffer, &cfg.weight_buffer};
  for (int i = 0; i < 2; ++i)
    if (bufs[i]->width_bytes() < need[i])
      bufs[i]->banks = static_cast<int>((need[i] + bufs[i]->bank_width_bytes - 1) / bufs[i]->bank_width_bytes);
  cfg.validate();
}

model::MxGemmNumerics mx_gemm_numerics(const ArrayParams& p) {
  if (!p.mx) throw std::invalid_argument("mx_gemm_numerics: not an MX array");
  model::MxGemmNumerics n;
  n.a_kind = n.b_kind = p.mx_kind;
  n.block_size = p.mx_block;
  n.acc = model::AccumulatorKind::FixedPoint;
  return n;
}

std::string mx_accumulator_name(const ArrayParams&) { return "exact"; }
std::string mx_pe_name(const ArrayParams& p) { return std::string(model::mx_format(p.mx_kind).name); }

std::vector<uint32_t> mx_cell_words(const ArrayCore& a, int r, int c) {
  const auto* m = dynamic_cast<const detail::MxArrayCore*>(&a);
  if (!m) throw std::invalid_argument("mx_cell_words: not an MX array");
  return m->cell_words(r, c);
}

namespace detail {

constexpr int kKblkBits = 7;  // rtl/mx_array.v KBLK_BITS default: exact for 128 blocks
constexpr int kMaxWordBits = 120 + 508 + kKblkBits;  // model::MxPe: block sum <= 120 bits

MxWordShape mx_word_shape(const ArrayParams& p) {
  const model::Fp8Format& f = model::fp8_format(p.fmt_a);
  MxWordShape s;
  s.fw = model::mx_block_sum_bits(f, f, static_cast<size_t>(p.mx_block)) + 508 + kKblkBits;
  s.words = (s.fw + 2 + 31) / 32;
  s.lsb_exp = 2 * f.lsb_exp() - 254;
  return s;
}

uint32_t mx_round_word(const MxWordShape& s, const uint32_t* w) {
  auto bit = [&](int i) { return (w[i / 32] >> (i % 32)) & 1u; };
  const int cls = static_cast<int>(bit(s.fw) | bit(s.fw + 1) << 1);
  model::ExactTerm terms[(kMaxWordBits + 63) / 64];
  size_t nt = 0;
  if (cls != 0) {
    terms[nt++] = {static_cast<model::ValueClass>(cls), 0, 0};
  } else {
    // The fw-bit two's complement value as sign and magnitude (64-bit limbs), then one term per non-zero limb
    // of the magnitude: value = +-sum(limb_l * 2^(64 l)) in units of 2^lsb_exp.
    if (s.fw > kMaxWordBits) throw std::logic_error("mx_round_word: Kulisch word wider than kMaxWordBits");
    const int nl = (s.fw + 63) / 64;
    uint64_t mag[(kMaxWordBits + 63) / 64] = {};
    for (int i = 0; i < (s.fw + 31) / 32; ++i) mag[i / 2] |= uint64_t{w[i]} << (32 * (i % 2));
    if (s.fw % 64) mag[nl - 1] &= (uint64_t{1} << (s.fw % 64)) - 1;  // value bits only (the class sits above)
    const bool neg = bit(s.fw - 1);
    if (neg) {  // magnitude = 2^fw - value (two's complement negation modulo 2^fw)
      uint64_t carry = 1;
      for (int l = 0; l < nl; ++l) {
        const uint64_t x = ~mag[l] + carry;
        carry = carry && x == 0;
        mag[l] = x;
      }
      if (s.fw % 64) mag[nl - 1] &= (uint64_t{1} << (s.fw % 64)) - 1;
    }
    for (int l = 0; l < nl; ++l)
      if (mag[l]) {
        const model::int128 m = static_cast<model::int128>(mag[l]);
        terms[nt++] = {model::ValueClass::Finite, neg ? -m : m, s.lsb_exp + 64 * l};
      }
  }
  const float v = static_cast<float>(model::exact_sum_rounded(terms, nt));
  return v != v ? model::kCanonicalNaN32 : model::f32_bits(v);
}

namespace {

class MxArrayModel final : public MxArrayCore {
 public:
  explicit MxArrayModel(const ArrayParams& p) : MxArrayCore(p), R_(p.rows), C_(p.cols) {
    if (!p.mx || p.dataflow != Dataflow::OutputStationary) throw std::invalid_argument("mx_array: not an MX array");
    model::MxPeParams pp;
    pp.fmt_a = pp.fmt_b = p.fmt_a;
    pp.lanes = 1;
    pp.block = p.mx_block;
    pp.kblk_bits = kKblkBits;
    pes_.reserve(size_t(R_) * C_);
    for (int i = 0; i < R_ * C_; ++i) pes_.emplace_back(pp);
    xq_.assign(size_t(R_) * C_, X{});
    closing_.assign(size_t(R_) * C_, false);
    yq_.assign(size_t(R_) * C_, Y{});
    xskew_.assign(size_t(R_), {});
    yskew_.assign(size_t(C_), {});
    for (int r = 0; r < R_; ++r) xskew_[r].assign(size_t(r), X{});
    for (int c = 0; c < C_; ++c) yskew_[c].assign(size_t(c), Y{});
  }

  void cell_words_into(int r, int c, uint32_t* w) const override {
    const std::vector<uint32_t> v = pes_[size_t(r) * C_ + c].acc_words();
    std::copy(v.begin(), v.end(), w);
  }

  void edge(const ArrayInputs& in) override {
    take_ = take_beat(in);
    // The beat as driven on the ports this cycle (a beat not taken drives in_valid low and zeros).
    X bx;
    if (take_) {
      bx.v = true, bx.first = in.mx_first, bx.last = in.mx_blk_last, bx.fin = in.mx_fin;
    }
    // 1. every PE takes its cell's registers as they were before the edge
    for (size_t i = 0; i < pes_.size(); ++i) {
      const X& x = xq_[i];
      const Y& y = yq_[i];
      model::MxPe::Inputs pin;
      pin.en = x.v, pin.clr = x.first, pin.last = x.last, pin.fin = x.fin;
      pin.a = &x.a, pin.b = &y.b, pin.sa = x.sa, pin.sb = y.sb;
      // An idle cell's step changes nothing: no beat (en low), no block closed at the last edge (MxPe's stage 2
      // empty: closing_ mirrors it) and acc_done already low. Skipped (exactly the same state).
      if (!x.v && !closing_[i] && !pes_[i].acc_done()) continue;
      if (p_.toggles && closing_[i]) {  // the block closed at the previous edge enters the accumulator now
        const std::vector<uint32_t> before = pes_[i].acc_words();
        pes_[i].step(pin);
        const std::vector<uint32_t> after = pes_[i].acc_words();
        for (size_t w = 0; w < after.size(); ++w) tog_.acc_regs += uint64_t(__builtin_popcount(before[w] ^ after[w]));
      } else {
        pes_[i].step(pin);
      }
      closing_[i] = x.v && x.last;
    }
    // 2. operand registers move right / down (from the values before the edge), the skew registers shift
    for (int r = 0; r < R_; ++r) {
      for (int c = C_ - 1; c >= 0; --c) {
        X& dst = xq_[size_t(r) * C_ + c];
        const X src = c == 0 ? skew_out_x(r, bx, in) : xq_[size_t(r) * C_ + c - 1];
        if (p_.toggles) tog_.a_regs += __builtin_popcount(unsigned(dst.a ^ src.a)) + __builtin_popcount(unsigned(dst.sa ^ src.sa));
        dst = src;
      }
    }
    for (int c = 0; c < C_; ++c) {
      for (int r = R_ - 1; r >= 0; --r) {
        Y& dst = yq_[size_t(r) * C_ + c];
        const Y src = r == 0 ? skew_out_y(c, in) : yq_[size_t(r - 1) * C_ + c];
        if (p_.toggles) tog_.b_regs += __builtin_popcount(unsigned(dst.b ^ src.b)) + __builtin_popcount(unsigned(dst.sb ^ src.sb));
        dst = src;
      }
    }
    shift_skew(bx, in);
    out_.end_edge(pes_.back().acc_done());
  }

 private:
  struct X {
    bool v = false, first = false, last = false, fin = false;
    uint8_t sa = 0, a = 0;
  };
  struct Y {
    uint8_t sb = 0, b = 0;
  };
  // The beat word of row r / column c driven this cycle.
  X beat_x(int r, X bx, const ArrayInputs& in) const {
    bx.a = in.a && take_ ? in.a[r] : 0;
    bx.sa = in.sa && take_ ? in.sa[r] : 0;
    return bx;
  }
  Y beat_y(int c, const ArrayInputs& in) const {
    Y y;
    y.b = in.b && take_ ? in.b[c] : 0;
    y.sb = in.sb && take_ ? in.sb[c] : 0;
    return y;
  }
  // x_in[r]: row 0 the beat itself, row r > 0 the oldest of its r skew registers.
  X skew_out_x(int r, const X& bx, const ArrayInputs& in) const { return r == 0 ? beat_x(0, bx, in) : xskew_[r].back(); }
  Y skew_out_y(int c, const ArrayInputs& in) const { return c == 0 ? beat_y(0, in) : yskew_[c].back(); }
  void shift_skew(const X& bx, const ArrayInputs& in) {
    for (int r = 1; r < R_; ++r) {
      auto& q = xskew_[r];
      for (int i = r - 1; i > 0; --i) q[i] = q[i - 1];
      q[0] = beat_x(r, bx, in);
    }
    for (int c = 1; c < C_; ++c) {
      auto& q = yskew_[c];
      for (int i = c - 1; i > 0; --i) q[i] = q[i - 1];
      q[0] = beat_y(c, in);
    }
  }

  int R_, C_;
  std::vector<model::MxPe> pes_;
  std::vector<X> xq_;
  std::vector<bool> closing_;  // toggles: the cell's PE closed a block at the last edge
  std::vector<Y> yq_;
  std::vector<std::vector<X>> xskew_;
  std::vector<std::vector<Y>> yskew_;
  bool take_ = false;
};

}  // namespace
}  // namespace detail

std::unique_ptr<ArrayCore> make_mx_array(const ArrayParams& p) { return std::make_unique<detail::MxArrayModel>(p); }

}  // namespace fp8sim::sim
