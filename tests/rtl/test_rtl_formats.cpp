// rtl/fp8_formats.vh is the RTL's copy of model/'s format table: it must be exactly what the generator
// (rtl/gen/gen_fp8_formats.cpp, linked against the model) writes today.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "test_paths.h"

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("formats header matches the model table", "[rtl]") {
  const auto committed = fp8sim::test::source_dir() / "rtl" / "fp8_formats.vh";
  REQUIRE(std::filesystem::exists(committed));
  const auto fresh = std::filesystem::temp_directory_path() /
                     ("fp8sim_formats_" + std::to_string(std::rand()) + "_" + std::to_string(::getpid()) + ".vh");
  const std::string cmd = std::string(FP8SIM_GEN_FP8_FORMATS) + " " + fresh.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string want = slurp(fresh), have = slurp(committed);
  std::filesystem::remove(fresh);
  REQUIRE(!want.empty());
  INFO("rtl/fp8_formats.vh is stale: run cmake --build <build> --target rtl_update_formats_header");
  CHECK(have == want);
  WARN("formats header: " << want.size() << " bytes compared with the generator's output");
}
