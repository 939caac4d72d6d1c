// Fuzz target: the STS-B TSV reader.
#include <stdexcept>

#include "fuzz_common.h"
#include "fp8sim/model/nn/stsb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const auto& p : fp8sim::nn::load_stsb_tsv(fp8sim::fuzz::input_file(data, size, ".tsv")))
      if (!(p.score == p.score)) __builtin_trap();  // a NaN gold score must have been refused
  } catch (const std::runtime_error&) {
  }
  return 0;
}
