// Fuzz target: sweep specifications (simrun sweep SPEC: "key=v,v;key=v" or a file of key = values lines).
#include "fuzz_common.h"
#include "../simrun/cli.h"
#include "../simrun/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string t = fp8sim::fuzz::text(data, size);
  try {
    if (t.find('=') != std::string::npos && t.find('\n') == std::string::npos)
      fp8sim::simrun::parse_sweep_spec(t);  // the inline form
    else
      fp8sim::simrun::parse_sweep_spec(fp8sim::fuzz::input_file(data, size, ".sweep"));  // the file form
  } catch (const fp8sim::simrun::UsageError&) {
  }
  return 0;
}
