#include "rtl_array.h"

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "fp8sim/sim/accelerator.h"
#include "fp8sim/sim/mx_array.h"
#include "mx_array_core.h"

#ifdef FP8SIM_HAVE_RTL
#include <verilated.h>

#include "Vsa_os16_int8.h"
#include "Vsa_os4_e4m3_f32.h"
#include "Vsa_os4_e4m3_fixed.h"
#include "Vsa_os4_e5m2_f32.h"
#include "Vsa_os4_e5m2_fixed.h"
#include "Vsa_os4_int8.h"
#include "Vsa_os4s_e4m3_fixed.h"
#include "Vsa_os4s_e5m2_f32.h"
#include "Vsa_os4s_int8.h"
#include "Vsa_os8_e5m2_f32.h"
#include "Vsa_ws16_e4m3_f32.h"
#include "Vsa_ws32s_e4m3_fixed.h"
#include "Vsa_ws32s_int8.h"
#include "Vsa_ws4_e4m3_f32.h"
#include "Vsa_ws4_e4m3_fixed.h"
#include "Vsa_ws4_e5m2_f32.h"
#include "Vsa_ws4_e5m2_fixed.h"
#include "Vsa_ws4_int8.h"
#include "Vsa_ws4s_e4m3_fixed.h"
#include "Vsa_ws4s_e5m2_f32.h"
#include "Vsa_ws4s_int8.h"
#include "Vsa_ws8s_e4m3_f32.h"
#include "Vsa_ws8s_int8.h"
#include "Vsa_os16_int8___024root.h"
#include "Vsa_os4_e4m3_f32___024root.h"
#include "Vsa_os4_e4m3_fixed___024root.h"
#include "Vsa_os4_e5m2_f32___024root.h"
#include "Vsa_os4_e5m2_fixed___024root.h"
#include "Vsa_os4_int8___024root.h"
#include "Vsa_os4s_e4m3_fixed___024root.h"
#include "Vsa_os4s_e5m2_f32___024root.h"
#include "Vsa_os4s_int8___024root.h"
#include "Vsa_os8_e5m2_f32___024root.h"
#include "Vsa_ws16_e4m3_f32___024root.h"
#include "Vsa_ws32s_e4m3_fixed___024root.h"
#include "Vsa_ws32s_int8___024root.h"
#include "Vsa_ws4_e4m3_f32___024root.h"
#include "Vsa_ws4_e4m3_fixed___024root.h"
#include "Vsa_ws4_e5m2_f32___024root.h"
#include "Vsa_ws4_e5m2_fixed___024root.h"
#include "Vsa_ws4_int8___024root.h"
#include "Vsa_ws4s_e4m3_fixed___024root.h"
#include "Vsa_ws4s_e5m2_f32___024root.h"
#include "Vsa_ws4s_int8___024root.h"
#include "Vsa_ws8s_e4m3_f32___024root.h"
#include "Vsa_ws8s_int8___024root.h"
#endif
#ifdef FP8SIM_HAVE_RTL_MX
#include <verilated.h>

#include "Vmx_array8_e4m3.h"
#include "Vmx_array8_int8.h"
#endif

namespace fp8sim::sim {

#ifdef FP8SIM_HAVE_RTL
namespace {

inline uint128 mask_bits(int w) { return w >= 128 ? ~uint128{0} : ((uint128{1} << w) - 1); }

// Bit fields of Verilated ports: integers up to 64 bits, VlWide<N> (32-bit words, LSW first) above.
template <typename T>
uint128 get_bits(const T& port, int lsb, int w) {
  if constexpr (std::is_integral_v<T>) {
    return (static_cast<uint128>(port) >> lsb) & mask_bits(w);
  } else {
    uint128 r = 0;
    for (int i = 0; i < w;) {
      const int b = lsb + i, word = b / 32, off = b % 32, take = std::min(32 - off, w - i);
      r |= ((static_cast<uint128>(port[word]) >> off) & mask_bits(take)) << i;
      i += take;
    }
    return r;
  }
}
template <typename T>
void set_bits(T& port, int lsb, int w, uint128 v) {
  if constexpr (std::is_integral_v<T>) {
    const uint128 m = mask_bits(w) << lsb;
    port = static_cast<T>((static_cast<uint128>(port) & ~m) | ((v << lsb) & m));
  } else {
    for (int i = 0; i < w;) {
      const int b = lsb + i, word = b / 32, off = b % 32, take = std::min(32 - off, w - i);
      const uint32_t m = static_cast<uint32_t>(mask_bits(take)) << off;
      port[word] = (port[word] & ~m) | (static_cast<uint32_t>((v >> i) & mask_bits(take)) << off);
      i += take;
    }
  }
}

inline int popcnt128(uint128 x) {
  return __builtin_popcountll(static_cast<uint64_t>(x)) + __builtin_popcountll(static_cast<uint64_t>(x >> 64));
}

// The per-cell registers made public by rtl/public_regs.vlt (row-major cell order, as the model's arrays):
// sa_ws: a_q (activation), w_q (weight), h_q (shadow weight, SHADOW = 1), p_q (partial sum); sa_os: a_q
// ({valid, first, a}: the 8 data bits are counted, as the model's operand register), b_q, out_q (the
// accumulator; with SHADOW = 1 the output register: the accumulator behind it is not counted, so shadow-output
// OS arrays count fewer accumulator toggles than the model, which counts both). Which exist depends on the DATAFLOW parameter.
template <typename R, typename = void>
struct HasWsRegs : std::false_type {};
template <typename R>
struct HasWsRegs<R, std::void_t<decltype(std::declval<R&>().systolic_array__DOT__g_ws__DOT__u_ws__DOT__p_q)>>
    : std::true_type {};
template <typename R, typename = void>
struct HasOsRegs : std::false_type {};
template <typename R>
struct HasOsRegs<R, std::void_t<decltype(std::declval<R&>().systolic_array__DOT__g_os__DOT__u_os__DOT__out_q)>>
    : std::true_type {};

template <typename M>
class RtlArray final : public ArrayCore {
 public:
  explicit RtlArray(const ArrayParams& p)
      : ArrayCore(p), arith_(make_systolic_array(p)), ctx_(std::make_unique<VerilatedContext>()),
        m_(std::make_unique<M>(ctx_.get())) {
    aw_ = p.pe == PeKind::Fp8Fixed ? num_.acc_width + 2 : 32;
    m_->rst = 1;
    m_->in_valid = 0;
    m_->out_ready = 1;
    for (int i = 0; i < 3; ++i) clock();
    m_->rst = 0;
    // Counting starts from the registers after reset (the model array starts from zeros; both are zero here
    // unless the RTL leaves a register uninitialized, which the toggle tests would show).
    const size_t cells = size_t(p.rows) * p.cols;
    prev_a_.assign(cells, 0);
    prev_b_.assign(cells, 0);
    prev_h_.assign(cells, 0);
    prev_acc_.assign(cells, 0);
    if (p_.toggles) count_toggles(false);
  }
  ~RtlArray() override {
    m_->final();
    // The model's public scopes (rtl/public_regs.vlt) unregister from the thread's current Verilator context:
    // make it this model's own, or destroying models in another order than they were made writes into a
    // context already freed (valgrind: VerilatedScope::~VerilatedScope -> scopeErase on freed memory).
    Verilated::threadContextp(ctx_.get());
    m_.reset();
  }

  bool in_ready(bool wload, bool out_ready, bool swap, bool last) const override {
    m_->in_wload = wload;
    m_->in_swap = swap;
    m_->in_last = last;
    m_->out_ready = out_ready;
    m_->clk = 0;
    m_->eval();
    return m_->in_ready;
  }
  bool w_ready(bool out_ready) const override {
    m_->out_ready = out_ready;
    m_->clk = 0;
    m_->eval();
    return m_->in_wready;
  }
  bool out_valid() const override { return m_->out_valid; }
  void out_words(uint128* dst) const override {
    for (int c = 0; c < p_.cols; ++c) dst[c] = get_bits(m_->out_data, c * aw_, aw_);
  }
  bool active() const override { return m_->out_valid || !m_->in_ready; }
  void edge(const ArrayInputs& in) override {
    ++edges_;
    m_->in_valid = in.valid;
    m_->in_wload = in.wload;
    m_->in_last = in.last;
    m_->in_swap = in.swap;
    m_->in_wvalid = in.wvalid;
    m_->out_ready = in.out_ready;
    for (int r = 0; r < p_.rows; ++r) set_bits(m_->in_a, 8 * r, 8, in.a ? in.a[r] : 0);
    for (int c = 0; c < p_.cols; ++c) set_bits(m_->in_b, 8 * c, 8, in.b ? in.b[c] : 0);
    for (int c = 0; c < p_.cols; ++c) set_bits(m_->in_psum, c * aw_, aw_, in.psum ? in.psum[c] : 0);
    clock();
    if (p_.toggles) count_toggles(true);
  }
  uint128 add_words(uint128 acc, uint128 x) const override { return arith_->add_words(acc, x); }
  model::AccWord to_acc_word(uint128 w) const override { return arith_->to_acc_word(w); }
  bool add_wraps(uint128 acc, uint128 x) const override { return arith_->add_wraps(acc, x); }

 private:
  // Bits that changed in each cell register since the last call, read from the Verilated model's registers.
  template <typename Arr>
  uint64_t diff(const Arr& regs, int width, std::vector<uint128>& prev) {
    uint64_t t = 0;
    for (size_t i = 0; i < prev.size(); ++i) {
      const uint128 v = get_bits(regs[i], 0, width);
      t += static_cast<uint64_t>(popcnt128(v ^ prev[i]));
      prev[i] = v;
    }
    return t;
  }
  void count_toggles(bool add) {
    using Root = std::remove_pointer_t<decltype(m_->rootp)>;
    Root& r = *m_->rootp;
    uint64_t ta = 0, tb = 0, tp = 0;
    if constexpr (HasWsRegs<Root>::value) {
      ta = diff(r.systolic_array__DOT__g_ws__DOT__u_ws__DOT__a_q, 8, prev_a_);
      tb = diff(r.systolic_array__DOT__g_ws__DOT__u_ws__DOT__w_q, 8, prev_b_) +
           diff(r.systolic_array__DOT__g_ws__DOT__u_ws__DOT__h_q, 8, prev_h_);  // shadow weights (0 without)
      tp = diff(r.systolic_array__DOT__g_ws__DOT__u_ws__DOT__p_q, aw_, prev_acc_);
    } else if constexpr (HasOsRegs<Root>::value) {
      ta = diff(r.systolic_array__DOT__g_os__DOT__u_os__DOT__a_q, 8, prev_a_);
      tb = diff(r.systolic_array__DOT__g_os__DOT__u_os__DOT__b_q, 8, prev_b_);
      tp = diff(r.systolic_array__DOT__g_os__DOT__u_os__DOT__out_q, aw_, prev_acc_);
    } else {
      static_assert(HasWsRegs<Root>::value || HasOsRegs<Root>::value,
                    "rtl/public_regs.vlt must make the cell registers public");
    }
    if (!add) return;
    tog_.a_regs += ta;
    tog_.b_regs += tb;
    tog_.acc_regs += tp;
  }
  std::vector<uint128> prev_a_, prev_b_, prev_h_, prev_acc_;
  void clock() const {
    m_->clk = 0;
    m_->eval();
    m_->clk = 1;
    m_->eval();
  }
  std::unique_ptr<ArrayCore> arith_;  // the PE's word arithmetic (buffer adds, word decoding)
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> m_;
  int aw_ = 32;
};

struct RtlEntry {
  int rows, cols;
  Dataflow df;
  bool shadow;
  PeKind pe;
  model::Fp8Kind fa, fb;
  std::unique_ptr<ArrayCore> (*make)(const ArrayParams&);
};
template <typename M>
std::unique_ptr<ArrayCore> mk(const ArrayParams& p) {
  return std::make_unique<RtlArray<M>>(p);
}
constexpr auto WS = Dataflow::WeightStationary, OS = Dataflow::OutputStationary;
constexpr auto E4 = model::Fp8Kind::E4M3, E5 = model::Fp8Kind::E5M2;
// rtl/CMakeLists.txt's FP8SIM_RTL_ARRAYS list.
const RtlEntry kRtl[] = {
    {4, 4, WS, false, PeKind::Int8, E4, E4, mk<Vsa_ws4_int8>},
    {4, 4, WS, false, PeKind::Fp8Fixed, E4, E4, mk<Vsa_ws4_e4m3_fixed>},
    {4, 4, WS, false, PeKind::Fp8Float32, E4, E4, mk<Vsa_ws4_e4m3_f32>},
    {4, 4, WS, false, PeKind::Fp8Fixed, E5, E5, mk<Vsa_ws4_e5m2_fixed>},
    {4, 4, WS, false, PeKind::Fp8Float32, E5, E5, mk<Vsa_ws4_e5m2_f32>},
    {4, 4, OS, false, PeKind::Int8, E4, E4, mk<Vsa_os4_int8>},
    {4, 4, OS, false, PeKind::Fp8Fixed, E4, E4, mk<Vsa_os4_e4m3_fixed>},
    {4, 4, OS, false, PeKind::Fp8Float32, E4, E4, mk<Vsa_os4_e4m3_f32>},
    {4, 4, OS, false, PeKind::Fp8Fixed, E5, E5, mk<Vsa_os4_e5m2_fixed>},
    {4, 4, OS, false, PeKind::Fp8Float32, E5, E5, mk<Vsa_os4_e5m2_f32>},
    {8, 8, OS, false, PeKind::Fp8Float32, E5, E5, mk<Vsa_os8_e5m2_f32>},
    {16, 16, WS, false, PeKind::Fp8Float32, E4, E4, mk<Vsa_ws16_e4m3_f32>},
    {16, 16, OS, false, PeKind::Int8, E4, E4, mk<Vsa_os16_int8>},
    {4, 4, WS, true, PeKind::Int8, E4, E4, mk<Vsa_ws4s_int8>},
    {4, 4, WS, true, PeKind::Fp8Fixed, E4, E4, mk<Vsa_ws4s_e4m3_fixed>},
    {4, 4, WS, true, PeKind::Fp8Float32, E5, E5, mk<Vsa_ws4s_e5m2_f32>},
    {8, 8, WS, true, PeKind::Fp8Float32, E4, E4, mk<Vsa_ws8s_e4m3_f32>},
    {8, 8, WS, true, PeKind::Int8, E4, E4, mk<Vsa_ws8s_int8>},
    {32, 32, WS, true, PeKind::Fp8Fixed, E4, E4, mk<Vsa_ws32s_e4m3_fixed>},
    {32, 32, WS, true, PeKind::Int8, E4, E4, mk<Vsa_ws32s_int8>},
    {4, 4, OS, true, PeKind::Int8, E4, E4, mk<Vsa_os4s_int8>},
    {4, 4, OS, true, PeKind::Fp8Fixed, E4, E4, mk<Vsa_os4s_e4m3_fixed>},
    {4, 4, OS, true, PeKind::Fp8Float32, E5, E5, mk<Vsa_os4s_e5m2_f32>},
};

const RtlEntry* find(const ArrayParams& p) {
  const auto num = p.numerics();
  const int rtl_width = p.pe == PeKind::Fp8Fixed ? pe_numerics(p.pe, p.fmt_a, p.fmt_b, 0).acc_width : 0;
  for (const RtlEntry& e : kRtl)
    if (e.rows == p.rows && e.cols == p.cols && e.df == p.dataflow && e.shadow == (p.shadow_weights || p.shadow_outputs) && e.pe == p.pe &&
        (p.pe == PeKind::Int8 || (e.fa == p.fmt_a && e.fb == p.fmt_b)) &&
        (p.pe != PeKind::Fp8Fixed || num.acc_width == rtl_width))
      return &e;
  return nullptr;
}

}  // namespace

bool rtl_array_available(const ArrayParams& p) { return p.mx ? rtl_mx_array_available(p) : find(p) != nullptr; }

std::unique_ptr<ArrayCore> make_rtl_array(const ArrayParams& p) {
  const RtlEntry* e = find(p);
  if (!e)
    throw std::invalid_argument("no Verilated RTL array for " + std::to_string(p.rows) + "x" + std::to_string(p.cols) +
                                " " + p.numerics().describe() +
                                (p.shadow_weights ? " with shadow weights" : p.dataflow == WS ? " without shadow weights"
                                 : p.shadow_outputs ? " with shadow outputs" : " without shadow outputs") +
                                " (rtl/CMakeLists.txt FP8SIM_RTL_ARRAYS lists them)");
  return e->make(p);
}

#else

bool rtl_array_available(const ArrayParams& p) { return p.mx && rtl_mx_array_available(p); }
std::unique_ptr<ArrayCore> make_rtl_array(const ArrayParams&) {
  throw std::invalid_argument("--engine rtl: this build has no RTL (configure with FP8SIM_WITH_RTL=ON)");
}

#endif

// ---------------- the Verilated MX array (rtl/mx_array.v) ----------------
// The same output stage as the cycle model (mx_array_core.h: in_ready, row-by-row drain) around the Verilated
// array; the cells' {cls, value} words are read from out_acc and rounded by the same model function.
#ifdef FP8SIM_HAVE_RTL_MX
namespace {

template <typename T>
uint32_t mx_port_bit(const T& port, int b) {
  if constexpr (std::is_integral_v<T>) return static_cast<uint32_t>((static_cast<unsigned long long>(port) >> b) & 1u);
  else return (port[b / 32] >> (b % 32)) & 1u;
}
template <typename T>
void mx_port_byte(T& port, int i, uint8_t v) {
  if constexpr (std::is_integral_v<T>) {
    const unsigned long long m = 0xFFull << (8 * i);
    port = static_cast<T>((static_cast<unsigned long long>(port) & ~m) | (static_cast<unsigned long long>(v) << (8 * i)));
  } else {
    const int w = (8 * i) / 32, off = (8 * i) % 32;
    port[w] = (port[w] & ~(0xFFu << off)) | (uint32_t{v} << off);
  }
}

template <typename M>
class RtlMxArray final : public detail::MxArrayCore {
 public:
  explicit RtlMxArray(const ArrayParams& p)
      : MxArrayCore(p), ctx_(std::make_unique<VerilatedContext>()), m_(std::make_unique<M>(ctx_.get())) {
    m_->rst = 1;
    m_->in_valid = 0;
    for (int i = 0; i < 3; ++i) clock();
    m_->rst = 0;
  }
  ~RtlMxArray() override {
    m_->final();
    Verilated::threadContextp(ctx_.get());
    m_.reset();
  }
  void cell_words_into(int r, int c, uint32_t* w) const override {
    const int aw = shape_.fw + 2, base = (r * p_.cols + c) * aw;
    for (int i = 0; i < aw; ++i) w[size_t(i / 32)] |= mx_port_bit(m_->out_acc, base + i) << (i % 32);
  }
  void edge(const ArrayInputs& in) override {
    const bool take = take_beat(in);
    m_->in_valid = take;
    m_->in_first = take && in.mx_first;
    m_->in_last = take && in.mx_blk_last;
    m_->in_fin = take && in.mx_fin;
    for (int r = 0; r < p_.rows; ++r) {
      mx_port_byte(m_->in_a, r, take && in.a ? in.a[r] : 0);
      mx_port_byte(m_->in_sa, r, take && in.sa ? in.sa[r] : 0);
    }
    for (int c = 0; c < p_.cols; ++c) {
      mx_port_byte(m_->in_b, c, take && in.b ? in.b[c] : 0);
      mx_port_byte(m_->in_sb, c, take && in.sb ? in.sb[c] : 0);
    }
    clock();
    out_.end_edge(m_->out_valid);
  }

 private:
  void clock() const {
    m_->clk = 0;
    m_->eval();
    m_->clk = 1;
    m_->eval();
  }
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> m_;
};

struct RtlMxEntry {
  int rows, cols;
  model::MxKind kind;
  int block;
  std::unique_ptr<ArrayCore> (*make)(const ArrayParams&);
};
template <typename M>
std::unique_ptr<ArrayCore> mk_mx(const ArrayParams& p) {
  return std::make_unique<RtlMxArray<M>>(p);
}
// rtl/CMakeLists.txt's MX section (8x8 at block 32: the small8_mx configuration in mxfp8 and mxint8).
const RtlMxEntry kRtlMx[] = {
    {8, 8, model::MxKind::MXFP8_E4M3, 32, mk_mx<Vmx_array8_e4m3>},
    {8, 8, model::MxKind::MXINT8, 32, mk_mx<Vmx_array8_int8>},
};
const RtlMxEntry* find_mx(const ArrayParams& p) {
  for (const RtlMxEntry& e : kRtlMx)
    if (p.mx && e.rows == p.rows && e.cols == p.cols && e.kind == p.mx_kind && e.block == p.mx_block) return &e;
  return nullptr;
}

}  // namespace

bool rtl_mx_array_available(const ArrayParams& p) { return find_mx(p) != nullptr; }
std::unique_ptr<ArrayCore> make_rtl_mx_array(const ArrayParams& p) {
  const RtlMxEntry* e = find_mx(p);
  if (!e)
    throw std::invalid_argument("no Verilated MX array for " + std::to_string(p.rows) + "x" + std::to_string(p.cols) +
                                " " + mx_pe_name(p) + " block " + std::to_string(p.mx_block) +
                                " (Verilated MX arrays built: 8x8 mxfp8 and mxint8 at block 32, rtl/CMakeLists.txt MX section)");
  return e->make(p);
}
#else
bool rtl_mx_array_available(const ArrayParams&) { return false; }
std::unique_ptr<ArrayCore> make_rtl_mx_array(const ArrayParams&) {
  throw std::invalid_argument("--engine rtl: this build has no Verilated MX arrays (configure with FP8SIM_WITH_RTL=ON)");
}
#endif

}  // namespace fp8sim::sim
