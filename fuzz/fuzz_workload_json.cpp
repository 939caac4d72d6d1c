// Fuzz target: workload definition files (workloads/*.json) through the workload loader. The data it names
// is looked up under a directory that does not exist, so valid files end in MissingData; synthetic weight
// generation (not a parser: gigabytes for bert-large) is skipped.
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <stdexcept>

#include "fuzz_common.h"
#include "fp8sim/workloads/runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool no_real_weights = ::setenv("FP8SIM_MINILM_DIR", "/nonexistent/fp8sim-fuzz-minilm", 1) == 0;
  (void)no_real_weights;
  const std::string t = fp8sim::fuzz::text(data, size);
  const nlohmann::json j = nlohmann::json::parse(t, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("weights") && j["weights"].is_object() &&
      j["weights"].contains("source") && j["weights"]["source"] == "synthetic")
    return 0;
  const std::string path = fp8sim::fuzz::input_file(data, size, ".json");
  fp8sim::workloads::Paths p;
  p.source_dir = "/nonexistent/fp8sim-fuzz-source";
  p.shared_dir = "/nonexistent/fp8sim-fuzz-shared";
  try {
    fp8sim::workloads::Workload w(path, p);
  } catch (const std::runtime_error&) {  // MissingData included
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
