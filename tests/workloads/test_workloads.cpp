// End-to-end checks of the reference networks and the PTQ flow on the shared data (label "slow"). Each test
// returns early with a warning when ../shared (or the MiniLM package) is absent.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "fp8sim/model/safetensors.h"
#include "fp8sim/workloads/runner.h"
#include "test_paths.h"

using namespace fp8sim;
using workloads::RunOptions;

namespace {
workloads::Paths paths() {
  workloads::Paths p = workloads::Paths::defaults();
  p.shared_dir = test::shared_dir().string();
  return p;
}
bool have_cifar() {
  if (test::have_shared("data/cifar10/test_jpeg_q88_dev.bin") && test::have_shared("data/resnet-cifar10")) return true;
  WARN("../shared CIFAR-10 data absent: test skipped");
  return false;
}
RunOptions fp32_on(size_t offset, size_t count) {
  RunOptions o;
  o.quantize = false;
  o.eval_offset = offset;
  o.eval_count = count;
  return o;
}
RunOptions quant_on(quant::Format f, quant::Granularity wg, size_t calib, size_t count) {
  RunOptions o;
  o.quantize = true;
  o.recipe.format = f;
  o.recipe.weight_granularity = wg;
  o.calib_count = calib;
  o.eval_count = count;
  return o;
}
}  // namespace

TEST_CASE("ResNet-20 FP32 reproduces the independent reference: 81.00% on all 5000 dev images", "[slow][resnet]") {
  if (!have_cifar()) return;
  const workloads::Workload w("resnet20-cifar10", paths());
  const auto r = w.run(fp32_on(0, 0));
  CHECK(r.items == 5000);
  // 81.00 %: the FP32 numpy reference of ../shared/README.md on test_jpeg_q88_dev.bin (500 images per class).
  CHECK(std::fabs(r.value - 81.00) <= 0.1);  // the issue: more than 0.1 point off is a bug
}

TEST_CASE("ResNet-56 FP32 on the first 1500 images is consistent with 83.12% on all 5000", "[slow][resnet]") {
  if (!have_cifar()) return;
  // The full 5000-image run (fp8sim-ptq eval --workload resnet56-cifar10 --fp32 --eval-offset 0) takes ~100 s;
  // here the first 1500. Their accuracy differs from the 5000-image figure by sampling alone with standard
  // deviation sqrt(p (1 - p) / n * (1 - n / N)) = sqrt(0.83 * 0.17 / 1500 * 0.7) = 0.81 points (the classes are
  // interleaved in the file, so the first 1500 images hold all ten): 2.5 points is
  // > 3 sigma, while any real bug (a wrong shortcut, BN, normalization) costs tens of points.
  const workloads::Workload w("resnet56-cifar10", paths());
  const auto r = w.run(fp32_on(0, 1500));
  CHECK(r.items == 1500);
  CHECK(std::fabs(r.value - 83.12) <= 2.5);  // reference: ../shared/README.md
}

TEST_CASE("PTQ of ResNet-20 stays close to FP32 on the same images", "[slow][resnet][quant]") {
  if (!have_cifar()) return;
  const workloads::Workload w("resnet20-cifar10", paths());
  const auto ref = w.run(fp32_on(64, 400));
  for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3}) {
    const auto q = w.run(quant_on(f, quant::Granularity::PerChannel, 64, 400));
    INFO(quant::to_string(f) << ": fp32 " << ref.value << " quantized " << q.value);
    CHECK(q.calib_items == 64);
    CHECK(q.items == 400);
    // 8-bit PTQ of ResNet-20 costs well under 3 points (Nagel et al. 2021 white paper, table 7, ResNet-18/50
    // W8A8 within ~1 point); a broken scale or layout costs tens of points.
    CHECK(std::fabs(q.value - ref.value) <= 3.0);
  }
}

TEST_CASE("bit-exact golden-GEMM execution agrees with fake quantization", "[slow][resnet][quant]") {
  if (!have_cifar()) return;
  const workloads::Workload w("resnet20-cifar10", paths());
  for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3}) {
    RunOptions fq = quant_on(f, quant::Granularity::PerChannel, 32, 12), be = fq;
    be.mode = quant::ExecMode::BitExact;
    const auto a = w.output_error(fq), b = w.output_error(be);
    CHECK(b.golden_gemm_calls > 0);
    CHECK(a.golden_gemm_calls == 0);
    // Same quantized operands; only the accumulation differs (float32 sum of dequantized products vs exact
    // integer/fixed-point sum scaled once), so both are equally far from FP32.
    INFO(quant::to_string(f) << " fake-quant sqnr " << a.value << " bit-exact " << b.value);
    CHECK(std::fabs(a.value - b.value) < 0.5);
    CHECK(std::fabs(a.cosine - b.cosine) < 1e-3);
  }
}

TEST_CASE("export writes FP8/INT8 codes, F32 scales and the recipe", "[slow][resnet][quant][export]") {
  if (!have_cifar()) return;
  const workloads::Workload w("resnet20-cifar10", paths());
  const std::filesystem::path out = std::filesystem::temp_directory_path() / "fp8sim_test_export_resnet20.safetensors";
  for (quant::Format f : {quant::Format::INT8, quant::Format::E4M3}) {
    RunOptions o = quant_on(f, quant::Granularity::PerChannel, 16, 1);
    o.export_path = out.string();
    w.run(o);
    const model::SafetensorsFile st(out);
    const auto& wt = st.at("layer1.0.conv1.weight");
    CHECK(wt.dtype == (f == quant::Format::INT8 ? model::DType::I8 : model::DType::F8_E4M3));
    CHECK(wt.shape == std::vector<int64_t>{16, 144});  // OHWI flattened: 3 * 3 * 16
    CHECK(st.at("layer1.0.conv1.weight_scale").shape == std::vector<int64_t>{16});
    CHECK(st.at("layer1.0.conv1.input_scale").shape == std::vector<int64_t>{1});
    CHECK(st.at("linear.bias").dtype == model::DType::F32);
    const auto recipe = quant::Recipe::from_json(nlohmann::json::parse(st.metadata().at("fp8sim.recipe")));
    CHECK(recipe.format == f);
    CHECK(recipe.weight_granularity == quant::Granularity::PerChannel);
    CHECK(st.metadata().at("fp8sim.synthetic") == "false");
    // Scales are positive and finite; dequantized weights stay within the per-channel range.
    for (float s : st.read_float("layer1.0.conv1.weight_scale")) CHECK((s > 0.0f && std::isfinite(s)));
  }
  std::filesystem::remove(out);
}

TEST_CASE("missing data gives a clear MissingData error, not a crash", "[unit][workloads]") {
  workloads::Paths p = paths();
  p.shared_dir = "/nonexistent/shared";
  CHECK_THROWS_AS(workloads::Workload("resnet20-cifar10", p), workloads::MissingData);
  CHECK_THROWS_WITH(workloads::Workload("resnet20-cifar10", p), Catch::Contains("/nonexistent/shared"));
  CHECK_THROWS_WITH(workloads::Workload("no-such-workload", p), Catch::Contains("no-such-workload"));
}

TEST_CASE("synthetic workloads are labelled synthetic", "[unit][workloads]") {
  workloads::Paths p = paths();
  p.shared_dir = "/nonexistent/shared";  // synthetic BERT falls back to random token ids
  const workloads::Workload w("resnet18", p);
  CHECK(w.synthetic());
  CHECK(w.weights_label().find("SYNTHETIC") != std::string::npos);
}
