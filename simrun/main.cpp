// simrun: the command-line front end. This file only dispatches to subcommands (one file each) and turns
// exceptions into the one-line error / exit-status convention of cli.h.
#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "cli.h"

namespace {

using fp8sim::simrun::CommandFn;

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

const Command kCommands[] = {
    {"workloads", "list the workloads, where their weights and inputs come from, and whether they are present",
     fp8sim::simrun::run_list_workloads},
    {"sweep", "design-space sweep (array size, format, accumulator, buffers, DRAM bandwidth): one result line per "
     "design point, CSV and JSON, Pareto fronts in HTML",
     fp8sim::simrun::run_sweep},
    {"quantize", "cast the float tensors of a safetensors file to FP8 (E4M3/E5M2) or INT8, or PTQ-quantize a workload "
     "(--workload, calibrated scales) into the file the simulator imports",
     fp8sim::simrun::run_quantize},
};

void print_help(std::ostream& os) {
  os << "usage: simrun --workload NAME [options]   the main job (options below)\n"
        "       simrun <command> [arguments]\n"
        "       simrun --help | --version\n"
        "\n"
        "The main job quantizes a workload's network (PTQ), lowers every quantized GEMM onto the accelerator,\n"
        "simulates it cycle by cycle, checks every output word against the golden model, costs area and energy,\n"
        "and reports the chosen format (default e4m3) against the compared ones (default int8).\n"
        "\n"
        "commands:\n";
  for (const auto& c : kCommands) {
    std::string name = c.name;
    name.resize(std::max<size_t>(name.size() + 2, 12), ' ');
    os << "  " << name << c.summary << "\n";
  }
  os << "\n";
  fp8sim::simrun::print_run_options(os);
  os << "\n"
        "Run 'simrun <command> --help' for the arguments and options of a command.\n"
        "Exit status: 0 success, 1 I/O, file-format or data error, 2 bad arguments.\n";
}

int fail(const std::string& message, int status) {
  std::string line = message;
  for (char& ch : line)
    if (ch == '\n' || ch == '\r') ch = ' ';  // the convention is one line per error
  std::cerr << "simrun: error: " << line << "\n";
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) {
      print_help(std::cerr);
      return fail("missing command", 2);
    }
    const std::string& first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
      print_help(std::cout);
      return 0;
    }
    if (first == "--version") {
      std::cout << "simrun (fp8sim) 0.1.0\n";
      return 0;
    }
    for (const auto& c : kCommands)
      if (first == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    if (first.rfind("--", 0) == 0) return fp8sim::simrun::run_workload(args);  // simrun --workload NAME ...
    if (!first.empty() && first[0] == '-')
      return fail("unknown option '" + first + "' (see simrun --help)", 2);
    return fail("unknown command '" + first + "' (see simrun --help)", 2);
  } catch (const fp8sim::simrun::UsageError& e) {
    return fail(e.what(), 2);
  } catch (const boost::program_options::error& e) {
    // Subcommands and the main job (options first) parse options.
    if (!args.empty() && args[0].rfind("--", 0) == 0)
      return fail(std::string(e.what()) + " (see simrun --workload NAME --help)", 2);
    return fail(args[0] + ": " + e.what() + " (see simrun " + args[0] + " --help)", 2);
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  } catch (...) {
    return fail("unexpected internal error", 1);
  }
}
