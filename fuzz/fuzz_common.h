// Shared pieces of the fuzz targets (fuzz/README.md): every target is a libFuzzer entry point
// LLVMFuzzerTestOneInput that feeds one input to one parser. A parser may reject the input with an exception
// (the documented error path); anything else -- a crash, a sanitizer report, another exception type escaping,
// a hang -- is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace fp8sim::fuzz {

// Readers that take a path get the input through a file of this process (rewritten for every input).
inline std::string input_file(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = "/tmp/fp8sim_fuzz_" + std::to_string(::getpid()) + suffix;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

}  // namespace fp8sim::fuzz
