// The STS-B studies of a sentence-embedding workload (issue #15), as fp8sim-ptq subcommands:
//   fp8sim-ptq embed-check  FP32 sentence embeddings against a reference file (the original implementation's)
//   fp8sim-ptq stsb-table   STS-B Spearman under FP32 / INT8 / E4M3 / E5M2 and recipe variations, and the
//                           calibrated input range of every GEMM
// Each takes the arguments after its name and returns the process exit status (0 ok, 1 failure, 2 usage,
// 77 data missing).
#pragma once

#include <string>
#include <vector>

namespace fp8sim::workloads {

int run_embed_check(const std::vector<std::string>& args);
int run_stsb_table(const std::vector<std::string>& args);

}  // namespace fp8sim::workloads
