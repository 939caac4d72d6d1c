// Runs the built simrun binary (FP8SIM_SIMRUN_EXE, compiled into each test target) with stdout and stderr
// captured, and checks the one-line error convention. Shared by tests/simrun and tests/e2e.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace fp8sim::test {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;


inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct Result {
  int status = -1;
  std::string out, err;
};

// Runs simrun with stdout/stderr captured in files outside `dir` (so they never show up in its listing).
inline Result simrun(const std::vector<std::string>& args) {
  static int counter = 0;
  const fs::path base = fs::temp_directory_path() / ("fp8sim-simrun-io-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter++));
  const std::string out_path = base.string() + ".out", err_path = base.string() + ".err";
  std::vector<std::string> argv_s{FP8SIM_SIMRUN_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fo = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int fe = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fo < 0 || fe < 0 || ::dup2(fo, 1) < 0 || ::dup2(fe, 2) < 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  Result r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return r;
}

// A failure is one line on stderr in the documented form, nothing on stdout, no stack trace.
inline void check_error(const Result& r, int status, const std::string& needle) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.status == status);
  CHECK_THAT(r.err, StartsWith("simrun: error: ") && Contains(needle));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

}  // namespace fp8sim::test
