// Checked numbers and refused inputs (issue #11 item 7): std::from_chars-based parsing with errors naming the
// argument, NaN logits counted wrong, non-finite STS-B scores refused, and the command lines of the
// executables (one library, boost::program_options) refusing overflow, trailing junk and negatives.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <functional>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "fp8sim/model/nn/resnet.h"
#include "fp8sim/model/nn/stsb.h"
#include "fp8sim/model/parse_number.h"
#include "temp_dir.h"

using fp8sim::parse_number;
using Catch::Matchers::Contains;

namespace {
std::string err_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr
};
Result run(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}
}  // namespace

TEST_CASE("parse_number: whole text, range-checked, errors name the argument", "[unit][parse]") {
  CHECK(parse_number<int>("42", "--m") == 42);
  CHECK(parse_number<int>("+42", "--m") == 42);
  CHECK(parse_number<int64_t>("-7", "--x") == -7);
  CHECK(parse_number<uint64_t>("18446744073709551615", "--seed") == std::numeric_limits<uint64_t>::max());
  CHECK(parse_number<double>("2.5e3", "--p") == 2500.0);
  CHECK(err_of([] { parse_number<int>("12x", "--m"); }) == "--m '12x': trailing characters 'x'");
  CHECK(err_of([] { parse_number<int>("", "--m"); }) == "--m '': not a number (empty)");
  CHECK(err_of([] { parse_number<int>("x", "--m"); }) == "--m 'x': not a number");
  CHECK(err_of([] { parse_number<int>(" 1", "--m"); }) == "--m ' 1': not a number");
  // 2^31 does not fit int: out of range, not wrapped to -2^31.
  CHECK(err_of([] { parse_number<int>("2147483648", "--m"); }) ==
        "--m '2147483648': out of range [-2147483648, 2147483647]");
  // 2^64 does not fit uint64_t (std::stoull would report it; sscanf would wrap).
  CHECK_THAT(err_of([] { parse_number<uint64_t>("18446744073709551616", "--seed"); }), Contains("out of range"));
  // std::stoull("-1") is 2^64 - 1; here a negative is refused.
  CHECK(err_of([] { parse_number<uint64_t>("-1", "--seed"); }) == "--seed '-1': must not be negative");
  CHECK(err_of([] { parse_number<int>("0", "--array rows", 1, 4096); }) == "--array rows '0': out of range [1, 4096]");
  CHECK(err_of([] { parse_number<double>("nan", "--p"); }) == "--p 'nan': not a finite number");
  CHECK(err_of([] { parse_number<double>("inf", "--p"); }) == "--p 'inf': not a finite number");
  CHECK_THAT(err_of([] { parse_number<double>("1e999", "--p"); }), Contains("out of range"));
}

TEST_CASE("argmax of logits holding NaN is no class: it never counts as correct", "[unit][nan]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(fp8sim::nn::argmax({0.f, 3.f, 1.f}) == 1);
  CHECK(fp8sim::nn::argmax({nan, 1.f, 2.f}) == -1);  // before: 2 (NaN compares false), or 0 for {nan, ...}
  CHECK(fp8sim::nn::argmax({1.f, nan}) == -1);
  CHECK(fp8sim::nn::argmax({nan, nan}) == -1);      // before: 0, "correct" for every class-0 image
  CHECK(fp8sim::nn::argmax({}) == -1);
}

TEST_CASE("STS-B scores must be finite numbers", "[unit][nan]") {
  fp8sim::test::TempDir dir;
  for (const char* score : {"nan", "NaN", "inf", "-inf", "infinity"}) {
    const auto f = dir / "s.tsv";
    std::ofstream(f) << "g\tf\ty\t1\t4.0\ta b\tc d\ng\tf\ty\t2\t" << score << "\te f\tg h\n";
    CHECK(err_of([&] { fp8sim::nn::load_stsb_tsv(f.string()); }) ==
          f.string() + ":2: score '" + score + "' is not a finite number");
  }
}

#ifdef FP8SIM_SIM_RUN_EXE
TEST_CASE("fp8sim_sim_run refuses overflow, trailing junk and negatives, naming the option", "[unit][cli]") {
  const std::string exe = std::string("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ") + FP8SIM_SIM_RUN_EXE;
  const std::string cfg = std::string(FP8SIM_SOURCE_DIR) + "/sim/configs/small8.toml";
  const struct {
    std::string args, message;
  } cases[] = {
      {"--m 12x", "--m '12x': trailing characters 'x'"},
      {"--m -1", "--m '-1': out of range [1, 16777216]"},
      {"--k 99999999999999999999", "--k '99999999999999999999': out of range"},
      {"--n 0", "--n '0': out of range [1, 16777216]"},
      {"--seed -3", "--seed '-3': must not be negative"},
      {"--engine gpu", "--engine 'gpu' is not model or rtl"},
      {"--frobnicate", "unrecognised option '--frobnicate'"},
  };
  for (const auto& c : cases) {
    const Result r = run(exe + " --config " + cfg + " " + c.args);
    INFO(c.args << ": " << r.out);
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Contains("fp8sim_sim_run: error: " + c.message));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // one line
  }
  const Result ok = run(exe + " --config " + cfg + " --m 3 --k 5 --n 2");
  INFO(ok.out);
  CHECK(ok.status == 0);
  const Result help = run(exe + " --help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Contains("--vcd-from") && Contains("--command-stats") && Contains("Exit status"));
}
#endif

#ifdef FP8SIM_PTQ_EXE
TEST_CASE("fp8sim-ptq refuses bad numbers and unknown options with exit status 2", "[unit][cli]") {
  const std::string exe = FP8SIM_PTQ_EXE;
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"eval --workload resnet20-cifar10 --eval-count 1e3", "--eval-count '1e3': trailing characters 'e3'"},
           {"eval --workload resnet20-cifar10 --calib-count -4", "--calib-count '-4': must not be negative"},
           {"eval --workload resnet20-cifar10 --percentile nan", "--percentile 'nan': not a finite number"},
           {"eval --workload resnet20-cifar10 --no-such", "unrecognised option '--no-such'"}}) {
    const Result r = run(exe + " " + args);
    INFO(args << ": " << r.out);
    CHECK(r.status == 2);
    CHECK_THAT(r.out, Contains(message));
  }
}
#endif
