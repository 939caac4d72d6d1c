// fp8sim_vp: the example virtual platform (platform.h) on a random GEMM. The host writes the operands and the
// command stream into memory, programs the accelerator's registers, waits for its interrupt and checks C
// against the golden GEMM; the cycle count is compared with the standalone engine's on the same stream.
//   fp8sim_vp [--config FILE] [--gemm MxKxN] [--timing lt|at|both] [--quantum-ns Q] [--seed S]
// Exit status: 0 results and cycle counts agree, 1 a mismatch, 2 bad arguments.
#include <systemc>
#include <tlm>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/tlm/platform.h"

using namespace fp8sim;

namespace {

int usage(const std::string& why) {
  if (!why.empty()) std::cerr << "fp8sim_vp: error: " << why << "\n";
  (why.empty() ? std::cout : std::cerr)
      << "usage: fp8sim_vp [--config FILE] [--gemm MxKxN] [--timing lt|at|both] [--quantum-ns Q] [--seed S]\n"
         "Runs a random GEMM on the example TLM-2.0 virtual platform (host model, memory model, accelerator):\n"
         "the host writes A, B and the binary command stream into memory, programs the registers, waits for\n"
         "the interrupt, and checks C against model::golden_gemm; the accelerator's CYCLES register is compared\n"
         "with the standalone engine (sim::Accelerator::run) on the same stream.\n"
         "  --config FILE   accelerator configuration [sim/configs/small8.toml]\n"
         "  --gemm MxKxN    GEMM shape [40x50x20]\n"
         "  --timing T      lt (loosely timed), at (approximately timed) or both side by side [both]\n"
         "  --quantum-ns Q  global quantum of the loosely-timed model [1000]\n"
         "  --seed S        operand seed [1]\n"
         "Exit status: 0 all agree, 1 a mismatch or run error, 2 bad arguments.\n";
  return why.empty() ? 0 : 2;
}

}  // namespace

int sc_main(int argc, char** argv) {
  std::string config = std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8.toml", timing = "both";
  long long m = 40, k = 50, n = 20, quantum = 1000;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return usage("");
    if (i + 1 >= argc) return usage("option '" + a + "' needs a value (or is unknown)");
    const std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--config") config = v;
    else if (a == "--timing") timing = v;
    else if (a == "--gemm") {
      char x1 = 0, x2 = 0, extra = 0;
      if (std::sscanf(v.c_str(), "%lld%c%lld%c%lld%c", &m, &x1, &k, &x2, &n, &extra) != 5 || x1 != 'x' || x2 != 'x' ||
          m < 1 || k < 1 || n < 1 || m * k > (1 << 24) || k * n > (1 << 24) || m * n > (1 << 22))
        return usage("--gemm '" + v + "' is not MxKxN with positive sizes (operands up to 16 MiB, C up to 4M words)");
    } else if (a == "--quantum-ns") {
      quantum = std::strtoll(v.c_str(), &end, 10);
      if (*end || quantum < 1) return usage("--quantum-ns '" + v + "' is not a positive integer");
    } else if (a == "--seed") {
      seed = std::strtoull(v.c_str(), &end, 10);
      if (*end || v.empty()) return usage("--seed '" + v + "' is not a non-negative integer");
    } else {
      return usage("unknown option '" + a + "'");
    }
  }
  if (timing != "lt" && timing != "at" && timing != "both") return usage("--timing '" + timing + "' is not lt, at or both");
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  try {
    const sim::AcceleratorConfig cfg = sim::load_config(config);
    std::mt19937_64 rng(seed);
    const auto num = cfg.array.numerics();
    vp::GemmTask task;
    task.m = m, task.k = k, task.n = n;
    task.a = sim::random_codes(num, false, m * k, rng);
    task.b = sim::random_codes(num, true, k * n, rng);

    // The standalone engine on the same GEMM (make_gemm_job lays DRAM out as the host does).
    sim::GemmJob job = sim::make_gemm_job(cfg, m, k, n, task.a, task.b);
    job.acc->run();
    const uint64_t standalone = job.acc->stats().cycles;

    tlm::tlm_global_quantum::instance().set(sc_core::sc_time(double(quantum), sc_core::SC_NS));
    std::vector<std::unique_ptr<vp::Platform>> platforms;
    for (vp::Timing t : {vp::Timing::LooselyTimed, vp::Timing::ApproximatelyTimed}) {
      if ((t == vp::Timing::LooselyTimed && timing == "at") || (t == vp::Timing::ApproximatelyTimed && timing == "lt"))
        continue;
      vp::PlatformOptions po;
      po.timing = t;
      platforms.push_back(std::make_unique<vp::Platform>(t == vp::Timing::LooselyTimed ? "lt" : "at", cfg, po));
      platforms.back()->host.tasks.push_back(task);
    }
    sc_core::sc_start();
    bool ok = true;
    std::cout << "fp8sim_vp: " << cfg.name << ", GEMM " << m << "x" << k << "x" << n << " (seed " << seed << ")\n";
    for (const auto& p : platforms) {
      if (!p->host.finished() || p->host.results.size() != 1) {
        std::cout << "  " << vp::timing_name(p->accelerator.timing()) << ": the host did not finish\n";
        ok = false;
        continue;
      }
      const vp::TaskResult& r = p->host.results[0];
      const bool done = r.status == vp::reg::kStatusDone;
      std::cout << "  " << vp::timing_name(p->accelerator.timing()) << ": STATUS " << (done ? "DONE" : "ERROR")
                << (done ? "" : " (" + p->accelerator.last_error() + ")") << ", " << r.commands << " commands, CYCLES "
                << r.cycles << " (standalone engine " << standalone << "), MACS " << r.macs << ", DRAM read/written "
                << r.dram_read << "/" << r.dram_written << " bytes; C: " << r.c.size() - r.mismatches << " of "
                << r.c.size() << " words equal model::golden_gemm" << (r.mismatches ? " (first: " + r.first_mismatch + ")" : "")
                << "; START to interrupt " << (r.finished - r.started).to_string() << " of SystemC time, "
                << p->accelerator.bus_transactions() << " DMA transactions\n";
      ok = ok && done && r.mismatches == 0 && r.cycles == standalone;
    }
    std::cout << (ok ? "fp8sim_vp: OK\n" : "fp8sim_vp: FAILED\n");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "fp8sim_vp: error: " << e.what() << "\n";
    return 1;
  }
}
