// Fuzz target: command text (firmware::parse_commands), and the text form of what it accepted parsed again.
#include <stdexcept>

#include "fuzz_common.h"
#include "fp8sim/firmware/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto cmds = fp8sim::firmware::parse_commands(fp8sim::fuzz::text(data, size), "<fuzz>");
    // Every field is written: what was accepted must round-trip.
    const auto again = fp8sim::firmware::parse_commands(fp8sim::firmware::commands_to_text(cmds), "<round trip>");
    if (fp8sim::firmware::commands_to_text(again) != fp8sim::firmware::commands_to_text(cmds)) __builtin_trap();
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
