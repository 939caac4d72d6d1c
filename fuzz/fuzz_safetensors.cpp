// Fuzz target: the safetensors reader (header validation, then every tensor decoded to float32).
#include "fuzz_common.h"
#include "fp8sim/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fp8sim::fuzz::input_file(data, size, ".safetensors");
  try {
    fp8sim::model::SafetensorsFile f(path);
    for (const auto& name : f.names()) {
      try {
        volatile size_t n = f.read_float(name).size();
        (void)n;
      } catch (const fp8sim::model::SafetensorsError&) {  // a dtype without a float view
      }
    }
  } catch (const fp8sim::model::SafetensorsError&) {
  }
  return 0;
}
