// MX dot-product PE and array (rtl/mx_pe.v, rtl/mx_array.v) against model/ (model/mx.h, model/mx_pe.h),
// bit for bit:
//   - every element-code pair of every MX element format (E4M3, E5M2, E3M2, E2M3, E2M1, MXINT8) through the
//     PE as a one-element block with both scales 1.0 (code 127): the accumulator word must be the model's
//     exact product << 254 (units 2^(lsb_a + lsb_b - 254)), and the model's product must equal the product of
//     the decoded values (exact in double: at most 8 + 8 significant bits);
//   - random dot products of random blocks (random and extreme scales 0x00 / 0xFE, NaN scale 0xFF, NaN/Inf
//     elements where the format has them, short last blocks, idle cycles, back-to-back products): after every
//     clock edge the RTL accumulator word equals the model twin's (model::MxPe), and every finished product
//     equals the sum of model::mx_block_dot over its blocks, computed here independently of MxPe;
//   - 4x4 array GEMMs (MXFP8 E4M3, blocks of 32): every output word equals the mx_block_dot sum, and
//     out_valid rises exactly in the cycle derived in the comment of the array test case.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "Vmx_array4_e4m3.h"
#include "Vmx_pe_e2m1_l4.h"
#include "Vmx_pe_e2m3.h"
#include "Vmx_pe_e3m2.h"
#include "Vmx_pe_e4m3.h"
#include "Vmx_pe_e5m2.h"
#include "Vmx_pe_int8.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/model/mx_pe.h"
#include "rtl_harness.h"

using namespace fp8sim::model;
using namespace fp8sim::rtltest;

namespace {

using Words = std::vector<uint32_t>;

// bits [lsb, lsb + w) of a little-endian word array, as little-endian words
template <typename P>
Words slice(const P& port, int lsb, int w) {
  Words r(static_cast<size_t>((w + 31) / 32), 0u);
  for (int i = 0; i < w; ++i) {
    const int b = lsb + i;
    if (port[static_cast<size_t>(b / 32)] >> (b % 32) & 1u) r[static_cast<size_t>(i / 32)] |= 1u << (i % 32);
  }
  return r;
}
template <std::size_t N>
Words words_of(const VlWide<N>& p) {
  return Words(p.data(), p.data() + N);
}

// ---- an independent exact accumulation of mx_block_dot results (not MxPe's code) ----
// value: fw-bit two's complement in little-endian words; adds lsbs * 2^(exp - base_exp), exp >= base_exp.
struct ExactSum {
  int fw;
  int base_exp;
  Words v;
  ValueClass cls = ValueClass::Finite;
  ExactSum(int fw_, int base) : fw(fw_), base_exp(base), v(static_cast<size_t>((fw_ + 2 + 31) / 32), 0u) {}
  void add_block(const MxBlockSum& s) {
    if (s.cls != ValueClass::Finite) {
      cls = MxPe::combine(cls, s.cls);
      return;
    }
    const int sh = s.exp - base_exp;
    REQUIRE(sh >= 0);
    // bit j of (lsbs << sh) for j < fw: bit (j - sh) of lsbs, sign bits above bit 127
    Words t(v.size(), 0u);
    const uint128 u = static_cast<uint128>(s.lsbs);
    for (int j = sh; j < fw; ++j) {
      const int i = j - sh;
      const bool bit = i < 128 ? (u >> i & 1) : (s.lsbs < 0);
      if (bit) t[static_cast<size_t>(j / 32)] |= 1u << (j % 32);
    }
    uint64_t carry = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      const uint64_t x = uint64_t{v[i]} + t[i] + carry;
      v[i] = static_cast<uint32_t>(x);
      carry = x >> 32;
    }
    for (int j = fw; j < static_cast<int>(v.size()) * 32; ++j) v[static_cast<size_t>(j / 32)] &= ~(1u << (j % 32));
  }
  Words word() const {  // {cls, value}
    Words w = v;
    const int c = static_cast<int>(cls);
    for (int i = 0; i < 2; ++i)
      if (c >> i & 1) w[static_cast<size_t>((fw + i) / 32)] |= 1u << ((fw + i) % 32);
    return w;
  }
};

template <typename M>
void set_lanes(M& m, const uint8_t* a, const uint8_t* b, int lanes) {
  uint64_t av = 0, bv = 0;
  for (int l = 0; l < lanes; ++l) av |= uint64_t{a[l]} << (8 * l), bv |= uint64_t{b[l]} << (8 * l);
  m.a = static_cast<std::remove_reference_t<decltype(m.a)>>(av);
  m.b = static_cast<std::remove_reference_t<decltype(m.b)>>(bv);
}

template <typename M>
void drive(M& m, const MxPe::Inputs& in, int lanes) {
  m.en = in.en, m.clr = in.clr, m.last = in.last, m.fin = in.fin;
  set_lanes(m, in.a, in.b, lanes);
  m.sa = in.sa, m.sb = in.sb;
}

// ---------------- every code pair ----------------
template <typename M>
void all_pairs(Fp8Kind kind, int lanes) {
  const Fp8Format& f = fp8_format(kind);
  MxPe ref({kind, kind, lanes, 32, 7});
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<M>(ctx.get());
  REQUIRE(static_cast<int>(sizeof(m->acc) / 4) == ref.words());  // the RTL's accumulator width = the model's
  m->rst = 1;
  tick(*m);
  m->rst = 0;
  const int n = 1 << f.bits();
  long mism = 0, checked = 0, decoded_mism = 0;
  std::vector<uint8_t> a(static_cast<size_t>(lanes), 0), b(static_cast<size_t>(lanes), 0);
  for (int i = 0; i <= n * n; ++i) {
    const bool feed = i < n * n;
    std::fill(a.begin(), a.end(), uint8_t{0});
    std::fill(b.begin(), b.end(), uint8_t{0});
    const int lane = i % lanes;
    MxPe::Inputs in;
    if (feed) {
      a[static_cast<size_t>(lane)] = static_cast<uint8_t>(i / n);
      b[static_cast<size_t>(lane)] = static_cast<uint8_t>(i % n);
      in.en = in.clr = in.last = in.fin = true;
      in.sa = in.sb = 127;
      // the model's product against the decoded values' product (exact in double)
      const ExactProduct p = mx_element_product(f, a[size_t(lane)], f, b[size_t(lane)]);
      const double x = mx_element_decode(f, a[size_t(lane)]) * mx_element_decode(f, b[size_t(lane)]);
      const bool ok = p.cls == ValueClass::NaN   ? std::isnan(x)
                      : p.cls == ValueClass::PosInf ? (std::isinf(x) && x > 0)
                      : p.cls == ValueClass::NegInf ? (std::isinf(x) && x < 0)
                                                    : std::ldexp(static_cast<double>(p.lsbs), 2 * f.lsb_exp()) == x;
      if (!ok) ++decoded_mism;
    }
    in.a = a.data(), in.b = b.data();
    drive(*m, in, lanes);
    tick(*m);
    ref.step(in);
    if (i >= 1) {  // pair i - 1 closed at the previous edge is in the accumulator after this one
      ++checked;
      if (words_of(m->acc) != ref.acc_words() && ++mism <= 5)
        UNSCOPED_INFO(f.name << " pair a=0x" << std::hex << (i - 1) / n << " b=0x" << (i - 1) % n << std::dec
                             << ": RTL accumulator word differs from the model's");
      if (bool(m->acc_done) != ref.acc_done()) ++mism;
    }
  }
  m->final();
  CHECK(checked == long{n} * n);
  CHECK(mism == 0);
  CHECK(decoded_mism == 0);
}

// ---------------- random blocks ----------------
struct Codes {
  const Fp8Format& f;
  Rng& rng;
  uint8_t any() { return static_cast<uint8_t>(rng.byte() & f.code_mask()); }
  bool special(uint8_t c) const { return mx_element_is_nan(f, c) || mx_element_is_inf(f, c); }
  uint8_t finite() {
    for (;;) {
      const uint8_t c = any();
      if (!special(c)) return c;
    }
  }
  uint8_t max_mag() {  // the largest magnitude, random sign (MXINT8: -128 or 127)
    if (f.is_int()) return rng.below(2) ? uint8_t{0x80} : f.max_finite_code();
    return static_cast<uint8_t>(f.max_finite_code() | (rng.below(2) ? f.sign_bit() : 0));
  }
};

uint8_t random_scale(Rng& rng) {
  switch (rng.below(10)) {
    case 0: return 0x00;   // 2^-127
    case 1: return 0xFE;   // 2^127
    case 2: return 127;    // 1.0
    case 3: return rng.chance(300) ? uint8_t{0xFF} : uint8_t{0xFE};  // NaN now and then
    default: return static_cast<uint8_t>(rng.below(255));             // any non-NaN code
  }
}

template <typename M>
void random_blocks(Fp8Kind kind, int lanes, uint64_t seed, int products) {
  const Fp8Format& f = fp8_format(kind);
  const int block = 32;
  MxPe ref({kind, kind, lanes, block, 7});
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<M>(ctx.get());
  m->rst = 1;
  tick(*m);
  m->rst = 0;
  Rng rng(seed);
  Codes c{f, rng};
  long edges = 0, mism = 0, finished = 0, dot_mism = 0, blocks_total = 0, nan_scale_blocks = 0;
  const int base_exp = 2 * f.lsb_exp() - 254;
  std::vector<ExactSum> pending;  // products whose last block closed, oldest first
  auto edge = [&](const MxPe::Inputs& in) {
    drive(*m, in, lanes);
    tick(*m);
    ref.step(in);
    ++edges;
    if (words_of(m->acc) != ref.acc_words() || bool(m->acc_done) != ref.acc_done()) {
      if (++mism <= 5) UNSCOPED_INFO(f.name << " edge " << edges << ": RTL accumulator differs from MxPe");
    }
    if (m->acc_done) {  // a finished product: against the mx_block_dot sum
      REQUIRE(!pending.empty());
      ++finished;
      if (words_of(m->acc) != pending.front().word() && ++dot_mism <= 5)
        UNSCOPED_INFO(f.name << " product " << finished << ": RTL differs from the sum of mx_block_dot");
      pending.erase(pending.begin());
    }
  };
  std::vector<uint8_t> ea, eb, la(static_cast<size_t>(lanes)), lb(static_cast<size_t>(lanes));
  for (int p = 0; p < products; ++p) {
    const int nblocks = 1 + static_cast<int>(rng.below(6));
    const unsigned mode = static_cast<unsigned>(rng.below(4));  // 0 uniform codes, 1 finite, 2 max, 3 mixed
    ExactSum sum(ref.value_bits(), base_exp);
    for (int kb = 0; kb < nblocks; ++kb) {
      // a full block, or (last block only) a short one: a multiple of the lane count
      const int len = (kb == nblocks - 1 && rng.chance(300)) ? lanes * (1 + int(rng.below(block / lanes))) : block;
      ea.resize(size_t(len)), eb.resize(size_t(len));
      for (int i = 0; i < len; ++i) {
        const unsigned md = mode == 3 ? unsigned(rng.below(3)) : mode;
        ea[size_t(i)] = md == 0 ? c.any() : md == 1 ? c.finite() : c.max_mag();
        eb[size_t(i)] = md == 0 ? c.any() : md == 1 ? c.finite() : c.max_mag();
      }
      const uint8_t sa = random_scale(rng), sb = random_scale(rng);
      nan_scale_blocks += (sa == 0xFF || sb == 0xFF);
      sum.add_block(mx_block_dot(f, ea.data(), sa, f, eb.data(), sb, size_t(len)));
      ++blocks_total;
      for (int i = 0; i < len; i += lanes) {
        if (rng.chance(20)) {  // idle cycle with junk on the inputs
          for (auto& x : la) x = rng.byte();
          for (auto& x : lb) x = rng.byte();
          MxPe::Inputs idle;
          idle.clr = rng.below(2), idle.last = rng.below(2), idle.fin = rng.below(2);
          idle.a = la.data(), idle.b = lb.data(), idle.sa = rng.byte(), idle.sb = rng.byte();
          edge(idle);
        }
        MxPe::Inputs in;
        in.en = true;
        in.clr = kb == 0 && i == 0;
        in.last = i + lanes >= len;
        in.fin = in.last && kb == nblocks - 1;
        in.a = ea.data() + i, in.b = eb.data() + i;
        in.sa = in.last ? sa : rng.byte();  // scales matter only with last
        in.sb = in.last ? sb : rng.byte();
        if (in.fin) pending.push_back(sum);
        edge(in);
      }
    }
  }
  MxPe::Inputs none;
  std::vector<uint8_t> z(static_cast<size_t>(lanes), 0);
  none.a = z.data(), none.b = z.data();
  for (int i = 0; i < 3; ++i) edge(none);
  m->final();
  CHECK(mism == 0);
  CHECK(dot_mism == 0);
  CHECK(finished == products);
  CHECK(pending.empty());
  CHECK(nan_scale_blocks > 0);
  WARN(f.name << ": " << products << " dot products, " << blocks_total << " blocks (" << nan_scale_blocks
              << " with a NaN scale), " << edges << " clock edges compared");
}

}  // namespace

TEST_CASE("mx PE: every element-code pair, exact product through the accumulator", "[rtl][mx]") {
  SECTION("E4M3") { all_pairs<Vmx_pe_e4m3>(Fp8Kind::E4M3, 1); }
  SECTION("E5M2") { all_pairs<Vmx_pe_e5m2>(Fp8Kind::E5M2, 1); }
  SECTION("E3M2") { all_pairs<Vmx_pe_e3m2>(Fp8Kind::E3M2, 1); }
  SECTION("E2M3") { all_pairs<Vmx_pe_e2m3>(Fp8Kind::E2M3, 1); }
  SECTION("E2M1, 4 lanes") { all_pairs<Vmx_pe_e2m1_l4>(Fp8Kind::E2M1, 4); }
  SECTION("MXINT8") { all_pairs<Vmx_pe_int8>(Fp8Kind::MXINT8, 1); }
}

TEST_CASE("mx PE: random blocks, extreme and NaN scales, special elements", "[rtl][mx]") {
  SECTION("E4M3") { random_blocks<Vmx_pe_e4m3>(Fp8Kind::E4M3, 1, 101, 1500); }
  SECTION("E5M2") { random_blocks<Vmx_pe_e5m2>(Fp8Kind::E5M2, 1, 102, 1500); }
  SECTION("E3M2") { random_blocks<Vmx_pe_e3m2>(Fp8Kind::E3M2, 1, 103, 500); }
  SECTION("E2M3") { random_blocks<Vmx_pe_e2m3>(Fp8Kind::E2M3, 1, 104, 500); }
  SECTION("E2M1, 4 lanes") { random_blocks<Vmx_pe_e2m1_l4>(Fp8Kind::E2M1, 4, 105, 1000); }
  SECTION("MXINT8") { random_blocks<Vmx_pe_int8>(Fp8Kind::MXINT8, 1, 106, 1500); }
}

// 4x4 output-stationary MXFP8 (E4M3) array, blocks of 32, one product tile C (4 x 4) = A (4 x K) B (K x 4)
// at a time. Cycle count (rtl/mx_array.v): beat k (0 <= k < K) is driven in cycle t0 + k and sampled at the
// edge ending that cycle; row r and column c each pass r and c skew registers, so cell (r, c) registers beat
// k at edge t0 + k + r + c; its PE samples it at the next edge, t0 + k + r + c + 1 (stage 1; with last = 1
// the block sum enters stage 2), and the following edge, t0 + k + r + c + 2, adds it to the accumulator and
// sets acc_done, visible in cycle t0 + k + r + c + 3. The last beat k = K - 1 at the last cell r = c = 3:
// out_valid is high in cycle t0 + (K - 1) + 3 + 3 + 3 = t0 + K + 6 (= K + ROWS + COLS), for exactly one
// cycle. Starting the next tile in the cycle after out_valid, T tiles take T * (K + 7) cycles.
TEST_CASE("mx array: 4x4 MXFP8 GEMM tiles, outputs and cycle count", "[rtl][mx]") {
  const Fp8Format& f = fp8_format(Fp8Kind::E4M3);
  constexpr int R = 4, C = 4, block = 32;
  MxPe shape({Fp8Kind::E4M3, Fp8Kind::E4M3, 1, block, 7});
  const int fw = shape.value_bits(), aw = shape.word_bits(), base_exp = 2 * f.lsb_exp() - 254;
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<Vmx_array4_e4m3>(ctx.get());
  REQUIRE(static_cast<int>(sizeof(m->out_acc) / 4) == (R * C * aw + 31) / 32);
  m->rst = 1;
  tick(*m);
  m->rst = 0;
  m->in_valid = 0;
  Rng rng(7);
  long cycle = 0, mism = 0, tiles = 0;
  long total_cycles_expected = 0;
  const long first_cycle = 0;
  for (int K : {96, 70, 32, 1, 200}) {  // 3 blocks; 2 full + a short one of 6; one; a single element; 7 blocks
    const int nb = (K + block - 1) / block;
    // MX operands from float data through model/'s conversion (mx_quantize), now and then an extreme or a
    // NaN scale
    std::vector<float> af(size_t(R) * K), bf(size_t(K) * C);
    for (auto& x : af) x = static_cast<float>(std::ldexp(double(int64_t(rng.below(2001)) - 1000), int(rng.below(40)) - 20));
    for (auto& x : bf) x = static_cast<float>(std::ldexp(double(int64_t(rng.below(2001)) - 1000), int(rng.below(40)) - 20));
    std::vector<uint8_t> ac(size_t(R) * K), as(size_t(R) * nb), bc(size_t(K) * C), bs(size_t(C) * nb);
    const MxConfig cfg{MxKind::MXFP8_E4M3, block};
    for (int r = 0; r < R; ++r) mx_quantize(cfg, &af[size_t(r) * K], size_t(K), &ac[size_t(r) * K], &as[size_t(r) * nb]);
    std::vector<float> col(static_cast<size_t>(K));
    std::vector<uint8_t> colc(static_cast<size_t>(K));
    for (int c = 0; c < C; ++c) {  // B column c, contiguous along K
      for (int k = 0; k < K; ++k) col[size_t(k)] = bf[size_t(k) * C + c];
      mx_quantize(cfg, col.data(), size_t(K), colc.data(), &bs[size_t(c) * nb]);
      for (int k = 0; k < K; ++k) bc[size_t(k) * C + c] = colc[size_t(k)];
    }
    for (auto& s : as) if (rng.chance(100)) s = rng.chance(300) ? uint8_t{0xFF} : static_cast<uint8_t>(rng.below(2) ? 0x00 : 0xFE);
    for (auto& s : bs) if (rng.chance(100)) s = rng.chance(300) ? uint8_t{0xFF} : static_cast<uint8_t>(rng.below(2) ? 0x00 : 0xFE);
    // expected words: sum over blocks of mx_block_dot
    std::vector<Words> want;
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        ExactSum s(fw, base_exp);
        for (int kb = 0; kb < nb; ++kb) {
          const int k0 = kb * block, len = std::min(block, K - k0);
          std::vector<uint8_t> bcol(static_cast<size_t>(len));
          for (int i = 0; i < len; ++i) bcol[size_t(i)] = bc[size_t(k0 + i) * C + c];
          s.add_block(mx_block_dot(f, &ac[size_t(r) * K + k0], as[size_t(r) * nb + kb], f, bcol.data(),
                                   bs[size_t(c) * nb + kb], size_t(len)));
        }
        want.push_back(s.word());
      }
    // drive the tile
    const long t0 = cycle;
    long valid_at = -1, valid_cycles = 0;
    for (int k = 0; valid_at < 0; ++k) {
      if (k < K) {
        const int kb = k / block;
        m->in_valid = 1;
        m->in_first = k == 0;
        m->in_last = (k % block == block - 1) || k == K - 1;
        m->in_fin = k == K - 1;
        for (int r = 0; r < R; ++r) {
          set_field(m->in_a, 8 * r, 8, ac[size_t(r) * K + k]);
          set_field(m->in_sa, 8 * r, 8, as[size_t(r) * nb + kb]);
        }
        for (int c = 0; c < C; ++c) {
          set_field(m->in_b, 8 * c, 8, bc[size_t(k) * C + c]);
          set_field(m->in_sb, 8 * c, 8, bs[size_t(c) * nb + kb]);
        }
      } else {
        m->in_valid = 0, m->in_first = 0, m->in_last = 0, m->in_fin = 0;
      }
      m->clk = 0;
      m->eval();  // the cycle's outputs, before its closing edge
      if (m->out_valid) {
        valid_at = cycle;
        ++valid_cycles;
        for (int i = 0; i < R * C; ++i)
          if (slice(m->out_acc, i * aw, aw) != want[size_t(i)] && ++mism <= 5)
            UNSCOPED_INFO("K = " << K << " cell " << i << ": RTL word differs from the mx_block_dot sum");
        break;
      }
      tick(*m);
      ++cycle;
      REQUIRE(cycle - t0 < K + 100);  // out_valid must come
    }
    CHECK(valid_at - t0 == K + R + C);
    // out_valid lasts one cycle
    tick(*m);
    ++cycle;
    m->clk = 0;
    m->eval();
    CHECK(!m->out_valid);
    valid_cycles += m->out_valid;
    CHECK(valid_cycles == 1);
    total_cycles_expected += K + R + C + 1;
    ++tiles;
  }
  m->final();
  CHECK(mism == 0);
  CHECK(cycle - first_cycle == total_cycles_expected);
  WARN(tiles << " tiles, " << cycle << " cycles (sum of K + 9 over the tiles)");
}
