// simrun with an ONNX model as the workload, end to end on the 8x8 configuration (sim/configs/small8.toml):
// the ONNX ResNet-20 on CIFAR-10 dev images gives the same report as the built-in resnet20-cifar10 workload
// (every field but the command line, the workload's name and where its weights and inputs come from: the same
// top-1, SQNR, per-layer cycles, energy and verification counts, every GEMM output checked against the golden
// model); random inputs are labelled SYNTHETIC; input errors are one line.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "simrun_exec.h"
#include "test_paths.h"

using fp8sim::test::check_error;
using fp8sim::test::simrun;
using fp8sim::test::slurp;
using fp8sim::test::TempDir;
using json = nlohmann::json;

namespace {

const std::string kSmall8 = (fp8sim::test::source_dir() / "sim/configs/small8.toml").string();
std::string shared(const char* rel) { return (fp8sim::test::shared_dir() / rel).string(); }

json run_json(std::vector<std::string> args, const std::string& path) {
  args.insert(args.end(), {"--report-json", path, "--quiet"});
  const auto r = simrun(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  return json::parse(slurp(path));
}

}  // namespace

TEST_CASE("simrun --workload resnet20_cifar10.onnx reports what the built-in resnet20-cifar10 does", "[e2e]") {
  if (!fp8sim::test::have_shared("data/onnx/resnet20_cifar10.onnx") ||
      !fp8sim::test::have_shared("data/cifar10/test_jpeg_q88_dev.bin") ||
      !fp8sim::test::have_shared("data/resnet-cifar10/resnet20.safetensors")) {
    WARN("SKIPPED: ../shared ONNX / CIFAR-10 / ResNet-20 data absent");
    return;
  }
  TempDir d;
  // Same arguments (2 images, 32 calibration images, E4M3 compared with INT8) for both workloads.
  const std::vector<std::string> common = {"--data", shared("data/cifar10/test_jpeg_q88_dev.bin"), "--config", kSmall8,
                                           "--samples", "2", "--calib", "32", "--eval-items", "2"};
  std::vector<std::string> a = {"--workload", shared("data/onnx/resnet20_cifar10.onnx")};
  std::vector<std::string> b = {"--workload", "resnet20-cifar10"};
  a.insert(a.end(), common.begin(), common.end());
  b.insert(b.end(), common.begin(), common.end());
  json ja = run_json(a, (d / "onnx.json").string()), jb = run_json(b, (d / "builtin.json").string());
  CHECK(ja.at("workload") == "resnet20_cifar10.onnx");
  CHECK(ja.at("synthetic") == false);
  // The run's identity differs, nothing else.
  for (json* j : {&ja, &jb})
    for (const char* k : {"command", "workload", "weights", "inputs"}) {
      REQUIRE(j->contains(k));
      j->erase(k);
    }
  CHECK(ja == jb);
  // The report is a real one: top-1 over the 2 images, every GEMM output verified, none differing.
  CHECK(jb.at("accuracy").at("metric") == "top1");
  const json& v = jb.at("verification");
  CHECK(v.at("checked_outputs").get<uint64_t>() > 0);
  CHECK(v.at("checked_outputs") == v.at("total_outputs"));
  CHECK(v.at("mismatches") == 0);
  CHECK(jb.at("layers").size() == 20);  // 19 convolutions and the classifier
}

TEST_CASE("simrun with an ONNX model: random inputs are SYNTHETIC, bad inputs are one-line errors", "[e2e]") {
  if (!fp8sim::test::have_shared("data/onnx/resnet20_cifar10.onnx")) {
    WARN("SKIPPED: ../shared/data/onnx absent");
    return;
  }
  const std::string model = shared("data/onnx/resnet20_cifar10.onnx");
  TempDir d;
  const json j = run_json({"--workload", model, "--input-shape", "1x3x32x32", "--config", kSmall8, "--compare", "none"},
                          (d / "r.json").string());
  CHECK(j.at("synthetic") == true);
  CHECK_THAT(j.at("inputs").get<std::string>(), Catch::Contains("SYNTHETIC"));
  CHECK(j.at("accuracy").at("metric") == "sqnr_db");
  CHECK(j.at("verification").at("mismatches") == 0);
  // The batch dimension is dynamic: without --input-shape the run cannot choose a shape.
  check_error(simrun({"--workload", model, "--config", kSmall8}), 2, "dynamic dimensions");
  check_error(simrun({"--workload", model, "--input-shape", "1x3x16x16", "--config", kSmall8}), 2, "--input-shape");
  check_error(simrun({"--workload", model, "--data", shared("data/stsb/sts-dev.tsv"), "--config", kSmall8}), 2,
              "holds sentences");
  check_error(simrun({"--workload", "resnet20-cifar10", "--input-shape", "1x3x32x32"}), 2, "apply to ONNX models");
  check_error(simrun({"--workload", (d / "none.onnx").string()}), 1, "ONNX model not found");
}
