// Processing elements (rtl/fp8_pe.v, rtl/int8_pe.v) against model/'s accumulators, step by step: after
// every MAC step the whole accumulator word of the RTL must equal the model accumulator fed the same
// products in the same order. 10 million MAC steps per PE variant, from a fixed seed (reproducible), made of
// directed sequences (long K at max magnitude, wrap-around, Inf/NaN) and random sequences of several kinds
// (uniform codes, long K up to 4096, subnormals, max values, catastrophic cancellation, signed zeros,
// specials, mixed scales). Idle cycles (en = 0) are sprinkled in; the accumulator must hold through them.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "Vpe_e4m3_f32.h"
#include "Vpe_e4m3_fixed.h"
#include "Vpe_e5m2_f32.h"
#include "Vpe_e5m2_fixed.h"
#include "Vpe_int8.h"
#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "rtl_harness.h"

using namespace fp8sim::model;
using namespace fp8sim::rtltest;

namespace {

constexpr long kStepsPerVariant = 10'000'000;
using Seq = std::vector<std::pair<uint8_t, uint8_t>>;

// ---------------- operand generators ----------------
struct Fp8Codes {
  const Fp8Format& f;
  Rng& rng;
  bool special(uint8_t c) const { return fp8_is_nan(f, c) || fp8_is_inf(f, c); }
  uint8_t finite() {
    for (;;) {
      const uint8_t c = rng.byte();
      if (!special(c)) return c;
    }
  }
  uint8_t sign() { return static_cast<uint8_t>(rng.below(2) << 7); }
  uint8_t subnormal() {  // exponent field 0 (zero included), now and then the smallest normal binade
    const uint8_t m = static_cast<uint8_t>(rng.below(1u << f.man_bits));
    const uint8_t e = rng.chance(150) ? uint8_t{1} : uint8_t{0};
    return static_cast<uint8_t>(sign() | (e << f.man_bits) | m);
  }
  uint8_t near_max() { return static_cast<uint8_t>(sign() | (f.max_finite_code() - rng.below(3))); }
  uint8_t nan() { return static_cast<uint8_t>(f.nan_code() | sign()); }
  uint8_t inf() { return static_cast<uint8_t>(f.inf_code() | sign()); }
};

// Random sequences of several kinds; each returns one dot product's operand pairs.
Seq random_fp8_sequence(const Fp8Format& f, Rng& rng) {
  Fp8Codes c{f, rng};
  Seq s;
  const unsigned kind = static_cast<unsigned>(rng.below(8));
  switch (kind) {
    case 0: {  // uniform codes, NaN/Inf included (short: specials are sticky)
      const auto n = 1 + rng.below(64);
      for (uint64_t i = 0; i < n; ++i) s.emplace_back(rng.byte(), rng.byte());
      break;
    }
    case 1: {  // long K, finite codes
      const auto n = 1 + rng.below(4096);
      for (uint64_t i = 0; i < n; ++i) s.emplace_back(c.finite(), c.finite());
      break;
    }
    case 2: {  // subnormal operands
      const auto n = 1 + rng.below(512);
      for (uint64_t i = 0; i < n; ++i)
        s.emplace_back(c.subnormal(), rng.chance(500) ? c.subnormal() : c.finite());
      break;
    }
    case 3: {  // max magnitudes, mostly one sign (grows large), up to K = 4096
      const auto n = 1 + rng.below(4096);
      const bool mixed = rng.chance(300);
      for (uint64_t i = 0; i < n; ++i) {
        uint8_t a = c.near_max(), b = c.near_max();
        if (!mixed) a &= 0x7F, b &= 0x7F;
        s.emplace_back(a, b);
      }
      break;
    }
    case 4: {  // catastrophic cancellation: products, then the same products negated, then a small residue
      const auto n = 1 + rng.below(1024);
      Seq first;
      for (uint64_t i = 0; i < n; ++i) first.emplace_back(c.finite(), c.finite());
      s = first;
      if (rng.below(2)) std::reverse(first.begin(), first.end());
      for (auto [a, b] : first) s.emplace_back(static_cast<uint8_t>(a ^ 0x80), b);
      if (rng.below(2)) s.emplace_back(c.subnormal(), c.finite());
      break;
    }
    case 5: {  // signed zeros with rare tiny values
      const auto n = 1 + rng.below(64);
      for (uint64_t i = 0; i < n; ++i) {
        const uint8_t z = c.sign();
        s.emplace_back(rng.chance(100) ? c.subnormal() : z, rng.chance(100) ? c.finite() : c.sign());
      }
      break;
    }
    case 6: {  // specials injected into finite sequences: NaN, Inf (E5M2), Inf * 0
      const auto n = 1 + rng.below(256);
      for (uint64_t i = 0; i < n; ++i) {
        uint8_t a = c.finite(), b = c.finite();
        if (rng.chance(20)) a = f.has_inf() && rng.below(4) ? c.inf() : c.nan();
        if (rng.chance(5)) b = static_cast<uint8_t>(c.sign());
        s.emplace_back(a, b);
      }
      break;
    }
    default: {  // mixed scales: a large product then many tiny ones (absorption in float32), repeated
      const auto n = 1 + rng.below(2048);
      for (uint64_t i = 0; i < n; ++i) {
        if (rng.chance(10)) s.emplace_back(c.near_max(), c.near_max());
        else s.emplace_back(c.subnormal(), c.finite());
      }
      break;
    }
  }
  return s;
}

Seq random_int8_sequence(Rng& rng) {
  Seq s;
  const unsigned kind = static_cast<unsigned>(rng.below(4));
  const auto n = 1 + rng.below(kind == 1 ? 4096 : 512);
  for (uint64_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: s.emplace_back(rng.byte(), rng.byte()); break;
      case 1: {  // extremes: -128, -127, 127, 0, +-1
        static const uint8_t ext[] = {0x80, 0x81, 0x7F, 0x00, 0x01, 0xFF};
        s.emplace_back(ext[rng.below(6)], ext[rng.below(6)]);
        break;
      }
      case 2: {  // cancellation
        const uint8_t a = rng.byte(), b = rng.byte();
        s.emplace_back(a, b);
        s.emplace_back(static_cast<uint8_t>(-static_cast<int8_t>(a)), b);
        break;
      }
      default: s.emplace_back(static_cast<uint8_t>(rng.below(2) ? 0 : rng.byte()), rng.byte()); break;
    }
  }
  return s;
}

// ---------------- the drive-and-compare loop ----------------
// Ref: reset(), add(a, b), word() -> model accumulator as (raw, cls); read(M&) -> RTL word likewise.
template <typename M, typename Ref>
void run_pe(const std::string& name, Ref ref, const std::vector<Seq>& directed,
            const std::function<Seq(Rng&)>& random_seq, uint64_t seed) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<M>(ctx.get());
  Rng rng(seed);
  m->rst = 1;
  m->en = 0;
  m->clr = 0;
  tick(*m);
  m->rst = 0;
  long steps = 0, idle = 0, sequences = 0, mismatches = 0;
  auto run_seq = [&](const Seq& s) {
    ++sequences;
    ref.reset();
    for (size_t i = 0; i < s.size(); ++i) {
      if (rng.chance(10)) {  // an idle cycle: en = 0, junk operands, the accumulator must hold
        m->en = 0;
        m->clr = rng.below(2);
        m->a = rng.byte();
        m->b = rng.byte();
        tick(*m);
        ++idle;
      }
      m->en = 1;
      m->clr = i == 0;
      m->a = s[i].first;
      m->b = s[i].second;
      tick(*m);
      ref.add(s[i].first, s[i].second);
      ++steps;
      const auto have = ref.read(*m), want = ref.word();
      if (have != want && ++mismatches <= 5)
        UNSCOPED_INFO(name << " sequence " << sequences << " step " << i << " a=0x" << std::hex
                           << int{s[i].first} << " b=0x" << int{s[i].second} << std::dec << ": rtl "
                           << static_cast<long double>(have.first) << "/" << have.second << " model "
                           << static_cast<long double>(want.first) << "/" << want.second);
    }
  };
  for (const Seq& s : directed) run_seq(s);
  while (steps < kStepsPerVariant) run_seq(random_seq(rng));
  m->final();
  CHECK(mismatches == 0);
  CHECK(steps >= kStepsPerVariant);
  WARN(name << ": " << steps << " MAC steps (" << sequences << " sequences, " << idle
            << " idle cycles) checked after every step, " << mismatches << " mismatches");
}

using Word = std::pair<int128, int>;  // (raw value, class)

struct FixedRef {
  FixedPointAccumulator acc;
  const Fp8Format& f;
  void reset() { acc.reset(); }
  void add(uint8_t a, uint8_t b) { acc.add(fp8_exact_product(f, a, f, b)); }
  Word word() const { return {acc.raw(), static_cast<int>(acc.cls())}; }
  template <typename M>
  Word read(const M& m) const {
    const int w = acc.width();
    return {sign_extend(get_field(m.acc, 0, w), w), static_cast<int>(get_field(m.acc, w, 2))};
  }
};

struct F32Ref {
  Float32Accumulator acc;
  const Fp8Format& f;
  void reset() { acc.reset(); }
  void add(uint8_t a, uint8_t b) { acc.add(fp8_product_f32(f, a, f, b)); }
  Word word() const { return {acc.bits(), 0}; }
  template <typename M>
  Word read(const M& m) const { return {static_cast<uint32_t>(m.acc), 0}; }
};

struct Int32Ref {
  Int32Accumulator acc;
  void reset() { acc.reset(); }
  void add(uint8_t a, uint8_t b) { acc.add(static_cast<int8_t>(a), static_cast<int8_t>(b)); }
  Word word() const { return {acc.value(), 0}; }
  template <typename M>
  Word read(const M& m) const { return {static_cast<int32_t>(m.acc), 0}; }
};

// Directed FP8 sequences: K = 4096 at +max*+max, at +max*-max, alternating signs; all max products past the
// exact width (wrap-around, shows the RTL register has the model's width); Inf + -Inf; Inf * 0; NaN first.
std::vector<Seq> directed_fp8(const Fp8Format& f, bool past_exact_width) {
  const uint8_t mx = f.max_finite_code();
  std::vector<Seq> d;
  d.emplace_back(4096, std::make_pair(mx, mx));
  d.emplace_back(4096, std::make_pair(mx, static_cast<uint8_t>(mx | 0x80)));
  Seq alt;
  for (int i = 0; i < 4096; ++i) alt.emplace_back(static_cast<uint8_t>(mx | ((i & 1) << 7)), mx);
  d.push_back(alt);
  if (past_exact_width) d.emplace_back(3 * 4096 + 17, std::make_pair(mx, mx));
  const uint8_t one = static_cast<uint8_t>(f.bias << f.man_bits);
  if (f.has_inf()) {
    d.push_back({{one, one}, {f.inf_code(), one}, {static_cast<uint8_t>(f.inf_code() | 0x80), one}, {one, one}});
    d.push_back({{f.inf_code(), 0x00}, {one, one}});
    d.push_back({{f.inf_code(), mx}, {f.inf_code(), mx}, {mx, mx}});
  }
  d.push_back({{f.nan_code(), one}, {one, one}});
  d.push_back({{0x80, 0x00}});           // -0 * +0: the float32 sum stays +0
  d.push_back({{0x01, 0x01}, {0x81, 0x01}, {0x01, 0x01}});  // smallest subnormal products
  return d;
}

}  // namespace

TEST_CASE("int8 PE vs Int32Accumulator", "[rtl]") {
  std::vector<Seq> d;
  d.emplace_back(140'000, std::make_pair(uint8_t{0x80}, uint8_t{0x80}));  // passes 2^31: wraps like the model
  d.emplace_back(4096, std::make_pair(uint8_t{0x80}, uint8_t{0x7F}));
  run_pe<Vpe_int8>("int8 PE (int32 acc)", Int32Ref{}, d, [](Rng& r) { return random_int8_sequence(r); }, 0x1818);
}

TEST_CASE("e4m3 PE fixed-point vs FixedPointAccumulator", "[rtl]") {
  const Fp8Format& f = fp8_format(Fp8Kind::E4M3);
  FixedRef ref{FixedPointAccumulator(fixed_point_accumulator_width(f, f, 4096), 2 * f.lsb_exp()), f};
  run_pe<Vpe_e4m3_fixed>("e4m3 PE (fixed " + std::to_string(ref.acc.width()) + " acc)", ref, directed_fp8(f, true),
                         [&](Rng& r) { return random_fp8_sequence(f, r); }, 0xE4F1);
}

TEST_CASE("e5m2 PE fixed-point vs FixedPointAccumulator", "[rtl]") {
  const Fp8Format& f = fp8_format(Fp8Kind::E5M2);
  FixedRef ref{FixedPointAccumulator(fixed_point_accumulator_width(f, f, 4096), 2 * f.lsb_exp()), f};
  run_pe<Vpe_e5m2_fixed>("e5m2 PE (fixed " + std::to_string(ref.acc.width()) + " acc)", ref, directed_fp8(f, true),
                         [&](Rng& r) { return random_fp8_sequence(f, r); }, 0xE5F1);
}

TEST_CASE("e4m3 PE float32 vs Float32Accumulator", "[rtl]") {
  const Fp8Format& f = fp8_format(Fp8Kind::E4M3);
  run_pe<Vpe_e4m3_f32>("e4m3 PE (float32 acc)", F32Ref{Float32Accumulator{}, f}, directed_fp8(f, false),
                       [&](Rng& r) { return random_fp8_sequence(f, r); }, 0xE4F32);
}

TEST_CASE("e5m2 PE float32 vs Float32Accumulator", "[rtl]") {
  const Fp8Format& f = fp8_format(Fp8Kind::E5M2);
  run_pe<Vpe_e5m2_f32>("e5m2 PE (float32 acc)", F32Ref{Float32Accumulator{}, f}, directed_fp8(f, false),
                       [&](Rng& r) { return random_fp8_sequence(f, r); }, 0xE5F32);
}
