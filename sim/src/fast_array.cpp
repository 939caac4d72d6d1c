// The fast array engine (fast_array.h): the weight-stationary array of systolic_array.cpp (rtl/sa_ws.v)
// and the output-stationary one (rtl/sa_os.v), with the same registers and the same edge semantics, computed
// from decoded operands by row kernels (fast_kernels.h). Comments name the reference's members where the
// two differ in how they hold a register.
#include "fp8sim/sim/fast_array.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "fast_kernels.h"
#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/fp8.h"

namespace fp8sim::sim {

static_assert(model::kCanonicalNaN32 == 0x7FC00000u, "fast_kernels.inc's canonical NaN");

// ---------------------------------------------------------------- kernel choice

namespace fastk {
int kernel_variants(const Kernels** out, int max) {
  int n = 0;
  auto add = [&](const Kernels* k) {
    if (k && n < max) out[n++] = k;
  };
  add(&kernels_base());
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2"))
    add(kernels_avx2());
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2"))
    add(kernels_avx512());
#endif
  return n;
}

const Kernels& kernels() {
  static const Kernels* chosen = [] {
    const Kernels* v[4];
    const int n = kernel_variants(v, 4);
    const char* want = std::getenv("FP8SIM_FAST_KERNELS");
    if (want && *want) {
      for (int i = 0; i < n; ++i)
        if (std::strcmp(v[i]->name, want) == 0) return v[i];
      throw std::invalid_argument(std::string("FP8SIM_FAST_KERNELS=") + want +
                                  ": not a kernel variant this build and CPU run (base, avx2, avx512)");
    }
    return v[n - 1];
  }();
  return *chosen;
}
}  // namespace fastk

std::string fast_array_kernels() { return fastk::kernels().name; }

namespace {

inline int popcnt8(unsigned x) { return __builtin_popcount(x & 0xFFu); }

// Cache-line-aligned storage for the register rows the kernels stream through (a row of 32 words is then whole
// cache lines: no split loads).
template <typename T>
struct Al64 {
  using value_type = T;
  Al64() = default;
  template <typename U>
  Al64(const Al64<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <typename U>
  bool operator==(const Al64<U>&) const { return true; }
  template <typename U>
  bool operator!=(const Al64<U>&) const { return false; }
};
template <typename W>
inline int popcntw(W x) {
  if constexpr (sizeof(W) <= 4) return __builtin_popcount(static_cast<uint32_t>(x));
  else if constexpr (sizeof(W) == 8) return __builtin_popcountll(static_cast<uint64_t>(x));
  else return __builtin_popcountll(static_cast<uint64_t>(x)) + __builtin_popcountll(static_cast<uint64_t>(x >> 64));
}

// ---------------------------------------------------------------- decoded operands

// D: the decoded operand type of a PE kind (float32 value or signed integer; int64 for the 128-bit fixed-point
// words, whose operands (E5M2: up to 57344 x 2^16 LSBs) do not fit 32 bits).
template <typename W, PeKind K>
using Dec = std::conditional_t<K == PeKind::Fp8Float32, float,
                               std::conditional_t<(sizeof(W) > 8), int64_t, int32_t>>;

// The reference engine's tables (make_pe_tables, from model/) and the decodes of both operand formats, built
// once per numerics and process; `fast` says whether the decoded MAC equals the table's for every code pair
// (checked here, all 65,536 pairs) and the kernels' word type holds it.
template <typename W, PeKind K>
struct Decoded {
  std::shared_ptr<const PeTables<W>> t;
  Dec<W, K> da[256] = {}, db[256] = {};
  uint8_t sa[256] = {}, sb[256] = {};  // fixed point: the code is NaN/Inf
  bool fast = false;
};

template <typename W, PeKind K>
std::shared_ptr<const Decoded<W, K>> build_decoded(const model::GemmNumerics& num) {
  auto d = std::make_shared<Decoded<W, K>>();
  d->t = make_pe_tables<W>(num);
  const PeTables<W>& t = *d->t;
  const model::Fp8Format& fa = model::fp8_format(num.a_kind);
  const model::Fp8Format& fb = model::fp8_format(num.b_kind);
  bool ok = true;
  for (int c = 0; c < 256; ++c) {
    const uint8_t u = static_cast<uint8_t>(c);
    if constexpr (K == PeKind::Int8) {
      d->da[c] = d->db[c] = static_cast<int8_t>(u);
    } else if constexpr (K == PeKind::Fp8Float32) {
      d->da[c] = model::fp8_decode_f32(fa, u);
      d->db[c] = model::fp8_decode_f32(fb, u);
    } else {
      d->sa[c] = model::fp8_is_nan(fa, u) || model::fp8_is_inf(fa, u);
      d->sb[c] = model::fp8_is_nan(fb, u) || model::fp8_is_inf(fb, u);
      const int64_t la = d->sa[c] ? 0 : model::fp8_to_lsbs(fa, u), lb = d->sb[c] ? 0 : model::fp8_to_lsbs(fb, u);
      using DI = Dec<W, K>;
      if (la != static_cast<DI>(la) || lb != static_cast<DI>(lb)) ok = false;
      d->da[c] = static_cast<DI>(la);
      d->db[c] = static_cast<DI>(lb);
    }
  }
  if constexpr (K == PeKind::Fp8Fixed) ok = ok && t.cls_add[0][0] == 0;
  // Every pair: the decoded product equals the table's (float32: bit for bit, or both NaN).
  for (unsigned b = 0; ok && b < 256; ++b)
    for (unsigned a = 0; a < 256; ++a) {
      const unsigned i = (b << 8) | a;
      if constexpr (K == PeKind::Int8) {
        ok = ok && static_cast<uint32_t>(d->da[a] * d->db[b]) == static_cast<uint32_t>(t.prod[i]);
      } else if constexpr (K == PeKind::Fp8Float32) {
        const float p = d->da[a] * d->db[b];
        uint32_t pb;
        std::memcpy(&pb, &p, 4);
        const uint32_t tb = static_cast<uint32_t>(t.prod[i]);
        float tf;
        std::memcpy(&tf, &tb, 4);
        ok = ok && ((p != p && tf != tf) || pb == tb);
      } else {
        const bool special = (t.pcls[i] != 0);
        // The exact product (E5M2: up to 65 bits signed), modulo 2^width.
        const W v = static_cast<W>(static_cast<uint128>(int128{d->da[a]} * int128{d->db[b]})) & t.vmask;
        ok = ok && special == (d->sa[a] || d->sb[b]) && (special ? t.prod[i] == 0 : v == t.prod[i]);
      }
    }
  d->fast = ok;
  return d;
}

template <typename W, PeKind K>
std::shared_ptr<const Decoded<W, K>> decoded(const model::GemmNumerics& num) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int, int>, std::shared_ptr<const Decoded<W, K>>> cache;
  const auto key = std::make_tuple(int(num.a_kind), int(num.b_kind), int(num.acc), num.acc_width);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto d = build_decoded<W, K>(num);
  cache.emplace(key, d);
  return d;
}

// Fixed point on 128-bit words (width + 2 > 64 bits: E5M2's exact accumulator), OS: the kernels' loop for int64
// operands, scalar (WS rows: fastk fixed128_rows).
inline uint64_t popcnt128(uint128 x) {
  return uint64_t(__builtin_popcountll(static_cast<uint64_t>(x))) + uint64_t(__builtin_popcountll(static_cast<uint64_t>(x >> 64)));
}
void fixed128_os(const uint8_t* __restrict f, const int64_t* __restrict a, const int64_t* __restrict w,
                 const uint128* __restrict po, uint128* __restrict pn, int n, uint128 vmask, int width, bool tog,
                 fastk::RowCounts* cnt) {
  uint64_t wr = 0, t = 0;
  const int sh = width - 1;
  for (int c = 0; c < n; ++c) {
    if (!(f[c] & 2)) {
      pn[c] = po[c];
      continue;
    }
    const uint128 x = (f[c] & 1) ? uint128{0} : (po[c] & vmask);
    const uint128 p = static_cast<uint128>(int128{a[c]} * int128{w[c]}) & vmask;
    const uint128 s = (x + p) & vmask;
    pn[c] = s;
    if (tog) t += popcnt128(s ^ po[c]);
    wr += static_cast<uint64_t>((~(x ^ p) & (x ^ s)) >> sh) & 1u;
  }
  cnt->wraps += wr;
  cnt->tog += t;
}

template <typename W, PeKind K>
class FastBase : public ArrayCore {
 protected:
  explicit FastBase(const ArrayParams& p)
      : ArrayCore(p), d_(decoded<W, K>(num_)), t_(d_->t), kern_(fastk::kernels()) {}
  std::shared_ptr<const Decoded<W, K>> d_;
  std::shared_ptr<const PeTables<W>> t_;
  const fastk::Kernels& kern_;

  // One row by the reference engine's table step (sim/pe.h), codes a[c] (A) and w[c] (B).
  template <bool Tog>
  uint8_t row_tables(const W* pa, const uint8_t* a, const uint8_t* w, const W* po, W* pn, int n, uint64_t& tog,
                     uint64_t& wraps) const {
    const PeView<W> t(*t_);
    unsigned cls = 0;
    for (int c = 0; c < n; ++c) {
      const W v = pe_mac<K, W>(t, pa[c], a[c], w[c]);
      wraps += pe_wraps<K, W>(t, pa[c], a[c], w[c]);
      if constexpr (Tog) tog += popcntw<W>(static_cast<W>(v ^ po[c]));
      if constexpr (K == PeKind::Fp8Fixed) cls |= static_cast<unsigned>(v >> t.width) & 3u;
      pn[c] = v;
    }
    return static_cast<uint8_t>(cls != 0);
  }

  // Rows from decoded operands (row i: pa + i * C, a[i], w[i], po + i * C -> pn + i * C). False when the kernels
  // do not cover this word type.
  bool rows_kernel(int rows, const W* pa, const Dec<W, K>* const* a, const Dec<W, K>* const* w, const W* po, W* pn, bool tog,
                   fastk::RowCounts& cnt) const {
    const size_t n = size_t(this->p_.cols);
    if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint64_t>) {
      kern_.fixed64_rows(rows, pa, a, w, po, pn, n, int(n), t_->vmask, t_->width, tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Int8) {
      kern_.int32_rows(rows, pa, a, w, po, pn, n, int(n), tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Float32) {
      kern_.f32_rows(rows, pa, a, w, po, pn, n, int(n), tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint128>) {
      kern_.fixed128_rows(rows, pa, a, w, po, pn, n, int(n), t_->vmask, t_->width, tog, &cnt);
      return true;
    } else {
      (void)rows, (void)pa, (void)a, (void)w, (void)po, (void)pn, (void)tog, (void)cnt;
      return false;
    }
  }
  // One row from decoded operands. Returns false when the kernels do not cover this word type.
  bool row_kernel(const W* pa, const Dec<W, K>* a, const Dec<W, K>* w, const W* po, W* pn, int n, bool tog,
                  fastk::RowCounts& cnt) const {
    if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint64_t>) {
      kern_.fixed64(pa, a, w, po, pn, n, t_->vmask, t_->width, tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Int8) {
      kern_.int32(pa, a, w, po, pn, n, tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Float32) {
      kern_.f32(pa, a, w, po, pn, n, tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint128>) {
      kern_.fixed128_rows(1, pa, &a, &w, po, pn, size_t(n), n, t_->vmask, t_->width, tog, &cnt);
      return true;
    } else {
      (void)pa, (void)a, (void)w, (void)po, (void)pn, (void)n, (void)tog, (void)cnt;
      return false;
    }
  }

 public:
  uint128 add_words(uint128 acc, uint128 x) const override {
    return static_cast<uint128>(pe_add<W>(*t_, static_cast<W>(acc), static_cast<W>(x)));
  }
  model::AccWord to_acc_word(uint128 w) const override { return word_to_acc<W>(*t_, static_cast<W>(w)); }
  bool add_wraps(uint128 acc, uint128 x) const override {
    return pe_add_wraps<W>(*t_, static_cast<W>(acc), static_cast<W>(x));
  }
  uint64_t add_row(uint128* dst, const uint128* src, int n, bool acc) const override {
    const PeTables<W>& t = *t_;
    uint64_t w = 0;
    if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint64_t>) {
      // No class bits in either row (the common case; cls_add[0][0] is 0, checked with the decodes): pe_add and
      // pe_add_wraps without the class table, over 64-bit words.
      uint64_t cls = 0;
      for (int j = 0; j < n; ++j) cls |= (static_cast<uint64_t>(src[j]) | (acc ? static_cast<uint64_t>(dst[j]) : 0)) >> t.width;
      if (cls == 0 && d_->fast) {
        const uint64_t vm = t.vmask;
        const int sh = t.width - 1;
        if (acc) {
          for (int j = 0; j < n; ++j) {
            const uint64_t u = static_cast<uint64_t>(dst[j]) & vm, v = static_cast<uint64_t>(src[j]) & vm;
            const uint64_t s = (u + v) & vm;
            w += ((~(u ^ v) & (u ^ s)) >> sh) & 1u;
            dst[j] = s;
          }
        } else {
          for (int j = 0; j < n; ++j) dst[j] = static_cast<uint64_t>(src[j]) & vm;
        }
        return w;
      }
    }
    if (acc) {
      for (int j = 0; j < n; ++j) {
        const W d = static_cast<W>(dst[j]), s = static_cast<W>(src[j]);
        w += pe_add_wraps<W>(t, d, s);
        dst[j] = static_cast<uint128>(pe_add<W>(t, d, s));
      }
    } else {
      for (int j = 0; j < n; ++j) dst[j] = static_cast<uint128>(pe_add<W>(t, W{0}, static_cast<W>(src[j])));
    }
    return w;
  }
};

// Per-row operand histories: the codes that entered a row (row r of A in WS; row r of A or column c of B in
// OS), newest first, with their decodes, the bits each differs from the one before, and (fixed point) whether
// it is NaN/Inf. Lag j of row r is at [r * hb + pos + j]; pushing moves pos down (and, every `slack` pushes,
// copies the live lags back up: no per-edge shifting).
template <typename D>
struct History {
  int rows = 0, lags = 0, slack = 0, hb = 0, pos = 0;
  std::vector<uint8_t> code, dbits, spec;
  std::vector<D> dec;
  void init(int r, int need_lags) {
    rows = r;
    lags = need_lags;
    // Small enough that the four arrays of a 32 x 32 array's rows stay in L1 (the copy-back every `slack` pushes
    // costs lags bytes per row, amortized to about one byte per row and push).
    slack = std::max(64, need_lags);
    hb = slack + lags;
    pos = slack;
    code.assign(size_t(rows) * hb, 0);
    dbits.assign(size_t(rows) * hb, 0);
    spec.assign(size_t(rows) * hb, 0);
    dec.assign(size_t(rows) * hb, D{});
  }
  // Before pushing one value per row.
  void advance() {
    if (pos == 0) {
      for (int r = 0; r < rows; ++r) {
        const size_t b = size_t(r) * hb;
        std::memmove(&code[b + slack], &code[b], size_t(lags));
        std::memmove(&dbits[b + slack], &dbits[b], size_t(lags));
        std::memmove(&spec[b + slack], &spec[b], size_t(lags));
        std::memmove(&dec[b + slack], &dec[b], size_t(lags) * sizeof(D));
      }
      pos = slack;
    }
    --pos;
  }
  void put(int r, uint8_t c, D d, uint8_t s) {
    const size_t i = size_t(r) * hb + pos;
    code[i] = c;
    dbits[i] = static_cast<uint8_t>(popcnt8(unsigned(c ^ code[i + 1])));
    spec[i] = s;
    dec[i] = d;
  }
  size_t at(int r, int lag) const { return size_t(r) * hb + pos + lag; }
  // put(r, in[r] (0 when in is null), da[code], sa ? sa[code] : 0) for every row, through local pointers (the
  // byte stores would otherwise make the compiler reload every member per row), and in the same pass the
  // sliding sums of the window of lags [r, r + span) of row r (the cells of an array row), updated by the lag
  // entering (r) and the one leaving (r + span): atotal, the bits toggled in all rows' windows (added to ta),
  // and spc[r], the NaN/Inf codes in row r's window (the change of their sum is added to spc_total).
  template <bool Tog, bool Spec>
  void put_slide(const uint8_t* in, const D* da, const uint8_t* sa, int span, int64_t& atotal, int* spc,
                 uint64_t& ta, int& spc_total) {
    uint8_t* cp = code.data() + pos;
    uint8_t* bp = dbits.data() + pos;
    uint8_t* sp = spec.data() + pos;
    D* dp = dec.data() + pos;
    const size_t step = size_t(hb);
    int64_t t = 0;
    int sd = 0;
    for (int r = 0; r < rows; ++r) {
      const size_t o = size_t(r) * step;
      const uint8_t c = in ? in[r] : 0;
      const uint8_t prev = cp[o + 1];
      const uint8_t nb = static_cast<uint8_t>(popcnt8(unsigned(c ^ prev)));
      const uint8_t ns = Spec ? sa[c] : 0;
      cp[o] = c;
      bp[o] = nb;
      if constexpr (Spec) sp[o] = ns;  // (read only with Spec)
      dp[o] = da[c];
      const size_t ii = o + size_t(r), oi = ii + size_t(span);
      if constexpr (Tog) t += int{r ? bp[ii] : nb} - int{bp[oi]};
      if constexpr (Spec) {
        const int d = int{r ? sp[ii] : ns} - int{sp[oi]};
        spc[r] += d;
        sd += d;
      }
    }
    atotal += t;
    ta += static_cast<uint64_t>(atotal);
    spc_total += sd;
  }
};

// ---------------------------------------------------------------- weight stationary

template <typename W, PeKind K, bool Tog, bool Sh>
class FastWs final : public FastBase<W, K> {
  using ArrayCore::tog_;
  using FastBase<W, K>::d_;
  using FastBase<W, K>::t_;
  using D = Dec<W, K>;
  static constexpr bool kFixed = K == PeKind::Fp8Fixed;

 public:
  explicit FastWs(const ArrayParams& p)
      : FastBase<W, K>(p), R_(p.rows), C_(p.cols), L_(p.rows + p.cols - 1), vp_(L_, 0),
        wc_(size_t(R_) * C_, 0), wd_(size_t(R_) * C_, d_->db[0]), wspec_(R_, 0), wmap_(R_),
        hc_(Sh ? size_t(R_) * C_ : 0, 0), hd_(Sh ? size_t(R_) * C_ : 0, d_->db[0]), hmap_(Sh ? R_ : 0),
        bhist_(size_t(C_) * C_, 0), psk_(C_, 0), nzc_{std::vector<uint8_t>(R_, 0), std::vector<uint8_t>(R_, 0)} {
    for (int r = 0; r < R_; ++r) wmap_[r] = r;
    for (int r = 0; r < (Sh ? R_ : 0); ++r) hmap_[r] = r;
    hist_.init(R_, R_ + C_ + 1);
    p_[0].assign(size_t(R_ + 1) * C_, 0);  // row 0: the psum input of the top row (psk_); row r + 1: array row r
    p_[1].assign(size_t(R_ + 1) * C_, 0);
    arows_.resize(size_t(R_));
    wrows_.resize(size_t(R_));
    pair_.assign(size_t(R_), 0);
    if (Sh)  // shadow weights: array row r's weights stay in wd_ row r (copied there by swaps)
      for (int r = 0; r < R_; ++r) wrows_[size_t(r)] = &wd_[size_t(r) * C_];
    spc_.assign(R_, 0);
  }

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
    // Column c's word of c edges ago: ring slot (bpos_ + C - 1 - c) mod C, counted down without divisions.
    int slot = bpos_ + C_ - 1;
    if (slot >= C_) slot -= C_;
    for (int c = 0; c < C_; ++c) {
      dst[c] = static_cast<uint128>(bhist_[size_t(slot) * C_ + c]);
      if (--slot < 0) slot += C_;
    }
  }

  void edge(const ArrayInputs& in) override {
    if (!adv(in.out_ready)) return;
    ++this->edges_;
    const bool fire = in.valid && in_ready(in.wload, in.out_ready, in.swap, in.last);
    const bool shift_w = Sh ? (in.wvalid && w_ready(in.out_ready)) : (fire && in.wload);
    const bool compute = Sh ? fire : (fire && !in.wload);
    const bool swap_in = Sh && fire && in.swap;
    const bool zero_in = in.a == nullptr && in.psum == nullptr && !shift_w && !swap_in;
    vcount_ -= vp_[stage(L_ - 1)];
    vhead_ = vhead_ == 0 ? L_ - 1 : vhead_ - 1;
    vp_[vhead_] = compute;
    vcount_ += compute;
    if constexpr (Sh) {
      if (swap_in) wcnt_ = 0;
      else if (shift_w) ++wcnt_;
      if (swap_in) scnt_ = R_ + C_ - 2;
      else if (scnt_ > 0) --scnt_;
    }
    // As the reference: once every register holds what zero inputs produce, skip the cells.
    if (zero_in) {
      if (quiet_ > 2 * (R_ + C_) + 2) return;
      ++quiet_;
    } else {
      quiet_ = 0;
    }
    ++ecnt_;
    // A inputs: one history entry per row (the reference's ahist_/ask_/a_: cell (r, c) holds lag r + c).
    hist_.advance();
    uint64_t ta = 0;
    hist_.template put_slide<Tog, kFixed>(in.a, d_->da, kFixed ? d_->sa : nullptr, C_, atotal_, spc_.data(), ta,
                                          spc_total_);
    (void)ta;
    // psum inputs (the reference's phist_/psk_): row 0 of column c adds the input of c edges ago.
    if (in.psum) psum_used_ = true;
    uint8_t psk_cls = 0;
    if (psum_used_) {
      if (phist_.empty()) phist_.assign(size_t(C_) * C_, 0);
      ppos_ = ppos_ == 0 ? C_ - 1 : ppos_ - 1;
      W* prow = &phist_[size_t(ppos_) * C_];
      for (int c = 0; c < C_; ++c) prow[c] = in.psum ? static_cast<W>(in.psum[c]) : W{0};
      for (int c = 0, slot = ppos_; c < C_; ++c, slot = slot + 1 == C_ ? 0 : slot + 1) {
        psk_[c] = phist_[size_t(slot) * C_ + c];
        if constexpr (kFixed) psk_cls |= static_cast<uint8_t>((psk_[c] >> t_->width) != 0);
      }
    }
    uint64_t tb = 0;
    // Shadow weights: a swap marker entered with the row at edge s is at cells r + c = ecnt - s; each cell it
    // reaches takes its shadow weight before it multiplies (the reference's ssk_/s_ and w_use).
    if constexpr (Sh) {
      if (swap_in) swaps_.push_back(ecnt_);
      for (size_t i = 0; i < swaps_.size();) {
        const int64_t lag = int64_t(ecnt_ - swaps_[i]);
        const int r0 = int(std::max<int64_t>(0, lag - (C_ - 1))), r1 = int(std::min<int64_t>(R_ - 1, lag));
        for (int r = r0; r <= r1; ++r) {
          const int c = int(lag) - r;
          const size_t wi = size_t(r) * C_ + c, hi = size_t(hmap_[r]) * C_ + c;
          if constexpr (Tog) tb += popcnt8(unsigned(wc_[wi] ^ hc_[hi]));
          if constexpr (kFixed) {
            const int dsp = int{d_->sb[hc_[hi]]} - int{d_->sb[wc_[wi]]};
            wspec_[r] += dsp;
            wspec_total_ += dsp;
          }
          wc_[wi] = hc_[hi];
          wd_[wi] = hd_[hi];
        }
        if (lag >= R_ + C_ - 2) swaps_.erase(swaps_.begin() + long(i));
        else ++i;
      }
    }
    // The cells: new registers from the old ones (double-buffered; buffer row 0 holds the top row's psum input).
    W* old = p_[cur_].data();
    W* nw = p_[cur_ ^ 1].data();
    if (psum_used_) std::copy(psk_.begin(), psk_.end(), old);
    const uint8_t* nzo = nzc_[cur_].data();
    uint8_t* nzn = nzc_[cur_ ^ 1].data();
    fastk::RowCounts cnt;
    uint64_t tp = 0, tw = 0;
    {
      const D* a0 = hist_.dec.data() + hist_.at(0, 0);
      const size_t astep = size_t(hist_.hb) + 1;  // row r's lag r
      for (int r = 0; r < R_; ++r) arows_[size_t(r)] = a0 + size_t(r) * astep;
      if (!Sh)
        for (int r = 0; r < R_; ++r) wrows_[size_t(r)] = &wd_[size_t(wmap_[r]) * C_];
    }
    // Runs of rows the kernels take (all of them unless a NaN/Inf operand or partial sum is in a row), the rest
    // by the reference's table step. The common case, no NaN/Inf anywhere (the totals) and no non-finite partial
    // sum: all rows in one call.
    bool all_fast = d_->fast;
    if constexpr (kFixed) all_fast = all_fast && spc_total_ == 0 && wspec_total_ == 0 && !nz_any_[cur_] && psk_cls == 0;
    if (all_fast && this->rows_kernel(R_, old, arows_.data(), wrows_.data(), old + C_, nw + C_, Tog, cnt)) {
      if (nz_any_[cur_ ^ 1]) std::fill(nzn, nzn + R_, uint8_t{0});
      nz_any_[cur_ ^ 1] = false;
    } else {
    for (int r = 0; r < R_;) {
      bool fast = d_->fast;
      if constexpr (kFixed) fast = fast && row_fast(r, nzo, psk_cls);
      if (fast) {
        int r1 = r + 1;
        if constexpr (kFixed) {
          while (r1 < R_ && row_fast(r1, nzo, psk_cls)) ++r1;
        } else {
          r1 = R_;
        }
        if (this->rows_kernel(r1 - r, old + size_t(r) * C_, &arows_[size_t(r)], &wrows_[size_t(r)],
                              old + size_t(r + 1) * C_, nw + size_t(r + 1) * C_, Tog, cnt)) {
          std::fill(nzn + r, nzn + r1, uint8_t{0});
          r = r1;
          continue;
        }
      }
      const size_t ai = hist_.at(r, r);
      const size_t wrow = size_t(Sh ? r : wmap_[r]) * C_;
      nzn[r] = this->template row_tables<Tog>(old + size_t(r) * C_, &hist_.code[ai], &wc_[wrow],
                                              old + size_t(r + 1) * C_, nw + size_t(r + 1) * C_, C_, tp, tw);
      ++r;
    }
    nz_any_[cur_ ^ 1] = std::find(nzn, nzn + R_, uint8_t{1}) != nzn + R_;
    }
    cur_ ^= 1;
    tp += cnt.tog;
    tw += cnt.wraps;
    // Weight shift (the shadow chain with shadow weights, else the weights themselves): row r takes row r - 1's
    // old value, row 0 the input b.
    if (shift_w) {
      std::vector<uint8_t>& cv = Sh ? hc_ : wc_;
      D* dvp = Sh ? hd_.data() : wd_.data();
      std::vector<int>& map = Sh ? hmap_ : wmap_;
      if constexpr (Tog) {
        // Every row takes the one above: the bits that differ between adjacent rows (pair_sum_, kept per
        // pair below) plus those between the input and row 0. After the shift the pairs are the old ones moved
        // down one row (the bottom one dropped: it is keyed by the spare row) and the input/row-0 pair on top.
        const uint8_t* old0 = &cv[size_t(map[0]) * C_];
        uint64_t d0 = 0;
        for (int c = 0; c < C_; ++c) d0 += uint64_t(popcnt8(unsigned((in.b ? in.b[c] : 0) ^ old0[c])));
        tb += pair_sum_ + d0;
        if (R_ > 1) {
          const int sp = map[R_ - 1];
          pair_sum_ += d0 - pair_[size_t(sp)];
          pair_[size_t(sp)] = 0;
          pair_[size_t(map[0])] = d0;
        }
      }
      const int spare = map[R_ - 1];
      for (int r = R_ - 1; r >= 1; --r) map[r] = map[r - 1];
      map[0] = spare;
      uint8_t* row0 = &cv[size_t(spare) * C_];
      D* drow0 = dvp + size_t(spare) * C_;
      int spec = 0;
      for (int c = 0; c < C_; ++c) {
        const uint8_t nb = in.b ? in.b[c] : 0;
        row0[c] = nb;
        drow0[c] = d_->db[nb];
        if constexpr (kFixed) spec += d_->sb[nb];
      }
      // WS: wspec_ is indexed by physical row; the spare row now holds the new weights. (Shadow weights:
      // the shadow rows' codes are counted when a swap copies them.)
      if constexpr (kFixed && !Sh) {
        wspec_total_ += spec - wspec_[spare];
        wspec_[spare] = spec;
      }
      (void)spec;
    }
    this->wraps_ += tw;
    if constexpr (Tog) {
      tog_.a_regs += ta;
      tog_.b_regs += tb;
      tog_.acc_regs += tp;
    }
    bpos_ = bpos_ == 0 ? C_ - 1 : bpos_ - 1;
    std::copy_n(&p_[cur_][size_t(R_) * C_], C_, &bhist_[size_t(bpos_) * C_]);
  }

 private:
  // Stage j of the valid pipeline (j < L_; the only one asked is L_ - 1, the one before the head).
  int stage(int j) const { return vhead_ + j < L_ ? vhead_ + j : vhead_ + j - L_; }
  // Fixed point: no NaN/Inf A code or weight in row r and a finite partial sum above it.
  bool row_fast(int r, const uint8_t* nzo, uint8_t psk_cls) const {
    return spc_[r] == 0 && wspec_[Sh ? r : wmap_[r]] == 0 && (r ? nzo[r - 1] == 0 : psk_cls == 0);
  }
  int R_, C_, L_;
  std::vector<uint8_t> vp_;
  int vhead_ = 0, vcount_ = 0, quiet_ = 0;
  int wcnt_ = 0, scnt_ = 0;
  std::vector<const Dec<W, K>*> arows_, wrows_;
  uint64_t ecnt_ = 0;
  History<D> hist_;
  int64_t atotal_ = 0;  // bits toggled in the A registers at the latest edge (all rows)
  std::vector<int> spc_;       // fixed point: NaN/Inf codes among the row's A registers
  // Weights: codes, decodes, NaN/Inf count per row (WS: by physical row; shadow: by array row), and the
  // physical row of each array row (rows shift by renaming).
  std::vector<uint8_t> wc_;
  std::vector<D, Al64<D>> wd_;
  std::vector<int> wspec_;
  std::vector<int> wmap_;
  std::vector<uint8_t> hc_;
  std::vector<D> hd_;
  std::vector<int> hmap_;
  std::vector<W, Al64<W>> p_[2];
  int cur_ = 0;
  std::vector<W> bhist_;
  int bpos_ = 0;
  std::vector<W> psk_, phist_;
  int ppos_ = 0;
  bool psum_used_ = false;
  std::vector<uint8_t> nzc_[2];  // fixed point: the row holds a non-finite class
  bool nz_any_[2] = {false, false};  // some row of nzc_[i] is set
  // Weight shifts (the shadow chain with shadow weights, else the weights): bits that differ between array row r
  // and row r - 1, kept under row r's physical row (0 for row 0), and their sum.
  std::vector<uint64_t> pair_;
  uint64_t pair_sum_ = 0;
  int spc_total_ = 0, wspec_total_ = 0;  // fixed point: the sums of spc_ and wspec_
  std::vector<uint64_t> swaps_;
};


// ---------------------------------------------------------------- output stationary

// Sh: shadow outputs. A operands as WS (per-row histories: cell (r, c) holds row r's input of lag r + c), with
// the beat flags {valid, first, last} (the reference's aflag_/askf_/av_) one history row shared by all rows
// (cell (r, c) holds the flags of lag r + c); B registers as rows renamed on each edge (row r takes row r - 1,
// row 0 the skewed input: the reference's bhist_/bsk_/b_). A row without a valid beat in its cells and without
// a drain keeps its accumulators: it is skipped (activity mask).
template <typename W, PeKind K, bool Tog, bool Sh>
class FastOs final : public FastBase<W, K> {
  using ArrayCore::tog_;
  using FastBase<W, K>::d_;
  using FastBase<W, K>::t_;
  using D = Dec<W, K>;
  static constexpr bool kFixed = K == PeKind::Fp8Fixed;
  enum State : uint8_t { kRun = 0, kWait = 1, kDrain = 2 };

 public:
  explicit FastOs(const ArrayParams& p)
      : FastBase<W, K>(p), R_(p.rows), C_(p.cols), fill_(p.rows + p.cols - 2), bring_(size_t(C_) * C_, 0),
        bsk_(C_, 0), bc_(size_t(R_) * C_, 0), bd_(size_t(R_) * C_, d_->db[0]), bspec_(R_, 0), bmap_(R_),
        acc_(size_t(R_ + 1) * C_, 0), amap_(R_ + 1), nzc_(R_, 0), out_(Sh ? size_t(R_) * C_ : 0, 0) {
    for (int r = 0; r < R_; ++r) bmap_[r] = r;
    for (int r = 0; r <= R_; ++r) amap_[size_t(r)] = r;
    hist_.init(R_, R_ + C_ + 1);
    flags_.init(1, R_ + C_ + 1);
    pair_.assign(size_t(R_), 0);
    spc_.assign(R_, 0);
    nv_.assign(R_, 0);
    nl_.assign(R_, 0);
  }

  bool in_ready(bool, bool, bool, bool last) const override { return st_ == kRun || (Sh && !last); }
  bool w_ready(bool) const override { return false; }
  bool out_valid() const override { return st_ == kDrain; }
  bool active() const override { return st_ != kRun || inflight_ > 0; }
  void out_words(uint128* dst) const override {
    const W* o = Sh ? &out_[size_t(R_ - 1) * C_] : &acc_[size_t(amap_[size_t(R_ - 1)]) * C_];
    for (int c = 0; c < C_; ++c) dst[c] = static_cast<uint128>(o[c]);
  }

  void edge(const ArrayInputs& in) override {
    ++this->edges_;
    const bool fire = in.valid && in_ready(false, in.out_ready, false, in.last);
    const bool drain = st_ == kDrain && in.out_ready;
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
    // A and flags.
    hist_.advance();
    flags_.advance();
    uint64_t ta = 0, tb = 0, tp = 0;
    hist_.template put_slide<Tog, kFixed>(in.a, d_->da, kFixed ? d_->sa : nullptr, C_, atotal_, spc_.data(), ta,
                                          spc_total_);
    const uint8_t fl = static_cast<uint8_t>((fire ? 2 : 0) | (first_pend_ ? 1 : 0) | (Sh && fire && in.last ? 4 : 0));
    flags_.put(0, fl, 0, 0);
    for (int r = 0; r < R_; ++r) {
      const uint8_t fin = flags_.code[flags_.at(0, r)], fout = flags_.code[flags_.at(0, r + C_)];
      nv_[r] += int{(fin >> 1) & 1} - int{(fout >> 1) & 1};
      if constexpr (Sh) nl_[r] += int{(fin >> 2) & 1} - int{(fout >> 2) & 1};
    }
    // B: column c's input of c edges ago enters row 0; rows move down by renaming.
    bpos_ = bpos_ == 0 ? C_ - 1 : bpos_ - 1;
    uint8_t* brow = &bring_[size_t(bpos_) * C_];
    for (int c = 0; c < C_; ++c) brow[c] = in.b ? in.b[c] : 0;
    for (int c = 0, slot = bpos_; c < C_; ++c, slot = slot + 1 == C_ ? 0 : slot + 1)
      bsk_[c] = bring_[size_t(slot) * C_ + c];
    if constexpr (Tog) {
      // As the WS weight shift: adjacent rows' differences kept per pair (under the lower row's physical row),
      // moved down one row by the renaming; the input/row-0 pair is new.
      const uint64_t d0 = this->kern_.xor_bits8(bsk_.data(), &bc_[size_t(bmap_[0]) * C_], C_);
      tb += pair_sum_ + d0;
      if (R_ > 1) {
        const int sp = bmap_[R_ - 1];
        pair_sum_ += d0 - pair_[size_t(sp)];
        pair_[size_t(sp)] = 0;
        pair_[size_t(bmap_[0])] = d0;
      }
    }
    {
      const int spare = bmap_[R_ - 1];
      for (int r = R_ - 1; r >= 1; --r) bmap_[r] = bmap_[r - 1];
      bmap_[0] = spare;
      int spec = 0;
      for (int c = 0; c < C_; ++c) {
        bc_[size_t(spare) * C_ + c] = bsk_[c];
        bd_[size_t(spare) * C_ + c] = d_->db[bsk_[c]];
        if constexpr (kFixed) spec += d_->sb[bsk_[c]];
      }
      bspec_[spare] = spec;
    }
    // Cells, bottom row first (a drain reads the row above's old accumulators).
    fastk::RowCounts cnt;
    uint64_t tw = 0;
    for (int r = R_ - 1; r >= 0; --r) {
      W* acc = &acc_[size_t(amap_[size_t(r)]) * C_];
      const bool mac_row = nv_[r] != 0;
      if (!Sh && drain) {  // accumulators shift down (no MAC in a draining cell)
        if (r) {
          const W* above = &acc_[size_t(amap_[size_t(r - 1)]) * C_];
          if constexpr (Tog) tp += xor_words(above, acc);
          std::copy_n(above, C_, acc);
          nzc_[r] = nzc_[r - 1];
        } else {
          if constexpr (Tog) tp += xor_words(zeros(), acc);
          std::fill_n(acc, C_, W{0});
          nzc_[r] = 0;
        }
        continue;
      }
      if (mac_row) {
        const size_t ai = hist_.at(r, r);
        const uint8_t* f = &flags_.code[flags_.at(0, r)];
        const size_t brow_i = size_t(bmap_[r]) * C_;
        bool fast = d_->fast;
        if constexpr (kFixed) fast = fast && spc_[r] == 0 && bspec_[bmap_[r]] == 0 && nzc_[r] == 0;
        W* nacc = &acc_[size_t(amap_[size_t(R_)]) * C_];  // the spare row: row r's new registers
        const bool counted = fast && row_kernel_os(f, &hist_.dec[ai], &bd_[brow_i], acc, nacc, cnt);
        if (counted) {
          // class bits stay zero; the kernel counted the accumulator toggles
        } else {
          const PeView<W> t(*t_);
          const uint8_t* ac = &hist_.code[ai];
          const uint8_t* bc = &bc_[brow_i];
          unsigned cls = 0;
          for (int c = 0; c < C_; ++c) {
            W v = acc[c];
            if (f[c] & 2) {
              const W base = (f[c] & 1) ? W{0} : acc[c];
              v = pe_mac<K, W>(t, base, ac[c], bc[c]);
              tw += pe_wraps<K, W>(t, base, ac[c], bc[c]);
            }
            if constexpr (kFixed) cls |= static_cast<unsigned>(v >> t.width) & 3u;
            nacc[c] = v;
          }
          nzc_[r] = static_cast<uint8_t>(cls != 0);
        }
        if constexpr (Sh) {
          if (!drain && nl_[r]) {
            W* orow = &out_[size_t(r) * C_];
            for (int c = 0; c < C_; ++c)
              if (f[c] & 4) {
                if constexpr (Tog) tp += popcntw<W>(static_cast<W>(nacc[c] ^ orow[c]));
                orow[c] = nacc[c];
              }
          }
        }
        if constexpr (Tog)
          if (!counted) tp += xor_words(nacc, acc);
        std::swap(amap_[size_t(r)], amap_[size_t(R_)]);
      }
      if constexpr (Sh) {
        if (drain) {
          W* orow = &out_[size_t(r) * C_];
          const W* src = r ? &out_[size_t(r - 1) * C_] : zeros();
          if constexpr (Tog) tp += xor_words(src, orow);
          std::copy_n(src, C_, orow);
        }
      }
    }
    tw += cnt.wraps;
    tp += cnt.tog;
    this->wraps_ += tw;
    if constexpr (Tog) {
      tog_.a_regs += ta;
      tog_.b_regs += tb;
      tog_.acc_regs += tp;
    }
    fsm(fire, in.last, drain);
  }

 private:
  const W* zeros() {
    if (zero_.empty()) zero_.assign(size_t(C_), W{0});
    return zero_.data();
  }
  uint64_t xor_words(const W* x, const W* y) const {
    if constexpr (sizeof(W) == 4) return this->kern_.xor_bits32(x, y, C_);
    else if constexpr (sizeof(W) == 8) return this->kern_.xor_bits64(x, y, C_);
    else {
      uint64_t t = 0;
      for (int c = 0; c < C_; ++c) t += popcntw<W>(static_cast<W>(x[c] ^ y[c]));
      return t;
    }
  }
  // Also counts the row's accumulator toggles (pn against po) into cnt.tog when Tog.
  bool row_kernel_os(const uint8_t* f, const D* a, const D* b, const W* po, W* pn, fastk::RowCounts& cnt) const {
    if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint64_t>) {
      this->kern_.fixed64_os(f, a, b, po, pn, C_, t_->vmask, t_->width, Tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Int8) {
      this->kern_.int32_os(f, a, b, po, pn, C_, Tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Float32) {
      this->kern_.f32_os(f, a, b, po, pn, C_, Tog, &cnt);
      return true;
    } else if constexpr (K == PeKind::Fp8Fixed && std::is_same_v<W, uint128>) {
      fixed128_os(f, a, b, po, pn, C_, t_->vmask, t_->width, Tog, &cnt);
      return true;
    } else {
      (void)f, (void)a, (void)b, (void)po, (void)pn, (void)cnt;
      return false;
    }
  }
  void fsm(bool fire, bool last, bool drain) {
    if (fire) first_pend_ = last;
    switch (st_) {
      case kRun:
        if (fire && last) {
          if (fill_ == 0) {
            st_ = kDrain;
            cnt_ = R_ - 1;
          } else {
            st_ = kWait;
            cnt_ = fill_;
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
  History<D> hist_;
  History<uint8_t> flags_;
  int64_t atotal_ = 0;
  std::vector<int> spc_, nv_, nl_;  // per row: NaN/Inf A codes, valid beats, last beats among its cells
  int spc_total_ = 0;
  // B registers: bits that differ between array row r and row r - 1, kept under row r's physical row (0 for
  // row 0), and their sum.
  std::vector<uint64_t> pair_;
  uint64_t pair_sum_ = 0;
  std::vector<uint8_t> bring_, bsk_;
  int bpos_ = 0;
  std::vector<uint8_t> bc_;
  std::vector<D, Al64<D>> bd_;
  std::vector<int> bspec_, bmap_;
  std::vector<W, Al64<W>> acc_;  // R + 1 rows: array row r is row amap_[r]; amap_[R] is the spare
  std::vector<int> amap_;
  std::vector<uint8_t> nzc_;
  std::vector<W, Al64<W>> out_, zero_;
};

template <typename W, PeKind K>
std::unique_ptr<ArrayCore> make_typed(const ArrayParams& p) {
  const bool ws = p.dataflow == Dataflow::WeightStationary;
  if (ws && p.shadow_weights) {
    if (p.toggles) return std::make_unique<FastWs<W, K, true, true>>(p);
    return std::make_unique<FastWs<W, K, false, true>>(p);
  }
  if (ws) {
    if (p.toggles) return std::make_unique<FastWs<W, K, true, false>>(p);
    return std::make_unique<FastWs<W, K, false, false>>(p);
  }
  if (p.shadow_outputs) {
    if (p.toggles) return std::make_unique<FastOs<W, K, true, true>>(p);
    return std::make_unique<FastOs<W, K, false, true>>(p);
  }
  if (p.toggles) return std::make_unique<FastOs<W, K, true, false>>(p);
  return std::make_unique<FastOs<W, K, false, false>>(p);
}

}  // namespace

std::unique_ptr<ArrayCore> make_fast_array(const ArrayParams& p) {
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
