// The fast array engine (sim/fast_array.h, Engine::Fast) against the reference engine (make_systolic_array,
// Engine::Model), field by field:
//   - array level: 8,000 random cases (array 1..9 x 1..9, WS with/without shadow weights, OS with/without shadow
//     outputs, every PE kind, E4M3/E5M2 in both operands, narrow fixed-point widths that wrap, toggles on/off),
//     each driven for 40..160 edges by a random stream: valid/wload/swap/wvalid/last/out_ready at random
//     (back-pressure), operand rows absent (nullptr, an idle bus) or random codes with NaN/Inf/max/subnormal codes
//     at a raised rate, and sometimes a psum input. After every edge the two arrays must agree on in_ready (for
//     every flag combination), w_ready, out_valid, active, the output words, the toggle counts, the wrap count
//     and the edge count. The reference is the oracle: nothing here is computed by the code under test alone.
//   - accelerator level: 2,000 random GEMMs (shapes, array 1..8 x 1..8, both dataflows with and without shadow
//     registers, every format and accumulator, SRAM latency 0..3, one or two ports (conflicts), DRAM latency
//     and bandwidth (DRAM stalls), operands with specials) run on both engines: every Stats field (cycles, each
//     stall class, traffic, toggles, wraps, per-command and per-layer records) and the whole DRAM image equal.
//   - every row-kernel variant this CPU runs (base / avx2 / avx512, sim/src/fast_kernels.h) on the same cases,
//     and each variant's multi-row WS kernels against the base variant's single-row loop, row by row.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <sstream>

#include "../../sim/src/fast_kernels.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/sim/fast_array.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/systolic_array.h"
#include "sim_test_util.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

namespace {

// Codes with NaN/Inf, the largest finite values, subnormals and zeros at a raised rate.
uint8_t pick_code(std::mt19937_64& rng, const model::Fp8Format& f, bool int8, unsigned special_pm) {
  const unsigned r = unsigned(rng() % 1000);
  if (int8) {
    if (r < 30) return uint8_t(0x80);
    if (r < 60) return uint8_t(0x7F);
    return uint8_t(rng());
  }
  if (r < special_pm) {  // NaN / Inf
    for (int i = 0; i < 64; ++i) {
      const uint8_t c = uint8_t(rng());
      if (model::fp8_is_nan(f, c) || model::fp8_is_inf(f, c)) return c;
    }
  }
  const uint8_t sign = uint8_t(rng() & 0x80);
  if (r < special_pm + 60) return uint8_t(sign | (rng() & 0x03));  // subnormals and zeros (exponent field 0)
  if (r < special_pm + 120) {  // the largest finite magnitudes (codes below the largest are all finite)
    uint8_t m = 0x7F;
    while (model::fp8_is_nan(f, m) || model::fp8_is_inf(f, m)) --m;
    return uint8_t(sign | (m - rng() % 4));
  }
  uint8_t c;
  do c = uint8_t(rng());
  while (model::fp8_is_nan(f, c) || model::fp8_is_inf(f, c));
  return c;
}

struct Case {
  ArrayParams p;
  unsigned special_pm = 0;
  std::string describe() const {
    std::ostringstream o;
    o << p.rows << "x" << p.cols << (p.dataflow == Dataflow::WeightStationary ? " ws" : " os")
      << (p.shadow_weights ? " shadow_w" : "") << (p.shadow_outputs ? " shadow_o" : "") << " pe " << int(p.pe)
      << " fmt " << int(p.fmt_a) << "/" << int(p.fmt_b) << " acc_width " << p.acc_width << " toggles " << p.toggles
      << " specials/1000 " << special_pm;
    return o.str();
  }
};

Case random_case(std::mt19937_64& rng) {
  Case k;
  ArrayParams& p = k.p;
  p.rows = 1 + int(rng() % 9);
  p.cols = 1 + int(rng() % 9);
  p.dataflow = rng() % 2 ? Dataflow::WeightStationary : Dataflow::OutputStationary;
  const bool sh = rng() % 2;
  p.shadow_weights = sh && p.dataflow == Dataflow::WeightStationary;
  p.shadow_outputs = sh && p.dataflow == Dataflow::OutputStationary;
  p.pe = static_cast<PeKind>(rng() % 3);
  p.fmt_a = rng() % 3 ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2;
  p.fmt_b = rng() % 3 ? model::Fp8Kind::E4M3 : model::Fp8Kind::E5M2;
  p.acc_width = 0;
  if (p.pe == PeKind::Fp8Fixed && rng() % 3 == 0) {
    // Narrow registers that wrap: from one product's width up to a few bits more.
    const int pb = model::fp8_product_bits(model::fp8_format(p.fmt_a), model::fp8_format(p.fmt_b));
    p.acc_width = pb + int(rng() % 4);
  }
  p.toggles = rng() % 5 != 0;
  k.special_pm = rng() % 2 ? 0 : unsigned(rng() % 150);
  return k;
}

uint64_t g_edges = 0;  // array cases compared to the end (a count the test checks)

void compare_arrays(const Case& k, std::mt19937_64& rng, int edges) {
  const ArrayParams& p = k.p;
  auto ref = make_systolic_array(p);
  auto fast = make_fast_array(p);
  const int R = p.rows, C = p.cols;
  const model::Fp8Format& fa = model::fp8_format(p.fmt_a);
  const model::Fp8Format& fb = model::fp8_format(p.fmt_b);
  const bool int8 = p.pe == PeKind::Int8;
  std::vector<uint8_t> a(static_cast<size_t>(R)), b(static_cast<size_t>(C));
  const size_t nc = static_cast<size_t>(C);
  std::vector<uint128> psum(nc), wr(nc), wf(nc);
  const bool use_psum = rng() % 8 == 0;
  const unsigned busy = unsigned(rng() % 100);  // how often a beat is offered (idle stretches let it settle)
  for (int e = 0; e < edges; ++e) {
    ArrayInputs in;
    in.valid = rng() % 100 < busy;
    in.wload = rng() % 4 == 0;
    in.last = rng() % 5 == 0;
    in.swap = rng() % 6 == 0;
    in.wvalid = rng() % 3 == 0;
    in.out_ready = rng() % 5 != 0;
    for (auto& x : a) x = pick_code(rng, fa, int8, k.special_pm);
    for (auto& x : b) x = pick_code(rng, fb, int8, k.special_pm);
    if (in.valid || rng() % 3 == 0) in.a = a.data();
    if (in.valid || in.wvalid || rng() % 3 == 0) in.b = b.data();
    if (use_psum && rng() % 2) {
      for (auto& x : psum) x = uint128(rng()) & ((uint128(1) << 40) - 1);
      if (p.pe != PeKind::Fp8Fixed) for (auto& x : psum) x &= 0xFFFFFFFFu;
      in.psum = psum.data();
    }
    // Handshakes for every flag combination (bit f of each mask: in_ready(f & 1, f & 2, f & 4, f & 8)).
    uint32_t hr = 0, hf = 0;
    for (int f = 0; f < 16; ++f) {
      hr |= uint32_t(ref->in_ready(f & 1, f & 2, f & 4, f & 8)) << f;
      hf |= uint32_t(fast->in_ready(f & 1, f & 2, f & 4, f & 8)) << f;
    }
    hr |= uint32_t(ref->w_ready(true)) << 16 | uint32_t(ref->w_ready(false)) << 17;
    hf |= uint32_t(fast->w_ready(true)) << 16 | uint32_t(fast->w_ready(false)) << 17;
    if (hr != hf) {
      INFO(k.describe() << " edge " << e);
      REQUIRE(hr == hf);
    }
    ref->edge(in);
    fast->edge(in);
    ref->out_words(wr.data());
    fast->out_words(wf.data());
    int differ = -1;
    for (int c = 0; c < C && differ < 0; ++c)
      if (wr[size_t(c)] != wf[size_t(c)]) differ = c;
    const ArrayToggles &tr = ref->toggles(), &tf = fast->toggles();
    const bool same = differ < 0 && ref->out_valid() == fast->out_valid() && ref->active() == fast->active() &&
                      tr.a_regs == tf.a_regs && tr.b_regs == tf.b_regs && tr.acc_regs == tf.acc_regs &&
                      ref->wraps() == fast->wraps() && ref->edges() == fast->edges();
    if (!same) {  // name the field
      INFO(k.describe() << " edge " << e);
      REQUIRE(ref->out_valid() == fast->out_valid());
      REQUIRE(ref->active() == fast->active());
      if (differ >= 0) {
        INFO("column " << differ);
        REQUIRE(static_cast<uint64_t>(wr[size_t(differ)]) == static_cast<uint64_t>(wf[size_t(differ)]));
        REQUIRE(static_cast<uint64_t>(wr[size_t(differ)] >> 64) == static_cast<uint64_t>(wf[size_t(differ)] >> 64));
      }
      REQUIRE(tr.a_regs == tf.a_regs);
      REQUIRE(tr.b_regs == tf.b_regs);
      REQUIRE(tr.acc_regs == tf.acc_regs);
      REQUIRE(ref->wraps() == fast->wraps());
      REQUIRE(ref->edges() == fast->edges());
    }
  }
  ++g_edges;
}

// Each Stats field by name (so a difference names the field).
void compare_stats(const Stats& x, const Stats& y) {
#define EQ(f) REQUIRE(x.f == y.f)
  EQ(cycles); EQ(array_compute); EQ(array_weight_load); EQ(array_fill_drain); EQ(array_stall_dram);
  EQ(array_stall_conflict); EQ(array_idle); EQ(dma_busy); EQ(dma_stall_conflict); EQ(dma_wait_deps); EQ(macs);
  EQ(postprocessed); EQ(buffer_adds); EQ(first_beat_cycle); EQ(last_output_cycle); EQ(first_compute_cycle);
  EQ(input.bytes_read); EQ(input.bytes_written); EQ(input.accesses); EQ(input.conflicts);
  EQ(weight.bytes_read); EQ(weight.bytes_written); EQ(weight.accesses); EQ(weight.conflicts);
  EQ(output.bytes_read); EQ(output.bytes_written); EQ(output.accesses); EQ(output.conflicts);
  EQ(dram_read); EQ(dram_written); EQ(array_rows_out); EQ(rtl_rows_compared); EQ(rtl_words_compared);
  EQ(rtl_mismatches); EQ(acc_wraps); EQ(toggles.a_regs); EQ(toggles.b_regs); EQ(toggles.acc_regs);
  REQUIRE(x.commands.size() == y.commands.size());
  for (size_t i = 0; i < x.commands.size(); ++i) {
    INFO("command record " << i);
    EQ(commands[i].index); EQ(commands[i].op); EQ(commands[i].layer); EQ(commands[i].tile);
    EQ(commands[i].dispatch); EQ(commands[i].start); EQ(commands[i].end); EQ(commands[i].stall_cycles);
  }
  REQUIRE(x.layers.size() == y.layers.size());
  for (auto ix = x.layers.begin(), iy = y.layers.begin(); ix != x.layers.end(); ++ix, ++iy) {
    REQUIRE(ix->first == iy->first);
    const LayerStats &a = ix->second, &b = iy->second;
    REQUIRE(a.first_cycle == b.first_cycle);
    REQUIRE(a.last_cycle == b.last_cycle);
    REQUIRE(a.macs == b.macs);
    REQUIRE(a.dram_read == b.dram_read);
    REQUIRE(a.dram_written == b.dram_written);
    REQUIRE(a.commands == b.commands);
  }
#undef EQ
}

bool compare_gemm(std::mt19937_64& rng, int i) {
  CfgText t;
  t.rows = 1 + int(rng() % 8);
  t.cols = 1 + int(rng() % 8);
  t.dataflow = rng() % 2 ? "ws" : "os";
  t.shadow = rng() % 2;
  const int kind = int(rng() % 5);  // int8, e4m3/e5m2 x fixed/fp32
  t.pe = kind == 0 ? "int8" : (kind % 2 ? "e4m3" : "e5m2");
  t.acc = kind == 0 ? "int32" : (kind <= 2 ? "fixed" : "fp32");
  if (kind == 0) t.acc = "int32";
  t.sram_latency = 1 + int(rng() % 3);
  t.ports = 1 + int(rng() % 2);
  t.bw = 1 << int(rng() % 6);
  t.dram_latency = int(rng() % 40);
  t.in_bytes = 4096, t.w_bytes = 4096, t.out_bytes = 16384;
  if (t.dataflow == "os" && rng() % 2) t.os_k_tile = 1 + int64_t(rng() % 12);
  AcceleratorConfig cfg;
  try {
    cfg = t.make();
  } catch (const std::exception& e) {
    FAIL("config: " << e.what() << "\n" << t.text());
  }
  const int64_t m = 1 + int64_t(rng() % 20), k = 1 + int64_t(rng() % 24), n = 1 + int64_t(rng() % 20);
  const auto num = cfg.array.numerics();
  const unsigned spm = rng() % 3 ? 0 : unsigned(rng() % 60);
  auto A = random_codes(num, false, m * k, rng, spm), B = random_codes(num, true, k * n, rng, spm);
  INFO("case " << i << ": M " << m << " K " << k << " N " << n << "\n" << t.text());
  GemmJob jr, jf;
  try {
    jr = make_gemm_job(cfg, m, k, n, A, B, Engine::Model);
  } catch (const std::invalid_argument&) {
    return false;  // does not fit this configuration (both engines would refuse it)
  }
  jf = make_gemm_job(cfg, m, k, n, A, B, Engine::Fast);
  jr.acc->run(2'000'000);
  jf.acc->run(2'000'000);
  compare_stats(jr.acc->stats(), jf.acc->stats());
  REQUIRE(jr.acc->dram() == jf.acc->dram());
  REQUIRE(jf.compare() == 0);  // and both equal the golden GEMM
  return true;
}

}  // namespace

TEST_CASE("engine fast: array-level differential over 8000 random cases", "[sim][engine][array]") {
  std::mt19937_64 rng(20261129);
  INFO("row kernels: " << fast_array_kernels());
  for (int i = 0; i < 8000; ++i) {
    const Case k = random_case(rng);
    compare_arrays(k, rng, 40 + int(rng() % 121));
  }
  REQUIRE(g_edges == 8000);
}

TEST_CASE("engine fast: accelerator-level differential over 2000 random GEMMs", "[sim][engine][accel]") {
  std::mt19937_64 rng(1129);
  INFO("row kernels: " << fast_array_kernels());
  int ran = 0;
  for (int i = 0; i < 2000; ++i) ran += compare_gemm(rng, i);
  INFO(ran << " of 2000 GEMMs fit their random configuration");
  REQUIRE(ran >= 1500);
}

TEST_CASE("engine fast: every row-kernel variant gives the same words and counts", "[sim][engine]") {
  const fastk::Kernels* v[4];
  const int nv = fastk::kernel_variants(v, 4);
  REQUIRE(nv >= 1);
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 1 + int(rng() % 70);
    const size_t nn = static_cast<size_t>(n);
    std::vector<uint64_t> pa(nn), po(nn);
    std::vector<uint32_t> pa32(nn), po32(nn);
    std::vector<int32_t> a(nn), w(nn);
    std::vector<float> af(nn), wf(nn);
    std::vector<uint8_t> f(nn);
    const int width = 20 + int(rng() % 43);
    const uint64_t vmask = width == 64 ? ~0ull : (uint64_t(1) << width) - 1;
    for (int c = 0; c < n; ++c) {
      pa[c] = rng() & vmask, po[c] = rng();
      pa32[c] = uint32_t(rng()), po32[c] = uint32_t(rng());
      a[c] = int32_t(rng() % 458753) - 229376, w[c] = int32_t(rng() % 458753) - 229376;
      af[c] = model::fp8_decode_f32(model::fp8_format(model::Fp8Kind::E5M2), uint8_t(rng()));
      wf[c] = model::fp8_decode_f32(model::fp8_format(model::Fp8Kind::E4M3), uint8_t(rng()));
      f[c] = uint8_t(rng() % 4);
    }
    std::vector<std::vector<uint64_t>> out64;
    std::vector<std::vector<uint32_t>> out32;
    std::vector<uint64_t> counts;
    for (int i = 0; i < nv; ++i) {
      std::vector<uint64_t> pn(nn), qn(nn);
      std::vector<uint32_t> pn32(nn), qn32(nn), rn32(nn), sn32(nn);
      fastk::RowCounts c1, c2, c3, c4, c5, c6;
      v[i]->fixed64(pa.data(), a.data(), w.data(), po.data(), pn.data(), n, vmask, width, true, &c1);
      v[i]->fixed64_os(f.data(), a.data(), w.data(), po.data(), qn.data(), n, vmask, width, true, &c2);
      v[i]->int32(pa32.data(), a.data(), w.data(), po32.data(), pn32.data(), n, true, &c3);
      v[i]->int32_os(f.data(), a.data(), w.data(), po32.data(), qn32.data(), n, true, &c4);
      v[i]->f32(pa32.data(), af.data(), wf.data(), po32.data(), rn32.data(), n, true, &c5);
      v[i]->f32_os(f.data(), af.data(), wf.data(), po32.data(), sn32.data(), n, true, &c6);
      pn.insert(pn.end(), qn.begin(), qn.end());
      for (auto* x : {&qn32, &rn32, &sn32}) pn32.insert(pn32.end(), x->begin(), x->end());
      out64.push_back(pn);
      out32.push_back(pn32);
      counts.push_back(c1.tog ^ (c1.wraps << 20) ^ (c2.wraps << 30) ^ (c3.tog << 34) ^ (c3.wraps << 50) ^
                       (c4.wraps << 55) ^ (c5.tog << 5) ^ (c2.tog << 12) ^ (c4.tog << 40) ^
                       (c6.tog << 25));
      counts.push_back(v[i]->xor_bits8(reinterpret_cast<const uint8_t*>(pa.data()),
                                       reinterpret_cast<const uint8_t*>(po.data()), n * 8 - 3) +
                       v[i]->xor_bits32(pa32.data(), po32.data(), n) + 7 * v[i]->xor_bits64(pa.data(), po.data(), n));
    }
    for (int i = 1; i < nv; ++i) {
      INFO("variant " << v[i]->name << " vs " << v[0]->name);
      REQUIRE(out64[size_t(i)] == out64[0]);
      REQUIRE(out32[size_t(i)] == out32[0]);
      REQUIRE(counts[size_t(2 * i)] == counts[0]);
      REQUIRE(counts[size_t(2 * i + 1)] == counts[1]);
    }
  }
}

// The multi-row WS kernels (fixed64_rows, int32_rows, f32_rows: the explicit AVX-512 loops with full and masked
// lane steps) against one call of the base variant's single-row kernel per row (a plain C++ loop), toggles on
// and off, rows 1..6, row lengths 1..70 (full 8/16-lane steps and every tail), row stride longer than the row,
// wrapping fixed-point widths, float32 operands with NaN/Inf (E5M2 decodes).
TEST_CASE("engine fast: multi-row kernels equal the base variant's row loop", "[sim][engine]") {
  const fastk::Kernels* v[4];
  const int nv = fastk::kernel_variants(v, 4);
  REQUIRE(nv >= 1);
  const fastk::Kernels& base = fastk::kernels_base();
  std::mt19937_64 rng(17);
  int compared = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const int n = 1 + int(rng() % 70), rows = 1 + int(rng() % 6);
    const size_t stride = size_t(n) + size_t(rng() % 3), tot = stride * size_t(rows + 1);
    const bool tog = rng() % 2;
    const int width = 20 + int(rng() % 43);
    const uint64_t vmask = (uint64_t(1) << width) - 1;
    std::vector<uint64_t> pa(tot), po(tot);
    std::vector<uint32_t> pa32(tot), po32(tot);
    std::vector<std::vector<int32_t>> a{size_t(rows)}, w{size_t(rows)};
    std::vector<std::vector<float>> af{size_t(rows)}, wf{size_t(rows)};
    for (size_t i = 0; i < tot; ++i) {
      pa[i] = rng() & vmask, po[i] = rng() & vmask;
      pa32[i] = uint32_t(rng()), po32[i] = uint32_t(rng());
    }
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < n; ++c) {
        a[size_t(r)].push_back(int32_t(rng() % 458753) - 229376);
        w[size_t(r)].push_back(int32_t(rng() % 458753) - 229376);
        af[size_t(r)].push_back(model::fp8_decode_f32(model::fp8_format(model::Fp8Kind::E5M2), uint8_t(rng())));
        wf[size_t(r)].push_back(model::fp8_decode_f32(model::fp8_format(model::Fp8Kind::E4M3), uint8_t(rng())));
      }
    std::vector<const int32_t*> ap, wp;
    std::vector<const float*> afp, wfp;
    for (int r = 0; r < rows; ++r) {
      ap.push_back(a[size_t(r)].data()), wp.push_back(w[size_t(r)].data());
      afp.push_back(af[size_t(r)].data()), wfp.push_back(wf[size_t(r)].data());
    }
    // Expected: the base variant's single-row loops, row by row.
    std::vector<uint64_t> e64(tot, 0);
    std::vector<uint32_t> ei(tot, 0), ef(tot, 0);
    fastk::RowCounts c64, ci, cf;
    for (int r = 0; r < rows; ++r) {
      const size_t o = size_t(r) * stride;
      base.fixed64(&pa[o], ap[size_t(r)], wp[size_t(r)], &po[o], &e64[o], n, vmask, width, tog, &c64);
      base.int32(&pa32[o], ap[size_t(r)], wp[size_t(r)], &po32[o], &ei[o], n, tog, &ci);
      base.f32(&pa32[o], afp[size_t(r)], wfp[size_t(r)], &po32[o], &ef[o], n, tog, &cf);
    }
    for (int i = 0; i < nv; ++i) {
      INFO("variant " << v[i]->name << " n " << n << " rows " << rows << " toggles " << tog);
      std::vector<uint64_t> g64(tot, 0);
      std::vector<uint32_t> gi(tot, 0), gf(tot, 0);
      fastk::RowCounts d64, di, df;
      v[i]->fixed64_rows(rows, pa.data(), ap.data(), wp.data(), po.data(), g64.data(), stride, n, vmask, width, tog,
                         &d64);
      v[i]->int32_rows(rows, pa32.data(), ap.data(), wp.data(), po32.data(), gi.data(), stride, n, tog, &di);
      v[i]->f32_rows(rows, pa32.data(), afp.data(), wfp.data(), po32.data(), gf.data(), stride, n, tog, &df);
      REQUIRE(g64 == e64);
      REQUIRE(gi == ei);
      REQUIRE(gf == ef);
      REQUIRE(d64.tog == c64.tog);
      REQUIRE(d64.wraps == c64.wraps);
      REQUIRE(di.tog == ci.tog);
      REQUIRE(di.wraps == ci.wraps);
      REQUIRE(df.tog == cf.tog);
      ++compared;
    }
  }
  REQUIRE(compared == 600 * nv);
}

// fixed128_rows (E5M2's exact accumulator: 128-bit words; the AVX-512 variant splits words into 64-bit halves)
// in every variant against the definition written out here in 128-bit arithmetic: s = (x + a * w) mod 2^width
// with x = pa mod 2^width, a wrap where x and the product have the same sign bit (bit width - 1) and s another,
// toggles = bits of s ^ po. Operands up to 2^31 (E5M2: 57344 x 2^16 < 2^32), sometimes 2^40 (the scalar
// fallback), widths 63..126, rows 1..5, lengths 1..40.
TEST_CASE("engine fast: 128-bit fixed-point rows equal the definition", "[sim][engine]") {
  using u128 = unsigned __int128;
  const fastk::Kernels* v[4];
  const int nv = fastk::kernel_variants(v, 4);
  std::mt19937_64 rng(128);
  int compared = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 1 + int(rng() % 40), rows = 1 + int(rng() % 5);
    const size_t stride = size_t(n) + size_t(rng() % 2), tot = stride * size_t(rows + 1);
    const bool tog = rng() % 2, huge = rng() % 10 == 0;
    const int width = 63 + int(rng() % 64);
    const u128 vmask = (u128(1) << width) - 1;
    auto r128 = [&] { return (u128(rng()) << 64) | rng(); };
    std::vector<u128> pa(tot), po(tot);
    for (size_t i = 0; i < tot; ++i) pa[i] = r128() & vmask, po[i] = r128();
    if (rng() % 2)  // small sums too (few wraps; sign changes near zero)
      for (size_t i = 0; i < tot; ++i) pa[i] = u128(__int128(int64_t(rng() % 2000001) - 1000000)) & vmask;
    std::vector<std::vector<int64_t>> a{size_t(rows)}, w{size_t(rows)};
    const uint64_t lim = huge ? (uint64_t(1) << 40) : (uint64_t(1) << 31);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < n; ++c) {
        a[size_t(r)].push_back(int64_t(rng() % (2 * lim + 1)) - int64_t(lim));
        w[size_t(r)].push_back(rng() % 5 == 0 ? 0 : int64_t(rng() % (2 * lim + 1)) - int64_t(lim));
      }
    std::vector<const int64_t*> ap, wp;
    for (int r = 0; r < rows; ++r) ap.push_back(a[size_t(r)].data()), wp.push_back(w[size_t(r)].data());
    std::vector<u128> want(tot, 0);
    uint64_t want_tog = 0, want_wraps = 0;
    auto pop = [](u128 x) { return uint64_t(__builtin_popcountll(uint64_t(x)) + __builtin_popcountll(uint64_t(x >> 64))); };
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < n; ++c) {
        const size_t i = size_t(r) * stride + size_t(c);
        const u128 x = pa[i] & vmask;
        const u128 p = u128(__int128(a[size_t(r)][size_t(c)]) * __int128(w[size_t(r)][size_t(c)])) & vmask;
        const u128 s = (x + p) & vmask;
        want[i] = s;
        if (tog) want_tog += pop(s ^ po[i]);
        const int sx = int((x >> (width - 1)) & 1), sp = int((p >> (width - 1)) & 1), ss = int((s >> (width - 1)) & 1);
        want_wraps += (sx == sp && ss != sx) ? 1 : 0;
      }
    for (int i = 0; i < nv; ++i) {
      INFO("variant " << v[i]->name << " n " << n << " rows " << rows << " width " << width << " huge " << huge);
      std::vector<u128> got(tot, 0);
      fastk::RowCounts cnt;
      v[i]->fixed128_rows(rows, pa.data(), ap.data(), wp.data(), po.data(), got.data(), stride, n, vmask, width, tog,
                          &cnt);
      REQUIRE(got == want);
      REQUIRE(cnt.tog == want_tog);
      REQUIRE(cnt.wraps == want_wraps);
      ++compared;
    }
  }
  REQUIRE(compared == 400 * nv);
}
