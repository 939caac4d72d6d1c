#include "fp8sim/sim/systolic_array.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace fp8sim::sim {
namespace {

inline int popcnt(uint32_t x) { return __builtin_popcount(x); }
inline int popcnt(uint64_t x) { return __builtin_popcountll(x); }
inline int popcnt(uint128 x) {
  return __builtin_popcountll(static_cast<uint64_t>(x)) + __builtin_popcountll(static_cast<uint64_t>(x >> 64));
}

template <typename W, PeKind K>
class ArrayBase : public ArrayCore {
 protected:
  explicit ArrayBase(const ArrayParams& p) : ArrayCore(p), t_(make_pe_tables<W>(num_)) {}
  std::shared_ptr<const PeTables<W>> t_;

 public:
  uint128 add_words(uint128 acc, uint128 x) const override {
    return static_cast<uint128>(pe_add<W>(*t_, static_cast<W>(acc), static_cast<W>(x)));
  }
  model::AccWord to_acc_word(uint128 w) const override { return word_to_acc<W>(*t_, static_cast<W>(w)); }
  bool add_wraps(uint128 acc, uint128 x) const override {
    return pe_add_wraps<W>(*t_, static_cast<W>(acc), static_cast<W>(x));
  }
};

// ---------------- weight stationary (rtl/sa_ws.v) ----------------
// Sh: shadow weights (SHADOW = 1): shadow registers h_, the swap marker's skew and per-cell registers,
// the counters wcnt_ (rows in the shadow since the last swap) and scnt_ (edges at which the last marker
// still reads shadow registers), as sa_ws.v's g_ctl.
template <typename W, PeKind K, bool Tog, bool Sh>
class SaWs final : public ArrayBase<W, K> {
  using ArrayCore::p_;
  using ArrayCore::tog_;
  using ArrayBase<W, K>::t_;

 public:
  explicit SaWs(const ArrayParams& p)
      : ArrayBase<W, K>(p), R_(p.rows), C_(p.cols), L_(p.rows + p.cols - 1), vp_(L_, 0),
        ahist_(size_t(R_) * R_, 0), phist_(size_t(C_) * C_, 0), bhist_(size_t(C_) * C_, 0),
        a_(size_t(R_) * C_, 0), w_(size_t(R_) * C_, 0), p_reg_(size_t(R_) * C_, 0), ask_(R_), psk_(C_),
        shist_(Sh ? R_ : 0, 0), ssk_(Sh ? R_ : 0, 0), h_(Sh ? size_t(R_) * C_ : 0, 0), s_(Sh ? size_t(R_) * C_ : 0, 0) {}

  bool busy() const { return (vcount_ - vp_[stage(L_ - 1)]) > 0; }
  bool adv(bool out_ready) const { return !vp_[stage(L_ - 1)] || out_ready; }
  bool in_ready(bool wload, bool out_ready, bool swap, bool) const override {
    if constexpr (Sh) return adv(out_ready) && (!swap || wcnt_ == R_);
    return adv(out_ready) && (!wload || !busy());
  }
  bool w_ready(bool out_ready) const override {
    if constexpr (Sh) return adv(out_ready) && wcnt_ < R_ && scnt_ <= 1;
    return false;
  }
  bool out_valid() const override { return vp_[stage(L_ - 1)] != 0; }
  bool active() const override { return vcount_ > 0; }
  void out_words(uint128* dst) const override {
    // Column c leaves through C - 1 - c deskew stages: the bottom register's value C - 1 - c edges ago.
    for (int c = 0; c < C_; ++c) dst[c] = static_cast<uint128>(bhist_[size_t(ring(bpos_, C_ - 1 - c, C_)) * C_ + c]);
  }

  void edge(const ArrayInputs& in) override {
    if (!adv(in.out_ready)) return;  // one global stall: no register moves
    ++this->edges_;
    const bool fire = in.valid && in_ready(in.wload, in.out_ready, in.swap, in.last);
    const bool shift_w = Sh ? (in.wvalid && w_ready(in.out_ready)) : (fire && in.wload);
    const bool compute = Sh ? fire : (fire && !in.wload);
    const bool swap_in = Sh && fire && in.swap;
    const bool zero_in = in.a == nullptr && in.psum == nullptr && !shift_w && !swap_in;
    // vpipe <<= 1 | compute
    vcount_ -= vp_[stage(L_ - 1)];
    vhead_ = (vhead_ + L_ - 1) % L_;
    vp_[vhead_] = compute;
    vcount_ += compute;
    if constexpr (Sh) {
      if (swap_in) wcnt_ = 0;
      else if (shift_w) ++wcnt_;
      if (swap_in) scnt_ = R_ + C_ - 2;
      else if (scnt_ > 0) --scnt_;
    }
    // Once every register holds what zero inputs produce, further edges with zero inputs change nothing
    // (no toggles): skip the cell loop (idle array while waiting for DRAM). A swap marker crosses the
    // array in R + C - 2 edges, well within the wait.
    if (zero_in) {
      if (quiet_ > 2 * (R_ + C_) + 2) return;
      ++quiet_;
    } else {
      quiet_ = 0;
    }
    // Input skews: row r / column c sees the input of r / c edges ago.
    apos_ = (apos_ + R_ - 1) % R_;
    uint8_t* arow = &ahist_[size_t(apos_) * R_];
    for (int r = 0; r < R_; ++r) arow[r] = in.a ? in.a[r] : 0;
    for (int r = 0; r < R_; ++r) ask_[r] = ahist_[size_t(ring(apos_, r, R_)) * R_ + r];
    if constexpr (Sh) {
      shist_[apos_] = swap_in;
      for (int r = 0; r < R_; ++r) ssk_[r] = shist_[ring(apos_, r, R_)];
    }
    ppos_ = (ppos_ + C_ - 1) % C_;
    W* prow = &phist_[size_t(ppos_) * C_];
    for (int c = 0; c < C_; ++c) prow[c] = in.psum ? static_cast<W>(in.psum[c]) : W{0};
    for (int c = 0; c < C_; ++c) psk_[c] = phist_[size_t(ring(ppos_, c, C_)) * C_ + c];
    // Cells, bottom-right first so that every cell reads its neighbours' old values.
    const PeView<W> t(*t_);
    uint64_t ta = 0, tb = 0, tp = 0, tw = 0;
    for (int r = R_ - 1; r >= 0; --r) {
      W* prow_c = &p_reg_[size_t(r) * C_];
      const W* pabove = r ? &p_reg_[size_t(r - 1) * C_] : psk_.data();
      uint8_t* arow_c = &a_[size_t(r) * C_];
      uint8_t* wrow = &w_[size_t(r) * C_];
      if constexpr (Sh) {
        uint8_t* hrow = &h_[size_t(r) * C_];
        uint8_t* srow = &s_[size_t(r) * C_];
        for (int c = C_ - 1; c >= 0; --c) {
          const unsigned a_in = c ? arow_c[c - 1] : ask_[r];
          const uint8_t s_in = c ? srow[c - 1] : ssk_[r];
          // The marker's row is the new tile's: it multiplies with the shadow weight, which becomes active.
          const uint8_t w_use = s_in ? hrow[c] : wrow[c];
          const W pn = pe_mac<K, W>(t, pabove[c], a_in, w_use);
          tw += pe_wraps<K, W>(t, pabove[c], a_in, w_use);
          if constexpr (Tog) {
            tp += popcnt(static_cast<W>(pn ^ prow_c[c]));
            ta += popcnt(static_cast<uint32_t>(a_in ^ arow_c[c]));
            tb += popcnt(static_cast<uint32_t>(w_use ^ wrow[c]));
          }
          prow_c[c] = pn;
          arow_c[c] = static_cast<uint8_t>(a_in);
          srow[c] = s_in;
          wrow[c] = w_use;
        }
        if (shift_w) {  // the shadow chain: row r takes row r - 1's old value (rows above are updated later)
          const uint8_t* src = r ? &h_[size_t(r - 1) * C_] : in.b;
          for (int c = 0; c < C_; ++c) {
            const uint8_t nw = src ? src[c] : 0;
            if constexpr (Tog) tb += popcnt(static_cast<uint32_t>(nw ^ hrow[c]));
            hrow[c] = nw;
          }
        }
      } else {
        for (int c = C_ - 1; c >= 0; --c) {
          const unsigned a_in = c ? arow_c[c - 1] : ask_[r];
          const W pn = pe_mac<K, W>(t, pabove[c], a_in, wrow[c]);
          tw += pe_wraps<K, W>(t, pabove[c], a_in, wrow[c]);
          if constexpr (Tog) {
            tp += popcnt(static_cast<W>(pn ^ prow_c[c]));
            ta += popcnt(static_cast<uint32_t>(a_in ^ arow_c[c]));
          }
          prow_c[c] = pn;
          arow_c[c] = static_cast<uint8_t>(a_in);
        }
        if (shift_w) {
          const uint8_t* src = r ? &w_[size_t(r - 1) * C_] : in.b;
          for (int c = 0; c < C_; ++c) {
            const uint8_t nw = src ? src[c] : 0;
            if constexpr (Tog) tb += popcnt(static_cast<uint32_t>(nw ^ wrow[c]));
            wrow[c] = nw;
          }
        }
      }
    }
    this->wraps_ += tw;
    if constexpr (Tog) {
      tog_.a_regs += ta;
      tog_.b_regs += tb;
      tog_.acc_regs += tp;
    }
    bpos_ = (bpos_ + C_ - 1) % C_;
    std::copy_n(&p_reg_[size_t(R_ - 1) * C_], C_, &bhist_[size_t(bpos_) * C_]);
  }

 private:
  static int ring(int pos, int j, int n) { return (pos + j) % n; }
  int stage(int j) const { return (vhead_ + j) % L_; }
  int R_, C_, L_;
  std::vector<uint8_t> vp_;
  int vhead_ = 0, vcount_ = 0, quiet_ = 0;
  std::vector<uint8_t> ahist_;
  std::vector<W> phist_, bhist_;
  int apos_ = 0, ppos_ = 0, bpos_ = 0;
  std::vector<uint8_t> a_, w_;
  std::vector<W> p_reg_;
  std::vector<uint8_t> ask_;
  std::vector<W> psk_;
  std::vector<uint8_t> shist_, ssk_, h_, s_;
  int wcnt_ = 0, scnt_ = 0;
};

// ---------------- output stationary (rtl/sa_os.v) ----------------
// Sh: shadow outputs (SHADOW = 1): per-cell output registers out_ fed by the last beat's flag (bit 2 of the
// skewed flags), drained instead of the accumulators; beats other than in_last accepted in every state.
template <typename W, PeKind K, bool Tog, bool Sh>
class SaOs final : public ArrayBase<W, K> {
  using ArrayCore::p_;
  using ArrayCore::tog_;
  using ArrayBase<W, K>::t_;
  enum State : uint8_t { kRun = 0, kWait = 1, kDrain = 2 };

 public:
  explicit SaOs(const ArrayParams& p)
      : ArrayBase<W, K>(p), R_(p.rows), C_(p.cols), fill_(p.rows + p.cols - 2), ahist_(size_t(R_) * R_, 0),
        aflag_(R_, 0), bhist_(size_t(C_) * C_, 0), av_(size_t(R_) * C_, 0), a_(size_t(R_) * C_, 0),
        b_(size_t(R_) * C_, 0), acc_(size_t(R_) * C_, 0), ask_(R_), askf_(R_), bsk_(C_),
        out_(Sh ? size_t(R_) * C_ : 0, 0) {}

  bool in_ready(bool, bool, bool, bool last) const override { return st_ == kRun || (Sh && !last); }
  bool w_ready(bool) const override { return false; }
  bool out_valid() const override { return st_ == kDrain; }
  bool active() const override { return st_ != kRun || inflight_ > 0; }
  void out_words(uint128* dst) const override {
    const std::vector<W>& o = Sh ? out_ : acc_;
    for (int c = 0; c < C_; ++c) dst[c] = static_cast<uint128>(o[size_t(R_ - 1) * C_ + c]);
  }

  void edge(const ArrayInputs& in) override {
    ++this->edges_;
    const bool fire = in.valid && in_ready(false, in.out_ready, false, in.last);
    const bool drain = st_ == kDrain && in.out_ready;
    // Valid beats still inside the skew/cell pipeline (a beat leaves the far corner R + C - 2 edges later).
    inflight_ = fire ? fill_ + 1 : std::max(0, inflight_ - 1);
    const bool zero_in = in.a == nullptr && in.b == nullptr && !fire && !drain;
    if (zero_in && inflight_ == 0) {
      if (quiet_ > 2 * (R_ + C_) + 2) {
        fsm(fire, in.last, drain);
        return;
      }
      ++quiet_;
    } else {
      quiet_ = 0;
    }
    // Skews: row r carries {valid = fire, first = first_pend, a} of r edges ago; column c the b of c ago.
    apos_ = (apos_ + R_ - 1) % R_;
    uint8_t* arow = &ahist_[size_t(apos_) * R_];
    for (int r = 0; r < R_; ++r) arow[r] = in.a ? in.a[r] : 0;
    aflag_[apos_] = static_cast<uint8_t>((fire ? 2 : 0) | (first_pend_ ? 1 : 0) | (Sh && fire && in.last ? 4 : 0));
    for (int r = 0; r < R_; ++r) {
      const int s = (apos_ + r) % R_;
      ask_[r] = ahist_[size_t(s) * R_ + r];
      askf_[r] = aflag_[s];
    }
    bpos_ = (bpos_ + C_ - 1) % C_;
    uint8_t* brow = &bhist_[size_t(bpos_) * C_];
    for (int c = 0; c < C_; ++c) brow[c] = in.b ? in.b[c] : 0;
    for (int c = 0; c < C_; ++c) bsk_[c] = bhist_[size_t((bpos_ + c) % C_) * C_ + c];

    const PeView<W> t(*t_);
    uint64_t ta = 0, tb = 0, tp = 0, tw = 0;
    for (int r = R_ - 1; r >= 0; --r) {
      W* acc = &acc_[size_t(r) * C_];
      const W* above = r ? &acc_[size_t(r - 1) * C_] : nullptr;
      uint8_t* arow_c = &a_[size_t(r) * C_];
      uint8_t* avrow = &av_[size_t(r) * C_];
      uint8_t* brow_c = &b_[size_t(r) * C_];
      const uint8_t* babove = r ? &b_[size_t(r - 1) * C_] : bsk_.data();
      for (int c = C_ - 1; c >= 0; --c) {
        const unsigned a_in = c ? arow_c[c - 1] : ask_[r];
        const uint8_t f_in = c ? avrow[c - 1] : askf_[r];
        const uint8_t b_in = babove[c];
        W nacc = acc[c];
        if constexpr (Sh) {
          W* orow = &out_[size_t(r) * C_];
          if (f_in & 2) {
            nacc = pe_mac<K, W>(t, (f_in & 1) ? W{0} : acc[c], a_in, b_in);
            tw += pe_wraps<K, W>(t, (f_in & 1) ? W{0} : acc[c], a_in, b_in);
          }
          W nout = orow[c];
          if (drain) nout = r ? out_[size_t(r - 1) * C_ + c] : W{0};
          else if (f_in & 4) nout = nacc;  // the last beat: the final sum goes to the output register
          if constexpr (Tog) tp += popcnt(static_cast<W>(nout ^ orow[c]));
          orow[c] = nout;
        } else {
          if (drain) nacc = above ? above[c] : W{0};
          else if (f_in & 2) {
            nacc = pe_mac<K, W>(t, (f_in & 1) ? W{0} : acc[c], a_in, b_in);
            tw += pe_wraps<K, W>(t, (f_in & 1) ? W{0} : acc[c], a_in, b_in);
          }
        }
        if constexpr (Tog) {
          tp += popcnt(static_cast<W>(nacc ^ acc[c]));
          ta += popcnt(static_cast<uint32_t>(a_in ^ arow_c[c]));
          tb += popcnt(static_cast<uint32_t>(b_in ^ brow_c[c]));
        }
        acc[c] = nacc;
        arow_c[c] = static_cast<uint8_t>(a_in);
        avrow[c] = f_in;
        brow_c[c] = b_in;
      }
    }
    this->wraps_ += tw;
    if constexpr (Tog) {
      tog_.a_regs += ta;
      tog_.b_regs += tb;
      tog_.acc_regs += tp;
    }
    fsm(fire, in.last, drain);
  }

 private:
  void fsm(bool fire, bool last, bool drain) {
    if (fire) first_pend_ = last;
    switch (st_) {
      case kRun:
        if (fire) {
          if (last) {
            if (fill_ == 0) {
              st_ = kDrain;
              cnt_ = R_ - 1;
            } else {
              st_ = kWait;
              cnt_ = fill_;
            }
          }
        }
        break;
      case kWait:
        if (cnt_ == 1) {
          st_ = kDrain;
          cnt_ = R_ - 1;
        } else {
          --cnt_;
        }
        break;
      case kDrain:
        if (drain) {
          if (cnt_ == 0) st_ = kRun;
          else --cnt_;
        }
        break;
    }
  }
  int R_, C_, fill_;
  State st_ = kRun;
  int cnt_ = 0;
  bool first_pend_ = true;
  int inflight_ = 0, quiet_ = 0;
  std::vector<uint8_t> ahist_, aflag_, bhist_;
  int apos_ = 0, bpos_ = 0;
  std::vector<uint8_t> av_, a_, b_;
  std::vector<W> acc_;
  std::vector<uint8_t> ask_, askf_, bsk_;
  std::vector<W> out_;
};

template <typename W, PeKind K>
std::unique_ptr<ArrayCore> make_typed(const ArrayParams& p) {
  const bool ws = p.dataflow == Dataflow::WeightStationary;
  if (ws && p.shadow_weights) {
    if (p.toggles) return std::make_unique<SaWs<W, K, true, true>>(p);
    return std::make_unique<SaWs<W, K, false, true>>(p);
  }
  if (ws) {
    if (p.toggles) return std::make_unique<SaWs<W, K, true, false>>(p);
    return std::make_unique<SaWs<W, K, false, false>>(p);
  }
  if (p.shadow_outputs) {
    if (p.toggles) return std::make_unique<SaOs<W, K, true, true>>(p);
    return std::make_unique<SaOs<W, K, false, true>>(p);
  }
  if (p.toggles) return std::make_unique<SaOs<W, K, true, false>>(p);
  return std::make_unique<SaOs<W, K, false, false>>(p);
}

}  // namespace

std::unique_ptr<ArrayCore> make_systolic_array(const ArrayParams& p) {
  if (p.rows < 1 || p.cols < 1) throw std::invalid_argument("systolic_array: ROWS and COLS must be >= 1");
  if (p.shadow_weights && p.dataflow != Dataflow::WeightStationary)
    throw std::invalid_argument("systolic_array: shadow weights need the weight-stationary dataflow");
  if (p.shadow_outputs && p.dataflow != Dataflow::OutputStationary)
    throw std::invalid_argument("systolic_array: shadow outputs need the output-stationary dataflow");
  const model::GemmNumerics num = p.numerics();
  num.validate(1);
  switch (p.pe) {
    case PeKind::Int8: return make_typed<uint32_t, PeKind::Int8>(p);
    case PeKind::Fp8Float32: return make_typed<uint32_t, PeKind::Fp8Float32>(p);
    case PeKind::Fp8Fixed:
      if (num.acc_width + 2 <= 64) return make_typed<uint64_t, PeKind::Fp8Fixed>(p);
      return make_typed<uint128, PeKind::Fp8Fixed>(p);
  }
  throw std::invalid_argument("systolic_array: unknown PE kind");
}

}  // namespace fp8sim::sim
