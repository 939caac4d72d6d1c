// Runs the built simrun binary: `simrun quantize` output is read back with the model's reader and
// compared byte for byte with the model's own conversions; argument and file errors give the documented
// exit status and a one-line message.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fp8sim/model/format.h"
#include "fp8sim/model/fp8.h"
#include "fp8sim/model/int8.h"
#include "fp8sim/model/mx.h"
#include "fp8sim/model/safetensors.h"
#include "fp8sim/workloads/runner.h"
#include "simrun_exec.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using namespace fp8sim::model;
using fp8sim::test::Result;
using fp8sim::test::check_error;
using fp8sim::test::simrun;
using fp8sim::test::slurp;
using fp8sim::test::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {


template <typename T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Edge values of all three targets (ties, overflow thresholds, specials) and a spread of random magnitudes.
std::vector<float> test_floats(bool with_nan, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f,   -0.0f,   1.0f,     -1.5f,   448.0f, 464.0f,   465.0f,  -480.0f, 1e6f,
                          -1e6f,  inf,     -inf,     1e-10f,  -1e-10f, 0.001953125f, 57344.0f, 61439.0f,
                          61440.0f, -61440.0f, 127.5f, -127.5f, -128.0f, -128.5f, -129.0f, 0.5f, 1.5f, 2.5f,
                          126.5f, 127.4f,  3e38f,   1e-45f};
  if (with_nan) {
    v.push_back(std::numeric_limits<float>::quiet_NaN());
    v.push_back(-std::numeric_limits<float>::quiet_NaN());
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> ex(-30, 20);
  for (int i = 0; i < 3000; ++i) v.push_back((rng() & 1 ? -1.0f : 1.0f) * std::ldexp(mant(rng), ex(rng)));
  for (int i = 0; i < 2000; ++i) {  // random bit patterns: subnormals, huge values, and NaN payloads
    const uint32_t bits = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, 4);
    if (with_nan || !std::isnan(f)) v.push_back(f);
  }
  return v;
}

std::vector<uint16_t> random_u16(bool with_nan, uint32_t seed, bool bf16) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> v;
  while (v.size() < 3000) {
    const auto h = static_cast<uint16_t>(rng());
    const bool nan = bf16 ? ((h & 0x7F80) == 0x7F80 && (h & 0x7F)) : ((h & 0x7C00) == 0x7C00 && (h & 0x3FF));
    if (with_nan || !nan) v.push_back(h);
  }
  return v;
}

struct Input {
  std::vector<float> f32;
  std::vector<uint16_t> f16, bf16;
  std::vector<double> f64;
  std::vector<int32_t> i32{1, -2, 300000};
  std::vector<int64_t> i64{-5};
  std::vector<uint8_t> e5m2{0x3C, 0x7B, 0x7F};
  std::vector<uint8_t> u8{0, 255};

  explicit Input(bool with_nan) {
    f32 = test_floats(with_nan, 7);
    f16 = random_u16(with_nan, 8, false);
    bf16 = random_u16(with_nan, 9, true);
    // 0.5 + 2^-30 rounds to 1 in INT8 only when rounded once (via float32 it would become 0.5, then 0).
    f64 = {0.5 + std::ldexp(1.0, -30), -2.5, 448.0 + 16.0 + std::ldexp(1.0, -40), 1e300, -1e-300, 126.5};
    if (with_nan) f64.push_back(std::numeric_limits<double>::quiet_NaN());
  }

  void write(const fs::path& p) const {
    write_safetensors(p,
                      {{{"w32", DType::F32, {static_cast<int64_t>(f32.size())}}, f32.data(), f32.size() * 4},
                       {{"layer.h16", DType::F16, {30, 100}}, f16.data(), f16.size() * 2},
                       {{"layer.b16", DType::BF16, {100, 30}}, bf16.data(), bf16.size() * 2},
                       {{"d64", DType::F64, {static_cast<int64_t>(f64.size())}}, f64.data(), f64.size() * 8},
                       {{"ints", DType::I32, {3}}, i32.data(), 12},
                       {{"steps", DType::I64, {}}, i64.data(), 8},
                       {{"already_fp8", DType::F8_E5M2, {3}}, e5m2.data(), 3},
                       {{"mask", DType::U8, {2}}, u8.data(), 2},
                       {{"empty", DType::F32, {0, 3}}, nullptr, 0}},
                      {{"source", "unit test"}, {"fp8sim.format", "stale"}});
  }
};

// The count the summary should report for one float value; thresholds written out independently of the
// model (ties to even: E4M3 464 -> 448 stays finite; E5M2 61440 -> 65536 overflows; INT8 127.5 -> 128).
bool overflows(const std::string& format, double x, bool minus128) {
  if (std::isnan(x)) return false;
  const double a = std::fabs(x);
  if (format == "e4m3") return a > 464.0;
  if (format == "e5m2") return a >= 61440.0;
  return x >= 127.5 || (minus128 ? x < -128.5 : x <= -127.5);
}

// Checks OUT against the model's conversions of IN, and the summary counts of each cast tensor.
void check_output(const fs::path& in_path, const fs::path& out_path, const std::string& format, Overflow policy,
                  bool minus128, const std::string& stdout_text) {
  const SafetensorsFile in(in_path), out(out_path);
  const bool int8 = format == "int8";
  const Fp8Format* fmt = int8 ? nullptr : &fp8_format(*fp8_kind_from_name(format));
  const DType target = int8 ? DType::I8 : *dtype_from_name(fmt->safetensors_dtype);
  Int8Options opt;
  opt.allow_minus_128 = minus128;

  REQUIRE(out.names() == in.names());
  for (const TensorView& t : in.tensors()) {
    INFO("tensor " << t.name);
    const TensorView& o = out.at(t.name);
    CHECK(o.shape == t.shape);
    if (!dtype_is_wide_float(t.dtype)) {
      CHECK(o.dtype == t.dtype);
      CHECK(std::string(reinterpret_cast<const char*>(o.data), o.nbytes) ==
            std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
      continue;
    }
    REQUIRE(o.dtype == target);
    REQUIRE(o.numel() == t.numel());
    std::vector<double> x(t.numel());
    if (t.dtype == DType::F64) {
      std::memcpy(x.data(), t.data, t.nbytes);
    } else {
      const std::vector<float> f = in.read_float(t.name);
      std::copy(f.begin(), f.end(), x.begin());
    }
    size_t mismatches = 0, n_over = 0, n_nan = 0, n_zero = 0;
    // Non-zero values that become zero, derived from the formats' definitions: round to nearest even sends
    // |x| <= half the smallest positive value to zero (INT8 scale 1: 1, so |x| <= 0.5; E4M3: smallest
    // subnormal 2^(1-7-3) = 2^-9, so |x| <= 2^-10; E5M2: 2^(1-15-2) = 2^-16, so |x| <= 2^-17).
    const double zero_below = int8 ? 0.5 : format == "e4m3" ? std::ldexp(1.0, -10) : std::ldexp(1.0, -17);
    for (size_t i = 0; i < x.size(); ++i) {
      n_zero += x[i] != 0 && std::fabs(x[i]) <= zero_below;
      uint8_t want;
      if (int8) {
        // F64 is rounded once: the float32 path would round 0.5 + 2^-30 to 0.5 and then to 0.
        want = t.dtype == DType::F64
                   ? static_cast<uint8_t>(static_cast<int8_t>(std::clamp(std::nearbyint(x[i]), double(opt.qmin()), 127.0)))
                   : static_cast<uint8_t>(int8_quantize(static_cast<float>(x[i]), 1.0f, opt));
      } else {
        want = t.dtype == DType::F64 ? fp8_encode(*fmt, x[i], policy) : fp8_encode(*fmt, static_cast<float>(x[i]), policy);
      }
      if (o.data[i] != want && ++mismatches <= 5) FAIL_CHECK("element " << i << " = " << x[i] << ": got " << int(o.data[i]) << ", want " << int(want));
      n_over += overflows(format, x[i], minus128);
      n_nan += std::isnan(x[i]);
    }
    CHECK(mismatches == 0);
    if (t.dtype == DType::F64 && int8) CHECK(static_cast<int8_t>(o.data[0]) == 1);
    // The summary line of this tensor carries the same counts.
    std::istringstream lines(stdout_text);
    std::string line, found;
    while (std::getline(lines, line))
      if (line.rfind(t.name + " ", 0) == 0) found = line;
    const char* word = int8 || policy == Overflow::Saturate ? "saturated " : "overflowed ";
    CHECK_THAT(found, Contains(std::string(dtype_name(t.dtype)) + " -> " + std::string(dtype_name(target))) &&
                          Contains(word + std::to_string(n_over) + "  NaN " + std::to_string(n_nan) + "  zeroed " +
                                   std::to_string(n_zero)));
    if (t.numel() > 0) CHECK(n_over > 0);  // the inputs are built to exercise the overflow path of every format
  }

  const auto& meta = out.metadata();
  CHECK(meta.at("source") == "unit test");
  CHECK(meta.at("fp8sim.format") == format);
  CHECK(meta.at("fp8sim.granularity") == "none");
  CHECK(meta.at("fp8sim.overflow") == (policy == Overflow::Saturate ? "saturate" : "nonsaturating"));
  if (int8) CHECK(meta.at("fp8sim.int8_range") == (minus128 ? "[-128,127]" : "[-127,127]"));
  CHECK_THAT(stdout_text, Contains("already_fp8") && Contains("F8_E5M2 -> F8_E5M2") && Contains("copied unchanged"));
  CHECK_THAT(stdout_text, Contains("9 tensors (5 cast, 4 copied unchanged)"));
}

}  // namespace

TEST_CASE("simrun quantize casts every float tensor to FP8 exactly as the model does", "[simrun]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(true).write(in);
  for (const std::string format : {"e4m3", "e5m2"}) {
    for (const Overflow policy : {Overflow::Saturate, Overflow::NonSaturating}) {
      const std::string ovf = policy == Overflow::Saturate ? "saturate" : "nonsaturating";
      DYNAMIC_SECTION(format << " " << ovf) {
        const Result r = simrun({"quantize", in.string(), out.string(), "--format", format, "--overflow", ovf});
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.empty());
        check_output(in, out, format, policy, false, r.out);
        CHECK(dir.files() == std::vector<std::string>{"in.safetensors", "out.safetensors"});
      }
    }
  }
}

TEST_CASE("simrun quantize casts to INT8 with scale 1", "[simrun]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(false).write(in);
  SECTION("symmetric range (default)") {
    const Result r = simrun({"quantize", in.string(), out.string(), "-f", "int8"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    check_output(in, out, "int8", Overflow::Saturate, false, r.out);
  }
  SECTION("--int8-allow-minus128") {
    const Result r = simrun({"quantize", in.string(), out.string(), "-f", "int8", "--int8-allow-minus128"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    check_output(in, out, "int8", Overflow::Saturate, true, r.out);
  }
}

TEST_CASE("simrun quantize --format mx*: element blocks + E8M0 scales, layout in __metadata__", "[simrun][mx]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(true).write(in);
  for (const auto& [format, bs] : std::vector<std::pair<std::string, int>>{{"mxfp4", 32}, {"mxfp8", 32},
                                                                           {"mxfp6-e2m3", 7}, {"mxint8", 16}}) {
    DYNAMIC_SECTION(format << " block " << bs) {
      const Result r = simrun({"quantize", in.string(), out.string(), "--format", format, "--block-size",
                               std::to_string(bs)});
      INFO("stderr: " << r.err);
      REQUIRE(r.status == 0);
      const MxKind kind = *mx_kind_from_name(format);
      const SafetensorsFile src(in), dst(out);
      const auto& meta = dst.metadata();
      CHECK(meta.at("fp8sim.format") == format);
      CHECK(meta.at("fp8sim.mx.block_size") == std::to_string(bs));
      CHECK(meta.at("fp8sim.mx.element") == mx_format(kind).elem().name);
      CHECK_THAT(meta.at("fp8sim.mx.layout"), Contains("X.scales U8"));
      CHECK(meta.at("source") == "unit test");
      uint64_t blocks_total = 0;
      for (const TensorView& t : src.tensors()) {
        INFO("tensor " << t.name);
        if (!dtype_is_wide_float(t.dtype)) {
          CHECK(dst.at(t.name).dtype == t.dtype);
          continue;
        }
        const TensorView& bl = dst.at(t.name + ".blocks");
        const TensorView& sc = dst.at(t.name + ".scales");
        CHECK(meta.at("fp8sim.mx.shape." + t.name) != "");
        // Expected layout: blocks of bs along the last axis, last one zero-padded; FP4 packed low nibble first.
        const int64_t k = t.shape.empty() ? 1 : t.shape.back();
        const int64_t rows = k == 0 ? 0 : int64_t(t.numel()) / k, nb = (k + bs - 1) / bs;
        const int64_t bpb = kind == MxKind::MXFP4 ? bs / 2 : bs;
        std::vector<int64_t> want_scales(t.shape.begin(), t.shape.end() - 1);
        want_scales.push_back(nb);
        std::vector<int64_t> want_blocks = want_scales;
        want_blocks.push_back(bpb);
        REQUIRE(sc.shape == want_scales);
        REQUIRE(bl.shape == want_blocks);
        REQUIRE(bl.dtype == DType::U8);
        REQUIRE(sc.dtype == DType::U8);
        std::vector<float> x;
        if (t.dtype == DType::F64) {
          for (size_t i = 0; i < t.numel(); ++i) {
            double d;
            std::memcpy(&d, t.data + 8 * i, 8);
            x.push_back(static_cast<float>(d));
          }
        } else {
          x = src.read_float(t.name);
        }
        size_t bad = 0;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t b = 0; b < nb; ++b) {
            std::vector<float> blk(static_cast<size_t>(bs), 0.0f);
            for (int64_t j = 0; j < bs && b * bs + j < k; ++j) blk[size_t(j)] = x[size_t(i * k + b * bs + j)];
            std::vector<uint8_t> codes(static_cast<size_t>(bs));
            const uint8_t s = mx_quantize_block(mx_format(kind), blk.data(), size_t(bs), codes.data());
            bad += sc.data[i * nb + b] != s;
            const uint8_t* got = bl.data + (i * nb + b) * bpb;
            for (int64_t j = 0; j < bs; ++j) {
              const uint8_t g = kind == MxKind::MXFP4 ? uint8_t((got[j / 2] >> (4 * (j % 2))) & 0xF) : got[j];
              bad += g != codes[size_t(j)];
            }
            ++blocks_total;
          }
        CHECK(bad == 0);
      }
      CHECK_THAT(r.out, Contains(" blocks, ") && Contains("wrote " + out.string()));
      CHECK_THAT(r.out, Contains(std::to_string(blocks_total) + " blocks"));
    }
  }
  // MX-only and non-MX-only options are refused with exit status 2.
  check_error(simrun({"quantize", in.string(), out.string(), "--format", "e4m3", "--block-size", "16"}), 2,
              "quantize: --block-size applies to the MX formats");
  check_error(simrun({"quantize", in.string(), out.string(), "--format", "mxfp4", "--block-size", "7"}), 2,
              "quantize: --format mxfp4 packs two codes per byte");
  check_error(simrun({"quantize", in.string(), out.string(), "--format", "mxfp8", "--block-size", "0"}), 2,
              "quantize: --block-size 0 is outside [1, 4096]");
  check_error(simrun({"quantize", in.string(), out.string(), "--format", "mxint8", "--overflow", "nonsaturating"}), 2,
              "quantize: --overflow applies to e4m3/e5m2");
}

TEST_CASE("simrun quantize refuses NaN for INT8 and leaves no partial output", "[simrun]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(true).write(in);
  const Result r1 = simrun({"quantize", in.string(), out.string(), "--format", "int8"});
  check_error(r1, 1, in.string() + ": tensor \"w32\" holds NaN");
  CHECK(dir.files() == std::vector<std::string>{"in.safetensors"});

  // An existing OUT survives a failed run untouched.
  { std::ofstream(out) << "previous"; }
  const Result r2 = simrun({"quantize", in.string(), out.string(), "--format", "int8"});
  CHECK(r2.status == 1);
  CHECK(slurp(out) == "previous");
  CHECK(dir.files() == std::vector<std::string>{"in.safetensors", "out.safetensors"});
}

TEST_CASE("simrun quantize --quiet prints only the totals", "[simrun]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(true).write(in);
  const Result r = simrun({"quantize", in.string(), out.string(), "--format=e4m3", "--quiet"});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, StartsWith("quantize e4m3: 9 tensors (5 cast, 4 copied unchanged)"));
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  CHECK(SafetensorsFile(out).at("w32").dtype == DType::F8_E4M3);
}

TEST_CASE("simrun reports bad arguments with exit status 2 and I/O errors with 1", "[simrun]") {
  TempDir dir;
  const fs::path in = dir / "in.safetensors", out = dir / "out.safetensors";
  Input(false).write(in);
  const std::string i = in.string(), o = out.string();

  check_error(simrun({"quantize", (dir / "missing.safetensors").string(), o, "--format", "e4m3"}), 1,
              (dir / "missing.safetensors").string() + ": cannot open: No such file or directory");
  check_error(simrun({"quantize", i, o, "--format", "e4m4"}), 2, "--format 'e4m4' is not one of e4m3, e5m2, int8");
  check_error(simrun({"quantize", i, o}), 2, "missing --format");
  check_error(simrun({"quantize", i, o, "--format"}), 2, "the required argument for option '--format' is missing");
  check_error(simrun({"quantize", i, o, "--format", "e4m3fnuz"}), 2, "has no safetensors dtype");
  check_error(simrun({"quantize", i, o, "-f", "e4m3", "--granularity", "per-tensor"}), 2,
              "--granularity per-tensor needs --workload NAME");
  check_error(simrun({"quantize", i, o, "-f", "e4m3", "--granularity", "per-row"}), 2,
              "--granularity 'per-row' is not one of none, per-tensor, per-channel");
  check_error(simrun({"quantize", i, o, "-f", "e4m3", "--calibration", "mse"}), 2,
              "--calibration applies to PTQ (--granularity per-tensor|per-channel --workload NAME) only");
  check_error(simrun({"quantize", i, o, "-f", "e4m3", "--overflow", "wrap"}), 2,
              "--overflow 'wrap' is not one of saturate, nonsaturating");
  check_error(simrun({"quantize", i, o, "-f", "int8", "--overflow", "nonsaturating"}), 2, "INT8 always clamps");
  check_error(simrun({"quantize", i, o, "-f", "e5m2", "--int8-allow-minus128"}), 2, "applies to --format int8 only");
  check_error(simrun({"quantize", i, o, "-f", "e4m3", "--forma", "e4m3"}), 2, "quantize: unrecognised option '--forma'");
  check_error(simrun({"quantize", i, "-f", "e4m3"}), 2, "expected two arguments");
  check_error(simrun({"quantize", i, o, o, "-f", "e4m3"}), 2, "too many positional options");
  check_error(simrun({"frobnicate"}), 2, "unknown command 'frobnicate'");
  check_error(simrun({"--frobnicate"}), 2, "unrecognised option '--frobnicate'");
  check_error(simrun({"quantize", i, (dir / "no-dir" / "x.safetensors").string(), "-f", "e4m3"}), 1,
              (dir / "no-dir" / "x.safetensors").string() + ": cannot create temporary file");
  {
    std::ofstream(dir / "bad.safetensors") << "definitely not safetensors";
    check_error(simrun({"quantize", (dir / "bad.safetensors").string(), o, "-f", "e4m3"}), 1,
                (dir / "bad.safetensors").string() + ": header length");
  }
  const Result none = simrun({});
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Contains("simrun <command>") && Contains("simrun: error: missing command"));
  CHECK(dir.files() == std::vector<std::string>{"bad.safetensors", "in.safetensors"});
}

TEST_CASE("simrun --help and simrun quantize --help describe every option", "[simrun]") {
  const Result top = simrun({"--help"});
  CHECK(top.status == 0);
  CHECK_THAT(top.out, Contains("usage: simrun --workload NAME") && Contains("simrun <command>") &&
                        Contains("quantize") && Contains("sweep") && Contains("Exit status"));
  // The main job's options, each with its default where it has one.
  for (const char* o : {"--workload", "--weights", "--data", "--format", "--compare", "--config", "--array", "--dataflow",
                        "--accumulator", "--seq", "--samples", "--engine", "--report-json", "--report-html", "--seed",
                        "--quiet", "--batch", "--im2col", "--threads", "--check-engine"})
    CHECK_THAT(top.out, Contains(o));
  CHECK_THAT(top.out, Contains("(=e4m3)") && Contains("(=int8)") && Contains("(=fast)") && Contains("(=implicit)") && Contains("(=1)") &&
                        Contains("[1;"));
  const Result q = simrun({"quantize", "--help"});
  CHECK(q.status == 0);
  CHECK(q.err.empty());
  for (const char* s : {"--format", "e4m3", "e5m2", "int8", "--granularity G (=none)", "per-tensor | per-channel",
                        "--workload NAME", "--calibration M (=minmax)", "percentile", "mse",
                        "--percentile P (=99.99)", "--calib-count N (=0)", "--act-granularity",
                        "--weight-calibration", "fp8sim.recipe",
                        "--overflow MODE (=saturate)", "nonsaturating", "--int8-allow-minus128", "--quiet",
                        "--help", "copied unchanged", "__metadata__", "ties to even", "Exit status",
                        "--block-size B (=32)", "mxfp8", "mxfp4", "mxint8", "X.scales", "fp8sim.mx.layout"})
    CHECK_THAT(q.out, Contains(s));
}

// PTQ mode (--granularity per-tensor|per-channel --workload): the file simrun writes is byte for byte the one
// the PTQ quantizer (workloads' runner) exports for the same recipe, and it has the documented layout. Uses
// ResNet-20 with 4 calibration images (well under a second); skipped when ../shared is absent.
namespace {
bool have_resnet20() {
  if (fp8sim::test::have_shared("data/cifar10/test_jpeg_q88_half_a.bin") &&
      fp8sim::test::have_shared("data/resnet-cifar10/resnet20.safetensors"))
    return true;
  WARN("SKIPPED: ../shared CIFAR-10 data or ResNet-20 weights absent (" << fp8sim::test::shared_dir().string()
                                                                        << "); the PTQ mode of simrun quantize is untested here");
  return false;
}
}  // namespace

TEST_CASE("simrun quantize --workload runs the PTQ quantizer and exports what the simulator imports",
          "[simrun][ptq]") {
  if (!have_resnet20()) return;
  TempDir dir;
  struct Case {
    const char* format;
    const char* gran;
    const char* calib;
    DType dtype;
  };
  for (const Case& c : {Case{"e4m3", "per-channel", "percentile", DType::F8_E4M3},
                        Case{"int8", "per-tensor", "minmax", DType::I8}, Case{"e5m2", "per-tensor", "mse", DType::F8_E5M2}}) {
    INFO(c.format << " " << c.gran << " " << c.calib);
    const fs::path out = dir / (std::string(c.format) + ".safetensors");
    std::vector<std::string> args = {"quantize", out.string(), "-f", c.format, "--granularity", c.gran,
                                     "--workload", "resnet20-cifar10", "--calibration", c.calib, "--calib-count", "4"};
    if (std::string(c.calib) == "percentile") args.insert(args.end(), {"--percentile", "99.9"});
    const Result r = simrun(args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Contains("resnet20-cifar10") && Contains("4 calibration items") && Contains(out.string()));

    // The same recipe through the library.
    fp8sim::workloads::RunOptions o;
    o.quantize = true;
    o.recipe.format = *fp8sim::quant::format_from_string(c.format);
    o.recipe.weight_granularity = *fp8sim::quant::granularity_from_string(c.gran);
    o.recipe.act_calibration = *fp8sim::quant::calib_from_string(c.calib);
    if (std::string(c.calib) == "percentile") o.recipe.percentile = 99.9;
    o.calib_count = 4;
    o.export_path = (dir / "lib.safetensors").string();
    fp8sim::workloads::Paths paths = fp8sim::workloads::Paths::defaults();
    paths.shared_dir = fp8sim::test::shared_dir().string();
    const fp8sim::workloads::Workload w("resnet20-cifar10", paths);
    CHECK(w.quantize_and_export(o).calib_items == 4);
    CHECK(slurp(out) == slurp(dir / "lib.safetensors"));

    const SafetensorsFile f(out);
    const auto meta = f.metadata();
    CHECK(meta.at("fp8sim.model") == "resnet20-cifar10");
    CHECK(meta.at("fp8sim.calibration_items") == "4");
    CHECK(meta.at("fp8sim.synthetic") == "false");
    const auto recipe = nlohmann::json::parse(meta.at("fp8sim.recipe"));
    CHECK(recipe.at("format") == c.format);
    CHECK(recipe.at("weight_granularity") == c.gran);
    CHECK(recipe.at("act_calibration") == c.calib);
    const TensorView& wt = f.at("layer1.0.conv1.weight");
    CHECK(wt.dtype == c.dtype);
    CHECK(wt.shape == std::vector<int64_t>{16, 144});  // [N, K], K = 3 * 3 * 16 (OHWI)
    CHECK(f.at("layer1.0.conv1.weight_scale").shape ==
          std::vector<int64_t>{std::string(c.gran) == "per-channel" ? 16 : 1});
    const TensorView& is = f.at("layer1.0.conv1.input_scale");
    REQUIRE(is.dtype == DType::F32);
    float s = 0.0f;
    std::memcpy(&s, is.data, 4);
    CHECK(s > 0.0f);
    CHECK(std::isfinite(s));
  }
  CHECK(dir.files() == std::vector<std::string>{"e4m3.safetensors", "e5m2.safetensors", "int8.safetensors",
                                                "lib.safetensors"});  // no temporary files left
}

TEST_CASE("simrun quantize PTQ: argument and data errors", "[simrun][ptq]") {
  TempDir dir;
  const std::string o = (dir / "o.safetensors").string();
  const std::vector<std::string> base = {"quantize", o, "-f", "e4m3", "--granularity", "per-tensor"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  check_error(simrun(with({"--workload", "no-such-workload"})), 1, "workload 'no-such-workload': cannot open");
  check_error(simrun(with({"--workload", "resnet20-cifar10", "--calibration", "entropy"})), 2,
              "--calibration 'entropy' is not one of minmax, percentile, mse");
  check_error(simrun(with({"--workload", "resnet20-cifar10", "--percentile", "99"})), 2,
              "--percentile applies to --calibration percentile only");
  check_error(simrun(with({"--workload", "resnet20-cifar10", "--calibration", "percentile", "--percentile", "0"})), 2,
              "percentile");
  check_error(simrun(with({"--workload", "resnet20-cifar10", "--act-granularity", "per-token", "--calib-count", "3"})),
              2, "per-token has no calibration");
  check_error(simrun(with({"--workload", "resnet20-cifar10", "--overflow", "nonsaturating"})), 2,
              "PTQ always saturates");
  check_error(simrun({"quantize", "-f", "e4m3", "--granularity", "per-tensor", "--workload", "resnet20-cifar10"}), 2,
              "expected OUT.safetensors");
  CHECK(dir.files().empty());
}
