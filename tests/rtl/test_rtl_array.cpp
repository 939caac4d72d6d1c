// The systolic array (rtl/systolic_array.v) against model::golden_gemm: random GEMMs of several shapes
// (also ones that are not multiples of the array size, tiled and zero-padded by this harness) on 4x4, 8x8
// and 16x16 arrays, weight-stationary and output-stationary, every PE kind; every output word compared bit
// for bit with the golden GEMM in the array's order, AccumulationOrder{k_chunk = 0}: both dataflows add
// each output's products in increasing k starting from +0 (WS: this harness feeds each K tile's outputs
// back as the next K tile's in_psum, like an accumulating output buffer that passes partial sums through
// the array instead of adding them itself). The exact cycle count of each tile and of each whole GEMM is
// asserted against the closed forms derived below; a second run with random input bubbles and output
// back-pressure checks the handshake (values only).
//
// Zero padding is exact: a padded product is 0 * 0 = +0 (finite, class Finite), and +0 is the identity of
// every accumulator here (float32: x + (+0) = x for all x except -0, and a sum that starts at +0 is never
// -0 under round-to-nearest).
//
// ---- Cycle counts (cycles counted inclusively from the cycle the first input beat is accepted to the
// cycle the last output beat is accepted; in_valid held high, out_ready = 1; R = rows, C = cols) ----
// Weight stationary, one tile = R weight beats + M compute beats (one per row of A):
//   fill    = R        weight beats before the first compute beat
//   steady  = M        one compute beat per cycle
//   drain   = R + C - 1  latency of the last compute beat: R - 1 edges down the column after its row-0
//                        product, C - 1 edges of skew/deskew across the columns, + 1 edge into the first
//                        register (input beat accepted in cycle t -> out_valid in cycle t + R + C - 1)
//   tile cycles = R + M + R + C - 1 = 2R + M + C - 1.
//   The next tile's first weight beat is accepted in the same cycle as the previous tile's last output
//   beat (weights may enter once only the final results are left in the pipeline), so T tiles back to back
//   take T * (2R + M + C - 2) + 1 cycles.
// Weight stationary with shadow weights (SHADOW = 1, rtl/systolic_array.v): the weight rows travel on their
// own channel into the shadow registers while the previous tile computes; a tile's first compute row
// carries the swap marker. With both channels offered every cycle (out_ready = 1), let s_t be the cycle
// tile t's swap row is accepted:
//   s_0 = R          the first tile's R weight rows shift in cycles 0 .. R-1; a swap needs a full shadow
//   s_(t+1) = s_t + P, P = max(M, 2R + C - 2): the compute rows of tile t take M cycles; the next tile's
//                    weights may start shifting only when the swap marker of tile t has passed the last
//                    cell (R + C - 2 edges after s_t: it reaches cell (r, c) at edge s_t + r + c, and a
//                    shift at that edge is allowed), take R cycles, and the swap follows the cycle after
//                    the shadow is full: s_t + R + C - 2 + R. (This harness also passes partial sums
//                    through the array: row j of the next K tile needs row j's output of the previous one,
//                    which leaves at s_t + j + R + C - 1, so it may enter from s_t + j + R + C; that is
//                    never later, because 2R + C - 2 >= R + C for R >= 2.)
//   last output of tile t: s_t + M - 1 + R + C - 1.
//   T tiles: from cycle 0 to the last output, inclusive, 2R + C + M - 1 + (T - 1) * P cycles.
//   Per tile, first weight beat to last output beat: tile 0 takes 2R + C + M - 1, tile t >= 1 starts its
//   weights at s_(t-1) + R + C - 2 and ends at s_(t-1) + P + M + R + C - 2: P + M + 1 cycles.
//   For a 32x32 array and M = 128: P = max(128, 94) = 128, against 2R + C + M - 2 = 222 without shadow.
// Output stationary with shadow outputs (SHADOW = 1): the next tile's beats are accepted while the
// previous tile waits for its far corner and drains; only its in_last beat waits, until the cycle after the
// previous tile's last output beat. With L_t the cycle tile t's in_last beat is accepted (L_0 = K - 1):
//   L_(t+1) = L_t + P, P = max(K, (R + C - 2) + R + 1) = max(K, 2R + C - 1): K beats per tile, and the wait
//             (R + C - 2 cycles) plus the drain (R output beats) plus one cycle back to RUN;
//   last output of tile t: L_t + R + C - 2 + R.
//   T tiles: K + 2R + C - 2 + (T - 1) * P cycles. Per tile t >= 1, first beat (cycle L_(t-1) + 1, or L_t
//   when K = 1: the first beat is then the in_last beat) to last output: P + 2R + C - 2 (K = 1: 2R + C - 1).
// Output stationary, one tile = K beats:
//   fill    = R + C - 2  cycles after the last beat until it has reached the far corner cell
//   steady  = K          one beat per cycle
//   drain   = R          output rows shifted out one per cycle
//   tile cycles = K + 2R + C - 2; the next tile's first beat is accepted in the cycle after the last output
//   beat, so T tiles take T * (K + 2R + C - 2) cycles.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

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
#include "Vsa_ws4_e4m3_f32.h"
#include "Vsa_ws4_e4m3_fixed.h"
#include "Vsa_ws4_e5m2_f32.h"
#include "Vsa_ws4_e5m2_fixed.h"
#include "Vsa_ws4_int8.h"
#include "Vsa_ws32s_e4m3_fixed.h"
#include "Vsa_ws32s_int8.h"
#include "Vsa_ws4s_e4m3_fixed.h"
#include "Vsa_ws4s_e5m2_f32.h"
#include "Vsa_ws4s_int8.h"
#include "Vsa_ws8s_e4m3_f32.h"
#include "Vsa_ws8s_int8.h"
#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/gemm.h"
#include "rtl_harness.h"

using namespace fp8sim::model;
using namespace fp8sim::rtltest;

namespace {

struct ArrayCfg {
  int rows, cols;
  bool os;       // output stationary (else weight stationary)
  int pe_kind;   // 0 int8/int32, 1 fp8/fixed point, 2 fp8/float32 (rtl/pe_kinds.vh)
  Fp8Kind fa, fb;
  bool shadow = false;  // SHADOW = 1: WS shadow weights, OS shadow outputs (double-buffered accumulators)
};

struct Shape {
  int64_t m, k, n;
  unsigned special_per_mille;  // FP8 operands drawn from all codes (NaN/Inf) at this rate, else finite
};

struct Beat {
  bool wload = false, last = false, swap = false;  // shadow weights: wload beats go on the weight channel
  std::vector<uint8_t> a, b;
  long psum_from = -1;  // WS compute beat: index of the output beat whose words continue here (-1: zeros)
};

GemmNumerics numerics(const ArrayCfg& c) {
  GemmNumerics n;
  n.int8 = c.pe_kind == 0;
  n.a_kind = c.fa;
  n.b_kind = c.fb;
  n.acc = c.pe_kind == 0 ? AccumulatorKind::Int32 : c.pe_kind == 1 ? AccumulatorKind::FixedPoint
                                                                    : AccumulatorKind::Float32;
  // The RTL's fixed-point register: exact for K = 4096 (rtl/pe_kinds.vh via fp8_formats.vh).
  if (c.pe_kind == 1)
    n.acc_width = fixed_point_accumulator_width(fp8_format(c.fa), fp8_format(c.fb), 4096);
  return n;
}

template <typename M>
class ArrayDut {
 public:
  explicit ArrayDut(const ArrayCfg& c)
      : cfg_(c), num_(numerics(c)), fw_(num_.acc_width), aw_(c.pe_kind == 1 ? fw_ + 2 : 32),
        ctx_(std::make_unique<VerilatedContext>()), m_(std::make_unique<M>(ctx_.get())) {}
  ~ArrayDut() { m_->final(); }

  const GemmNumerics& num() const { return num_; }

  AccWord to_word(uint128 v) const {
    AccWord w;
    if (cfg_.pe_kind == 1) {
      w.raw = sign_extend(v & mask_bits(fw_), fw_);
      w.cls = static_cast<ValueClass>(static_cast<int>((v >> fw_) & 3));
    } else if (cfg_.pe_kind == 0) {
      w.raw = static_cast<int32_t>(static_cast<uint32_t>(v));
    } else {
      w.raw = static_cast<uint32_t>(v);
    }
    return w;
  }
  uint128 from_word(const AccWord& w) const {
    if (cfg_.pe_kind == 1)
      return (static_cast<uint128>(w.raw) & mask_bits(fw_)) | (static_cast<uint128>(w.cls) << fw_);
    return static_cast<uint128>(w.raw) & mask_bits(32);
  }

  struct Run {
    std::vector<std::vector<AccWord>> outs;  // per output beat, cols words
    std::vector<long> in_cycle, out_cycle;
  };

  // Drives the beats cycle by cycle; with `jitter`, random input bubbles and output back-pressure. With
  // shadow weights the weight beats go on the weight channel, the others on the compute channel, each in
  // order and each offered as soon as possible (the two channels are independent).
  Run run(const std::vector<Beat>& beats, size_t n_out, bool jitter, Rng& rng) {
    Run r;
    r.in_cycle.assign(beats.size(), -1);
    std::vector<size_t> cq, wq;  // beat indices per channel
    for (size_t i = 0; i < beats.size(); ++i) (cfg_.shadow && beats[i].wload ? wq : cq).push_back(i);
    m_->rst = 1;
    m_->in_valid = 0;
    m_->in_wvalid = 0;
    m_->out_ready = 0;
    tick(*m_);
    tick(*m_);
    m_->rst = 0;
    size_t next = 0, next_w = 0;
    const long limit = 100 + 8 * static_cast<long>(beats.size() + n_out) * (jitter ? 4 : 1) +
                       8L * (cfg_.rows + cfg_.cols) * static_cast<long>(n_out);
    for (long cycle = 0; r.outs.size() < n_out; ++cycle) {
      REQUIRE(cycle < limit);  // a hang is a failure, not a timeout
      bool valid = next < cq.size() && (!jitter || rng.chance(700));
      if (valid && beats[cq[next]].psum_from >= static_cast<long>(r.outs.size())) valid = false;  // not yet out
      m_->in_valid = valid;
      if (valid) drive(beats[cq[next]], r);
      const bool wvalid = next_w < wq.size() && (!jitter || rng.chance(700));
      m_->in_wvalid = wvalid;
      if (wvalid)
        for (int c = 0; c < cfg_.cols; ++c) set_field(m_->in_b, 8 * c, 8, beats[wq[next_w]].b[c]);
      m_->out_ready = jitter ? rng.chance(600) : 1;
      m_->clk = 0;
      m_->eval();
      if (m_->out_valid && m_->out_ready) {
        std::vector<AccWord> row(static_cast<size_t>(cfg_.cols));
        for (int c = 0; c < cfg_.cols; ++c) row[c] = to_word(get_field(m_->out_data, c * aw_, aw_));
        r.outs.push_back(std::move(row));
        r.out_cycle.push_back(cycle);
      }
      if (m_->in_valid && m_->in_ready) r.in_cycle[cq[next++]] = cycle;
      if (m_->in_wvalid && m_->in_wready) r.in_cycle[wq[next_w++]] = cycle;
      m_->clk = 1;
      m_->eval();
    }
    REQUIRE(next == cq.size());
    REQUIRE(next_w == wq.size());
    return r;
  }

 private:
  void drive(const Beat& bt, const Run& r) {
    m_->in_wload = bt.wload;
    m_->in_last = bt.last;
    m_->in_swap = bt.swap;
    for (int i = 0; i < cfg_.rows; ++i) set_field(m_->in_a, 8 * i, 8, bt.a.empty() ? 0 : bt.a[i]);
    if (!cfg_.shadow || cfg_.os)  // WS shadow weights: in_b belongs to the weight channel
      for (int c = 0; c < cfg_.cols; ++c) set_field(m_->in_b, 8 * c, 8, bt.b.empty() ? 0 : bt.b[c]);
    for (int c = 0; c < cfg_.cols; ++c)
      set_field(m_->in_psum, c * aw_, aw_, bt.psum_from < 0 ? 0 : from_word(r.outs[bt.psum_from][c]));
  }

  ArrayCfg cfg_;
  GemmNumerics num_;
  int fw_, aw_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> m_;
};

std::vector<uint8_t> random_operands(const ArrayCfg& c, Fp8Kind kind, int64_t n, unsigned special, Rng& rng) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  const Fp8Format& f = fp8_format(kind);
  for (auto& x : v) {
    x = rng.byte();
    if (c.pe_kind != 0 && !rng.chance(special))
      while (fp8_is_nan(f, x) || fp8_is_inf(f, x)) x = rng.byte();
  }
  return v;
}

struct Plan {
  std::vector<Beat> beats;
  size_t n_out = 0;
  // Per tile: index of its first beat and of its last output beat (for the per-tile cycle counts).
  std::vector<std::pair<size_t, size_t>> tiles;
  // Output beat -> (row of C, first column) of its words, and whether they are finished sums (WS: only
  // the last K tile's outputs are; earlier ones are partial sums passed on to the next K tile).
  std::vector<std::pair<int64_t, int64_t>> out_pos;
  std::vector<bool> final_out;
};

Plan plan_ws(const ArrayCfg& c, const Shape& s, const std::vector<uint8_t>& A, const std::vector<uint8_t>& B) {
  Plan p;
  for (int64_t n0 = 0; n0 < s.n; n0 += c.cols) {
    for (int64_t k0 = 0; k0 < s.k; k0 += c.rows) {
      const size_t first = p.beats.size();
      for (int r = c.rows - 1; r >= 0; --r) {  // last-loaded row ends in array row 0
        Beat b;
        b.wload = true;
        b.b.resize(static_cast<size_t>(c.cols));
        for (int j = 0; j < c.cols; ++j)
          b.b[j] = (k0 + r < s.k && n0 + j < s.n) ? B[static_cast<size_t>((k0 + r) * s.n + n0 + j)] : 0;
        p.beats.push_back(b);
      }
      for (int64_t m = 0; m < s.m; ++m) {
        Beat b;
        b.swap = c.shadow && m == 0;
        b.a.resize(static_cast<size_t>(c.rows));
        for (int r = 0; r < c.rows; ++r) b.a[r] = k0 + r < s.k ? A[static_cast<size_t>(m * s.k + k0 + r)] : 0;
        b.psum_from = k0 == 0 ? -1 : static_cast<long>(p.n_out) - s.m;  // same row, previous K tile
        p.beats.push_back(b);
        p.out_pos.emplace_back(m, n0);
        p.final_out.push_back(k0 + c.rows >= s.k);
        ++p.n_out;
      }
      p.tiles.emplace_back(first, p.n_out - 1);
    }
  }
  return p;
}

Plan plan_os(const ArrayCfg& c, const Shape& s, const std::vector<uint8_t>& A, const std::vector<uint8_t>& B) {
  Plan p;
  for (int64_t m0 = 0; m0 < s.m; m0 += c.rows) {
    for (int64_t n0 = 0; n0 < s.n; n0 += c.cols) {
      const size_t first = p.beats.size();
      for (int64_t k = 0; k < s.k; ++k) {
        Beat b;
        b.last = k == s.k - 1;
        b.a.resize(static_cast<size_t>(c.rows));
        b.b.resize(static_cast<size_t>(c.cols));
        for (int r = 0; r < c.rows; ++r) b.a[r] = m0 + r < s.m ? A[static_cast<size_t>((m0 + r) * s.k + k)] : 0;
        for (int j = 0; j < c.cols; ++j) b.b[j] = n0 + j < s.n ? B[static_cast<size_t>(k * s.n + n0 + j)] : 0;
        p.beats.push_back(b);
      }
      for (int r = c.rows - 1; r >= 0; --r) {  // bottom row first
        p.out_pos.emplace_back(m0 + r, n0);
        p.final_out.push_back(true);
        ++p.n_out;
      }
      p.tiles.emplace_back(first, p.n_out - 1);
    }
  }
  return p;
}

// pin_total >= 0: the first shape's GEMM cycle count, written out in the test case (derived there).
template <typename M>
void run_config(const std::string& name, const ArrayCfg& c, const std::vector<Shape>& shapes, uint64_t seed,
                long pin_total = -1) {
  ArrayDut<M> dut(c);
  Rng rng(seed);
  long words = 0, mismatches = 0, gemms = 0, cycles = 0;
  const long R = c.rows, C = c.cols;
  for (const Shape& s : shapes) {
    const auto A = random_operands(c, c.fa, s.m * s.k, s.special_per_mille, rng);
    const auto B = random_operands(c, c.fb, s.k * s.n, s.special_per_mille, rng);
    const auto gold = golden_gemm(dut.num(), AccumulationOrder{0}, s.m, s.k, s.n, A.data(), B.data());
    const Plan plan = c.os ? plan_os(c, s, A, B) : plan_ws(c, s, A, B);
    for (bool jitter : {false, true}) {
      const auto run = dut.run(plan.beats, plan.n_out, jitter, rng);
      ++gemms;
      // Values: the final words of every output (WS: the last K tile's beats hold the finished sums).
      for (size_t o = 0; o < plan.n_out; ++o) {
        const auto [row, n0] = plan.out_pos[o];
        if (row >= s.m || !plan.final_out[o]) continue;  // padded rows (OS), partial sums (WS)
        for (int j = 0; j < c.cols && n0 + j < s.n; ++j) {
          const AccWord& want = gold[static_cast<size_t>(row * s.n + n0 + j)];
          const AccWord& have = run.outs[o][j];
          ++words;
          if (have != want && ++mismatches <= 5)
            UNSCOPED_INFO(name << " M=" << s.m << " K=" << s.k << " N=" << s.n << " C[" << row << "][" << n0 + j
                               << "]: rtl " << acc_word_to_string(dut.num(), have) << " golden "
                               << acc_word_to_string(dut.num(), want));
        }
      }
      if (jitter) continue;
      // Cycles (see the derivation at the top of this file).
      const long T = static_cast<long>(plan.tiles.size());
      const long P = std::max<long>(s.m, 2 * R + C - 2);  // shadow weights: tile period
      for (size_t t = 0; t < plan.tiles.size(); ++t) {
        const auto [first_beat, last_out] = plan.tiles[t];
        const long Pos = std::max<long>(s.k, 2 * R + C - 1);  // shadow outputs: tile period
        const long tile_cycles = c.os ? (!c.shadow || t == 0 ? s.k + 2 * R + C - 2
                                         : s.k > 1             ? Pos + 2 * R + C - 2
                                                               : 2 * R + C - 1)
                                 : !c.shadow || t == 0 ? 2 * R + s.m + C - 1
                                                       : P + s.m + 1;
        const long got = run.out_cycle[last_out] - run.in_cycle[first_beat] + 1;
        if (got != tile_cycles && ++mismatches <= 5)
          UNSCOPED_INFO(name << " M=" << s.m << " K=" << s.k << " N=" << s.n << ": tile " << t << " took " << got
                             << " cycles, formula " << tile_cycles);
      }
      const long want_total = c.os && c.shadow ? s.k + 2 * R + C - 2 + (T - 1) * std::max<long>(s.k, 2 * R + C - 1)
                              : c.os       ? T * (s.k + 2 * R + C - 2)
                              : c.shadow ? 2 * R + C + s.m - 1 + (T - 1) * P
                                         : T * (2 * R + s.m + C - 2) + 1;
      const long total = run.out_cycle.back() - run.in_cycle.front() + 1;
      CHECK(total == want_total);
      if (pin_total >= 0 && &s == &shapes.front()) CHECK(total == pin_total);
      cycles += total;
    }
  }
  CHECK(mismatches == 0);
  WARN(name << ": " << gemms << " GEMM runs (" << shapes.size() << " shapes, each also with random bubbles and "
            << "back-pressure), " << words << " output words checked bit for bit against golden_gemm, "
            << cycles << " cycles asserted against the closed form, " << mismatches << " mismatches");
}

// Shapes: multiples of the array, ragged ones (padding in M, K and N), K = 4096, and one with specials.
const std::vector<Shape> kShapes4 = {{4, 4, 4, 0}, {7, 13, 5, 0}, {1, 1, 1, 0}, {16, 33, 12, 0},
                                     {3, 4096, 2, 0}, {9, 21, 6, 30}, {50, 300, 30, 0}};
const std::vector<Shape> kShapes8 = {{8, 8, 8, 0}, {20, 37, 11, 0}, {9, 200, 17, 0}, {5, 64, 3, 30}, {33, 1000, 20, 0}};
const std::vector<Shape> kShapes16 = {{16, 16, 16, 0}, {40, 70, 35, 0}, {5, 300, 17, 0}, {17, 33, 18, 30}, {64, 512, 48, 0}};

constexpr Fp8Kind E4 = Fp8Kind::E4M3, E5 = Fp8Kind::E5M2;

}  // namespace

TEST_CASE("array ws 4x4 int8", "[rtl]") { run_config<Vsa_ws4_int8>("ws 4x4 int8", {4, 4, false, 0, E4, E4}, kShapes4, 401); }
TEST_CASE("array ws 4x4 e4m3 fixed", "[rtl]") {
  run_config<Vsa_ws4_e4m3_fixed>("ws 4x4 e4m3 fixed", {4, 4, false, 1, E4, E4}, kShapes4, 402);
}
TEST_CASE("array ws 4x4 e4m3 f32", "[rtl]") {
  run_config<Vsa_ws4_e4m3_f32>("ws 4x4 e4m3 f32", {4, 4, false, 2, E4, E4}, kShapes4, 403);
}
TEST_CASE("array ws 4x4 e5m2 fixed", "[rtl]") {
  run_config<Vsa_ws4_e5m2_fixed>("ws 4x4 e5m2 fixed", {4, 4, false, 1, E5, E5}, kShapes4, 404);
}
TEST_CASE("array ws 4x4 e5m2 f32", "[rtl]") {
  run_config<Vsa_ws4_e5m2_f32>("ws 4x4 e5m2 f32", {4, 4, false, 2, E5, E5}, kShapes4, 405);
}
TEST_CASE("array os 4x4 int8", "[rtl]") { run_config<Vsa_os4_int8>("os 4x4 int8", {4, 4, true, 0, E4, E4}, kShapes4, 406); }
TEST_CASE("array os 4x4 e4m3 fixed", "[rtl]") {
  run_config<Vsa_os4_e4m3_fixed>("os 4x4 e4m3 fixed", {4, 4, true, 1, E4, E4}, kShapes4, 407);
}
TEST_CASE("array os 4x4 e4m3 f32", "[rtl]") {
  run_config<Vsa_os4_e4m3_f32>("os 4x4 e4m3 f32", {4, 4, true, 2, E4, E4}, kShapes4, 408);
}
TEST_CASE("array os 4x4 e5m2 fixed", "[rtl]") {
  run_config<Vsa_os4_e5m2_fixed>("os 4x4 e5m2 fixed", {4, 4, true, 1, E5, E5}, kShapes4, 409);
}
TEST_CASE("array os 4x4 e5m2 f32", "[rtl]") {
  run_config<Vsa_os4_e5m2_f32>("os 4x4 e5m2 f32", {4, 4, true, 2, E5, E5}, kShapes4, 410);
}
TEST_CASE("array ws 8x8 e4m3 f32 shadow", "[rtl]") {
  run_config<Vsa_ws8s_e4m3_f32>("ws 8x8 e4m3 f32 shadow", {8, 8, false, 2, E4, E4, true}, kShapes8, 801);
}
TEST_CASE("array ws 8x8 int8 shadow", "[rtl]") {
  run_config<Vsa_ws8s_int8>("ws 8x8 int8 shadow", {8, 8, false, 0, E4, E4, true}, kShapes8, 811);
}
TEST_CASE("array ws 4x4 int8 shadow", "[rtl]") {
  run_config<Vsa_ws4s_int8>("ws 4x4 int8 shadow", {4, 4, false, 0, E4, E4, true}, kShapes4, 421);
}
TEST_CASE("array ws 4x4 e4m3 fixed shadow", "[rtl]") {
  run_config<Vsa_ws4s_e4m3_fixed>("ws 4x4 e4m3 fixed shadow", {4, 4, false, 1, E4, E4, true}, kShapes4, 422);
}
TEST_CASE("array ws 4x4 e5m2 f32 shadow", "[rtl]") {
  run_config<Vsa_ws4s_e5m2_f32>("ws 4x4 e5m2 f32 shadow", {4, 4, false, 2, E5, E5, true}, kShapes4, 423);
}
// The fold cost with shadow weights on the default configuration's array (32x32): M = 128, K = 96, N = 64
// is T = 3 K tiles x 2 N tiles = 6 tiles. Tile period P = max(M, 2R + C - 2) = max(128, 94) = 128, so the
// GEMM takes 2R + C + M - 1 + (T - 1) * P = 64 + 32 + 128 - 1 + 5 * 128 = 863 cycles (without shadow
// weights T * (2R + M + C - 2) + 1 = 6 * 222 + 1 = 1333). The second shape has M = 40 < 94: the weight
// channel bounds the period there (P = 94).
TEST_CASE("array ws 32x32 e4m3 fixed shadow: fold cost", "[rtl]") {
  run_config<Vsa_ws32s_e4m3_fixed>("ws 32x32 e4m3 fixed shadow", {32, 32, false, 1, E4, E4, true},
                                   {{128, 96, 64, 0}, {40, 70, 33, 20}}, 3201, 863);
}
TEST_CASE("array ws 32x32 int8 shadow", "[rtl]") {
  run_config<Vsa_ws32s_int8>("ws 32x32 int8 shadow", {32, 32, false, 0, E4, E4, true}, {{40, 70, 33, 0}}, 3202);
}
TEST_CASE("array os 4x4 int8 shadow outputs", "[rtl]") {
  run_config<Vsa_os4s_int8>("os 4x4 int8 shadow", {4, 4, true, 0, E4, E4, true}, kShapes4, 431);
}
TEST_CASE("array os 4x4 e4m3 fixed shadow outputs", "[rtl]") {
  run_config<Vsa_os4s_e4m3_fixed>("os 4x4 e4m3 fixed shadow", {4, 4, true, 1, E4, E4, true}, kShapes4, 432);
}
TEST_CASE("array os 4x4 e5m2 f32 shadow outputs", "[rtl]") {
  run_config<Vsa_os4s_e5m2_f32>("os 4x4 e5m2 f32 shadow", {4, 4, true, 2, E5, E5, true}, kShapes4, 433);
}
TEST_CASE("array os 8x8 e5m2 f32", "[rtl]") {
  run_config<Vsa_os8_e5m2_f32>("os 8x8 e5m2 f32", {8, 8, true, 2, E5, E5}, kShapes8, 802);
}
TEST_CASE("array ws 16x16 e4m3 f32", "[rtl]") {
  run_config<Vsa_ws16_e4m3_f32>("ws 16x16 e4m3 f32", {16, 16, false, 2, E4, E4}, kShapes16, 1601);
}
TEST_CASE("array os 16x16 int8", "[rtl]") {
  run_config<Vsa_os16_int8>("os 16x16 int8", {16, 16, true, 0, E4, E4}, kShapes16, 1602);
}
