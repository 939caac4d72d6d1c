// Where tests find the project's sources and the optional ../shared data.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace fp8sim::test {

inline std::filesystem::path source_dir() { return FP8SIM_SOURCE_DIR; }

// ../shared beside the checkout (override with FP8SIM_SHARED). Tests that need it skip when absent.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("FP8SIM_SHARED")) return env;
  return source_dir().parent_path() / "shared";
}
inline bool have_shared(const std::string& rel) { return std::filesystem::exists(shared_dir() / rel); }

}  // namespace fp8sim::test
