// Fuzz target: accelerator configuration files (TOML, sim/configs/*.toml).
#include <stdexcept>

#include "fuzz_common.h"
#include "fp8sim/sim/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fp8sim::sim::AcceleratorConfig c = fp8sim::sim::parse_config(fp8sim::fuzz::text(data, size), "<fuzz>");
    c.validate();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
