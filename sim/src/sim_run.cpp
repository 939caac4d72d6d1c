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

#include <boost/program_options.hpp>

#include "fp8sim/model/parse_number.h"
#include "fp8sim/sim/gemm_run.h"
#include "fp8sim/sim/mx_array.h"

using namespace fp8sim;

namespace {

namespace po = boost::program_options;

const char* const kUsage =
    "usage: fp8sim_sim_run --config FILE [options]\n"
    "Runs one named accelerator configuration (sim/configs/*.toml) on one GEMM of random operand codes\n"
    "(SYNTHETIC data, seeded) inside SystemC, checks every output word against model::golden_gemm, and prints\n"
    "the statistics. The PE type, accumulator, dataflow and buffers come from the configuration file.\n"
    "MX configurations (e.g. sim/configs/small8_mx.toml): random floats per block converted to MX by\n"
    "model::mx_quantize (SYNTHETIC), checked against model::golden_gemm_mx (exact semantics); --mapping fixed only.\n";

}  // namespace

int sc_main(int argc, char** argv) {
  std::string config, engine = "model", write_ref, dump, vcd, mapping = "fixed", objective = "dram";
  bool command_stats = false;
  int64_t m = 20, k = 37, n = 11;
  uint64_t seed = 1, vcd_from = 0, vcd_to = 1000;
  // Every command line through boost::program_options (as simrun); numbers parsed whole and range-checked.
  po::options_description d("options", 110, 50);
  // clang-format off
  d.add_options()
    ("config", po::value<std::string>(), "accelerator configuration (required)")
    ("m", po::value<std::string>()->default_value("20"), "GEMM rows of A (1 .. 2^24)")
    ("k", po::value<std::string>()->default_value("37"), "GEMM inner dimension (1 .. 2^24)")
    ("n", po::value<std::string>()->default_value("11"), "GEMM columns of B (1 .. 2^24)")
    ("seed", po::value<std::string>()->default_value("1"), "operand seed")
    ("engine", po::value<std::string>()->default_value("model"), "model: the modelled array; rtl: the Verilated RTL array in the loop (only the array configurations built in rtl/CMakeLists.txt)")
    ("mapping", po::value<std::string>()->default_value("fixed"), "loop order and tiles: fixed (today's order) or auto (the mapper's choice, firmware/mapper.h, for --mapping-objective)")
    ("mapping-objective", po::value<std::string>()->default_value("dram"), "what the mapper minimises: dram, cycles or energy")
    ("vcd", po::value<std::string>(), "write a VCD of the accelerator's probes for cycles [--vcd-from, --vcd-to]")
    ("vcd-from", po::value<std::string>()->default_value("0"), "first VCD cycle")
    ("vcd-to", po::value<std::string>()->default_value("1000"), "last VCD cycle")
    ("write-ref", po::value<std::string>(), "write the reference-output file (sim/configs/ref/)")
    ("dump-commands", po::value<std::string>(), "write the lowered command stream as text")
    ("command-stats", po::bool_switch(), "print statistics per command")
    ("help,h", "this text");
  // clang-format on
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << kUsage << "\n" << d
                << "\nExit status: 0 ok, 1 mismatch or simulation error, 2 bad arguments or configuration.\n";
      return 0;
    }
    if (!vm.count("config")) throw std::invalid_argument("missing --config FILE");
    config = vm["config"].as<std::string>();
    const int64_t max_dim = int64_t{1} << 24;
    m = parse_number<int64_t>(vm["m"].as<std::string>(), "--m", 1, max_dim);
    k = parse_number<int64_t>(vm["k"].as<std::string>(), "--k", 1, max_dim);
    n = parse_number<int64_t>(vm["n"].as<std::string>(), "--n", 1, max_dim);
    seed = parse_number<uint64_t>(vm["seed"].as<std::string>(), "--seed");
    engine = vm["engine"].as<std::string>();
    if (engine != "model" && engine != "rtl") throw std::invalid_argument("--engine '" + engine + "' is not model or rtl");
    mapping = vm["mapping"].as<std::string>();
    if (mapping != "fixed" && mapping != "auto") throw std::invalid_argument("--mapping must be fixed or auto");
    objective = vm["mapping-objective"].as<std::string>();
    if (objective != "dram" && objective != "cycles" && objective != "energy")
      throw std::invalid_argument("--mapping-objective must be dram, cycles or energy");
    if (vm.count("vcd")) vcd = vm["vcd"].as<std::string>();
    vcd_from = parse_number<uint64_t>(vm["vcd-from"].as<std::string>(), "--vcd-from");
    vcd_to = parse_number<uint64_t>(vm["vcd-to"].as<std::string>(), "--vcd-to");
    if (vcd_to < vcd_from) throw std::invalid_argument("--vcd-to is before --vcd-from");
    if (vm.count("write-ref")) write_ref = vm["write-ref"].as<std::string>();
    if (vm.count("dump-commands")) dump = vm["dump-commands"].as<std::string>();
    command_stats = vm["command-stats"].as<bool>();
  } catch (const std::exception& e) {  // po::error and the range checks: one line, exit status 2
    std::cerr << "fp8sim_sim_run: error: " << e.what() << "\n";
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
    std::vector<uint8_t> A, B;
    sim::MxScales mxs;  // MX arrays: random MX operands (synthetic, sim::random_mx_operands)
    if (cfg.array.mx) {
      if (mapping != "fixed") throw std::invalid_argument("--mapping auto: MX GEMMs have one fixed lowering");
      mxs = sim::random_mx_operands(cfg.array, m, k, n, rng, A, B);
    } else {
      A = sim::random_codes(num, false, m * k, rng);
      B = sim::random_codes(num, true, k * n, rng);
    }
    firmware::GemmSpec spec;
    spec.m = m, spec.k = k, spec.n = n;
    const firmware::Mapping map =
        mapping == "auto" ? firmware::choose_mapping(cfg.target(), spec, firmware::parse_mapping_objective(objective))
                          : firmware::fixed_mapping(cfg.target(), spec);
    sim::GemmJob job = sim::make_gemm_job(cfg, m, k, n, std::move(A), std::move(B),
                                          engine == "rtl" ? sim::Engine::Rtl : sim::Engine::Model, nullptr,
                                          cfg.array.mx ? nullptr : &map, {}, nullptr, cfg.array.mx ? &mxs : nullptr);
    if (!dump.empty()) {
      std::vector<firmware::Command> cmds = job.lowered.commands;
      firmware::finish_stream(cmds);
      std::ofstream(dump) << firmware::commands_to_text(cmds);
    }
    sim::run_systemc({job.acc.get()}, sim::VcdOptions{vcd, vcd_from, vcd_to});
    std::string report;
    const size_t bad = job.compare(&report);
    const sim::Stats& st = job.acc->stats();
    std::cout << cfg.name << ": " << (cfg.array.mx ? sim::mx_gemm_numerics(cfg.array).describe() : num.describe()) << ", " << cfg.array.rows << "x" << cfg.array.cols << " "
              << (cfg.array.dataflow == sim::Dataflow::WeightStationary ? "ws" : "os") << ", GEMM M=" << m
              << " K=" << k << " N=" << n << ", engine " << engine << "\n"
              << "mapping: " << (cfg.array.mx ? "MX lowering, K tile " + std::to_string(job.lowered.k_tile)
                                                 : map.describe(spec)) << "\n"
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
