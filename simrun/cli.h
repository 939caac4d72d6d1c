// Shared pieces of the simrun command line: the subcommand entry points and the error convention.
//
// Exit status: 0 success, 1 an I/O or file-format error (or a data error such as NaN cast to INT8),
// 2 bad arguments. Errors are reported by main() as one line, "simrun: error: <message>", on stderr.
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fp8sim::simrun {

// Bad arguments: exit status 2. (boost::program_options errors are treated the same way.)
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A subcommand receives the arguments after its name and returns the exit status; it throws
// UsageError for bad arguments and std::runtime_error (SafetensorsError, ...) for everything else.
using CommandFn = int (*)(const std::vector<std::string>& args);

int run_quantize(const std::vector<std::string>& args);
int run_workload(const std::vector<std::string>& args);   // simrun --workload NAME ...
void print_run_options(std::ostream& os);                 // the main job's options, with their defaults
int run_sweep(const std::vector<std::string>& args);      // simrun sweep SPEC ...
int run_list_workloads(const std::vector<std::string>& args);  // simrun workloads

}  // namespace fp8sim::simrun
