// The modelled systolic array on its own (sim/systolic_array.h), driven beat by beat like the RTL array's
// harness drives rtl/systolic_array.v:
//   - the PE word arithmetic equals model/'s accumulator classes on random sequences (specials included);
//   - every output word equals model::golden_gemm with AccumulationOrder{k_chunk = 0} (WS: each K tile's
//     outputs are fed back as the next K tile's in_psum, so all products add in increasing k from +0);
//   - cycle counts equal the RTL's closed forms exactly (derivation, as in rtl/systolic_array.v's header):
//       WS tile: R weight beats (fill) + M compute beats (steady) + R + C - 1 (latency of the last row:
//                R - 1 edges down a column after its row-0 product, C - 1 edges of skew/deskew, + 1 into the
//                first register) = 2R + M + C - 1 cycles, first beat to last output inclusive. The next
//                tile's first weight beat enters in the cycle of the previous tile's last output, so T
//                tiles take T * (2R + M + C - 2) + 1.
//       WS with shadow weights (rtl/systolic_array.v SHADOW = 1, derivation in tests/rtl/test_rtl_array.cpp):
//                weight rows on their own channel, the swap row of tile 0 enters in cycle R, tile t + 1's swap
//                row P_t+1 = max(M, R + max(R + C - 2, 1), R + C if it continues partial sums of tile t)
//                cycles after
//                tile t's (M compute rows; the marker's R + C - 2 edges across the array, then R weight rows;
//                the partial sums of row j leave R + C - 1 cycles after it entered and may re-enter the
//                next cycle; 1x1: the shadow is full up to the swap edge, so the first shift is one edge
//                later). T tiles: 2R + C + M - 1 + sum of P_t for t = 1 .. T-1.
//       OS with shadow outputs (double-buffered accumulators, rtl/systolic_array.v SHADOW = 1): the next
//                tile's beats enter during the wait and the drain; its in_last beat waits until the cycle
//                after the last output beat: in_last beats P = max(K, (R + C - 2) + R + 1) apart, so T tiles
//                take K + 2R + C - 2 + (T - 1) * P cycles.
//       OS tile: K beats + R + C - 2 cycles for the last beat to reach cell (R-1, C-1) + R drain beats
//                = K + 2R + C - 2; the next tile starts the cycle after, so T tiles take T * (K + 2R + C - 2).
//   - with random input bubbles and output back-pressure the values are unchanged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "fp8sim/model/accumulate.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/pe.h"
#include "fp8sim/sim/systolic_array.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using model::Fp8Kind;

namespace {

struct Kind {
  PeKind pe;
  Fp8Kind fa, fb;
};
const Kind kKinds[] = {
    {PeKind::Int8, Fp8Kind::E4M3, Fp8Kind::E4M3},         {PeKind::Fp8Fixed, Fp8Kind::E4M3, Fp8Kind::E4M3},
    {PeKind::Fp8Float32, Fp8Kind::E4M3, Fp8Kind::E4M3},   {PeKind::Fp8Fixed, Fp8Kind::E5M2, Fp8Kind::E5M2},
    {PeKind::Fp8Float32, Fp8Kind::E5M2, Fp8Kind::E5M2},   {PeKind::Fp8Fixed, Fp8Kind::E4M3, Fp8Kind::E5M2},
    {PeKind::Fp8Float32, Fp8Kind::E4M3_FNUZ, Fp8Kind::E4M3_IEEE}};

struct Beat {
  bool wload = false, last = false, swap = false;  // shadow weights: wload beats go on the weight channel
  std::vector<uint8_t> a, b;
  long psum_from = -1;  // WS: output beat whose words continue in this compute beat
};
struct Plan {
  std::vector<Beat> beats;
  std::vector<std::pair<int64_t, int64_t>> out_pos;  // (row of C, first column) per output beat
  std::vector<bool> final_out;
  long tiles = 0;
};

Plan plan_ws(int R, int C, int64_t M, int64_t K, int64_t N, const std::vector<uint8_t>& A, const std::vector<uint8_t>& B,
             bool shadow = false) {
  Plan p;
  for (int64_t n0 = 0; n0 < N; n0 += C)
    for (int64_t k0 = 0; k0 < K; k0 += R) {
      ++p.tiles;
      for (int r = R - 1; r >= 0; --r) {  // B row k0 + r ends in array row r
        Beat b;
        b.wload = true;
        for (int j = 0; j < C; ++j) b.b.push_back(k0 + r < K && n0 + j < N ? B[size_t((k0 + r) * N + n0 + j)] : 0);
        p.beats.push_back(b);
      }
      for (int64_t m = 0; m < M; ++m) {
        Beat b;
        b.swap = shadow && m == 0;
        for (int r = 0; r < R; ++r) b.a.push_back(k0 + r < K ? A[size_t(m * K + k0 + r)] : 0);
        b.psum_from = k0 == 0 ? -1 : long(p.out_pos.size()) - long(M);
        p.beats.push_back(b);
        p.out_pos.emplace_back(m, n0);
        p.final_out.push_back(k0 + R >= K);
      }
    }
  return p;
}

Plan plan_os(int R, int C, int64_t M, int64_t K, int64_t N, const std::vector<uint8_t>& A, const std::vector<uint8_t>& B) {
  Plan p;
  for (int64_t m0 = 0; m0 < M; m0 += R)
    for (int64_t n0 = 0; n0 < N; n0 += C) {
      ++p.tiles;
      for (int64_t k = 0; k < K; ++k) {
        Beat b;
        b.last = k == K - 1;
        for (int r = 0; r < R; ++r) b.a.push_back(m0 + r < M ? A[size_t((m0 + r) * K + k)] : 0);
        for (int j = 0; j < C; ++j) b.b.push_back(n0 + j < N ? B[size_t(k * N + n0 + j)] : 0);
        p.beats.push_back(b);
      }
      for (int r = R - 1; r >= 0; --r) {  // bottom row first
        p.out_pos.emplace_back(m0 + r, n0);
        p.final_out.push_back(true);
      }
    }
  return p;
}

struct Run {
  std::vector<std::vector<uint128>> outs;
  long first_in = -1, last_out = -1;
};

// With shadow weights the weight beats go on the weight channel, the others on the compute channel, each
// in order and offered as soon as possible. A compute beat waits until the partial sum it continues is out.
Run drive(ArrayCore& arr, const Plan& p, bool jitter, std::mt19937_64& rng) {
  const int C = arr.params().cols;
  const bool sh = arr.params().shadow_weights;
  Run r;
  std::vector<size_t> cq, wq;
  for (size_t i = 0; i < p.beats.size(); ++i) (sh && p.beats[i].wload ? wq : cq).push_back(i);
  size_t next = 0, next_w = 0;
  std::vector<uint128> words(size_t(C), 0);
  for (long cycle = 0; r.outs.size() < p.out_pos.size(); ++cycle) {
    REQUIRE(cycle < 1000000);  // a hang is a failure
    const bool out_ready = !jitter || rng() % 4 != 0;
    const bool ov = arr.out_valid();
    if (ov) arr.out_words(words.data());
    ArrayInputs in;
    in.out_ready = out_ready;
    bool fire = false, wfire = false;
    if (next < cq.size() && (!jitter || rng() % 5 != 0)) {
      const Beat& b = p.beats[cq[next]];
      if (b.psum_from < 0 || size_t(b.psum_from) < r.outs.size()) {  // the partial sum exists already
        in.valid = true;
        in.wload = b.wload;
        in.last = b.last;
        in.swap = b.swap;
        in.a = b.a.empty() ? nullptr : b.a.data();
        in.b = b.b.empty() ? nullptr : b.b.data();
        in.psum = b.psum_from < 0 ? nullptr : r.outs[size_t(b.psum_from)].data();
        fire = arr.in_ready(b.wload, out_ready, b.swap, b.last);
      }
    }
    if (next_w < wq.size() && (!jitter || rng() % 5 != 0)) {
      in.wvalid = true;
      in.b = p.beats[wq[next_w]].b.data();
      wfire = arr.w_ready(out_ready);
    }
    arr.edge(in);
    if (ov && out_ready) {
      r.outs.push_back(words);
      r.last_out = cycle;
    }
    if (fire) {
      if (r.first_in < 0 && !sh) r.first_in = cycle;
      ++next;
    }
    if (wfire) {
      if (r.first_in < 0) r.first_in = cycle;
      ++next_w;
    }
  }
  REQUIRE(next == cq.size());
  REQUIRE(next_w == wq.size());
  return r;
}

}  // namespace

TEST_CASE("PE word arithmetic equals model/'s accumulators", "[sim][array]") {
  std::mt19937_64 rng(11);
  long checked = 0;
  for (const Kind& kd : kKinds) {
    ArrayParams ap;
    ap.pe = kd.pe, ap.fmt_a = kd.fa, ap.fmt_b = kd.fb;
    const auto num = ap.numerics();
    const auto& fa = model::fp8_format(kd.fa);
    const auto& fb = model::fp8_format(kd.fb);
    auto arr = make_systolic_array(ap);  // for its word decoding and adder
    auto check = [&](auto tag) {
      using W = decltype(tag);
      const auto t = make_pe_tables<W>(num);
      for (int trial = 0; trial < 200; ++trial) {
        const int len = 1 + int(rng() % 300);
        const auto a = random_codes(num, false, len, rng, 20);
        const auto b = random_codes(num, true, len, rng, 20);
        W w = 0;
        model::AccWord want;
        model::Float32Accumulator f32;
        model::Int32Accumulator i32;
        model::FixedPointAccumulator fx(num.acc_width > 0 ? num.acc_width : 8, num.lsb_exp());
        for (int i = 0; i < len; ++i) {
          switch (kd.pe) {
            case PeKind::Int8:
              w = pe_mac<PeKind::Int8, W>(*t, w, a[i], b[i]);
              i32.add(static_cast<int8_t>(a[i]), static_cast<int8_t>(b[i]));
              break;
            case PeKind::Fp8Float32:
              w = pe_mac<PeKind::Fp8Float32, W>(*t, w, a[i], b[i]);
              f32.add(model::fp8_product_f32(fa, a[i], fb, b[i]));
              break;
            case PeKind::Fp8Fixed:
              w = pe_mac<PeKind::Fp8Fixed, W>(*t, w, a[i], b[i]);
              fx.add(model::fp8_exact_product(fa, a[i], fb, b[i]));
              break;
          }
        }
        if (kd.pe == PeKind::Int8) want.raw = i32.value();
        else if (kd.pe == PeKind::Fp8Float32) want.raw = f32.bits();
        else want.raw = fx.raw(), want.cls = fx.cls();
        const model::AccWord have = arr->to_acc_word(static_cast<uint128>(w));
        INFO(num.describe() << " length " << len);
        REQUIRE(have == want);
        ++checked;
      }
    };
    if (kd.pe != PeKind::Fp8Fixed) check(uint32_t{});
    else if (num.acc_width + 2 <= 64) check(uint64_t{});
    else check(uint128{});
  }
  CHECK(checked == 200 * 7);
}

TEST_CASE("array outputs and cycle counts equal the RTL's closed forms", "[sim][array]") {
  std::mt19937_64 rng(5);
  const std::pair<int, int> sizes[] = {{1, 1}, {3, 5}, {4, 4}, {8, 8}, {5, 2}};
  long words = 0, runs = 0;
  enum Mode { kWs, kWsShadow, kOs, kOsShadow };
  for (const auto& [R, C] : sizes)
    for (const Kind& kd : kKinds)
      for (Mode mode : {kWs, kWsShadow, kOs, kOsShadow}) {
        ArrayParams ap;
        const bool ws = mode == kWs || mode == kWsShadow, sh = mode == kWsShadow || mode == kOsShadow;
        ap.rows = R, ap.cols = C, ap.dataflow = ws ? Dataflow::WeightStationary : Dataflow::OutputStationary;
        ap.shadow_weights = ws && sh;
        ap.shadow_outputs = !ws && sh;
        ap.pe = kd.pe, ap.fmt_a = kd.fa, ap.fmt_b = kd.fb;
        const auto num = ap.numerics();
        for (int s = 0; s < 2; ++s) {
          const int64_t M = 1 + int64_t(rng() % 20), K = 1 + int64_t(rng() % 30), N = 1 + int64_t(rng() % 12);
          const auto A = random_codes(num, false, M * K, rng, 10);
          const auto B = random_codes(num, true, K * N, rng, 10);
          const auto gold = model::golden_gemm(num, model::AccumulationOrder{0}, M, K, N, A.data(), B.data());
          const Plan plan = ws ? plan_ws(R, C, M, K, N, A, B, sh) : plan_os(R, C, M, K, N, A, B);
          for (bool jitter : {false, true}) {
            auto arr = make_systolic_array(ap);
            const Run run = drive(*arr, plan, jitter, rng);
            ++runs;
            INFO((ws ? "ws " : "os ") << (sh ? "shadow " : "") << R << "x" << C << " " << num.describe() << " M=" << M
                                      << " K=" << K << " N=" << N << (jitter ? " jitter" : ""));
            for (size_t o = 0; o < plan.out_pos.size(); ++o) {
              const auto [row, n0] = plan.out_pos[o];
              if (row >= M || !plan.final_out[o]) continue;
              for (int j = 0; j < C && n0 + j < N; ++j) {
                REQUIRE(arr->to_acc_word(run.outs[o][j]) == gold[size_t(row * N + n0 + j)]);
                ++words;
              }
            }
            if (jitter) continue;
            const long T = plan.tiles;
            long want = ws ? T * (2 * R + M + C - 2) + 1 : T * (K + 2 * R + C - 2);
            if (sh && !ws) want = K + 2 * R + C - 2 + (T - 1) * std::max<long>(K, 2L * R + C - 1);
            if (sh && ws) {  // tiles in plan order: N tiles, K tiles inside; tile t > 0 continues sums unless k0 = 0
              const long kt = (K + R - 1) / R;
              want = 2 * R + C + M - 1;
              for (long t = 1; t < T; ++t)
                want += std::max<long>({M, long(R) + std::max(R + C - 2, 1), t % kt != 0 ? long(R) + C : 0L});
            }
            CHECK(run.last_out - run.first_in + 1 == want);
          }
        }
      }
  CHECK(runs == 5 * 7 * 4 * 2 * 2);
  CHECK(words > 10000);
}
