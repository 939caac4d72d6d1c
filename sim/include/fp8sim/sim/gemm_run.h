// Running one GEMM on the accelerator: operands placed in DRAM, the GEMM lowered for the configuration,
// the result read back and compared word for word with model::golden_gemm in the order the lowering
// declares. Shared by the tests, the bench program and fp8sim_sim_run.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fp8sim/firmware/lowering.h"
#include "fp8sim/sim/accelerator.h"

namespace fp8sim::sim {

// Random operand codes, reproducible (raw mt19937_64 draws). FP8: NaN/Inf codes only at special_per_mille.
std::vector<uint8_t> random_codes(const model::GemmNumerics& num, bool b_operand, int64_t count, std::mt19937_64& rng,
                                  unsigned special_per_mille = 0);

struct GemmJob {
  int64_t m = 0, k = 0, n = 0;
  std::vector<uint8_t> a, b;
  uint64_t a_addr = 0, b_addr = 0, c_addr = 0;
  firmware::LoweredGemm lowered;
  std::unique_ptr<Accelerator> acc;

  // The result in DRAM after the run, and the golden GEMM in the lowering's accumulation order.
  std::vector<model::AccWord> output() const;
  std::vector<model::AccWord> golden() const;
  // Number of differing words; the first few described in *report.
  size_t compare(std::string* report = nullptr) const;
};

GemmJob make_gemm_job(const AcceleratorConfig& cfg, int64_t m, int64_t k, int64_t n, std::vector<uint8_t> a,
                      std::vector<uint8_t> b, Engine engine = Engine::Model);

}  // namespace fp8sim::sim
