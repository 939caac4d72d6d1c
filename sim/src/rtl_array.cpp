#include "rtl_array.h"

#include <stdexcept>
#include <string>

#include "fp8sim/sim/accelerator.h"

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
  }
  ~RtlArray() override { m_->final(); }

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
  }
  uint128 add_words(uint128 acc, uint128 x) const override { return arith_->add_words(acc, x); }
  model::AccWord to_acc_word(uint128 w) const override { return arith_->to_acc_word(w); }

 private:
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

bool rtl_array_available(const ArrayParams& p) { return find(p) != nullptr; }

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

bool rtl_array_available(const ArrayParams&) { return false; }
std::unique_ptr<ArrayCore> make_rtl_array(const ArrayParams&) {
  throw std::invalid_argument("--engine rtl: this build has no RTL (configure with FP8SIM_WITH_RTL=ON)");
}

#endif

}  // namespace fp8sim::sim
