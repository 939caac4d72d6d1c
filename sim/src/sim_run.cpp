// fp8sim_sim_run: runs one configuration on one random GEMM inside SystemC, checks every output word
// against model::golden_gemm, prints statistics, and writes or checks a reference-output file.
//   fp8sim_sim_run --config sim/configs/small8.toml [--m 20 --k 37 --n 11] [--seed 1] [--engine model|rtl]
//                  [--vcd out.vcd --vcd-from 0 --vcd-to 500] [--write-ref FILE] [--dump-commands FILE]
//                  [--command-stats] [--mapping fixed|auto] [--mapping-objective dram|cycles|energy]
// Exit status: 0 ok, 1 mismatch or simulation error, 2 bad arguments or configuration.
#include <systemc>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "fp8sim/sim/gemm_run.h"

using namespace fp8sim;

namespace {

const char* const kHelp =
    "usage: fp8sim_sim_run --config FILE [options]\n"
    "Runs one named accelerator configuration (sim/configs/*.toml) on one GEMM of random operand codes\n"
    "(SYNTHETIC data, seeded) inside SystemC, checks every output word against model::golden_gemm, and prints\n"
    "the statistics. The PE type, accumulator, dataflow and buffers come from the configuration file.\n"
    "options (defaults in brackets):\n"
    "  --config FILE          accelerator configuration (required)\n"
    "  --m M --k K --n N      GEMM shape, A is M x K, B is K x N [20, 37, 11]\n"
    "  --seed S               operand seed [1]\n"
    "  --engine model|rtl     modelled array, or the Verilated RTL array in the loop (only for the array\n"
    "                         configurations built in rtl/CMakeLists.txt) [model]\n"
    "  --vcd FILE             write a VCD of the accelerator's probes for cycles [--vcd-from, --vcd-to] [0, 1000]\n"
    "  --write-ref FILE       write the reference-output file (sim/configs/ref/)\n"
    "  --dump-commands FILE   write the lowered command stream as text\n"
    "  --command-stats        print statistics per command\n"
    "  --mapping fixed|auto   loop order and tiles: today's fixed order, or the mapper's choice\n"
    "                         (firmware/mapper.h) for --mapping-objective [fixed]\n"
    "  --mapping-objective dram|cycles|energy  what the mapper minimises [dram]\n"
    "  --help                 this text\n"
    "exit status: 0 ok, 1 mismatch or simulation error, 2 bad arguments or configuration\n";

}  // namespace

int sc_main(int argc, char** argv) {
  std::string config, engine = "model", write_ref, dump, vcd, mapping = "fixed", objective = "dram";
  bool command_stats = false;
  int64_t m = 20, k = 37, n = 11;
  uint64_t seed = 1, vcd_from = 0, vcd_to = 1000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fp8sim_sim_run: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--config") config = next();
      else if (a == "--m") m = std::stoll(next());
      else if (a == "--k") k = std::stoll(next());
      else if (a == "--n") n = std::stoll(next());
      else if (a == "--seed") seed = std::stoull(next());
      else if (a == "--engine") engine = next();
      else if (a == "--write-ref") write_ref = next();
      else if (a == "--dump-commands") dump = next();
      else if (a == "--command-stats") command_stats = true;
      else if (a == "--mapping") mapping = next();
      else if (a == "--mapping-objective") objective = next();
      else if (a == "--vcd") vcd = next();
      else if (a == "--vcd-from") vcd_from = std::stoull(next());
      else if (a == "--vcd-to") vcd_to = std::stoull(next());
      else {
        std::cerr << "fp8sim_sim_run: unknown argument " << a << "\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "fp8sim_sim_run: bad value for " << a << "\n";
      return 2;
    }
  }
  if (mapping != "fixed" && mapping != "auto") {
    std::cerr << "fp8sim_sim_run: --mapping must be fixed or auto\n";
    return 2;
  }
  if (objective != "dram" && objective != "cycles" && objective != "energy") {
    std::cerr << "fp8sim_sim_run: --mapping-objective must be dram, cycles or energy\n";
    return 2;
  }
  if (config.empty() || (engine != "model" && engine != "rtl") || m < 1 || k < 1 || n < 1) {
    std::cerr << "usage: fp8sim_sim_run --config FILE [--m M --k K --n N] [--seed S] [--engine model|rtl] "
                 "[--vcd FILE --vcd-from C --vcd-to C] [--write-ref FILE] [--dump-commands FILE] [--command-stats]\n";
    return 2;
  }
  sim::AcceleratorConfig cfg;
  try {
    cfg = sim::load_config(config);
  } catch (const std::exception& e) {
    std::cerr << "fp8sim_sim_run: " << e.what() << "\n";
    return 2;
  }
  try {
    std::mt19937_64 rng(seed);
    const auto num = cfg.array.numerics();
    auto A = sim::random_codes(num, false, m * k, rng);
    auto B = sim::random_codes(num, true, k * n, rng);
    firmware::GemmSpec spec;
    spec.m = m, spec.k = k, spec.n = n;
    const firmware::Mapping map =
        mapping == "auto" ? firmware::choose_mapping(cfg.target(), spec, firmware::parse_mapping_objective(objective))
                          : firmware::fixed_mapping(cfg.target(), spec);
    sim::GemmJob job = sim::make_gemm_job(cfg, m, k, n, std::move(A), std::move(B),
                                          engine == "rtl" ? sim::Engine::Rtl : sim::Engine::Model, nullptr, &map);
    if (!dump.empty()) {
      std::vector<firmware::Command> cmds = job.lowered.commands;
      firmware::finish_stream(cmds);
      std::ofstream(dump) << firmware::commands_to_text(cmds);
    }
    sim::run_systemc({job.acc.get()}, sim::VcdOptions{vcd, vcd_from, vcd_to});
    std::string report;
    const size_t bad = job.compare(&report);
    const sim::Stats& st = job.acc->stats();
    std::cout << cfg.name << ": " << num.describe() << ", " << cfg.array.rows << "x" << cfg.array.cols << " "
              << (cfg.array.dataflow == sim::Dataflow::WeightStationary ? "ws" : "os") << ", GEMM M=" << m
              << " K=" << k << " N=" << n << ", engine " << engine << "\n"
              << "mapping: " << map.describe(spec) << "\n"
              << st.to_text(cfg) << "golden mismatches " << bad << " of " << m * n << "\n"
              << report;
    if (command_stats)
      for (const sim::CommandStats& c : st.commands)
        std::cout << "command " << c.index << " " << firmware::opcode_name(c.op) << " layer " << c.layer << " tile "
                  << c.tile << ": dispatch " << c.dispatch << " start " << c.start << " end " << c.end << " stall "
                  << c.stall_cycles << "\n";
    if (!write_ref.empty()) {
      std::ofstream f(write_ref);
      f << "# fp8sim reference output: sim/src/sim_run.cpp --config " << config << " --m " << m << " --k " << k
        << " --n " << n << " --seed " << seed << "\n"
        << "# words: C row-major, model::AccWord raw (hex, two's complement 128-bit) and class\n"
        << "config " << cfg.name << "\n"
        << "gemm " << m << " " << k << " " << n << " " << seed << "\n"
        << "cycles " << st.cycles << "\n";
      for (const auto& w : job.output()) {
        const auto u = static_cast<model::uint128>(w.raw);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%016llx%016llx %d", static_cast<unsigned long long>(u >> 64),
                      static_cast<unsigned long long>(u), static_cast<int>(w.cls));
        f << buf << "\n";
      }
    }
    return bad == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "fp8sim_sim_run: " << e.what() << "\n";
    return 1;
  }
}
