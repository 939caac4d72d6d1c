// The whole accelerator (controller, DMA, buffers, array) running lowered GEMMs inside SystemC. Each test
// case is one SystemC simulation (run_systemc runs all its jobs back to back).
#include <catch2/catch.hpp>

#include "fp8sim/model/requant.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/sim/gemm_run.h"
#include "sim_test_util.h"
#include "test_paths.h"

using namespace fp8sim;
using namespace fp8sim::sim;
using simtest::CfgText;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Numerics {
  const char *pe, *pe_b, *acc;
};
const Numerics kNumerics[] = {{"int8", "", "int32"},  {"e4m3", "", "fixed"},    {"e4m3", "", "fp32"},
                              {"e5m2", "", "fixed"},  {"e5m2", "", "fp32"},     {"e4m3", "e5m2", "fp32"},
                              {"e4m3", "e5m2", "fixed"}, {"e5m2fnuz", "e4m3fnuz", "fp32"}};

void golden_sweep(const std::string& dataflow, uint64_t seed, bool shadow = false) {
  std::mt19937_64 rng(seed);
  std::vector<GemmJob> jobs;
  std::vector<std::string> names;
  const std::pair<int, int> sizes[] = {{4, 4}, {3, 5}, {8, 2}, {1, 1}, {16, 8}};
  for (const auto& [R, C] : sizes)
    for (const Numerics& nm : kNumerics) {
      CfgText t;
      t.rows = R, t.cols = C, t.dataflow = dataflow, t.pe = nm.pe, t.pe_b = nm.pe_b, t.acc = nm.acc;
      t.shadow = shadow;
      // Small buffers force M tiling (WS) and K tiling (OS): several tiles per output, accumulated in the
      // output buffer in the declared order.
      t.in_bytes = 2 * R * (1 + int64_t(rng() % 12));
      t.w_bytes = 2 * R * C + 2 * C * int64_t(rng() % 12);
      t.out_bytes = 2 * R * C * 16 * (1 + int64_t(rng() % 3));
      t.bw = 1 + int(rng() % 32);
      t.dram_latency = int(rng() % 20);
      t.sram_latency = 1 + int(rng() % 3);
      t.ports = 1 + int(rng() % 2);
      const AcceleratorConfig cfg = t.make();
      for (int s = 0; s < 3; ++s) {
        const int64_t M = 1 + int64_t(rng() % 25), K = 1 + int64_t(rng() % 40), N = 1 + int64_t(rng() % 14);
        const auto num = cfg.array.numerics();
        auto A = random_codes(num, false, M * K, rng, 15);
        auto B = random_codes(num, true, K * N, rng, 15);
        jobs.push_back(make_gemm_job(cfg, M, K, N, std::move(A), std::move(B)));
        std::ostringstream o;
        o << dataflow << (shadow ? " shadow" : "") << " " << R << "x" << C << " " << num.describe() << " M=" << M << " K=" << K << " N=" << N
          << " (k_chunk " << jobs.back().lowered.k_chunk << ", bw " << t.bw << ", ports " << t.ports << ")";
        names.push_back(o.str());
      }
    }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  size_t words = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::string report;
    INFO(names[i]);
    CHECK(jobs[i].compare(&report) == 0);
    INFO(report);
    words += size_t(jobs[i].m * jobs[i].n);
  }
  CHECK(jobs.size() == 5 * 8 * 3);
  WARN(dataflow << ": " << jobs.size() << " GEMMs, " << words << " output words bit-identical to golden_gemm");
}

}  // namespace

TEST_CASE("WS outputs are bit-identical to the golden GEMM, every format and accumulator", "[sim]") {
  golden_sweep("ws", 101);
}

TEST_CASE("WS with shadow weights: outputs bit-identical to the golden GEMM, every format and accumulator", "[sim]") {
  golden_sweep("ws", 303, true);
}

TEST_CASE("OS outputs are bit-identical to the golden GEMM, every format and accumulator", "[sim]") {
  golden_sweep("os", 202);
}

TEST_CASE("OS with shadow outputs: outputs bit-identical to the golden GEMM, every format and accumulator", "[sim]") {
  golden_sweep("os", 404, true);
}

// One tile end to end. Cycle rules (sim/accelerator.h), L = DRAM latency, s = SRAM latency, nb = data cycles
// of a transfer = ceil(bytes / min(bytes_per_cycle, banks * bank_width_bytes)):
//   cycle 0, 1, 2, 3: the controller dispatches LoadWeights, LoadActivations, Compute, Store (WS order).
//   LoadWeights starts in cycle 1: L latency cycles, nb_w data cycles: done in cycle L + nb_w.
//   LoadActivations starts the next cycle: done in cycle 2L + nb_w + nb_a.
//   The Compute sees both loads done one cycle later (cycle 2L + nb_w + nb_a + 1) and reads its first beat;
//   the beat enters the array s cycles later: first beat f = 2L + nb_w + nb_a + 1 + s.
//   The array tile (RTL closed form): last output written in cycle f + (2R + M + C - 1) - 1.
//   The Store starts the next cycle: L + s latency (DRAM + output buffer read), nb_s data cycles: done in
//   cycle f + 2R + M + C - 2 + L + s + nb_s.
//   The Barrier is dispatched in that same cycle (every unit idle), End the cycle after: total cycles =
//   that cycle + 2.
// Total = 3L + nb_w + nb_a + nb_s + 2s + (2R + M + C - 1) + 2. For OS the loads swap (activations first,
// transposed) and the tile is K + 2R + C - 2 cycles; the sum is the same with that tile term.
TEST_CASE("single-tile cycle count equals its closed form", "[sim]") {
  struct Case {
    std::string df;
    int R, C;
    int64_t M, K, N;
    int bw, L, s;
  };
  const Case cases[] = {{"ws", 4, 4, 6, 3, 4, 8, 10, 1},  {"ws", 8, 8, 13, 8, 5, 3, 0, 2},
                        {"os", 4, 4, 4, 9, 3, 8, 10, 1},  {"os", 8, 4, 5, 20, 4, 64, 7, 3}};
  std::vector<GemmJob> jobs;
  std::vector<int64_t> want;
  for (const Case& c : cases) {
    CfgText t;
    t.dataflow = c.df, t.rows = c.R, t.cols = c.C, t.bw = c.bw, t.dram_latency = c.L, t.sram_latency = c.s;
    t.in_bytes = 4096, t.w_bytes = 4096, t.out_bytes = 16384;
    const AcceleratorConfig cfg = t.make();
    std::mt19937_64 rng(7);
    const auto num = cfg.array.numerics();
    jobs.push_back(make_gemm_job(cfg, c.M, c.K, c.N, random_codes(num, false, c.M * c.K, rng),
                                 random_codes(num, true, c.K * c.N, rng)));
    REQUIRE(jobs.back().lowered.tiles == 1);
    const int64_t win = cfg.input_buffer.width_bytes(), ww = cfg.weight_buffer.width_bytes(),
                  wo = cfg.output_buffer.width_bytes(), wb = cfg.word_bytes();
    const int64_t nb_w = ceil_div(c.K * c.N, std::min<int64_t>(c.bw, ww));
    const int64_t nb_a = ceil_div(c.M * c.K, std::min<int64_t>(c.bw, win));
    const int64_t nb_s = ceil_div(c.M * c.N * wb, std::min<int64_t>(c.bw, wo));
    const int64_t tile = c.df == "ws" ? 2 * c.R + c.M + c.C - 1 : c.K + 2 * c.R + c.C - 2;
    want.push_back(3 * c.L + nb_w + nb_a + nb_s + 2 * c.s + tile + 2);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    INFO("case " << i);
    CHECK(jobs[i].compare() == 0);
    CHECK(int64_t(jobs[i].acc->stats().cycles) == want[i]);
    const Stats& st = jobs[i].acc->stats();
    // Every cycle is classified exactly once.
    CHECK(st.array_compute + st.array_weight_load + st.array_fill_drain + st.array_stall_dram +
              st.array_stall_conflict + st.array_idle == st.cycles);
  }
}

// Compute-bound GEMMs (DRAM fast, two ports everywhere): the array never starves, so the span from the first
// beat entering to the last output row equals the RTL's closed form for T back-to-back tiles
// (tests/sim/test_sim_array.cpp, rtl/systolic_array.v): WS T * (2R + M + C - 2) + 1, OS T * (K_t + 2R + C - 2).
TEST_CASE("compute-bound array span equals the RTL's closed form", "[sim]") {
  struct Case {
    std::string df;
    int R, C;
    int64_t M, K, N, kt;
    int64_t T;  // tiles
    int64_t span;
  };
  // WS 8x8, M = 16 (one M tile), K = 40 (5 K tiles of 8), N = 20 (3 N tiles): T = 15, 15 * 38 + 1 = 571.
  // WS 4x4, M = 9, K = 4, N = 16: T = 4, 4 * (8 + 9 + 4 - 2) + 1 = 77.
  // OS 8x8, M = 20 (3 M tiles), N = 12 (2 N tiles), K = 32 in K tiles of 16 (2): T = 12,
  //   12 * (16 + 16 + 8 - 2) = 456.
  // OS 4x8, M = 8, N = 8, K = 5 (one K tile): T = 2, 2 * (5 + 8 + 8 - 2) = 38.
  const Case cases[] = {{"ws", 8, 8, 16, 40, 20, 0, 15, 571}, {"ws", 4, 4, 9, 4, 16, 0, 4, 77},
                        {"os", 8, 8, 20, 32, 12, 16, 12, 456}, {"os", 4, 8, 8, 5, 8, 0, 2, 38}};
  std::vector<GemmJob> jobs;
  for (const Case& c : cases) {
    CfgText t;
    t.dataflow = c.df, t.rows = c.R, t.cols = c.C, t.bw = 512, t.dram_latency = 2, t.sram_latency = 2;
    t.in_bytes = 8192, t.w_bytes = 8192, t.out_bytes = 65536, t.os_k_tile = c.kt;
    const AcceleratorConfig cfg = t.make();
    std::mt19937_64 rng(9);
    const auto num = cfg.array.numerics();
    jobs.push_back(make_gemm_job(cfg, c.M, c.K, c.N, random_codes(num, false, c.M * c.K, rng),
                                 random_codes(num, true, c.K * c.N, rng)));
    REQUIRE(jobs.back().lowered.tiles == c.T);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Stats& st = jobs[i].acc->stats();
    INFO("case " << i << "\n" << st.to_text(jobs[i].acc->config()));
    CHECK(jobs[i].compare() == 0);
    CHECK(int64_t(st.last_output_cycle - st.first_beat_cycle + 1) == cases[i].span);
    CHECK(st.array_stall_dram + st.array_stall_conflict == st.array_stall_dram);  // no port conflicts
  }
}

// Shadow weights (hidden weight loads), compute-bound as above, one N tile (so the only Store is the last
// command: the DMA queue never holds a Store in front of the next tiles' loads). The output buffer
// accumulates, so no row waits for a partial sum; the feeder reads the next tile's weight rows (weight
// buffer) while the current tile's activation rows stream (input buffer), so the array's own timing
// (rtl/systolic_array.v, SHADOW = 1, derived in tests/rtl/test_rtl_array.cpp) gives the span from the
// first compute row (the first tile's swap row, cycle s_0) to the last output row: tile t's swap row enters
// at s_0 + t * P with P = max(M, 2R + C - 2), its last row M - 1 cycles later and that row's output R + C - 1
// cycles after that, so (T - 1) * P + M + R + C - 1 cycles, both ends counted. (The first weight row may
// enter earlier than s_0 - R: the first tile's activations are loaded after its weights.)
//   WS 8x8, M = 32, K = 40 (5 K tiles), N = 8: T = 5, P = max(32, 22) = 32: 4 * 32 + 32 + 15 = 175
//     (per tile 32 cycles against 2R + M + C - 2 = 54 without shadow weights).
//   WS 4x4, M = 9, K = 16, N = 4: T = 4, P = max(9, 10) = 10 (the weight channel bounds it):
//     3 * 10 + 9 + 7 = 46.
//   WS 8x4, M = 40, K = 24 (3 K tiles), N = 4: T = 3, P = max(40, 16 + 4 - 2 = 18) = 40: 2 * 40 + 40 + 11 = 131.
TEST_CASE("shadow weights: compute-bound array span hides the weight loads", "[sim]") {
  struct Case {
    int R, C;
    int64_t M, K, N, T, span;
  };
  const Case cases[] = {{8, 8, 32, 40, 8, 5, 175}, {4, 4, 9, 16, 4, 4, 46}, {8, 4, 40, 24, 4, 3, 131}};
  std::vector<GemmJob> jobs;
  for (const Case& c : cases) {
    CfgText t;
    t.rows = c.R, t.cols = c.C, t.bw = 512, t.dram_latency = 2, t.sram_latency = 2, t.shadow = true;
    t.in_bytes = 8192, t.w_bytes = 8192, t.out_bytes = 65536;
    const AcceleratorConfig cfg = t.make();
    std::mt19937_64 rng(19);
    const auto num = cfg.array.numerics();
    jobs.push_back(make_gemm_job(cfg, c.M, c.K, c.N, random_codes(num, false, c.M * c.K, rng),
                                 random_codes(num, true, c.K * c.N, rng)));
    REQUIRE(jobs.back().lowered.tiles == c.T);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Stats& st = jobs[i].acc->stats();
    INFO("case " << i << "\n" << st.to_text(jobs[i].acc->config()));
    CHECK(jobs[i].compare() == 0);
    CHECK(int64_t(st.last_output_cycle - st.first_compute_cycle + 1) == cases[i].span);
    CHECK(st.array_stall_conflict == 0);
  }
}

// Shadow outputs (double-buffered accumulators), compute-bound, OS: the next tile's beats enter while the
// previous tile waits for its corner and drains; only its last beat waits for the drain
// (rtl/systolic_array.v, SHADOW = 1): last beats P = max(K_t, 2R + C - 1) apart, so the span from the first
// beat to the last output row is K_t + 2R + C - 2 + (T - 1) * P.
// Cases 0 and 2 have one output tile (the only Store is the last command); case 1 has two, and the first
// Store is queued behind the second tile's loads (a Store waits in the in-order DMA queue for its Compute,
// holding back the loads queued after it, which the shadow path would otherwise overlap):
//   OS 8x8, M = 8, N = 8, K = 64 in K tiles of 16: T = 4, P = max(16, 23) = 23:
//     16 + 16 + 8 - 2 + 3 * 23 = 107 (4 * 38 = 152 without shadow outputs).
//   OS 4x8, M = 8, N = 8, K = 5 (one K tile): T = 2, P = max(5, 15) = 15: 5 + 8 + 8 - 2 + 15 = 34 (38 without).
//   OS 4x4, M = 4, N = 4, K = 40 in K tiles of 20: T = 2, P = max(20, 11) = 20: 20 + 8 + 4 - 2 + 20 = 50 (60).
TEST_CASE("shadow outputs: compute-bound OS span overlaps the drain", "[sim]") {
  struct Case {
    int R, C;
    int64_t M, K, N, kt, T, span;
  };
  const Case cases[] = {{8, 8, 8, 64, 8, 16, 4, 107}, {4, 8, 8, 5, 8, 0, 2, 34}, {4, 4, 4, 40, 4, 20, 2, 50}};
  std::vector<GemmJob> jobs;
  for (const Case& c : cases) {
    CfgText t;
    t.dataflow = "os", t.rows = c.R, t.cols = c.C, t.bw = 512, t.dram_latency = 2, t.sram_latency = 2;
    t.in_bytes = 8192, t.w_bytes = 8192, t.out_bytes = 65536, t.os_k_tile = c.kt, t.shadow = true;
    const AcceleratorConfig cfg = t.make();
    std::mt19937_64 rng(23);
    const auto num = cfg.array.numerics();
    jobs.push_back(make_gemm_job(cfg, c.M, c.K, c.N, random_codes(num, false, c.M * c.K, rng),
                                 random_codes(num, true, c.K * c.N, rng)));
    REQUIRE(jobs.back().lowered.tiles == c.T);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Stats& st = jobs[i].acc->stats();
    INFO("case " << i << "\n" << st.to_text(jobs[i].acc->config()));
    CHECK(jobs[i].compare() == 0);
    CHECK(int64_t(st.last_output_cycle - st.first_beat_cycle + 1) == cases[i].span);
    CHECK(st.array_stall_conflict == 0);
  }
}

// DRAM bandwidth sweep on a DRAM-bound GEMM: doubling bytes_per_cycle never increases the cycle count, the
// DRAM-wait stall never grows, and every run respects the bandwidth bound cycles >= bytes / bytes_per_cycle.
// At the top of the sweep the GEMM is compute-bound: the array span is the RTL closed form.
TEST_CASE("DRAM bandwidth sweep: more bandwidth never costs cycles", "[sim]") {
  std::vector<GemmJob> jobs;
  std::vector<int> bws;
  for (int bw = 1; bw <= 1024; bw *= 2) {
    CfgText t;
    t.rows = 8, t.cols = 8, t.bw = bw, t.dram_latency = 3, t.sram_latency = 1;
    t.in_bytes = 4096, t.w_bytes = 4096, t.out_bytes = 65536;
    const AcceleratorConfig cfg = t.make();
    std::mt19937_64 rng(3);
    const auto num = cfg.array.numerics();
    jobs.push_back(make_gemm_job(cfg, 24, 48, 20, random_codes(num, false, 24 * 48, rng),
                                 random_codes(num, true, 48 * 20, rng)));
    bws.push_back(bw);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  uint64_t prev_cycles = ~uint64_t{0}, prev_stall = ~uint64_t{0};
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Stats& st = jobs[i].acc->stats();
    INFO("bytes_per_cycle " << bws[i] << "\n" << st.to_text(jobs[i].acc->config()));
    CHECK(jobs[i].compare() == 0);
    CHECK(st.cycles <= prev_cycles);
    CHECK(st.array_stall_dram <= prev_stall);
    CHECK(st.cycles * uint64_t(bws[i]) >= st.dram_read + st.dram_written);
    prev_cycles = st.cycles;
    prev_stall = st.array_stall_dram;
  }
  // bw = 1 is DRAM-bound: most cycles wait for DRAM. bw = 1024 is compute-bound: 8x8 WS, M = 24, T = 6 K tiles
  // x 3 N tiles = 18 tiles: span 18 * (16 + 24 + 8 - 2) + 1 = 829.
  const Stats& slow = jobs.front().acc->stats();
  CHECK(slow.array_stall_dram * 2 > slow.cycles);
  const Stats& fast = jobs.back().acc->stats();
  CHECK(fast.last_output_cycle - fast.first_beat_cycle + 1 == 829);
  CHECK(jobs.front().acc->stats().cycles > 4 * fast.cycles);
}

// Statistics derived from the tiling: MACs, DRAM bytes, buffer traffic; toggles zero for all-zero operands.
TEST_CASE("statistics: MACs, bytes and toggles", "[sim]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.in_bytes = 2 * 4 * 5;  // WS: m_tile = 5 rows
  const AcceleratorConfig cfg = t.make();
  const int64_t M = 12, K = 10, N = 6;
  std::mt19937_64 rng(1);
  const auto num = cfg.array.numerics();
  GemmJob j = make_gemm_job(cfg, M, K, N, random_codes(num, false, M * K, rng), random_codes(num, true, K * N, rng));
  GemmJob z = make_gemm_job(cfg, M, K, N, std::vector<uint8_t>(M * K, 0), std::vector<uint8_t>(K * N, 0));
  run_systemc({j.acc.get(), z.acc.get()});
  CHECK(j.compare() == 0);
  CHECK(z.compare() == 0);
  const Stats& st = j.acc->stats();
  REQUIRE(j.lowered.m_tile == 5);
  const int64_t mtiles = ceil_div(M, 5), ntiles = ceil_div(N, 4), ktiles = ceil_div(K, 4);
  CHECK(int64_t(st.macs) == M * K * N);
  // A is read once per N tile, B once per M tile, C written once.
  CHECK(int64_t(st.dram_read) == M * K * ntiles + K * N * mtiles);
  CHECK(int64_t(st.dram_written) == M * N * 4);
  // Weight buffer: every tile loads and streams R x C bytes. Input: each activation row (R bytes) once per tile.
  CHECK(int64_t(st.weight.bytes_written) == mtiles * ntiles * ktiles * 16);
  CHECK(int64_t(st.weight.bytes_read) == mtiles * ntiles * ktiles * 16);
  CHECK(int64_t(st.input.bytes_read) == M * 4 * ntiles * ktiles);
  // Output: every tile writes its rows (C words); accumulating tiles also read them.
  CHECK(int64_t(st.output.bytes_written) == M * ntiles * ktiles * 4 * 4);
  CHECK(int64_t(st.output.bytes_read) == M * ntiles * (ktiles - 1) * 4 * 4 + M * N * 4);
  CHECK(st.pe_utilization(4, 4) == Approx(double(M * K * N) / (16.0 * double(st.cycles))));
  CHECK(st.layers.at(0).macs == st.macs);
  CHECK(st.toggles.acc_regs > 0);
  CHECK(st.toggles.a_regs > 0);
  CHECK(st.toggles.b_regs > 0);
  // All-zero operands: every register stays 0 (+0.0): no toggles at all.
  const Stats& zs = z.acc->stats();
  CHECK(zs.toggles.a_regs == 0);
  CHECK(zs.toggles.b_regs == 0);
  CHECK(zs.toggles.acc_regs == 0);
  CHECK(zs.cycles == st.cycles);  // timing is data-independent
  // Per-command records: every command dispatched, starts no earlier than dispatch, ends no earlier than start.
  REQUIRE(st.commands.size() == j.lowered.commands.size() + 1);
  for (const CommandStats& c : st.commands) {
    CHECK(c.start >= c.dispatch);
    CHECK(c.end >= c.start);
  }
}

// The committed reference outputs (sim/configs/ref/<name>.txt, written by fp8sim_sim_run --write-ref): the
// words must equal golden_gemm (independent of the simulator) and the simulator's output; the cycle count
// is a regression anchor.
TEST_CASE("configurations reproduce their committed reference outputs", "[sim]") {
  const auto dir = test::source_dir() / "sim" / "configs";
  std::vector<GemmJob> jobs;
  std::vector<std::vector<std::string>> refs;
  std::vector<uint64_t> ref_cycles;
  for (const char* name : {"small8", "default32", "large128"}) {
    const AcceleratorConfig cfg = load_config((dir / (std::string(name) + ".toml")).string());
    std::ifstream f(dir / "ref" / (std::string(name) + ".txt"));
    REQUIRE(f.good());
    std::string line, key;
    int64_t m = 0, k = 0, n = 0;
    uint64_t seed = 0, cycles = 0;
    std::vector<std::string> words;
    while (std::getline(f, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      if (line.rfind("config ", 0) == 0) {
        ls >> key >> key;
        CHECK(key == name);
      } else if (line.rfind("gemm ", 0) == 0) {
        ls >> key >> m >> k >> n >> seed;
      } else if (line.rfind("cycles ", 0) == 0) {
        ls >> key >> cycles;
      } else {
        words.push_back(line);
      }
    }
    REQUIRE(int64_t(words.size()) == m * n);
    std::mt19937_64 rng(seed);  // the operand draw of fp8sim_sim_run
    const auto num = cfg.array.numerics();
    auto A = random_codes(num, false, m * k, rng);
    auto B = random_codes(num, true, k * n, rng);
    jobs.push_back(make_gemm_job(cfg, m, k, n, std::move(A), std::move(B)));
    refs.push_back(words);
    ref_cycles.push_back(cycles);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto out = jobs[i].output(), gold = jobs[i].golden();
    for (size_t w = 0; w < out.size(); ++w) {
      const auto u = static_cast<model::uint128>(gold[w].raw);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%016llx%016llx %d", static_cast<unsigned long long>(u >> 64),
                    static_cast<unsigned long long>(u), static_cast<int>(gold[w].cls));
      REQUIRE(refs[i][w] == buf);   // reference == golden
      REQUIRE(out[w] == gold[w]);   // simulator == golden
    }
    CHECK(jobs[i].acc->stats().cycles == ref_cycles[i]);
  }
}

// Waveforms: sc_trace of the chosen probes into a VCD; values change only inside the cycle window.
TEST_CASE("VCD output of a window of cycles", "[sim]") {
  const auto path = std::filesystem::temp_directory_path() / ("fp8sim_test_" + std::to_string(::getpid()) + ".vcd");
  CfgText t;
  const AcceleratorConfig cfg = t.make();
  std::mt19937_64 rng(2);
  const auto num = cfg.array.numerics();
  GemmJob j = make_gemm_job(cfg, 9, 9, 9, random_codes(num, false, 81, rng), random_codes(num, true, 81, rng));
  run_systemc({j.acc.get()}, VcdOptions{path.string(), 100, 200});
  CHECK(j.compare() == 0);
  std::ifstream f(path);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string vcd = ss.str();
  std::filesystem::remove(path);
  // sc_trace scopes the dotted names: module array, wire in_valid, ...
  for (const char* sig : {"in_valid", "out_valid", "pc", "queue", "beat_fifo", "$scope module array",
                          "$scope module controller", "$scope module dma"})
    CHECK(vcd.find(sig) != std::string::npos);
  // Time stamps (#t, in ps at a 1 ns clock) followed by value changes: none outside the window (the writer
  // adds one empty stamp at the end of the simulation).
  std::istringstream ls(vcd);
  std::string line;
  uint64_t stamp = 0, last_stamp = 0, first_stamp = ~uint64_t{0};
  int stamps = 0;
  bool header = true;
  while (std::getline(ls, line)) {
    if (line.rfind("$enddefinitions", 0) == 0) header = false;
    if (header || line.empty() || line[0] == '$') continue;
    if (line[0] == '#') {
      stamp = std::stoull(line.substr(1));
      continue;
    }
    if (stamp == 0) continue;  // initial values
    first_stamp = std::min(first_stamp, stamp);
    last_stamp = std::max(last_stamp, stamp);
    ++stamps;
  }
  CHECK(first_stamp >= 100 * 1000);
  CHECK(last_stamp < 201 * 1000);
  CHECK(stamps > 10);
  CHECK(last_stamp <= 202 * 1000);
}

#ifdef FP8SIM_HAVE_RTL  // built only with rtl/'s Verilated arrays (FP8SIM_WITH_RTL=ON)
// RTL in the loop: the Verilated array replaces the modelled one; every output row is compared with the
// model array's, every tile with golden_gemm of its operands, and the final outputs and cycle counts must
// equal the modelled engine's exactly.
TEST_CASE("engine rtl: outputs and cycles equal the modelled array's", "[sim][rtl]") {
  struct Case {
    std::string df, pe, acc;
    int R, C, bw, ports;
    bool shadow = false;  // WS: shadow weights (the 8x8 WS RTL arrays have them); OS: shadow outputs
  };
  // ports = 1: an accumulating row write needs two cycles, so the array sees output back-pressure.
  const Case cases[] = {{"ws", "e4m3", "fp32", 8, 8, 512, 2, true},  {"ws", "e4m3", "fp32", 8, 8, 4, 2, true},
                        {"os", "e5m2", "fp32", 8, 8, 512, 2},        {"ws", "int8", "int32", 4, 4, 16, 2},
                        {"os", "e4m3", "fixed", 4, 4, 16, 2},        {"ws", "e5m2", "fixed", 4, 4, 64, 1},
                        {"os", "int8", "int32", 4, 4, 64, 1},        {"ws", "e4m3", "fp32", 16, 16, 256, 2},
                        {"os", "int8", "int32", 16, 16, 256, 2},     {"ws", "int8", "int32", 4, 4, 64, 1, true},
                        {"ws", "e4m3", "fixed", 4, 4, 16, 2, true},  {"ws", "e5m2", "fp32", 4, 4, 512, 2, true},
                        {"ws", "int8", "int32", 8, 8, 512, 2, true},  {"os", "int8", "int32", 4, 4, 64, 1, true},
                        {"os", "e4m3", "fixed", 4, 4, 16, 2, true},  {"os", "e5m2", "fp32", 4, 4, 512, 2, true}};
  std::vector<GemmJob> jobs;
  std::mt19937_64 rng(17);
  for (const Case& c : cases) {
    CfgText t;
    t.dataflow = c.df, t.pe = c.pe, t.acc = c.acc, t.rows = c.R, t.cols = c.C, t.bw = c.bw, t.ports = c.ports;
    t.shadow = c.shadow;
    t.in_bytes = 2048, t.w_bytes = 2048, t.out_bytes = 65536;
    t.os_k_tile = c.ports == 1 ? 8 : 0;  // OS: K tiles of 8, so that outputs accumulate
    const AcceleratorConfig cfg = t.make();
    REQUIRE(rtl_array_available(cfg.array));
    const auto num = cfg.array.numerics();
    const int64_t M = 1 + int64_t(rng() % 30), K = 1 + int64_t(rng() % 50), N = 1 + int64_t(rng() % 20);
    const auto A = random_codes(num, false, M * K, rng, 10), B = random_codes(num, true, K * N, rng, 10);
    jobs.push_back(make_gemm_job(cfg, M, K, N, A, B, Engine::Rtl));
    jobs.push_back(make_gemm_job(cfg, M, K, N, A, B, Engine::Model));
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  run_systemc(ptrs);
  for (size_t i = 0; i < jobs.size(); i += 2) {
    INFO("case " << i / 2);
    CHECK(jobs[i].compare() == 0);
    if (cases[i / 2].ports == 1 && jobs[i].lowered.k_tile < jobs[i].k)  // accumulating tiles exist
      CHECK(jobs[i].acc->stats().array_stall_conflict > 0);
    CHECK(jobs[i].output() == jobs[i + 1].output());
    CHECK(jobs[i].acc->stats().cycles == jobs[i + 1].acc->stats().cycles);
  }
}
#endif

// Malformed command streams stop with an error naming the command and the problem.
TEST_CASE("bad command streams are rejected with the command and the reason", "[sim]") {
  const AcceleratorConfig cfg = CfgText{}.make();
  auto error_of = [&](std::vector<firmware::Command> cmds) {
    Accelerator acc(cfg, 1 << 16);
    acc.load_program(std::move(cmds));
    try {
      acc.run(100000);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("ran");
  };
  firmware::Command load;
  load.op = firmware::Opcode::LoadWeights;
  load.rows = load.cols = 4;
  load.buf_rows = load.buf_cols = 4;
  load.dram_stride = 4;
  load.buf_addr = 4090;  // 16 bytes from 4090 overfill the 4096-byte weight buffer
  firmware::Command end;
  end.op = firmware::Opcode::End;
  CHECK(error_of({load, end}) ==
        "command 0 (load_weights, layer 0, tile 0): buffer region [4090, 4106) overfills the 4096-byte buffer");
  load.buf_addr = 0;
  load.dram_addr = (1 << 16) - 8;
  CHECK(error_of({load, end}) == "command 0 (load_weights, layer 0, tile 0): DRAM access beyond the end of DRAM");
  firmware::Command comp;
  comp.op = firmware::Opcode::Compute;
  comp.m = 2, comp.k = 5, comp.n = 4, comp.tile = 3;  // WS: k = 5 > 4 array rows
  CHECK(error_of({comp, end}) == "command 0 (compute, layer 0, tile 3): tile larger than the array");
  firmware::Command pp;
  pp.op = firmware::Opcode::PostProcess;
  pp.out_fmt = 9;
  CHECK(error_of({pp, end}) == "command 0 (postprocess, layer 0, tile 0): unknown output format 9");
  CHECK(error_of({load}) == "command stream ended without End");
  load.dram_addr = 0;
  CHECK(error_of({load, end}) == "ran");
}

// Post-processing: s = float32(row_scale[m] * scale[n]) (or scale[n]), y = value(C[m][n]) * s rounded once,
// + bias[n] when flagged, converted to the consumer's format (INT8/FP8 code, BF16, F32). The expected outputs
// apply model/requant.h (the one definition; tests/model/test_requant.cpp checks it against an independent
// nearest-value search) to the golden GEMM's words: the unit must produce exactly those bytes.
TEST_CASE("post-processing: dequantize, bias, requantize", "[sim]") {
  struct Case {
    std::string df, pe, acc;
    uint8_t out_fmt;  // model::OutFormat code
    bool bias, row_scales;
  };
  const uint8_t bf16 = uint8_t(model::OutFormat::Bf16), f32 = uint8_t(model::OutFormat::F32);
  const Case cases[] = {{"ws", "e4m3", "fp32", 1, true, false}, {"os", "e4m3", "fixed", 2, true, true},
                        {"ws", "int8", "int32", 0, true, false},  {"os", "e5m2", "fp32", 0, false, true},
                        {"ws", "e5m2", "fixed", 1, true, false},  {"ws", "e4m3", "fixed", bf16, true, true},
                        {"os", "int8", "int32", f32, false, false}, {"ws", "int8", "int32", bf16, false, true}};
  std::mt19937_64 rng(23);
  struct Job {
    GemmJob g;
    std::vector<float> scale, bias, rscale;
    float out_scale;
    uint64_t out_addr;
    Case c;
  };
  std::vector<Job> jobs;
  for (const Case& c : cases) {
    CfgText t;
    t.dataflow = c.df, t.pe = c.pe, t.acc = c.acc, t.rows = 4, t.cols = 4, t.in_bytes = 64;
    const AcceleratorConfig cfg = t.make();
    const auto num = cfg.array.numerics();
    const int64_t M = 1 + int64_t(rng() % 13), K = 1 + int64_t(rng() % 20), N = 1 + int64_t(rng() % 11);
    GemmJob g = make_gemm_job(cfg, M, K, N, random_codes(num, false, M * K, rng), random_codes(num, true, K * N, rng));
    Job j{std::move(g), {}, {}, {}, 0.0f, 0, c};
    // Re-lower with post-processing into fresh DRAM space after C.
    const uint64_t base = j.g.c_addr + uint64_t(M * N * cfg.word_bytes());
    const uint64_t scale_addr = base, bias_addr = base + 4 * N, rs_addr = base + 8 * N;
    j.out_addr = rs_addr + 4 * M;
    for (int64_t n = 0; n < N; ++n) {
      j.scale.push_back(std::ldexp(1.0f + float(rng() % 100) / 100.0f, -int(rng() % 8)));
      j.bias.push_back(float(int(rng() % 21) - 10) / 4.0f);
    }
    for (int64_t m = 0; m < M; ++m) j.rscale.push_back(std::ldexp(1.0f + float(rng() % 100) / 100.0f, -int(rng() % 4)));
    j.out_scale = c.out_fmt == 0 ? 0.25f : 1.0f;
    firmware::GemmSpec spec;
    spec.m = M, spec.k = K, spec.n = N, spec.a_addr = j.g.a_addr, spec.b_addr = j.g.b_addr, spec.c_addr = j.g.c_addr;
    spec.post.enabled = true;
    spec.post.scale_addr = scale_addr, spec.post.bias_addr = bias_addr, spec.post.out_addr = j.out_addr;
    spec.post.out_fmt = c.out_fmt, spec.post.out_scale = j.out_scale;
    spec.post.has_bias = c.bias, spec.post.row_scales = c.row_scales, spec.post.row_scale_addr = rs_addr;
    j.g.lowered = firmware::lower_gemm(cfg.target(), spec);
    auto cmds = j.g.lowered.commands;
    firmware::finish_stream(cmds);
    auto& dram = j.g.acc->dram();
    dram.resize(j.out_addr + uint64_t(M * N * model::out_format_bytes(c.out_fmt)));
    std::memcpy(dram.data() + scale_addr, j.scale.data(), 4 * N);
    std::memcpy(dram.data() + bias_addr, j.bias.data(), 4 * N);
    std::memcpy(dram.data() + rs_addr, j.rscale.data(), 4 * M);
    j.g.acc->load_program(cmds);
    jobs.push_back(std::move(j));
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.g.acc.get());
  run_systemc(ptrs);
  for (const Job& j : jobs) {
    const auto& num = j.g.acc->array().numerics();
    const auto gold = j.g.golden();
    const auto& dram = j.g.acc->dram();
    const int ob = model::out_format_bytes(j.c.out_fmt);
    INFO(num.describe() << " -> " << model::out_format_name(j.c.out_fmt) << " bias " << j.c.bias << " row scales "
                        << j.c.row_scales);
    long nonzero = 0;
    for (int64_t m = 0; m < j.g.m; ++m)
      for (int64_t n = 0; n < j.g.n; ++n) {
        const float s = j.c.row_scales ? model::combined_scale(j.rscale[size_t(m)], j.scale[size_t(n)]) : j.scale[size_t(n)];
        const float y = model::dequantize_word_bias(num, gold[size_t(m * j.g.n + n)], s, j.bias[size_t(n)], j.c.bias);
        uint8_t want[4] = {};
        model::requantize_value(y, j.c.out_fmt, j.out_scale, want);
        for (int b = 0; b < ob; ++b) {
          REQUIRE(dram[j.out_addr + uint64_t((m * j.g.n + n) * ob + b)] == want[b]);
          nonzero += want[b] != 0;
        }
      }
    CHECK(nonzero > 0);
    const Stats& st = j.g.acc->stats();
    // Outputs only, no accumulator words.
    CHECK(int64_t(st.dram_written) == j.g.m * j.g.n * ob);
    CHECK(int64_t(st.postprocessed) == j.g.m * j.g.n);
  }
}

// One stream with several layers: a convolution (im2col) and attention's two batched matmuls per head,
// each GEMM followed by a Barrier. Every output is checked against golden_gemm, and the per-layer
// statistics count each layer's MACs and DRAM traffic.
TEST_CASE("multi-layer stream: convolution via im2col and attention", "[sim]") {
  CfgText t;
  t.rows = 4, t.cols = 4, t.dataflow = "os", t.acc = "fixed", t.os_k_tile = 8;
  const AcceleratorConfig cfg = t.make();
  const auto num = cfg.array.numerics();
  const int wb = cfg.word_bytes();
  std::mt19937_64 rng(31);
  // Convolution 1 x 6 x 5 x 3 -> 4 channels, 3x3, stride 1, pad 1: M = 30, K = 27, N = 4 (layer 100).
  firmware::ConvSpec conv;
  conv.in_h = 6, conv.in_w = 5, conv.in_c = 3, conv.out_c = 4, conv.kh = 3, conv.kw = 3, conv.pad = 1;
  const auto x = random_codes(num, false, 6 * 5 * 3, rng);
  const auto a_conv = firmware::im2col(conv, x.data());
  const auto w_conv = random_codes(num, true, 27 * 4, rng);
  firmware::GemmSpec gconv = firmware::conv_as_gemm(conv, 0, 4096, 8192, 100);
  // Attention, 2 heads, seq 6, head_dim 5 (layers 0..3).
  firmware::AttentionSpec at;
  at.heads = 2, at.seq = 6, at.head_dim = 5;
  at.q_addr = 16384, at.kt_addr = 17000, at.p_addr = 18000, at.v_addr = 19000, at.s_addr = 20000, at.o_addr = 24000;
  const auto q = random_codes(num, false, 2 * 6 * 5, rng), kt = random_codes(num, true, 2 * 5 * 6, rng);
  const auto p = random_codes(num, false, 2 * 6 * 6, rng), v = random_codes(num, true, 2 * 6 * 5, rng);
  std::vector<firmware::GemmSpec> gs = {gconv};
  for (const auto& g : firmware::attention_gemms(at, wb)) gs.push_back(g);
  std::vector<firmware::LoweredGemm> lowered;
  auto cmds = firmware::lower_gemms(cfg.target(), gs, &lowered);
  Accelerator acc(cfg, 32768);
  auto put = [&](uint64_t addr, const std::vector<uint8_t>& d) { std::copy(d.begin(), d.end(), acc.dram().begin() + addr); };
  put(gconv.a_addr, a_conv);
  put(gconv.b_addr, w_conv);
  put(at.q_addr, q), put(at.kt_addr, kt), put(at.p_addr, p), put(at.v_addr, v);
  const std::vector<uint8_t> dram0 = acc.dram();
  acc.load_program(cmds);
  run_systemc({&acc});
  const Stats& st = acc.stats();
  uint64_t macs = 0;
  for (size_t i = 0; i < gs.size(); ++i) {
    const auto& g = gs[i];
    const auto A = std::vector<uint8_t>(dram0.begin() + g.a_addr, dram0.begin() + g.a_addr + g.m * g.k);
    const auto B = std::vector<uint8_t>(dram0.begin() + g.b_addr, dram0.begin() + g.b_addr + g.k * g.n);
    const auto gold = model::golden_gemm(num, model::AccumulationOrder{lowered[i].k_chunk}, g.m, g.k, g.n, A.data(), B.data());
    INFO("GEMM " << i << " layer " << g.layer);
    CHECK(acc.read_output(g.c_addr, g.m, g.n) == gold);
    REQUIRE(st.layers.count(g.layer) == 1);
    const LayerStats& L = st.layers.at(g.layer);
    CHECK(int64_t(L.macs) == g.m * g.k * g.n);
    CHECK(int64_t(L.dram_written) == g.m * g.n * wb);
    // OS: A read once per N tile, B once per M tile.
    CHECK(int64_t(L.dram_read) == g.m * g.k * ((g.n + 3) / 4) + g.k * g.n * ((g.m + 3) / 4));
    macs += L.macs;
  }
  CHECK(st.macs == macs);
  // Layers run one after another: a layer's Barrier is dispatched once every unit is idle, and the next
  // layer's first command in the cycle after.
  CHECK(st.layers.at(0).first_cycle == st.layers.at(100).last_cycle + 1);
  for (uint16_t l = 1; l < 4; ++l) CHECK(st.layers.at(l).first_cycle == st.layers.at(uint16_t(l - 1)).last_cycle + 1);
}
