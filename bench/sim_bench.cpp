// fp8sim_bench: simulated PE-cycles per second (rows x cols x simulated cycles / wall seconds, every PE of
// the array counted every cycle) of
//   array  - the modelled systolic array alone, stepped in a plain loop (the PE-loop speed);
//   accel  - the whole accelerator (controller, DMA, buffers, array) inside SystemC on a compute-bound GEMM;
//   rtl    - the accelerator with --engine rtl: the Verilated array in place of the model, the model array
//            beside it for comparison, and each tile checked against golden_gemm (where an RTL array of
//            that shape is built: rtl/CMakeLists.txt FP8SIM_RTL_ARRAYS).
// Usage: fp8sim_bench [--quick]. Single-threaded; rates use this thread's CPU time (the machine is shared).
// The speed rows use shadow_weights = false (the array is driven with weight beats on its compute channel).
//
// fp8sim_bench --gemm768 [--no-rtl]: hidden weight loads, the issue-10 must-show. A compute-bound
// 128x768x768 GEMM (E4M3, random operands) on sim/configs/default32.toml (32x32 WS, exact fixed-point
// accumulator) with stall-free memory (DRAM latency 0, 4096 bytes per cycle; the SRAMs as configured),
// with shadow weights on and off, on the modelled array and on the Verilated RTL array (--engine rtl: each
// output row compared with the model array, each tile with golden_gemm). Prints the cycles and the array
// statistics of each run; every output is compared with golden_gemm.
#include <algorithm>
#include <systemc>

#include <boost/program_options.hpp>
#include <iostream>

#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/sim/fast_array.h"
#include "fp8sim/sim/gemm_run.h"

using namespace fp8sim;
using namespace fp8sim::sim;

namespace {

AcceleratorConfig config(int n, const std::string& pe, const std::string& acc, bool toggles) {
  // Compute-bound: wide fast DRAM, buffers for M = 8n rows per tile.
  const int64_t rows_per_tile = 8 * int64_t(n);
  const int wb = acc != "fixed" ? 4 : pe == "e5m2" ? 16 : 8;
  std::string t = "name = \"bench" + std::to_string(n) + "\"\n[array]\nrows = " + std::to_string(n) +
                  "\ncols = " + std::to_string(n) + "\ndataflow = \"ws\"\npe = \"" + pe + "\"\naccumulator = \"" + acc +
                  "\"\ntoggles = " + (toggles ? "true" : "false") + "\nshadow_weights = false\n";
  auto sram = [&](const char* name, int64_t size, int64_t width) {
    t += std::string("[") + name + "]\nsize_bytes = " + std::to_string(size) + "\nbanks = 1\nbank_width_bytes = " +
         std::to_string(width) + "\nports = 2\nlatency = 2\n";
  };
  sram("input_buffer", 2 * rows_per_tile * n, n);
  sram("weight_buffer", 4 * int64_t(n) * n, n);
  sram("output_buffer", 2 * rows_per_tile * n * wb, int64_t(n) * wb);
  t += "[dram]\nbytes_per_cycle = " + std::to_string(64 * n) + "\nlatency = 20\n";
  return parse_config(t, "bench");
}

// CPU time of this thread: the machine is shared, wall time would count other processes' turns.
double now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The array alone: WS tiles of 8n rows back to back, in_valid always high.
double array_rate(const AcceleratorConfig& cfg, uint64_t cycles) {
  auto arr = make_systolic_array(cfg.array);
  const int R = cfg.array.rows, C = cfg.array.cols;
  std::mt19937_64 rng(1);
  const auto num = cfg.array.numerics();
  const auto a = random_codes(num, false, int64_t(R) * 64, rng), b = random_codes(num, true, int64_t(C) * 64, rng);
  const double t0 = now();
  uint64_t beat = 0;
  for (uint64_t c = 0; c < cycles; ++c) {
    const bool wload = beat % uint64_t(9 * R) < uint64_t(R);
    ArrayInputs in;
    in.valid = true;
    in.wload = wload;
    in.a = &a[(c % 64) * R];
    in.b = &b[(c % 64) * C];
    if (arr->in_ready(wload, true)) ++beat;
    arr->edge(in);
  }
  return double(R) * C * double(cycles) / (now() - t0);
}


// --engines: the fast engine (Engine::Fast) against the reference (Engine::Model), PE-cycles/s of each measured in
// this one run on the same input stream (the two take turns, 1,000 cycles each), for every format and accumulator on a 32x32 array; the two arrays'
// output words (summed per edge), toggles and wraps are compared at the end. Dataflows: WS with shadow weights
// (the default configuration's), WS without, OS.
struct StreamResult {
  double seconds = 0;
  uint64_t words = 0;  // a sum of every output word seen (a cheap fingerprint of the outputs)
};
// One array driven by the stream: each step(n) advances it n cycles and adds this thread's CPU time of those
// cycles to res.seconds.
struct Driver {
  ArrayCore& arr;
  const ArrayParams& p;
  std::vector<uint8_t> a, b;
  std::vector<uint128> out;
  StreamResult res;
  uint64_t c = 0, beat = 0, wrow = 0;
  Driver(ArrayCore& arr_, const ArrayParams& p_) : arr(arr_), p(p_), out(static_cast<size_t>(p_.cols)) {
    std::mt19937_64 rng(11);
    const auto num = p.numerics();
    a = random_codes(num, false, int64_t(p.rows) * 64, rng);
    b = random_codes(num, true, int64_t(p.cols) * 64, rng);
  }
  void step(uint64_t n) {
    const int R = p.rows, C = p.cols;
    const uint64_t M = 8 * uint64_t(R);  // rows per tile (WS) / beats per tile (OS)
    const double t0 = now();
    for (const uint64_t end = c + n; c < end; ++c) {
      if (arr.out_valid()) {
        arr.out_words(out.data());
        for (int j = 0; j < C; ++j) res.words += static_cast<uint64_t>(out[size_t(j)]);
      }
      ArrayInputs in;
      in.valid = true;
      in.a = &a[(c % 64) * R];
      if (p.dataflow == Dataflow::OutputStationary) {
        in.b = &b[(c % 64) * C];
        in.last = beat % M == M - 1;
        if (arr.in_ready(false, true, false, in.last)) ++beat;
      } else if (p.shadow_weights) {
        in.swap = beat % M == 0;
        in.wvalid = true;
        in.b = &b[(wrow % 64) * C];
        if (arr.w_ready(true)) ++wrow;
        if (arr.in_ready(false, true, in.swap)) ++beat;
      } else {
        in.wload = beat % (M + R) < uint64_t(R);
        if (in.wload) in.a = nullptr, in.b = &b[(c % 64) * C];
        if (arr.in_ready(in.wload, true)) ++beat;
      }
      arr.edge(in);
    }
    res.seconds += now() - t0;
  }
};

int engines(bool quick) {
  struct Kind {
    const char* pe;
    PeKind kind;
    model::Fp8Kind fmt;
  };
  const Kind kinds[] = {{"e4m3", PeKind::Fp8Fixed, model::Fp8Kind::E4M3},
                        {"e4m3", PeKind::Fp8Float32, model::Fp8Kind::E4M3},
                        {"e5m2", PeKind::Fp8Fixed, model::Fp8Kind::E5M2},
                        {"e5m2", PeKind::Fp8Float32, model::Fp8Kind::E5M2},
                        {"int8", PeKind::Int8, model::Fp8Kind::E4M3}};
  const char* flows[] = {"ws+shadow", "ws", "os"};
  const uint64_t cycles = quick ? 3000 : 40000;
  std::printf("32x32 array, %llu cycles per run, toggles on; fast row kernels: %s\n",
              static_cast<unsigned long long>(cycles), fast_array_kernels().c_str());
  std::printf("%-10s %-24s %18s %18s %8s  %s\n", "dataflow", "numerics", "cycle PE-cyc/s", "fast PE-cyc/s", "ratio",
              "equal");
  int bad = 0;
  for (const char* flow : flows)
    for (const Kind& k : kinds) {
      ArrayParams p;
      p.rows = p.cols = 32;
      p.pe = k.kind;
      p.fmt_a = p.fmt_b = k.fmt;
      p.dataflow = std::string(flow) == "os" ? Dataflow::OutputStationary : Dataflow::WeightStationary;
      p.shadow_weights = std::string(flow) == "ws+shadow";
      p.toggles = true;
      const char* only = std::getenv("FP8SIM_BENCH_ONLY");
      if (only && (std::string(flow) + " " + p.numerics().describe()).find(only) == std::string::npos) continue;
      auto ref = make_systolic_array(p);
      auto fast = make_fast_array(p);
      // The two arrays take turns, 1,000 cycles each, so that a change in the machine's load (it is shared)
      // falls on both alike.
      Driver dr(*ref, p), df(*fast, p);
      for (uint64_t done = 0; done < cycles; done += 1000) {
        const uint64_t n = std::min<uint64_t>(1000, cycles - done);
        dr.step(n);
        df.step(n);
      }
      const StreamResult r = dr.res, f = df.res;
      const bool equal = r.words == f.words && ref->toggles().a_regs == fast->toggles().a_regs &&
                         ref->toggles().b_regs == fast->toggles().b_regs &&
                         ref->toggles().acc_regs == fast->toggles().acc_regs && ref->wraps() == fast->wraps() &&
                         ref->edges() == fast->edges();
      bad += !equal;
      const double pe = 32.0 * 32.0 * double(cycles);
      std::printf("%-10s %-24s %18.3g %18.3g %7.1fx  %s\n", flow, p.numerics().describe().c_str(), pe / r.seconds,
                  pe / f.seconds, r.seconds / f.seconds, equal ? "outputs, toggles, wraps equal" : "DIFFERENT");
      std::fflush(stdout);
    }
  return bad ? 1 : 0;
}

// --gemm768: see the header.
int gemm768(bool with_rtl) {
  const std::string path = std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/default32.toml";
  AcceleratorConfig base = load_config(path);
  base.dram.latency = 0;
  base.dram.bytes_per_cycle = 4096;
  const int64_t M = 128, K = 768, N = 768;
  std::mt19937_64 rng(768);
  const auto num = base.array.numerics();
  const auto A = random_codes(num, false, M * K, rng), B = random_codes(num, true, K * N, rng);
  std::vector<GemmJob> jobs;
  std::vector<std::string> names;
  for (bool sh : {true, false})
    for (Engine e : {Engine::Model, Engine::Rtl}) {
      AcceleratorConfig cfg = base;
      cfg.array.shadow_weights = sh;
      if (e == Engine::Rtl && (!with_rtl || !rtl_array_available(cfg.array))) continue;
      jobs.push_back(make_gemm_job(cfg, M, K, N, A, B, e));
      names.push_back(std::string("shadow_weights ") + (sh ? "on " : "off") + (e == Engine::Rtl ? "  rtl  " : "  model"));
    }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  std::vector<double> secs;
  run_systemc(ptrs, {}, &secs);
  std::printf("128x768x768 E4M3 GEMM on %s (32x32 WS, fixed-point accumulator), DRAM latency 0, 4096 B/cycle\n",
              path.c_str());
  int bad = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Stats& st = jobs[i].acc->stats();
    const size_t mism = jobs[i].compare();
    bad += mism != 0;
    std::printf("%s  tiles %lld  cycles %llu  array: compute %llu, weight_load %llu, fill_drain %llu, stall_dram %llu, "
                "stall_conflict %llu, idle %llu  PE utilization %.3f  golden mismatches %zu  (%.1f s)\n",
                names[i].c_str(), static_cast<long long>(jobs[i].lowered.tiles),
                static_cast<unsigned long long>(st.cycles), static_cast<unsigned long long>(st.array_compute),
                static_cast<unsigned long long>(st.array_weight_load), static_cast<unsigned long long>(st.array_fill_drain),
                static_cast<unsigned long long>(st.array_stall_dram), static_cast<unsigned long long>(st.array_stall_conflict),
                static_cast<unsigned long long>(st.array_idle), st.pe_utilization(32, 32), mism, secs[i]);
  }
  return bad ? 1 : 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description d("options");
  d.add_options()("quick", po::bool_switch(), "shorter runs (a smoke test of the benchmark)")(
      "gemm768", po::bool_switch(),
      "the 128x768x768 GEMM on default32 with stall-free memory (shadow weights on and off; model, and RTL when built)")(
      "no-rtl", po::bool_switch(), "with --gemm768: skip the Verilated RTL run")(
      "engines", po::bool_switch(),
      "fast engine against the reference engine: PE-cycles/s of each on a 32x32 array, every format and accumulator")("help,h", "this text");
  bool quick = false, gemm768_mode = false, no_rtl = false, engines_mode = false;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << "usage: fp8sim_bench [--quick] [--gemm768 [--no-rtl]] [--engines]\nSimulated PE-cycles per second of the "
                   "modelled array and the whole accelerator; --gemm768: cycles of the compute-bound 128x768x768 GEMM.\n\n"
                << d;
      return 0;
    }
    quick = vm["quick"].as<bool>();
    gemm768_mode = vm["gemm768"].as<bool>();
    no_rtl = vm["no-rtl"].as<bool>();
    engines_mode = vm["engines"].as<bool>();
  } catch (const po::error& e) {
    std::cerr << "fp8sim_bench: error: " << e.what() << "\n";
    return 2;
  }
  if (gemm768_mode) return gemm768(!no_rtl);
  if (engines_mode) return engines(quick);
  struct Row {
    int n;
    std::string pe, acc;
    bool toggles;
  };
  const std::vector<Row> rows = {{16, "e4m3", "fp32", true},   {16, "e4m3", "fp32", false}, {16, "int8", "int32", true},
                                 {32, "e4m3", "fixed", true},  {32, "e4m3", "fp32", true},  {32, "e4m3", "fp32", false},
                                 {128, "e4m3", "fp32", true},  {128, "e4m3", "fp32", false}, {128, "e5m2", "fixed", true},
                                 {8, "e4m3", "fp32", true}};
  std::printf("%-8s %-22s %-8s %16s %16s %14s %6s\n", "array", "numerics", "toggles", "array PE-cyc/s",
              "accel PE-cyc/s", "accel cycles", "busy");
  // The accelerator runs all inside one SystemC simulation (SystemC elaborates once per process).
  std::vector<GemmJob> jobs;
  std::vector<std::string> labels;
  std::vector<double> array_rates;
  for (const Row& r : rows) {
    const AcceleratorConfig cfg = config(r.n, r.pe, r.acc, r.toggles);
    const uint64_t target_pe_cycles = quick ? 20'000'000ull : 200'000'000ull;
    array_rates.push_back(array_rate(cfg, std::max<uint64_t>(2000, target_pe_cycles / (uint64_t(r.n) * r.n))));
    std::mt19937_64 rng(2);
    const auto num = cfg.array.numerics();
    // M = 8n rows per tile (one M tile), N = n, K = kt * n: kt tiles of 2n + 8n + n - 2 cycles each (+ the
    // DMA prologue), kt chosen for about target_pe_cycles simulated PE-cycles.
    const int64_t kt = std::max<int64_t>(1, int64_t(target_pe_cycles / (uint64_t(r.n) * r.n * 11 * uint64_t(r.n))));
    const int64_t M = 8 * int64_t(r.n), K = kt * int64_t(r.n), N = int64_t(r.n);
    jobs.push_back(make_gemm_job(cfg, M, K, N, random_codes(num, false, M * K, rng), random_codes(num, true, K * N, rng)));
    labels.push_back(num.describe());
  }
  // RTL in the loop where a Verilated array exists (16x16 and 8x8 e4m3/fp32 WS).
  std::vector<size_t> rtl_rows;
  std::vector<GemmJob> rtl_jobs;
  for (size_t i = 0; i < rows.size(); ++i) {
    AcceleratorConfig cfg = config(rows[i].n, rows[i].pe, rows[i].acc, rows[i].toggles);
    if (!rtl_array_available(cfg.array)) cfg.array.shadow_weights = true;  // the 8x8 and 32x32 RTL arrays have them
    if (!rtl_array_available(cfg.array) || !rows[i].toggles) continue;
    // Verilator is ~20x slower: a tenth of the K tiles, and the same GEMM on the model engine for the
    // cycle comparison.
    const GemmJob& m = jobs[i];
    const int64_t K = std::max<int64_t>(rows[i].n, m.k / 10 / rows[i].n * rows[i].n);
    std::mt19937_64 rng(4);
    const auto num = cfg.array.numerics();
    auto A = random_codes(num, false, m.m * K, rng), B = random_codes(num, true, K * m.n, rng);
    rtl_jobs.push_back(make_gemm_job(cfg, m.m, K, m.n, A, B, Engine::Rtl));
    rtl_jobs.push_back(make_gemm_job(cfg, m.m, K, m.n, A, B, Engine::Model));
    rtl_rows.push_back(i);
  }
  std::vector<Accelerator*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.acc.get());
  for (auto& j : rtl_jobs) ptrs.push_back(j.acc.get());
  std::vector<double> secs;
  run_systemc(ptrs, {}, &secs);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const double pe_cycles = double(r.n) * r.n * double(jobs[i].acc->stats().cycles);
    // busy: cycles in which a beat entered the array (the rest is fill/drain and the DMA prologue).
    const Stats& st = jobs[i].acc->stats();
    const double busy = double(st.array_compute + st.array_weight_load) / double(st.cycles);
    std::printf("%3dx%-4d %-22s %-8s %16.3g %16.3g %14llu %5.1f%%%s\n", r.n, r.n, labels[i].c_str(),
                r.toggles ? "on" : "off", array_rates[i], pe_cycles / secs[i],
                static_cast<unsigned long long>(st.cycles), 100 * busy, jobs[i].compare() ? "  GOLDEN MISMATCH" : "");
  }
  for (size_t k = 0; k < rtl_rows.size(); ++k) {
    const size_t i = rtl_rows[k], j = rows.size() + 2 * k;
    const Row& r = rows[i];
    const GemmJob& rj = rtl_jobs[2 * k];
    const GemmJob& mj = rtl_jobs[2 * k + 1];
    const double pe_cycles = double(r.n) * r.n * double(rj.acc->stats().cycles);
    std::printf("%3dx%-4d %-22s rtl-in-the-loop (Verilated array + model shadow + golden per tile): %.3g PE-cycles/s "
                "(%.3g cycles/s), model engine on the same GEMM %.3g PE-cycles/s; cycles %llu, %s the model's%s\n",
                r.n, r.n, labels[i].c_str(), pe_cycles / secs[j], double(rj.acc->stats().cycles) / secs[j],
                pe_cycles / secs[j + 1], static_cast<unsigned long long>(rj.acc->stats().cycles),
                rj.acc->stats().cycles == mj.acc->stats().cycles ? "equal to" : "DIFFERENT from",
                rj.compare() ? "  GOLDEN MISMATCH" : "");
  }
  return 0;
}
